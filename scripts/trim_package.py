"""`make package` step: drop from the Lambda zip Babel's locale data of languages we do not speak.

Babel ships the CLDR data of ~1,100 locales (10 MB of the zip, 32 MB unzipped, a fifth of
Lambda's 50 MB zipped limit). The app formats dates and numbers only in the interface's languages
(chalicelib/core/i18n.py, `settings.INTERFACE_LANGUAGES`), each from `<code>.dat` and its parent
`root.dat`; every other `babel/locale-data/*.dat` goes. tests/ops/test_package.py renders every
language from the trimmed zip in a fresh process.

    python -m scripts.trim_package out/deployment.zip
"""
import os
import re
import sys
import zipfile

LOCALE_DATA = re.compile(r'^babel/locale-data/(?P<name>[^/]+)\.dat$')


def kept_locales():
    from chalicelib.core.settings import INTERFACE_LANGUAGES
    return {'root', *INTERFACE_LANGUAGES}


def trim(path, keep=None):
    """Rewrite the zip at `path` without the locale data of other languages; returns
    (entries dropped, bytes saved in the zip)."""
    keep = kept_locales() if keep is None else keep
    before = os.path.getsize(path)
    trimmed = f'{path}.trimmed'
    dropped = 0
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(trimmed, 'w', zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            found = LOCALE_DATA.match(entry.filename)
            if found and found.group('name') not in keep:
                dropped += 1
                continue
            target.writestr(entry, source.read(entry), compress_type=entry.compress_type)
    os.replace(trimmed, path)
    return dropped, before - os.path.getsize(path)


if __name__ == '__main__':
    for zip_path in sys.argv[1:]:
        count, saved = trim(zip_path)
        print(f'{zip_path}: dropped the locale data of {count} locales we do not speak ({saved / 1e6:.1f} MB)')
