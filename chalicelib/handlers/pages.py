"""Server-rendered pages for learners: browse, a circle and its signup form, thanks, withdraw.

Every page works without JavaScript; the only script fills in "near me" from
the browser's geolocation.
"""
from chalice import Blueprint, Response

from chalicelib.handlers.web import form_fields, page, redirect

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
STATIC_FILES = {'style.css': 'text/css; charset=utf-8', 'near-me.js': 'text/javascript; charset=utf-8',
                'sms-counter.js': 'text/javascript; charset=utf-8',
                'reminder-sms.js': 'text/javascript; charset=utf-8'}
HONEYPOT = 'website'


@bp.route('/', methods=['GET'])
def browse_page():
    from chalicelib.circles.browse_page import browse_page_context
    context = browse_page_context(bp.current_request.query_params or {})
    return page('browse.html', 400 if context['errors'] else 200, **context)


@bp.route('/circles/{circle_id}', methods=['GET'])
def circle_page(circle_id):
    from chalicelib.circles.browse_page import circle_page_context
    context = circle_page_context(circle_id)
    if context is None:
        return page('not_found.html', 404)
    return page('circle.html', **context)


@bp.route('/circles/{circle_id}/signup', methods=['POST'], content_types=FORM)
def circle_signup(circle_id):
    from chalicelib.circles.browse_page import circle_page_context
    from chalicelib.core.errors import NotFound, SignupRefused, ValidationFailed
    from chalicelib.learners.signup import sign_up
    fields = form_fields(bp.current_request)
    if fields.get(HONEYPOT):
        # A bot filled the field people cannot see: answer as if it worked, write nothing.
        return redirect(f'/circles/{circle_id}/thanks')
    try:
        sign_up(circle_id, fields)
    except NotFound:
        return page('not_found.html', 404)
    except ValidationFailed as error:
        return page('circle.html', 400, **circle_page_context(circle_id, values=fields, errors=error.errors))
    except SignupRefused as error:
        return page('circle.html', 400, **circle_page_context(circle_id, values=fields, refusal=error.message))
    return redirect(f'/circles/{circle_id}/thanks')


@bp.route('/circles/{circle_id}/thanks', methods=['GET'])
def thanks_page(circle_id):
    from chalicelib.circles.browse_page import circle_page_context
    context = circle_page_context(circle_id)
    if context is None:
        return page('not_found.html', 404)
    return page('thanks.html', **context)


@bp.route('/withdraw/{token}', methods=['GET'])
def withdraw_page(token):
    return _withdraw(token, confirm=False)


@bp.route('/withdraw/{token}', methods=['POST'], content_types=FORM)
def withdraw_confirm(token):
    return _withdraw(token, confirm=True)


def _withdraw(token, confirm):
    from chalicelib.circles import circles
    from chalicelib.core.links import BadLink
    from chalicelib.learners.signup import signup_from_withdraw_token, withdraw
    try:
        signup = signup_from_withdraw_token(token)
    except BadLink:
        return page('link_invalid.html', 400)
    circle = signup and circles.get_circle(signup.circle_id)
    if signup is None or circle is None:
        return page('link_invalid.html', 400)
    if confirm and signup.active:
        withdraw(signup)
        return page('withdraw.html', circle=circle, done=True, token=token)
    return page('withdraw.html', circle=circle, done=not signup.active, token=token)


@bp.route('/static/{name}', methods=['GET'])
def static_file(name):
    from chalicelib.core.rendering import TEMPLATES_DIR
    if name not in STATIC_FILES:
        return Response(body='Not found', status_code=404, headers={'Content-Type': 'text/plain'})
    body = (TEMPLATES_DIR / 'static' / name).read_text()
    return Response(body=body, status_code=200, headers={
        'Content-Type': STATIC_FILES[name], 'Cache-Control': 'public, max-age=3600'})


# --- any other path -----------------------------------------------------------------------
# API Gateway matches `{proxy+}` greedily (any depth) and only after every specific route.
# `chalice local` and `chalice.test.Client` (Chalice 1.34) match it as ONE path segment, so
# there `/nope` and `/api/nope` reach these views but `/a/b` still gets the gateway's own 403.

ANY_METHOD = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
ANY_BODY = ['*/*']


@bp.route('/{proxy+}', methods=ANY_METHOD, content_types=ANY_BODY)
def unknown_page():
    from chalicelib.core.errors import NotFound
    from chalicelib.handlers.auth import current_session
    from chalicelib.handlers.web import refusal_page
    return refusal_page(NotFound(), session=current_session(bp.current_request))


@bp.route('/api/{proxy+}', methods=ANY_METHOD, content_types=ANY_BODY)
def unknown_api_endpoint():
    from chalicelib.core.errors import NotFound
    from chalicelib.handlers.web import refusal_json
    return refusal_json(NotFound('There is no such endpoint in this API.'), field='path')
