"""A learner's own data: `/my-data` sends a link; the link's page lists, exports, withdraws, erases.

The form is an anonymous form (CSRF bound to the pre-session cookie) and answers the same page
whether or not we hold anything. The link's pages need no CSRF token: the signed token in the
URL is the credential, as in a withdraw link. A GET never changes anything; leaving and erasing
are POSTs. Every page here is about one person: `Cache-Control: no-store`.
"""
import json

from chalice import Blueprint, Response

from chalicelib.core.i18n import _
from chalicelib.handlers.auth import anonymous_form, client_ip
from chalicelib.handlers.web import form_fields, page, refusal_page

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
NO_STORE = {'Cache-Control': 'no-store'}


def _page(template, status=200, **context):
    from chalicelib.privacy.my_data import LINK_HOURS
    response = page(template, status, hours=LINK_HOURS, **context)
    response.headers.update(NO_STORE)
    return response


@bp.route('/my-data', methods=['GET'])
@anonymous_form(bp)
def my_data_request_page(csrf_token):
    return _page('my_data/request.html', values={}, errors={}, csrf_token=csrf_token)


@bp.route('/my-data', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def my_data_request(csrf_token):
    """The same answer whether or not we hold anything for the contact; 429 over the limits."""
    from chalicelib.core.errors import ValidationFailed
    from chalicelib.models.rate_limits import RateLimited
    from chalicelib.privacy import my_data
    request = bp.current_request
    fields = form_fields(request)
    try:
        my_data.request_link(fields.get('contact'), client=client_ip(request))
    except ValidationFailed as error:
        return _page('my_data/request.html', 400, values=fields, errors=error.errors, csrf_token=csrf_token)
    except RateLimited as refusal:
        return refusal_page(refusal)
    return _page('my_data/sent.html')


def _contact(token):
    from chalicelib.core.links import BadLink
    from chalicelib.privacy.my_data import contact_of_token
    try:
        return contact_of_token(token)
    except BadLink:
        return None


def _invalid():
    response = page('link_invalid.html', 400)
    response.headers.update(NO_STORE)
    return response


@bp.route('/my-data/{token}', methods=['GET'])
def my_data_page(token):
    return _data_page(token)


def _data_page(token, status=200, message=None, errors=None):
    from chalicelib.privacy.my_data import circles_of
    contact = _contact(token)
    if contact is None:
        return _invalid()
    return _page('my_data/page.html', status, data=circles_of(contact), token=token, message=message,
                 errors=errors or {})


@bp.route('/my-data/{token}/export.json', methods=['GET'])
def my_data_export(token):
    from chalicelib.circles.circles import utcnow
    from chalicelib.privacy.export import export
    contact = _contact(token)
    if contact is None:
        return _invalid()
    body = json.dumps(export(contact, utcnow()), ensure_ascii=False, indent=2)
    return Response(body=body, status_code=200, headers={
        'Content-Type': 'application/json; charset=utf-8', 'Content-Disposition': 'attachment; filename="my-data.json"',
        'X-Content-Type-Options': 'nosniff', **NO_STORE})


@bp.route('/my-data/{token}/withdraw', methods=['POST'], content_types=FORM)
def my_data_withdraw(token):
    """Leave one circle (`circle` = its id) or every circle (`circle` = all)."""
    from chalicelib.models import consent
    from chalicelib.learners.signup import withdraw as leave
    from chalicelib.privacy.my_data import circles_of
    contact = _contact(token)
    if contact is None:
        return _invalid()
    wanted = form_fields(bp.current_request).get('circle') or ''
    current = circles_of(contact).current
    chosen = current if wanted == 'all' else [h for h in current if h.signup.circle_id == wanted]
    if not chosen:
        return _data_page(token, 400, message=_('Please choose a circle you are signed up for.'))
    for held in chosen:
        leave(held.signup, channel=consent.MY_DATA)
    names = ', '.join(h.circle.name for h in chosen if h.circle)
    if not names:
        return _data_page(token, message=_('You have left the circle. Your details there were removed.'))
    return _data_page(token, message=_('You have left %(circles)s. Your details there were removed.') % {'circles': names})


@bp.route('/my-data/{token}/erase', methods=['POST'], content_types=FORM)
def my_data_erase(token):
    from chalicelib.privacy.erasure import erase as erase_all
    contact = _contact(token)
    if contact is None:
        return _invalid()
    if form_fields(bp.current_request).get('confirm') != 'yes':
        return _data_page(token, 400, errors={'confirm': [_('Please tick the box to confirm: erasing cannot be undone.')]})
    done = erase_all(contact)
    return _page('my_data/erased.html', channel=contact.channel, confirmed=done.confirmed)
