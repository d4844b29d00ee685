"""Two-way SMS: Twilio's webhooks, and the facilitator's page to answer a learner's text.

`POST /sms/inbound` (Twilio's messaging webhook) and `POST /sms/status` (its status callback)
answer only requests whose `X-Twilio-Signature` is Twilio's for the configured public URL of
the route (chalicelib.messaging.sms.signed_by_twilio): anything else gets 403 and changes
nothing. The inbound route answers TwiML at once: an empty `<Response/>`, or one `<Message>`
that Twilio delivers as its answer (no call of ours to Twilio); anything slower goes through
the outbox. A number texting too often gets 429.

`/facilitate/circles/{circle_id}/texts/{signup_id}`: the learner's texts and the answers
sent, with a form to answer by SMS (the circle's facilitators and its team's organizers).
"""
from xml.sax.saxutils import escape

from chalice import Blueprint, Response

from chalicelib.handlers.auth import signed_in, signed_in_context, with_workspace
from chalicelib.handlers.web import form_fields, page, redirect

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
SIGNATURE_HEADER = 'x-twilio-signature'


def twiml(text=None, status=200, headers=None):
    body = f'<Message>{escape(text)}</Message>' if text else ''
    return Response(body=f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', status_code=status,
                    headers={'Content-Type': 'text/xml; charset=utf-8', **(headers or {})})


def _signed_fields(route, query=''):
    """The form fields of a request Twilio signed for `route`, or None."""
    from chalicelib.messaging import sms
    request = bp.current_request
    fields = form_fields(request)
    signature = (request.headers or {}).get(SIGNATURE_HEADER)
    return fields if sms.signed_by_twilio(sms.webhook_url(route, query), fields, signature) else None


def _forbidden():
    return Response(body='Forbidden', status_code=403, headers={'Content-Type': 'text/plain; charset=utf-8'})


@bp.route('/sms/inbound', methods=['POST'], content_types=FORM)
def sms_inbound():
    from chalicelib.messaging.sms import INBOUND_ROUTE
    from chalicelib.models.rate_limits import RateLimited
    from chalicelib.sms_inbound import inbound
    fields = _signed_fields(INBOUND_ROUTE)
    if fields is None:
        return _forbidden()
    try:
        inbound.spend_rate(fields.get('From'))
    except RateLimited as refusal:
        return twiml(status=429, headers={'Retry-After': str(refusal.retry_after)})
    return twiml(inbound.receive(fields))


@bp.route('/sms/status', methods=['POST'], content_types=FORM)
def sms_status():
    from chalicelib.messaging.sms import STATUS_ROUTE
    from chalicelib.sms_inbound import status
    ref = (bp.current_request.query_params or {}).get('d', '')
    fields = _signed_fields(STATUS_ROUTE, f'd={ref}' if ref else '')
    if fields is None:
        return _forbidden()
    status.record_status(ref, fields)
    return Response(body='', status_code=204)


# --- the facilitator's answer --------------------------------------------------------------

def _reply_page(session, ws, signup_id, status=200, values=None, errors=None, notice=None):
    from chalicelib.sms_inbound import replies
    return page('facilitator/text_reply.html', status, **signed_in_context(session), ws=ws, circle=ws.circle,
                conversation=replies.conversation(ws, signup_id),
                values=values or {'reply_key': replies.new_reply_key()}, errors=errors or {}, notice=notice)


@bp.route('/facilitate/circles/{circle_id}/texts/{signup_id}', methods=['GET'])
@signed_in(bp)
@with_workspace
def text_reply_page(session, ws, signup_id):
    sent = (bp.current_request.query_params or {}).get('sent')
    from chalicelib.core.i18n import _
    notice = {'1': _('Your answer is on its way.'), 'again': _('That answer was sent already.')}.get(sent)
    return _reply_page(session, ws, signup_id, notice=notice)


@bp.route('/facilitate/circles/{circle_id}/texts/{signup_id}', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def send_text_reply(session, ws, signup_id):
    from chalicelib.core.errors import ValidationFailed
    from chalicelib.sms_inbound import replies
    fields = form_fields(bp.current_request)
    try:
        new = replies.send_reply(ws, session, signup_id, fields)
    except ValidationFailed as error:
        values = {'text': fields.get('text', ''), 'reply_key': fields.get('reply_key', '')}
        if 'reply_key' in error.errors:
            values['reply_key'] = replies.new_reply_key()
        return _reply_page(session, ws, signup_id, 400, values, error.errors)
    return redirect(f'/facilitate/circles/{ws.circle.id}/texts/{signup_id}?sent={"1" if new else "again"}')
