"""Account pages: register, confirm, log in and out, reset and change password or email."""
from chalice import Blueprint, Response

from chalicelib.handlers.auth import client_ip, safe_next, signed_in
from chalicelib.handlers.web import form_fields, page

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']


def _message(title, message, status=200):
    return page('message.html', status, title=title, message=message)


CHECK_EMAIL = ('Check your email', 'We sent you a link to confirm your address. '
               'Follow it to finish creating your account.')


@bp.route('/register', methods=['GET'])
def register_page():
    return page('register.html', values={}, errors={})


@bp.route('/register', methods=['POST'], content_types=FORM)
def register():
    from chalicelib.accounts import accounts
    from chalicelib.core.errors import ValidationFailed
    fields = form_fields(bp.current_request)
    try:
        accounts.register(fields.get('name'), fields.get('email'), fields.get('password'))
    except ValidationFailed as error:
        return page('register.html', 400, values=fields, errors=error.errors)
    return _message(*CHECK_EMAIL)


@bp.route('/confirm/{token}', methods=['GET'])
def confirm(token):
    from chalicelib.accounts import accounts
    from chalicelib.core.errors import ValidationFailed
    from chalicelib.core.links import BadLink
    try:
        accounts.confirm_email(token)
    except BadLink:
        return page('link_invalid.html', 400)
    except ValidationFailed as error:
        return _message('That address is taken', error.errors['email'][0], 409)
    return _message('Email confirmed', 'Thank you! Your email address is confirmed. You can now log in.')


@bp.route('/login', methods=['GET'])
def login_page():
    params = bp.current_request.query_params or {}
    return page('login.html', values={'next': safe_next(params.get('next'))}, error=None)


@bp.route('/login', methods=['POST'], content_types=FORM)
def login():
    from chalicelib.accounts import accounts
    from chalicelib.accounts import sessions
    request = bp.current_request
    fields = form_fields(request)
    try:
        user = accounts.log_in(fields.get('email'), fields.get('password'), client_ip(request))
    except accounts.LoginRefused as error:
        return page('login.html', 400, values={'email': fields.get('email', ''),
                                                 'next': safe_next(fields.get('next'))}, error=error.message)
    _, cookie = sessions.start(user)
    return Response(body='', status_code=303,
                    headers={'Location': safe_next(fields.get('next')), 'Set-Cookie': cookie})


@bp.route('/logout', methods=['POST'], content_types=FORM)
@signed_in(bp)
def logout(session):
    from chalicelib.accounts import sessions
    sessions.end(session)
    return Response(body='', status_code=303, headers={'Location': '/login', 'Set-Cookie': sessions.clearing_cookie()})


@bp.route('/password/forgot', methods=['GET'])
def forgot_page():
    return page('forgot.html', values={}, errors={})


@bp.route('/password/forgot', methods=['POST'], content_types=FORM)
def forgot():
    from chalicelib.accounts import accounts
    from chalicelib.core.errors import ValidationFailed
    fields = form_fields(bp.current_request)
    try:
        accounts.request_password_reset(fields.get('email'))
    except ValidationFailed as error:
        return page('forgot.html', 400, values=fields, errors=error.errors)
    return _message('Check your email', 'If this address has an account, we sent it a link to choose a '
                    'new password. The link works once, for one hour.')


@bp.route('/password/reset/{token}', methods=['GET'])
def reset_page(token):
    from chalicelib.accounts import accounts
    from chalicelib.core.links import BadLink
    try:
        accounts.user_for_reset_token(token)
    except BadLink:
        return page('link_invalid.html', 400)
    return page('reset.html', token=token, errors={})


@bp.route('/password/reset/{token}', methods=['POST'], content_types=FORM)
def reset(token):
    from chalicelib.accounts import accounts
    from chalicelib.core.errors import ValidationFailed
    from chalicelib.core.links import BadLink
    fields = form_fields(bp.current_request)
    try:
        accounts.set_password(accounts.user_for_reset_token(token), fields.get('password'))
    except BadLink:
        return page('link_invalid.html', 400)
    except ValidationFailed as error:
        return page('reset.html', 400, token=token, errors=error.errors)
    return _message('Password changed', 'Your new password is set, and every device was signed out. '
                    'You can log in now.')


def _account_page(session, status=200, **context):
    from chalicelib.accounts import sessions
    return page('account.html', status, session=session, csrf_token=sessions.csrf_token(session),
                 errors=context.pop('errors', {}), **context)


@bp.route('/account', methods=['GET'])
@signed_in(bp)
def account_page(session):
    return _account_page(session)


@bp.route('/account/password', methods=['POST'], content_types=FORM)
@signed_in(bp)
def change_password(session):
    from chalicelib.accounts import accounts
    from chalicelib.accounts import sessions
    from chalicelib.core.errors import ValidationFailed
    fields = form_fields(bp.current_request)
    user = accounts.get_user(session.user_id)
    try:
        accounts.change_password(user, fields.get('current_password'), fields.get('new_password'))
    except ValidationFailed as error:
        return _account_page(session, 400, errors=error.errors)
    _, cookie = sessions.start(accounts.get_user(user.user_id))
    return Response(body='', status_code=303, headers={'Location': '/account?changed=password', 'Set-Cookie': cookie})


@bp.route('/account/email', methods=['POST'], content_types=FORM)
@signed_in(bp)
def change_email(session):
    from chalicelib.accounts import accounts
    from chalicelib.core.errors import ValidationFailed
    fields = form_fields(bp.current_request)
    try:
        accounts.change_email(accounts.get_user(session.user_id), fields.get('password'), fields.get('new_email'))
    except ValidationFailed as error:
        return _account_page(session, 400, errors=error.errors, new_email=fields.get('new_email', ''))
    return _message('Check your new inbox', 'We sent a confirmation link to your new address. '
                    'Your account moves to it when you follow the link.')
