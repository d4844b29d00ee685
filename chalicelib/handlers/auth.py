"""Who is asking: the session behind a request, login-required pages, CSRF checks (signed-in
and anonymous forms), and the circle a facilitator route works on."""
import functools
import re
from urllib.parse import quote, unquote

from chalicelib.core.errors import Refusal
from chalicelib.core.i18n import _
from chalicelib.handlers.web import form_fields, html_response, redirect, refusal_page


def client_ip(request):
    return ((request.context or {}).get('identity') or {}).get('sourceIp') or 'unknown'


def actual_path(request):
    """The path the browser asked for (`request.path` is the route pattern, with {names}).
    API Gateway sets the event's `path`; `chalice local` and the test client only set
    `requestContext.path`."""
    event = request.to_original_event()
    return event.get('path') or (event.get('requestContext') or {}).get('path') or '/dashboard'


DEFAULT_NEXT = '/dashboard'
# One `/`, then a character a path may hold (RFC 3986 pchar): never `//`, `/\`, `/<tab>`.
_SAME_SITE_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%]")
_UNSAFE_SENT = re.compile(r'[\x00-\x20\x7f\\]')     # as sent: no whitespace, control character or backslash
_UNSAFE_DECODED = re.compile(r'[\x00-\x1f\x7f\\]')  # decoded: no control character or backslash (a space may be)


def safe_next(value):
    """Only same-site paths: `next` must never send a login to another site. The value must start
    with a single `/` followed by a path character both as sent and after percent-decoding
    (repeatedly, as a browser or proxy may decode again), and hold no control character or
    backslash (nor, as sent, whitespace): `/%09/host` and `/%2F/host` are refused like `//host`."""
    if not value or len(value) > 2000 or not value.isascii():
        return DEFAULT_NEXT
    decoded = value
    for _attempt in range(3):
        decoded, previous = unquote(decoded), decoded
        if decoded == previous:
            break
    for form, unsafe in ((value, _UNSAFE_SENT), (decoded, _UNSAFE_DECODED)):
        if not _SAME_SITE_PATH.match(form) or unsafe.search(form):
            return DEFAULT_NEXT
    return value


def current_session(request):
    from chalicelib.accounts import sessions
    headers = request.headers or {}
    return sessions.from_cookie_header(headers.get('cookie'))


def signed_in(blueprint):
    """Decorator: the view gets `session` as its first argument; anonymous visitors are sent
    to the login page. Every POST must carry the session's CSRF token in `csrf_token`,
    or it is refused with 403 and nothing happens."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            from chalicelib.accounts import sessions
            request = blueprint.current_request
            session = current_session(request)
            if session is None:
                return redirect(f'/login?next={quote(actual_path(request))}')
            if request.method == 'POST':
                fields = form_fields(request)
                if not sessions.csrf_ok(session, fields.get('csrf_token')):
                    return forbidden_page()
            return view(session, *args, **kwargs)
        return wrapper
    return decorate


def with_workspace(view):
    """Decorator under `signed_in`: the view gets `(session, ws, **rest)` for the route's
    `{circle_id}`, read with `facilitators.access.workspace` (one Query, role check).
    A Refusal the view does not handle itself answers its page, rendered with the session so the
    nav shows who is signed in: NotFound, the 404 for anyone who may not manage the circle, is
    the same as for a circle, meeting or facilitator that is not there."""
    @functools.wraps(view)
    def wrapper(session, circle_id, **kwargs):
        from chalicelib.facilitators.access import workspace
        try:
            return view(session, workspace(session, circle_id), **kwargs)
        except Refusal as refusal:
            return refusal_page(refusal, session=session)
    return wrapper


def signed_in_context(session):
    """What every signed-in page's template needs: the session and its form CSRF token."""
    from chalicelib.accounts import sessions
    return {'session': session, 'csrf_token': sessions.csrf_token(session)}


def anonymous_form(blueprint):
    """Decorator for the anonymous forms (login, register, forgot, reset, resend): the view gets
    the form's `csrf_token` first and returns a Response; a browser without the pre-session
    cookie is given one. A POST must carry the token bound to that cookie in `csrf_token`, or it
    is refused with 403 and nothing happens: a foreign page cannot submit these forms in the
    visitor's name (login CSRF)."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            from chalicelib.accounts import sessions
            request = blueprint.current_request
            value = sessions.form_cookie_value((request.headers or {}).get('cookie'))
            set_cookie = None
            if value is None:
                value, set_cookie = sessions.new_form_cookie()
            if request.method == 'POST' and not sessions.form_token_ok(value, form_fields(request).get('csrf_token')):
                response = forbidden_page()
            else:
                response = view(sessions.form_token(value), *args, **kwargs)
            if set_cookie and 'Set-Cookie' not in response.headers:
                response.headers['Set-Cookie'] = set_cookie
            return response
        return wrapper
    return decorate


def forbidden_page():
    from chalicelib.core.rendering import render
    return html_response(render('message.html', title=_('This form has expired'),
                                message=_('Please go back, reload the page and try again.')), 403)
