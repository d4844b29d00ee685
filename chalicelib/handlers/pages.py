"""Server-rendered pages for learners: browse, a circle and its signup form, thanks, withdraw.

Every page works without JavaScript; the only script fills in "near me" from
the browser's geolocation.
"""
from chalice import Blueprint, Response

from chalicelib.core import i18n
from chalicelib.core.i18n import _
from chalicelib.handlers.web import form_fields, page, redirect

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
STATIC_FILES = {'style.css': 'text/css; charset=utf-8', 'near-me.js': 'text/javascript; charset=utf-8',
                'sms-counter.js': 'text/javascript; charset=utf-8',
                'reminder-sms.js': 'text/javascript; charset=utf-8',
                'timezone.js': 'text/javascript; charset=utf-8',
                'team-embed.js': 'text/javascript; charset=utf-8'}
HONEYPOT = 'website'


@bp.route('/', methods=['GET'])
def browse_page():
    from chalicelib.circles.browse_page import browse_page_context
    context = browse_page_context(bp.current_request.query_params or {})
    return page('browse.html', 400 if context['errors'] else 200, **context)


@bp.route('/circles/{circle_id}', methods=['GET'])
def circle_page(circle_id):
    context = _in_circle_language(circle_id)
    if context is None:
        return page('not_found.html', 404)
    return _circle_page(context)


def _in_circle_language(circle_id, **values):
    """The circle page's context, the page in the circle's language unless the visitor chose one
    (None when no published circle has this id)."""
    from chalicelib.circles.browse_page import circle_page_context
    from chalicelib.circles import circles
    circle = circles.get_circle(circle_id)
    if circle is None:
        return None
    i18n.prefer(circle.language)
    return circle_page_context(circle_id, circle=circle, **values)


def _circle_page(context, status=200):
    """The circle page, its signup form showing a mobile number as written in the circle's country."""
    from chalicelib.learners.phone import example_number
    return page('circle.html', status, mobile_example=example_number(context['circle']), **context)


@bp.route('/circles/{circle_id}/signup', methods=['POST'], content_types=FORM)
def circle_signup(circle_id):
    from chalicelib.circles import circles
    from chalicelib.circles.browse_page import circle_page_context
    from chalicelib.core.errors import SignupRefused, ValidationFailed
    from chalicelib.handlers.auth import client_ip
    from chalicelib.handlers.web import refusal_page
    from chalicelib.learners.signup import sign_up_for
    from chalicelib.models.rate_limits import RateLimited
    request = bp.current_request
    fields = form_fields(request)
    if fields.get(HONEYPOT):
        # A bot filled the field people cannot see: answer as if it worked, write nothing.
        return redirect(f'/circles/{circle_id}/thanks')
    # The circle read here is the one `sign_up` would read: its messages come in its language.
    circle = circles.get_circle(circle_id)
    if circle is None or not circle.published:
        return page('not_found.html', 404)
    i18n.prefer(circle.language)
    try:
        # A repeated signup is answered as a new one: the same redirect, the same thanks page.
        sign_up_for(circle, fields, client=client_ip(request))
    except ValidationFailed as error:
        return _circle_page(circle_page_context(circle_id, values=fields, errors=error.errors), 400)
    except SignupRefused as error:
        return _circle_page(circle_page_context(circle_id, values=fields, refusal=error.message), 400)
    except RateLimited as error:
        return refusal_page(error)
    return redirect(f'/circles/{circle_id}/thanks')


@bp.route('/circles/{circle_id}/thanks', methods=['GET'])
def thanks_page(circle_id):
    context = _in_circle_language(circle_id)
    if context is None:
        return page('not_found.html', 404)
    return page('thanks.html', **context)


@bp.route('/withdraw/{token}', methods=['GET'])
def withdraw_page(token):
    return _withdraw(token, confirm=False)


@bp.route('/withdraw/{token}', methods=['POST'], content_types=FORM)
def withdraw_confirm(token):
    return _withdraw(token, confirm=True)


def _learner_of_link(read, token):
    """(signup, circle) a learner's link points at, or (None, None) when the link is bad or
    what it names is gone; `read` is the link kind's reader (it raises BadLink). The page is in
    the circle's language unless the visitor chose one."""
    from chalicelib.circles import circles
    from chalicelib.core.links import BadLink
    try:
        signup = read(token)
    except BadLink:
        return None, None
    circle = signup and circles.get_circle(signup.circle_id)
    if circle is None:
        return None, None
    i18n.prefer(circle.language)
    return signup, circle


