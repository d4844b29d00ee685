"""Small helpers shared by the HTTP handlers: responses, form bodies, error mapping."""
import functools
import json
from urllib.parse import parse_qsl

from chalice import Response

from chalicelib.core.errors import NotFound, SignupRefused, ValidationFailed

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


def api_errors(handler):
    """Map our refusals to the public API's error shape: {"status": "error", "errors": {...}}."""
    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except ValidationFailed as error:
            return json_response({'status': 'error', 'errors': error.errors}, 400)
        except SignupRefused as error:
            return json_response({'status': 'error', 'errors': {'learning_circle': [error.message]}}, 400)
        except NotFound as error:
            return json_response({'status': 'error', 'errors': {'learning_circle': [str(error)]}}, 404)
    return wrapper
