"""Small helpers shared by the HTTP handlers: responses, form bodies, and the one error seam
(a Refusal becomes its page or the API's JSON error; anything unexpected, a 500 that says nothing)."""
import functools
import json
import logging
import traceback
from urllib.parse import parse_qsl

from chalice import Response

from chalicelib.core.errors import Refusal, ValidationFailed

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; frame-ancestors 'none'; form-action 'self'"),
}


def json_response(body, status=200, headers=None):
    return Response(body=json.dumps(body), status_code=status,
                    headers={'Content-Type': 'application/json', **(headers or {})})


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


def json_body(request):
    try:
        body = json.loads(request.raw_body or b'null')
    except ValueError:
        raise ValidationFailed({'body': ['Must be a JSON object.']}) from None
    if not isinstance(body, dict):
        raise ValidationFailed({'body': ['Must be a JSON object.']})
    return body


# --- refusals: one seam from the domain's Refusal to an answer ---------------------------

REFUSAL_TITLES = {400: 'We could not accept that', 409: 'This changed meanwhile'}
# The public API's refusals without field errors are about the learning circle a request names.
API_REFUSAL_FIELD = 'learning_circle'


def refusal_page(refusal, **context):
    """The page for a refusal, with its status: `not_found.html` for 404, else `refusal.html`
    (title by status, and the message). Pass `session` to keep the nav signed in."""
    if refusal.status == 404:
        return page('not_found.html', 404, **context)
    title = REFUSAL_TITLES.get(refusal.status, 'We could not do that')
    return page('refusal.html', refusal.status, title=title, refusal=refusal, **context)


def refusal_json(refusal, field=API_REFUSAL_FIELD):
    """The public API's error shape, `{"status": "error", "errors": {field: [messages]}}`:
    a refusal's own field errors, or its message under `field`."""
    return json_response({'status': 'error', 'errors': refusal.errors or {field: [refusal.message]}},
                         refusal.status)


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

SERVER_ERROR_JSON = {'status': 'error', 'errors': {'server': ['Something went wrong on our side. '
                                                               'Please try again later.']}}


def without_exception_text(record):
    """Logging filter: an exception is logged as its type and the frames it passed through,
    never its message or locals, which may quote what a person typed or stored."""
    if record.exc_info and record.exc_info[1] is not None:
        kind, _, trace = record.exc_info
        frames = ''.join(f'\n  {f.filename}:{f.lineno} in {f.name}' for f in traceback.extract_tb(trace))
        record.msg, record.args = f'{record.getMessage()}: {kind.__qualname__}{frames}', ()
        record.exc_info = record.exc_text = None
    return True


log.addFilter(without_exception_text)


def server_error(request):
    """The answer to an unexpected error: no traceback, no exception text. JSON under /api/."""
    if _route_path(request).startswith('/api/'):
        return json_response(SERVER_ERROR_JSON, 500)
    try:
        return page('server_error.html', 500)
    except Exception:  # noqa: BLE001 - the error page must not fail in turn
        return html_response('<!doctype html><title>Something went wrong</title>'
                             '<h1>Something went wrong on our side</h1>', 500)


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
    """Wire the 500 page and the exception-text-free logging into a Chalice app."""
    app.log.addFilter(without_exception_text)
    app.register_middleware(error_pages, 'http')
