"""The package layout holds: import contracts (`.importlinter`) and no reaching into private names.

- `lint-imports` checks the contracts in `.importlinter`: no import cycles between the
  packages of chalicelib, `chalicelib.core` and `chalicelib.models` import no feature
  package, and only `chalicelib.handlers` (and `app.py`) import chalice. Imports inside
  functions count too.
- A module never imports a `_private` name from another chalicelib module, and never reads
  `module._private` of a chalicelib module of another package: what another module uses
  is public (no leading underscore).
"""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = 'chalicelib'


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name('lint-imports')
    result = subprocess.run([str(lint_imports), '--no-cache'], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f'lint-imports failed:\n{result.stdout}\n{result.stderr}'


# --- private names ---------------------------------------------------------------------------

def _private(name):
    """`_` alone is gettext (chalicelib.core.i18n), public by convention."""
    return name.startswith('_') and name != '_' and not (name.startswith('__') and name.endswith('__'))


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _is_module(dotted):
    """Whether `dotted` (chalicelib.x.y) names a module or package of the source tree."""
    base = ROOT.joinpath(*dotted.split('.'))
    return base.with_suffix('.py').is_file() or (base / '__init__.py').is_file()


def _package_of(dotted):
    """The feature package a module belongs to: `chalicelib.reminders` for chalicelib.reminders.job."""
    return '.'.join(dotted.split('.')[:2])


def _absolute(node, module, path):
    """The absolute module an ImportFrom reads from (relative imports resolved)."""
    if not node.level:
        return node.module or ''
    package = module.split('.') if path.name == '__init__.py' else module.split('.')[:-1]
    base = package[:len(package) - node.level + 1]
    return '.'.join(base + ([node.module] if node.module else []))


def _dotted(node):
    """'a.b.c' for a Name/Attribute chain, else None."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    names.append(node.id)
    return '.'.join(reversed(names))


def private_reaches(path):
    """[(line, text)] of the places `path` uses a private name of another chalicelib module."""
    module = _module_name(path)
    tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
    found = []
    aliases = {}        # local name -> the chalicelib module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split('.')[0] != PACKAGE:
                    continue
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    aliases.setdefault(PACKAGE, PACKAGE)   # `import chalicelib.x.y` binds chalicelib
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path)
            if source.split('.')[0] != PACKAGE:
                continue
            for alias in node.names:
                if _private(alias.name) and source != module:
                    found.append((node.lineno, f'from {source} import {alias.name}'))
                elif _is_module(f'{source}.{alias.name}'):
                    aliases[alias.asname or alias.name] = f'{source}.{alias.name}'
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        chain = _dotted(node.value)
        if chain is None:
            continue
        head, _, rest = chain.partition('.')
        if head not in aliases:
            continue
        target = '.'.join(filter(None, [aliases[head], rest]))
        if _is_module(target) and _package_of(target) != _package_of(module):
            found.append((node.lineno, f'{chain}.{node.attr} ({target}.{node.attr})'))
    return sorted(set(found))


def test_no_module_reaches_into_another_modules_private_names():
    offences = [f'{path.relative_to(ROOT)}:{line}: {text}'
                for path in sorted((ROOT / PACKAGE).rglob('*.py'))
                for line, text in private_reaches(path)]
    assert not offences, ('Private names used from another module (make them public, or move the code '
                          'to where it is used):\n' + '\n'.join(offences))


def test_the_private_name_check_finds_what_it_should(tmp_path, monkeypatch):
    """The AST walk itself: a from-import of a private name, a module attribute of another
    package, and what is allowed (own names, dunders, same-package module attributes)."""
    package = tmp_path / PACKAGE
    for sub in ('core', 'reminders'):
        (package / sub).mkdir(parents=True)
        (package / sub / '__init__.py').write_text('')
    (package / '__init__.py').write_text('')
    (package / 'core' / 'ids.py').write_text('_SECRET = 1\n')
    (package / 'reminders' / 'words.py').write_text('_table = {}\n')
    (package / 'reminders' / 'job.py').write_text(
        'from chalicelib.core.ids import _SECRET\n'
        'from chalicelib.core import ids\n'
        'import chalicelib.core.ids as idmod\n'
        'from chalicelib.reminders import words\n'
        'from . import words as w\n'
        'from chalicelib.reminders.words import __doc__\n'
        'def f():\n'
        '    from .words import _table\n'
        '    return ids._SECRET, idmod._SECRET, words._table, w._table, _private_here\n'
        '_private_here = 2\n')
    monkeypatch.setattr(sys.modules[__name__], 'ROOT', tmp_path)
    found = private_reaches(package / 'reminders' / 'job.py')
    assert [line for line, _ in found] == [1, 8, 9, 9], found
    assert any('ids._SECRET' in text for _, text in found)
    assert any('idmod._SECRET' in text for _, text in found)
    assert not any('words._table' in text or 'w._table' in text for _, text in found)
