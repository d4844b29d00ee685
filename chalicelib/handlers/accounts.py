"""Account pages: register, confirm (and resend), log in and out, reset and change password or
email, undo an email change. Every anonymous form carries a CSRF token bound to a pre-session
cookie (`auth.anonymous_form`), every signed-in form the session's (`auth.signed_in`)."""
from chalice import Blueprint, Response

from chalicelib.core.i18n import N_, _
from chalicelib.handlers.auth import anonymous_form, client_ip, safe_next, signed_in
from chalicelib.handlers.web import form_fields, page, redirect, refusal_page

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']


def _message(title, message, status=200):
    """The message page; `title` and `message` are translated already."""
    return page('message.html', status, title=title, message=message)


CHECK_EMAIL = (N_('Check your email'), N_('We sent you a link to confirm your address. '
                                          'Follow it to finish creating your account.'))
RESENT = (N_('Check your email'), N_('If this address has an account that is not confirmed yet, we sent it a new '
                                     'confirmation link. It works for 7 days.'))


def _kept_next(value):
    """A `next` worth keeping: a safe same-site path that was actually given, else None."""
    return safe_next(value) if value and safe_next(value) == value else None


@bp.route('/register', methods=['GET'])
@anonymous_form(bp)
def register_page(csrf_token):
    """`?next=` (a safe local path, as for the login page) is kept through the form; after the
    confirmation the first login lands there (see sessions.next_cookie)."""
    params = bp.current_request.query_params or {}
    return page('register.html', values={'next': _kept_next(params.get('next'))}, errors={}, csrf_token=csrf_token)


