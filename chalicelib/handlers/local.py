"""Local stage only: the outbox, every email and SMS the app "sent" on this machine, and a box
to answer a text as its learner would.

"Reply as this learner" posts to `/local/outbox/reply`, which sends `/sms/inbound` the request
Twilio would send (its fields, signed with the local stage's Twilio auth token for the
configured public URL) over HTTP to this same server, and shows what the app answered.
"""
import urllib.error
import urllib.request
from urllib.parse import urlencode
from xml.etree import ElementTree

from chalice import Blueprint

from chalicelib.handlers.auth import anonymous_form
from chalicelib.handlers.web import form_fields, html_response

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
LOCAL_HOSTS = ('127.0.0.1', 'localhost')


def _outbox(csrf_token, status=200, **context):
    from chalicelib.core.rendering import render
    from chalicelib.messaging.local_outbox import outbox_messages
    context = {'reply_error': None, 'replied': None, **context}
    return html_response(render('outbox.html', messages=outbox_messages(), csrf_token=csrf_token, **context), status)


@bp.route('/local/outbox', methods=['GET'])
@anonymous_form(bp)
def outbox_page(csrf_token):
    return _outbox(csrf_token)


@bp.route('/local/outbox/reply', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def reply_as_learner(csrf_token):
    fields = form_fields(bp.current_request)
    number, body = (fields.get('from') or '').strip(), (fields.get('body') or '').strip()
    host = (bp.current_request.headers or {}).get('host', '')
    if not number.startswith('+') or not body or host.split(':')[0] not in LOCAL_HOSTS:
        return _outbox(csrf_token, 400, reply_error='Please write a reply to one of the text messages.')
    status, answer = _post_as_twilio(host, number, body)
    return _outbox(csrf_token, replied={'from': number, 'body': body, 'status': status, 'answer': answer})


def _post_as_twilio(host, number, body):
    """(HTTP status, the text the app answered or None) for a signed inbound request."""
    from chalicelib.core.ids import new_id
    from chalicelib.core.settings import get_settings
    from chalicelib.messaging import sms
    settings = get_settings()
    fields = {'MessageSid': 'SM' + new_id(32), 'AccountSid': settings.twilio_account_sid or 'AClocal',
              'From': number, 'To': settings.twilio_from_number or '+15005550006', 'Body': body, 'NumMedia': '0'}
    signature = sms.twilio_signature(sms.webhook_url(sms.INBOUND_ROUTE), fields)
    request = urllib.request.Request(f'http://{host}{sms.INBOUND_ROUTE}', data=urlencode(fields).encode(),
                                     method='POST', headers={'Content-Type': 'application/x-www-form-urlencoded',
                                                             'X-Twilio-Signature': signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, xml = response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, None
    message = ElementTree.fromstring(xml).find('Message')
    return status, message.text if message is not None else None


