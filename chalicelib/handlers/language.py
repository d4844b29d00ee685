"""The visitor's language: every request renders in it (`language_middleware`), and the
switcher's links (`/language/{code}`, in every page's footer) choose it with a cookie.

The choice order is core/i18n.py's: the `lang` cookie, then `Accept-Language`, then on a
circle's pages the circle's language (`i18n.prefer` in those handlers), then English.
"""
from urllib.parse import urlsplit

from chalice import Blueprint, Response

from chalicelib.core import i18n

bp = Blueprint(__name__)


def language_middleware(request, get_response):
    """Chalice middleware: the request's block runs in the visitor's language; an HTML answer
    names the language it is in (`Content-Language`), and varies by what chose it."""
    from chalicelib.accounts.sessions import cookie_value
    headers = request.headers or {}
    choice = i18n.visitor_language({i18n.COOKIE: cookie_value(headers.get('cookie'), i18n.COOKIE)},
                                   headers.get('accept-language'))
    with i18n.for_visitor(choice, _path_with_query(request)):
        response = get_response(request)
        if response.headers.get('Content-Type', '').startswith('text/html'):
            response.headers.setdefault('Content-Language', i18n.current())
            response.headers.setdefault('Vary', 'Accept-Language, Cookie')
    return response


def _path_with_query(request):
    from urllib.parse import urlencode
    path = (getattr(request, 'context', None) or {}).get('path') or '/'
    query = urlencode(request.query_params or {})
    return f'{path}?{query}' if query else path


def back_to(target):
    """`next` when it is a path of this site, else the home page (never another site)."""
    parts = urlsplit(target or '/')
    if parts.scheme or parts.netloc or not (target or '').startswith('/') or target.startswith('//') \
            or '\\' in target:
        return '/'
    return target


@bp.route('/language/{code}', methods=['GET'])
def choose_language(code):
    """Remember the visitor's language for a year and go back to the page they were on."""
    from chalicelib.accounts.sessions import plain_cookie
    chosen = i18n.supported(code)
    if chosen is None:
        from chalicelib.handlers.web import page
        return page('not_found.html', 404)
    target = back_to((bp.current_request.query_params or {}).get('next'))
    return Response(body='', status_code=303, headers={
        'Location': target,
        'Set-Cookie': plain_cookie(i18n.COOKIE, chosen, i18n.COOKIE_MAX_AGE)})
