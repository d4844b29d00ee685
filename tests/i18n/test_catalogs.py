"""The catalogs are current and complete: `make messages` has nothing left to do, and every
shipped language translates every message (no fuzzy entry, the same placeholders and markup)."""
import re
import subprocess
import sys
from io import BytesIO

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from chalicelib.core.i18n import LOCALES_DIR, SHIPPED, SOURCE

ROOT = LOCALES_DIR.parents[1]
TRANSLATED = [code for code in SHIPPED if code != SOURCE]
PLACEHOLDER = re.compile(r'%\((\w+)\)[sd]')
MARKUP = re.compile(r'</?[a-zA-Z][^>]*>')


def read_catalog(path, locale=None):
    with open(path, 'rb') as handle:
        return read_po(handle, locale=locale)


def ids(catalog):
    return {(message.id if isinstance(message.id, str) else tuple(message.id), message.context)
            for message in catalog if message.id}


@pytest.fixture(scope='module')
def fresh_template(tmp_path_factory):
    """What `make messages` would extract now (the same command line as the Makefile's)."""
    output = tmp_path_factory.mktemp('pot') / 'messages.pot'
    subprocess.run([sys.executable, '-m', 'babel.messages.frontend', '-q', 'extract', '-F', 'babel.cfg',
                    '-k', 'N_', '--no-location', '--sort-output', '-o', str(output), '.'],
                   cwd=ROOT, check=True)
    return read_catalog(output)


def test_the_template_has_every_marked_message_and_no_other(fresh_template):
    committed = read_catalog(LOCALES_DIR / 'messages.pot')
    missing, gone = ids(fresh_template) - ids(committed), ids(committed) - ids(fresh_template)
    assert not missing and not gone, (
        f'chalicelib/locales/messages.pot is stale: run `make messages`. New: {sorted(missing, key=str)[:5]}; '
        f'no longer used: {sorted(gone, key=str)[:5]}')


def problems_of(catalog, template):
    """What stops `catalog` from shipping: messages of `template` it lacks or leaves untranslated
    or fuzzy, and translations whose placeholders or markup differ from the English."""
    problems = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = [] if found is None else (list(found.string) if isinstance(found.string, (list, tuple))
                                            else [found.string])
        if found is None or not all(strings):
            problems.append(f'untranslated: {message.id!r}')
            continue
        if found.fuzzy:
            problems.append(f'fuzzy: {message.id!r}')
        forms = list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]
        english = forms[-1]
        known = set().union(*(PLACEHOLDER.findall(form) for form in forms))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) - known:
                problems.append(f'unknown placeholder in {string!r} for {english!r}')
            if sorted(MARKUP.findall(string)) != sorted(MARKUP.findall(english)):
                problems.append(f'markup differs in {string!r} for {english!r}')
            if 'STOP' in english and 'STOP' not in string:
                problems.append(f'the keyword STOP must stay in {string!r}')
        dropped = set(PLACEHOLDER.findall(forms[0])) - set(PLACEHOLDER.findall(strings[0]))
        if dropped:
            problems.append(f'placeholder {sorted(dropped)} dropped in {strings[0]!r}')
    return problems


@pytest.mark.parametrize('code', TRANSLATED)
def test_every_message_is_translated(code):
    template = read_catalog(LOCALES_DIR / 'messages.pot')
    catalog = read_catalog(LOCALES_DIR / code / 'LC_MESSAGES' / 'messages.po', locale=code)
    problems = problems_of(catalog, template)
    assert not problems, f'{code}: {len(problems)} problems, e.g. ' + '; '.join(problems[:10])


@pytest.mark.parametrize('code', TRANSLATED)
def test_the_compiled_catalog_is_the_po_file(code):
    folder = LOCALES_DIR / code / 'LC_MESSAGES'
    catalog = read_catalog(folder / 'messages.po', locale=code)
    with open(folder / 'messages.mo', 'rb') as handle:
        compiled = read_mo(handle)
    def strings(message):
        return message.string if isinstance(message.string, str) else tuple(message.string)
    expected = {message.id if isinstance(message.id, str) else message.id[0]: strings(message)
                for message in catalog if message.id and message.string and not message.fuzzy}
    actual = {message.id if isinstance(message.id, str) else message.id[0]: strings(message)
              for message in compiled if message.id}
    assert actual == expected, f'{code}: messages.mo is stale: run `make messages`'


def test_a_missing_translation_is_found():
    template = read_po(BytesIO(b'msgid "Hello %(name)s"\nmsgstr ""\n\nmsgid "Bye"\nmsgstr ""\n'))
    catalog = read_po(BytesIO('msgid "Hello %(name)s"\nmsgstr "Hola %(nombre)s"\n\n'
                              'msgid "Bye"\nmsgstr ""\n'.encode()), locale='es')
    problems = problems_of(catalog, template)
    assert "untranslated: 'Bye'" in problems
    assert any('unknown placeholder' in problem for problem in problems)
