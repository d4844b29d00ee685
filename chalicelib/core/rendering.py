"""jinja2 templates from the top-level `templates/` folder (shipped through `vendor/`)."""
import functools
from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@functools.cache
def environment():
    import jinja2

    from chalicelib.core.settings import get_settings
    from chalicelib.core import i18n
    env = jinja2.Environment(
        extensions=['jinja2.ext.i18n'],
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(['html', 'xml']),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        # A deployed Lambda's templates never change: no stat() of the file on every render
        # (the reminder job renders thousands). `make run` still picks up edits.
        auto_reload=get_settings().is_local,
    )
    # `{{ _('...') }}` and `{% trans %}` translate into the language of the moment (core/i18n.py);
    # newstyle: `_('%(name)s', name=x)` formats, escaping the values. Blocks are trimmed, as the
    # extractor reads them (babel.cfg).
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True,
                                  pgettext=i18n.pgettext, npgettext=i18n.npgettext)
    env.policies['ext.i18n.trimmed'] = True
    env.filters['translated'] = i18n.translated      # stored English reasons, shown translated
    env.globals['current_language'] = i18n.current
    env.globals['language_links'] = i18n.switcher
    from chalicelib.core import fields, formatting
    env.filters.update(formatting.FILTERS)
    env.globals['rules'] = fields      # forms state their limits from the field rules
    return env


def render(template_name, /, **context):
    return environment().get_template(template_name).render(**context)
