"""Who is asking: the session behind a request, login-required pages, CSRF checks, and the
circle a facilitator route works on."""
import functools
from urllib.parse import quote

from chalicelib.core.errors import Refusal
from chalicelib.handlers.web import form_fields, html_response, redirect, refusal_page


def client_ip(request):
    return ((request.context or {}).get('identity') or {}).get('sourceIp') or 'unknown'


def actual_path(request):
    """The path the browser asked for (`request.path` is the route pattern, with {names}).
    API Gateway sets the event's `path`; `chalice local` and the test client only set
    `requestContext.path`."""
    event = request.to_original_event()
    return event.get('path') or (event.get('requestContext') or {}).get('path') or '/dashboard'


def safe_next(value):
    """Only same-site paths: `next` must never send a login to another site."""
    if value and value.startswith('/') and not value.startswith('//') and '\\' not in value:
        return value
    return '/dashboard'


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


def forbidden_page():
    from chalicelib.core.rendering import render
    return html_response(render('message.html', title='This form has expired',
                                message='Please go back, reload the page and try again.'), 403)