@bp.route('/register', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def register(csrf_token):
    from chalicelib.accounts import accounts
    from chalicelib.accounts import sessions
    from chalicelib.core.errors import ValidationFailed
    from chalicelib.models.rate_limits import RateLimited
    request = bp.current_request
    fields = form_fields(request)
    try:
        accounts.register(fields.get('name'), fields.get('email'), fields.get('password'),
                          client_ip=client_ip(request))
    except ValidationFailed as error:
        return page('register.html', 400, values={**fields, 'next': _kept_next(fields.get('next'))},
                    errors=error.errors, csrf_token=csrf_token)
    except RateLimited as refusal:
        return refusal_page(refusal)        # 429 with Retry-After; nothing written or sent
    response = _message(*map(_, CHECK_EMAIL))
    kept = _kept_next(fields.get('next'))
    if kept:
        response.headers['Set-Cookie'] = sessions.next_cookie(kept)
    return response


@bp.route('/register/resend', methods=['GET'])
@anonymous_form(bp)
def resend_account_confirmation_page(csrf_token):
    return page('resend.html', values={}, errors={}, csrf_token=csrf_token)


@bp.route('/register/resend', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def resend_account_confirmation(csrf_token):
    from chalicelib.accounts import accounts
    from chalicelib.core.errors import Refusal, ValidationFailed
    request = bp.current_request
    fields = form_fields(request)
    try:
        accounts.resend_confirmation(fields.get('email'), client_ip(request))
    except ValidationFailed as error:
        return page('resend.html', 400, values=fields, errors=error.errors, csrf_token=csrf_token)
    except Refusal as refusal:
        return refusal_page(refusal)
    return _message(*map(_, RESENT))


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
        return _message(_('That address is taken'), error.errors['email'][0], 409)
    return _message(_('Email confirmed'), _('Thank you! Your email address is confirmed. You can now log in.'))


@bp.route('/login', methods=['GET'])
@anonymous_form(bp)
def login_page(csrf_token):
    """`?next=` where the login leads, else the path kept by registering (sessions.next_cookie),
    else the dashboard; always through `safe_next`."""
    from chalicelib.accounts import sessions
    request = bp.current_request
    params = request.query_params or {}
    wanted = params.get('next') or sessions.next_from_cookie((request.headers or {}).get('cookie'))
    return page('login.html', values={'next': safe_next(wanted)}, error=None, csrf_token=csrf_token)


@bp.route('/login', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def login(csrf_token):
    from chalicelib.accounts import accounts
    from chalicelib.accounts import sessions
    request = bp.current_request
    fields = form_fields(request)
    try:
        user = accounts.log_in(fields.get('email'), fields.get('password'), client_ip(request))
    except accounts.LoginRefused as error:
        response = page('login.html', 429 if isinstance(error, accounts.LoginThrottled) else 400,
                        values={'email': (fields.get('email') or '')[:accounts.MAX_EMAIL_LENGTH],
                                'next': safe_next(fields.get('next'))},
                        error=error.message, csrf_token=csrf_token)
        if isinstance(error, accounts.LoginThrottled):
            response.headers['Retry-After'] = str(error.retry_after)
        return response
    _session, cookie = sessions.start(user)
    response = Response(body='', status_code=303,
                        headers={'Location': safe_next(fields.get('next')), 'Set-Cookie': cookie})
    if sessions.next_from_cookie((request.headers or {}).get('cookie')) is not None:
        response.headers['Set-Cookie'] = [cookie, sessions.clearing_next_cookie()]
    return response


@bp.route('/logout', methods=['POST'], content_types=FORM)
@signed_in(bp)
def logout(session):
    from chalicelib.accounts import sessions
    sessions.end(session)
    return Response(body='', status_code=303, headers={'Location': '/login', 'Set-Cookie': sessions.clearing_cookie()})


@bp.route('/password/forgot', methods=['GET'])
@anonymous_form(bp)
def forgot_page(csrf_token):
    return page('forgot.html', values={}, errors={}, csrf_token=csrf_token)


@bp.route('/password/forgot', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def forgot(csrf_token):
    from chalicelib.accounts import accounts
    from chalicelib.core.errors import ValidationFailed
    from chalicelib.models.rate_limits import RateLimited
    request = bp.current_request
    fields = form_fields(request)
    try:
        accounts.request_password_reset(fields.get('email'), client_ip=client_ip(request))
    except ValidationFailed as error:
        return page('forgot.html', 400, values=fields, errors=error.errors, csrf_token=csrf_token)
    except RateLimited as refusal:
        return refusal_page(refusal)        # 429 with Retry-After; nothing sent
    return _message(_('Check your email'), _('If this address has an account, we sent it a link to choose a '
                                             'new password. The link works once, for one hour.'))


@bp.route('/password/reset/{token}', methods=['GET'])
@anonymous_form(bp)
def reset_page(csrf_token, token):
    from chalicelib.accounts import accounts
    from chalicelib.core.links import BadLink
    try:
        accounts.user_for_reset_token(token)
    except BadLink:
        return page('link_invalid.html', 400)
    return page('reset.html', token=token, errors={}, csrf_token=csrf_token)


@bp.route('/password/reset/{token}', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def reset(csrf_token, token):
    from chalicelib.accounts import accounts
    from chalicelib.core.errors import ValidationFailed
    from chalicelib.core.links import BadLink
    fields = form_fields(bp.current_request)
    try:
        accounts.set_password(accounts.user_for_reset_token(token), fields.get('password'))
    except BadLink:
        return page('link_invalid.html', 400)
    except ValidationFailed as error:
        return page('reset.html', 400, token=token, errors=error.errors, csrf_token=csrf_token)
    return _message(_('Password changed'), _('Your new password is set, and every device was signed out. '
                                             'You can log in now.'))


@bp.route('/account/email/undo/{token}', methods=['GET'])
@anonymous_form(bp)
def undo_email_change_page(csrf_token, token):
    """Shows what the undo will do; only the button (a POST) changes anything, so a mail scanner
    that follows the link changes nothing."""
    from chalicelib.core import links
    from chalicelib.core.links import BadLink
    try:
        payload = links.unsign(links.UNDO_EMAIL_CHANGE, token)
    except BadLink:
        return page('link_invalid.html', 400)
    return page('undo_email_change.html', token=token, old_email=payload['old'], csrf_token=csrf_token)


@bp.route('/account/email/undo/{token}', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def undo_email_change(csrf_token, token):
    from chalicelib.accounts import accounts
    from chalicelib.core.links import BadLink
    try:
        _user, reset_token = accounts.undo_email_change(token)
    except BadLink:
        return page('link_invalid.html', 400)
    return redirect(f'/password/reset/{reset_token}')


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
    _session, cookie = sessions.start(accounts.get_user(user.user_id))
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
    return _message(_('Check your new inbox'), _('We sent a confirmation link to your new address. '
                                                 'Your account moves to it when you follow the link.'))


# --- the person's data: download it, delete the account ---------------------------------------

@bp.route('/account/data', methods=['GET'])
@signed_in(bp)
def account_data(session):
    """Everything we hold about the signed-in person, as a JSON download (privacy.account_export)."""
    import json
    from chalicelib.privacy.account_export import account_data as data_of
    body = json.dumps(data_of(session.user_id), indent=2, ensure_ascii=False)
    return Response(body=body, status_code=200, headers={
        'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store',
        'Content-Disposition': 'attachment; filename="circles-account-data.json"'})


def _delete_page(session, status=200, errors=None, fields=None, refusal=None):
    from chalicelib.accounts import sessions
    from chalicelib.privacy import accounts as deletion
    return page('account_delete.html', status, session=session, csrf_token=sessions.csrf_token(session),
                plans=deletion.deletion_plan(session.user_id), errors=errors or {}, values=fields or {},
                refusal=refusal, ways=deletion)


@bp.route('/account/delete', methods=['GET'])
@signed_in(bp)
def account_delete_page(session):
    return _delete_page(session)


@bp.route('/account/delete', methods=['POST'], content_types=FORM)
@signed_in(bp)
def account_delete(session):
    from chalicelib.accounts import accounts, sessions
    from chalicelib.core.errors import Refusal, ValidationFailed
    from chalicelib.privacy import accounts as deletion
    fields = form_fields(bp.current_request)
    choices = {name: value for name, value in fields.items() if name.startswith('circle-')}
    try:
        deletion.delete_account(accounts.get_user(session.user_id), fields.get('password'), fields)
    except ValidationFailed as error:
        return _delete_page(session, 400, errors=error.errors, fields=choices)
    except Refusal as refusal:
        return _delete_page(session, refusal.status, fields=choices, refusal=refusal)
    response = page('account_deleted.html', 200)
    response.headers['Set-Cookie'] = sessions.clearing_cookie()
    return response
