"""Small helpers shared by the HTTP handlers: responses, form bodies, and the one error seam
(a Refusal becomes its page or the API's JSON error; anything unexpected, a 500 that says nothing)."""
import functools
import json
import logging
import traceback
from urllib.parse import parse_qsl

from chalice import Response

from chalicelib.core.errors import Refusal, ValidationFailed
from chalicelib.core.i18n import N_, _

log = logging.getLogger(__name__)

def _content_security_policy(frame_ancestors):
    return ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
            f"script-src 'self'; frame-ancestors {frame_ancestors}; form-action 'self'")


SECURITY_HEADERS = {
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': _content_security_policy("'none'"),
}
# The team widget's pages (`/teams/{slug}/embed...`) are made to be framed by any website: the
# same policy but `frame-ancestors *`, and no X-Frame-Options (DENY would win in older browsers).
# Every other page may be framed by no one.
EMBED_SECURITY_HEADERS = {**{name: value for name, value in SECURITY_HEADERS.items() if name != 'X-Frame-Options'},
                          'Content-Security-Policy': _content_security_policy('*')}


def embeddable(response):
    """`response` (an HTML page) with the widget's headers instead of the framing denial."""
    response.headers.pop('X-Frame-Options', None)
    response.headers.update(EMBED_SECURITY_HEADERS)
    return response


def json_response(body, status=200, headers=None):
    return Response(body=json.dumps(body), status_code=status,
                    headers={'Content-Type': 'application/json', **(headers or {})})


# Public listings: shared caches (API Gateway, CloudFront) may answer repeats for 30 s; browsers
# ask again every time, and get a 304 when nothing changed (the ETag is the body's hash).
PUBLIC_JSON_CACHE = 'public, max-age=0, s-maxage=30, must-revalidate'


@functools.lru_cache(maxsize=16)
def entity_tag(text):
    """The ETag of a body. The last few are kept for the catalog's kept answers: the same text
    object comes back, and its hash (which Python keeps on the object) finds the tag without
    reading the text again. Few, because each holds its text."""
    import hashlib
    return f'"{hashlib.blake2b(text.encode(), digest_size=12).hexdigest()}"'


def public_json_response(request, text):
    """A public GET's JSON text, with an ETag; 304 without a body when the client has it."""
    tag = entity_tag(text)
    headers = {'ETag': tag, 'Cache-Control': PUBLIC_JSON_CACHE}
    wanted = (request.headers or {}).get('if-none-match', '')
    if tag in [candidate.strip() for candidate in wanted.split(',')]:
        return Response(body='', status_code=304, headers=headers)
    return Response(body=text, status_code=200, headers={'Content-Type': 'application/json', **headers})


def html_response(html, status=200):
    return Response(body=html, status_code=status,
                    headers={'Content-Type': 'text/html; charset=utf-8', **SECURITY_HEADERS})


def page(template, status=200, **context):
    """An HTML page rendered from `templates/`."""
    from chalicelib.core.rendering import render
    return html_response(render(template, **context), status)


def redirect(location, status=303):
    return Response(body='', status_code=status, headers={'Location': location})


def form_fields(request):
    """A urlencoded form body as a flat dict (the last value wins for repeated names)."""
    body = request.raw_body or b''
    return dict(parse_qsl(body.decode('utf-8', errors='replace'), keep_blank_values=True))


MAX_JSON_DEPTH = 20     # arrays and objects inside each other; our bodies need 2


def json_body(request):
    """The request's JSON object, or ValidationFailed (400) before anything reads it: not a JSON
    object, nested deeper than MAX_JSON_DEPTH (thousands of `[` exhaust the parser's recursion),
    or a lone surrogate in any string (`"\\ud800"`: no page, email or DynamoDB request can carry
    it, see chalicelib/core/fields.py), named by the field that holds it."""
    try:
        body = json.loads(request.raw_body or b'null')
    except (ValueError, RecursionError):
        raise ValidationFailed({'body': [_('Must be a JSON object.')]}) from None
    if not isinstance(body, dict):
        raise ValidationFailed({'body': [_('Must be a JSON object.')]})
    problems = _json_problems(body)
    if problems:
        raise ValidationFailed(problems)
    return body


def _json_problems(body):
    """{field: [message]} for the first nesting or broken-text problem of a parsed body."""
    from chalicelib.core.fields import BROKEN_CHARACTER, has_lone_surrogate, without_surrogates
    pending = [(body, 1, 'body')]
    while pending:
        value, depth, field = pending.pop()
        if isinstance(value, (dict, list)) and depth > MAX_JSON_DEPTH:
            return {'body': [_('Please nest arrays and objects at most %(depth)s deep.') % {'depth': MAX_JSON_DEPTH}]}
        if isinstance(value, dict):
            for key, inner in value.items():
                name = key if field == 'body' else f'{field}.{key}'
                if has_lone_surrogate(key):
                    return {without_surrogates(name): [_(BROKEN_CHARACTER)]}
                pending.append((inner, depth + 1, name))
        elif isinstance(value, list):
            pending.extend((inner, depth + 1, field) for inner in value)
        elif isinstance(value, str) and has_lone_surrogate(value):
            return {field: [_(BROKEN_CHARACTER)]}
    return {}


# --- refusals: one seam from the domain's Refusal to an answer ---------------------------

REFUSAL_TITLES = {400: N_('We could not accept that'), 409: N_('This changed meanwhile'),
                  429: N_('Too many requests')}