def _withdraw(token, confirm):
    from chalicelib.learners.signup import signup_from_withdraw_token, withdraw
    signup, circle = _learner_of_link(signup_from_withdraw_token, token)
    if signup is None:
        return page('link_invalid.html', 400)
    if confirm and signup.active:
        withdraw(signup)
        return page('withdraw.html', circle=circle, done=True, token=token)
    return page('withdraw.html', circle=circle, done=not signup.active, token=token)


# --- a learner's own details, through the link in the "already signed up" email -----------
# No CSRF token: no session is involved, and the signed token in the URL is the credential.

@bp.route('/my-details/{token}', methods=['GET'])
def details_page(token):
    return _details(token, fields=None)


@bp.route('/my-details/{token}', methods=['POST'], content_types=FORM)
def details_change(token):
    return _details(token, fields=form_fields(bp.current_request))


DETAIL_FIELDS = ('name', 'mobile', 'goals', 'support', 'custom_answer', 'communications_opt_in')


def _details(token, fields):
    from chalicelib.core.errors import SignupRefused, ValidationFailed
    from chalicelib.core.settings import get_settings
    from chalicelib.learners.details import signup_from_details_token, update_details
    from chalicelib.learners.signup import withdraw_link
    signup, circle = _learner_of_link(signup_from_details_token, token)
    if signup is None:
        return page('link_invalid.html', 400)
    context = dict(circle=circle, signup=signup, token=token, errors={}, saved=False,
                   withdraw_path=withdraw_link(signup).removeprefix(get_settings().public_base_url))
    if fields is not None:
        try:
            signup = update_details(signup, circle, fields)
        except ValidationFailed as error:
            return page('my_details.html', 400, **{**context, 'values': fields, 'errors': error.errors})
        except SignupRefused:
            return page('link_invalid.html', 400)
        context['saved'] = True
    return page('my_details.html', **context, values={name: getattr(signup, name) for name in DETAIL_FIELDS})


# --- a learner's text messages, off or on, through the link in every learner email ---------
# No CSRF token, as for the details page: the signed token in the URL is the credential.

@bp.route('/texts/{token}', methods=['GET'])
def texts_page(token):
    return _texts(token, turn=None)


@bp.route('/texts/{token}', methods=['POST'], content_types=FORM)
def texts_change(token):
    fields = form_fields(bp.current_request)
    return _texts(token, turn={'on': True, 'off': False}.get(fields.get('texts')))


def _texts(token, turn):
    from chalicelib.circles import circles
    from chalicelib.core.errors import SignupRefused
    from chalicelib.core.links import BadLink
    from chalicelib.learners.texts import set_texts, signup_from_texts_token
    try:
        signup = signup_from_texts_token(token)
    except BadLink:
        return page('link_invalid.html', 400)
    circle = signup and circles.get_circle(signup.circle_id)
    if signup is None or circle is None:
        return page('link_invalid.html', 400)
    i18n.prefer(circle.language)
    changed = turn is not None and bool(signup.mobile) and bool(signup.sms_opted_out) == turn
    if changed:
        try:
            set_texts(signup, on=turn)
        except SignupRefused:
            return page('link_invalid.html', 400)
    response = page('texts.html', circle=circle, signup=signup, token=token, changed=changed)
    response.headers['Cache-Control'] = 'no-store'
    return response


# --- pages about the site: what it is, privacy, and where a new facilitator starts ----------

@bp.route('/about', methods=['GET'])
def about_page():
    return _site_page('about.html')


@bp.route('/privacy', methods=['GET'])
def privacy_page():
    return _site_page('privacy.html')


@bp.route('/run-a-circle', methods=['GET'])
def run_a_circle_page():
    return _site_page('run_a_circle.html')


def _site_page(template):
    from chalicelib.core.settings import get_settings
    from chalicelib.handlers.auth import current_session
    settings = get_settings()
    return page(template, session=current_session(bp.current_request), support_email=settings.support_email,
                retention_days=int(settings.retention_days))


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
    return refusal_json(NotFound(_('There is no such endpoint in this API.')), field='path')
