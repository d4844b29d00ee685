"""Which language a text is in, and the gettext catalogs that translate it.

Every text a person reads is an English message marked for translation: `_('...')` (gettext),
`ngettext(...)` and `N_('...')` (marked where it is defined, translated where it is shown) in
Python; `{{ _('...') }}` and `{% trans %}` in templates (jinja2.ext.i18n, see rendering.py).
`make messages` extracts them (babel.cfg) into `chalicelib/locales/messages.pot`, updates each
language's `.po` and compiles the `.mo` files the app reads; tests/i18n fail when a catalog is
stale or a shipped language lacks a translation.

The language of the moment is a context variable, so the same code renders any language:
- a request sets it from the visitor (`for_visitor`: the `lang` cookie the language switcher
  sets, else `Accept-Language`, else English); a circle's own pages prefer the circle's
  language when the visitor named none (`prefer`);
- a message about a circle is rendered in the circle's language (`with language(code):` in
  the sender), any other in the recipient's.

A language is shipped when its code is in `settings.INTERFACE_LANGUAGES` and it has a catalog:
adding one is a `.po` file (`make messages NEW=xx`) and one line there (README "Languages").
"""
import contextlib
import contextvars
import functools
from pathlib import Path

from chalicelib.core.settings import INTERFACE_LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parents[1] / 'locales'
DOMAIN = 'messages'
SOURCE = 'en'       # the messages are written in English: no catalog
SHIPPED = INTERFACE_LANGUAGES
COOKIE = 'lang'
COOKIE_MAX_AGE = 365 * 24 * 3600

_current = contextvars.ContextVar('language', default=SOURCE)
_visitor_choice = contextvars.ContextVar('visitor_choice', default=None)
_page_path = contextvars.ContextVar('page_path', default='/')


def supported(code):
    """`code` ('es', 'es-AR', 'pt_BR') as a shipped language, or None."""
    if not code:
        return None
    base = str(code).replace('_', '-').split('-')[0].strip().lower()
    return base if base in SHIPPED else None


def current():
    return _current.get()


@contextlib.contextmanager
def language(code):
    """Render in `code` (a shipped language, else English) inside the block."""
    token = _current.set(supported(code) or SOURCE)
    try:
        yield
    finally:
        _current.reset(token)


@functools.cache
def translations(code):
    """The compiled catalog of a shipped language (read once per container)."""
    from babel.support import NullTranslations, Translations
    if code == SOURCE:
        return NullTranslations()
    return Translations.load(LOCALES_DIR, [code], DOMAIN)


def gettext(message):
    return translations(_current.get()).gettext(message)


def ngettext(singular, plural, n):
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context, message):
    return translations(_current.get()).pgettext(context, message)


def npgettext(context, singular, plural, n):
    return translations(_current.get()).npgettext(context, singular, plural, n)


_ = gettext


def translated(text):
    """A stored English message (an outbox item's reason for not sending, marked N_ where it
    is written) in the language of the moment; any other text (a provider's own error words)
    as it is. Never gettext(''), which is the catalog's header."""
    return gettext(text) if text else text


def N_(message):
    """Marks a message for extraction where it is defined; `_(message)` translates it when shown."""
    return message


# --- the visitor's language ------------------------------------------------------------------

def from_accept_language(header):
    """The best shipped language of an `Accept-Language` header, or None. Quality 0 refuses."""
    best, best_q = None, 0.0
    for order, part in enumerate((header or '').split(',')):
        tag, _sep, params = part.strip().partition(';')
        quality = 1.0
        for param in params.split(';'):
            name, _eq, value = param.strip().partition('=')
            if name.strip() == 'q':
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = supported(tag)
        if code and quality > best_q:
            best, best_q = code, quality
    return best


def visitor_language(cookies, accept_language):
    """The language a visitor asked for: the switcher's cookie, else Accept-Language, else None."""
    return supported(cookies.get(COOKIE)) or from_accept_language(accept_language)


@contextlib.contextmanager
def for_visitor(choice, path='/'):
    """A request's block: pages in the visitor's `choice` (or English, until `prefer`); `path`
    (with its query) is where the language switcher comes back to."""
    tokens = (_visitor_choice.set(choice), _page_path.set(path), _current.set(choice or SOURCE))
    try:
        yield
    finally:
        for var, token in zip((_visitor_choice, _page_path, _current), tokens):
            var.reset(token)


def prefer(code):
    """A circle's page: its language when the visitor asked for none that we ship."""
    if _visitor_choice.get() is None and supported(code):
        _current.set(supported(code))


def switcher():
    """(code, name, link, is current) of every shipped language: the footer's language links."""
    from urllib.parse import quote
    here = quote(_page_path.get(), safe='')
    return [(code, name, f'/language/{code}?next={here}', code == _current.get()) for code, name in SHIPPED.items()]
