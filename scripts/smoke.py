"""Check a deployed stack over HTTP: `make smoke URL=https://...` (or `python -m scripts.smoke URL`).

It reads only public, anonymous pages (no sign-in, no writes, nothing sent): the browse page and
the about page as HTML, the browse API as JSON, the OpenAPI document, and an unknown circle's page,
which must be the app's HTML 404 (not API Gateway's JSON). Exit status 0 when every check passes,
1 otherwise, with one line per check. Standard library only: it runs anywhere Python 3.11 does.
"""
import json
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 20
MISSING_CIRCLE = '/circles/smoke-test-no-such-circle'


def fetch(base_url, path):
    """(status, content type, body text) of a GET; 4xx and 5xx are answers, not exceptions."""
    request = urllib.request.Request(base_url.rstrip('/') + path, headers={'User-Agent': 'circles-smoke/1'})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.headers.get('Content-Type', ''), response.read().decode('utf-8', 'replace')
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get('Content-Type', ''), error.read().decode('utf-8', 'replace')


def html_page(status):
    def check(answer):
        code, kind, body = answer
        assert code == status, f'status {code}, expected {status}'
        assert kind.startswith('text/html'), f'content type {kind!r}'
        assert '<main' in body and '</html>' in body, 'not a whole page with a <main> landmark'
    return check


def browse_api(answer):
    code, kind, body = answer
    assert code == 200 and kind.startswith('application/json'), f'status {code}, content type {kind!r}'
    json.loads(body)


def openapi_document(answer):
    code, kind, body = answer
    assert code == 200 and kind.startswith('application/json'), f'status {code}, content type {kind!r}'
    document = json.loads(body)
    assert str(document.get('openapi', '')).startswith('3.'), 'no "openapi": "3.x" field'
    assert '/api/learningcircles' in document.get('paths', {}), 'the browse API is not described'


CHECKS = (
    ('browse page', '/', html_page(200)),
    ('about page', '/about', html_page(200)),
    ('browse API', '/api/learningcircles', browse_api),
    ('OpenAPI document', '/api/openapi.json', openapi_document),
    ('HTML 404', MISSING_CIRCLE, html_page(404)),
)


def run(base_url, out=sys.stdout):
    """Every check against `base_url`; the number that failed."""
    failed = 0
    for name, path, check in CHECKS:
        try:
            check(fetch(base_url, path))
            print(f'ok    {name}  GET {path}', file=out)
        except (AssertionError, ValueError, OSError) as error:
            failed += 1
            print(f'FAIL  {name}  GET {path}: {error}', file=out)
    return failed


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not argv[0].startswith(('http://', 'https://')):
        print('usage: python -m scripts.smoke https://<the stack EndpointURL or your domain>', file=sys.stderr)
        return 2
    failed = run(argv[0])
    print(f'{len(CHECKS) - failed}/{len(CHECKS)} checks passed', file=sys.stdout)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
