"""Finding English left in a page, an email or a text that should be in another language.

A message of the catalog is *left in English* when its English wording shows in the output
while its translation differs: a whole text node (or text attribute) equal to the English of a
short message ("Dashboard"), or a run of three or more words of a longer one ("We sent you a
link") between its placeholders. Data (a circle's name, a learner's words) is not in the
catalog, so it rarely matches; a run the translation itself keeps does not count. Text in an
element whose `lang` names another language is not the page's (the language links name each
language in itself; a circle's description is in the circle's language), nor is the product's
name (BRAND), which the header writes in every language.
"""
import html
import re
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from chalicelib.core.i18n import LOCALES_DIR

PLACEHOLDER = re.compile(r'%\(\w+\)[sd]|%%')
MARKUP = re.compile(r'<[^>]+>')
SPACE = re.compile(r'\s+')
TEXT_ATTRIBUTES = ('aria-label', 'title', 'alt', 'placeholder')
MIN_RUN = 14        # characters of a run of words worth looking for (shorter runs match by chance)
MIN_WORDS = 3       # and words: two ("learning circle") are as likely to be a facilitator's
BRAND = {'Circles'}
VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}


def _normal(text):
    return SPACE.sub(' ', html.unescape(text)).strip()


class Catalog:
    """The shipped catalog of one language, as fingerprints of its English messages."""

    def __init__(self, code):
        with open(LOCALES_DIR / code / 'LC_MESSAGES' / 'messages.po', 'rb') as handle:
            catalog = read_po(handle, locale=code)
        self.whole = {}     # the English of a message without placeholders -> its translations
        self.runs = []      # (run of English words, the message, its translations)
        for message in catalog:
            if not message.id:
                continue
            forms = list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]
            strings = list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]
            translated = ' '.join(_normal(MARKUP.sub(' ', s or '')) for s in strings)
            for form in forms:
                english = _normal(MARKUP.sub(' ', form))
                if not english or english in translated:
                    continue
                if not PLACEHOLDER.search(form):
                    self.whole.setdefault(english, translated)
                for run in PLACEHOLDER.split(MARKUP.sub('\0', form)):
                    for piece in run.split('\0'):
                        piece = _normal(piece).strip(' .,:;!?()·-–')
                        if len(piece) >= MIN_RUN and len(piece.split()) >= MIN_WORDS and piece not in translated:
                            self.runs.append((piece, form, translated))

    def left_in_english(self, texts):
        """The English messages found in `texts` (whole text nodes, and longer plain texts)."""
        found = set()
        joined = '\n'.join(texts)
        for text in texts:
            if text in self.whole and text not in BRAND:
                found.add(text)
        for run, form, _translated in self.runs:
            if run in joined:
                found.add(form)
        return sorted(found)


class _Texts(HTMLParser):
    """The page's own text: not scripts or styles, not elements in another language."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self._open, self._language = [], [], None

    def _skipping(self):
        return any(tag in ('script', 'style') or (lang and lang != self._language) for tag, lang in self._open)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == 'html':
            self._language = attributes.get('lang')
            return
        if tag not in VOID:
            self._open.append((tag, attributes.get('lang')))
        if not self._skipping():
            self.texts += [_normal(value) for name, value in attrs if name in TEXT_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        if data.strip() and not self._skipping():
            self.texts.append(_normal(data))


def html_texts(page):
    """The text nodes and text attributes of an HTML page in its own language, each
    whitespace-normalised, plus the whole text (so a run of words across an inline tag is found too)."""
    parser = _Texts()
    parser.feed(page)
    return parser.texts + [' '.join(parser.texts)]


def plain_texts(text):
    lines = [_normal(line) for line in text.splitlines() if line.strip()]
    return lines + [' '.join(lines)]