REFUSAL_TITLE = N_('We could not do that')      # any other status
# The public API's refusals without field errors are about the learning circle a request names.
API_REFUSAL_FIELD = 'learning_circle'


def refusal_page(refusal, **context):
    """The page for a refusal, with its status: `not_found.html` for 404, else `refusal.html`
    (title by status, and the message). Pass `session` to keep the nav signed in."""
    if refusal.status == 404:
        return page('not_found.html', 404, **context)
    title = _(REFUSAL_TITLES.get(refusal.status, REFUSAL_TITLE))
    return with_retry_after(page('refusal.html', refusal.status, title=title, refusal=refusal, **context), refusal)


def with_retry_after(response, refusal):
    """A rate-limited refusal (429, `retry_after` seconds) carries the `Retry-After` header."""
    retry_after = getattr(refusal, 'retry_after', None)
    if retry_after:
        response.headers['Retry-After'] = str(retry_after)
    return response


def refusal_json(refusal, field=API_REFUSAL_FIELD):
    """The public API's error shape, `{"status": "error", "errors": {field: [messages]}}`:
    a refusal's own field errors, or its message under `field`."""
    return with_retry_after(json_response({'status': 'error', 'errors': refusal.errors or {field: [refusal.message]}},
                                          refusal.status), refusal)


def answers_refusals(answer):
    """Decorator factory: a Refusal the view does not handle itself is answered by `answer(refusal)`.
    A view that re-renders its own form catches that refusal first; everything else lands here."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except Refusal as refusal:
                return answer(refusal)
        return wrapper
    return decorate


api_errors = answers_refusals(refusal_json)


# --- unexpected errors ----------------------------------------------------------------

SERVER_ERROR = N_('Something went wrong on our side. Please try again later.')
SERVER_ERROR_JSON = {'status': 'error', 'errors': {'server': [SERVER_ERROR]}}     # in English


def server_error_json():
    """SERVER_ERROR_JSON in the language of the moment."""
    return {'status': 'error', 'errors': {'server': [_(SERVER_ERROR)]}}


def without_exception_text(record):
    """Logging filter: an exception is logged as its type and the frames it passed through,
    never its message or locals, which may quote what a person typed or stored."""
    if record.exc_info and record.exc_info[1] is not None:
        kind, _value, trace = record.exc_info
        frames = ''.join(f'\n  {f.filename}:{f.lineno} in {f.name}' for f in traceback.extract_tb(trace))
        record.msg, record.args = f'{record.getMessage()}: {kind.__qualname__}{frames}', ()
        record.exc_info = record.exc_text = None
    return True


log.addFilter(without_exception_text)


def server_error(request):
    """The answer to an unexpected error: no traceback, no exception text. JSON under /api/."""
    if _route_path(request).startswith('/api/'):
        return json_response(server_error_json(), 500)
    try:
        return page('server_error.html', 500)
    except Exception:  # noqa: BLE001 - the error page must not fail in turn
        from html import escape
        return html_response(f'<!doctype html><title>{escape(_("Something went wrong"))}</title>'
                             f'<h1>{escape(_("Something went wrong on our side"))}</h1>', 500)


def _route_path(request):
    """The route pattern (`/withdraw/{token}`), never the actual path: that may carry a token."""
    return getattr(request, 'path', None) or 'unknown'


def error_pages(request, get_response):
    """Chalice middleware: any 500 becomes `server_error(request)`. Chalice itself catches a
    view's exception, logs it (through `without_exception_text`) and answers JSON; what it lets
    through (from other middleware) is logged here the same way."""
    try:
        response = get_response(request)
    except Exception:  # noqa: BLE001 - the last line of defence for every route
        log.error('Caught exception for path %s', _route_path(request), exc_info=True)
        return server_error(request)
    return server_error(request) if response.status_code == 500 else response


def install_error_pages(app):
    """Wire the 500 page, the exception-text-free logging and every response's own headers
    (`response_headers`, outermost, so the 500 page gets them too) into a Chalice app."""
    app.log.addFilter(without_exception_text)
    app.register_middleware(response_headers, 'http')
    app.register_middleware(error_pages, 'http')


# --- headers on every response --------------------------------------------------------------

# Routes that answer the same to every visitor. Every other route may show someone's data (a
# learner's answers or details, a facilitator's circle, a signed link), so no browser or proxy
# may keep a copy: a new route is private until it is listed here.
PUBLIC_ROUTES = frozenset({'/', '/circles/{circle_id}', '/circles/{circle_id}/calendar.ics', '/static/{name}',
                           '/api/learningcircles', '/api/learningcircles/{circle_id}', '/api/openapi.json'})
HSTS = 'max-age=31536000; includeSubDomains'


def transport_headers(route, local):
    """What every response carries unless its handler set the header itself: `nosniff` (JSON,
    CSV, calendars and redirects too), `Cache-Control: no-store` unless `route` (the pattern) is
    public, and HSTS outside the local stage (which is served over plain HTTP)."""
    headers = {'X-Content-Type-Options': 'nosniff'}
    if route not in PUBLIC_ROUTES:
        headers['Cache-Control'] = 'no-store'
    if not local:
        headers['Strict-Transport-Security'] = HSTS
    return headers


def response_headers(request, get_response):
    """Chalice middleware: `transport_headers` on every response."""
    from chalicelib.core.settings import get_settings
    response = get_response(request)
    for name, value in transport_headers(_route_path(request), get_settings().is_local).items():
        if not any(existing.lower() == name.lower() for existing in response.headers):
            response.headers[name] = value
    return response
