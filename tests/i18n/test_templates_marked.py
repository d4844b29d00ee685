"""Every word a template writes goes through gettext: no visible text outside `_()`/`{% trans %}`.

Read with jinja2's own lexer: the template's literal text (its `data` tokens, outside every
`{{ }}` and `{% %}`), with markup, comments, scripts and styles removed, keeps no letter; nor
does a text attribute (aria-label, title, alt, placeholder, content of <meta name=description>)
hold a literal word. Text inside a trans block is a message, so it is skipped.
"""
import re

import pytest

from chalicelib.core.rendering import TEMPLATES_DIR, environment

# Dev-only pages (the local stage's outbox) are not for learners, facilitators or organizers.
NOT_TRANSLATED = {'outbox.html'}
# Words that are the same in every language: the product's name, and symbols.
SAME_IN_EVERY_LANGUAGE = {'Circles'}

TEXT_ATTRIBUTES = re.compile(r'''\b(?:aria-label|title|alt|placeholder|aria-description|aria-roledescription)\s*=\s*(["'])(.*?)\1''',
                             re.S)
TAG = re.compile(r'<[^>]*>', re.S)
SCRIPT_OR_STYLE = re.compile(r'<(script|style)\b.*?</\1\s*>', re.S | re.I)
COMMENT = re.compile(r'<!--.*?-->', re.S)
ENTITY = re.compile(r'&[#a-zA-Z0-9]+;')
# An attribute written outside its tag (a macro that adds `aria-invalid="true"` to an input).
PATH = re.compile(r'''(?<![\w])[/#][^\s<>"']*''')      # a URL path a macro writes: /teams/.../embed
LOOSE_ATTRIBUTE = re.compile(r'''[\w:-]+\s*=\s*(["']).*?\1''', re.S)
LETTERS = re.compile(r'[^\W\d_]{2,}')


def templates():
    names = []
    for path in sorted(TEMPLATES_DIR.rglob('*')):
        relative = path.relative_to(TEMPLATES_DIR).as_posix()
        if path.suffix in ('.html', '.txt') and not relative.startswith('static/') and relative not in NOT_TRANSLATED:
            names.append(relative)
    return names


def literal_text(source):
    """The template's literal text outside every tag and outside trans blocks, as one string with
    a NUL where an expression or a tag stood (so words on both sides do not join)."""
    env = environment()
    pieces, depth = [], 0
    tokens = [token for token in env.lex(source) if token[1] != 'whitespace']
    for index, (_line, kind, value) in enumerate(tokens):
        if kind == 'name' and value == 'trans' and tokens[index - 1][1] == 'block_begin':
            depth += 1
        elif kind == 'name' and value == 'endtrans' and tokens[index - 1][1] == 'block_begin':
            depth -= 1
        elif kind == 'data' and depth == 0:
            pieces.append(value)
        elif kind in ('variable_begin', 'block_begin'):
            pieces.append('\0')
    return ''.join(pieces)


def words_outside_gettext(source, is_html):
    text = literal_text(source)
    found = []
    if is_html:
        text = COMMENT.sub(' ', text)
        text = SCRIPT_OR_STYLE.sub(' ', text)
        for _quote, value in TEXT_ATTRIBUTES.findall(text):
            found += [w for w in LETTERS.findall(value.replace('\0', ' '))]
        text = TAG.sub(' ', text)
        text = LOOSE_ATTRIBUTE.sub(' ', text)
        text = PATH.sub(' ', text)
        text = ENTITY.sub(' ', text)
    found += LETTERS.findall(text.replace('\0', ' '))
    return [word for word in found if word not in SAME_IN_EVERY_LANGUAGE]


@pytest.mark.parametrize('name', templates())
def test_the_template_writes_no_word_outside_gettext(name):
    source = (TEMPLATES_DIR / name).read_text()
    words = words_outside_gettext(source, name.endswith('.html'))
    assert not words, f'{name} writes words that are not marked for translation: {" ".join(words[:30])}'


def test_the_check_finds_a_word_left_in_english():
    assert words_outside_gettext('<p>{{ _("Hello") }}</p><p>Welcome back</p>', True) == ['Welcome', 'back']
    assert words_outside_gettext('<a title="Close">{% trans %}Go on{% endtrans %}</a>', True) == ['Close']
    assert words_outside_gettext('<p>{{ _("Hello") }} · {{ name }}</p><style>p { color: red }</style>', True) == []
    assert words_outside_gettext('{% if e %}aria-invalid="true"{% endif %}{% trans n=1 %}{{ n }} left{% endtrans %}',
                                 True) == []
