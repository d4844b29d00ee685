"""Texts to our number as Twilio sends them: signed with the real RequestValidator."""
import itertools
import os

from chalicelib.core.settings import get_settings
from tests.support.twilio_fake import signed_post

OUR_NUMBER = '+13125550000'
_sids = itertools.count(1)


def inbound_fields(number, body, sid=None):
    return {'MessageSid': sid or f'SMin{next(_sids):030d}', 'SmsSid': sid or '', 'AccountSid': os.environ['TWILIO_ACCOUNT_SID'],
            'From': number, 'To': OUR_NUMBER, 'Body': body, 'NumMedia': '0', 'NumSegments': '1',
            'FromCountry': 'US', 'ApiVersion': '2010-04-01'}


def text_us(client, number, body, sid=None, signature=None):
    """POST /sms/inbound as Twilio would; returns the response."""
    url = f'{get_settings().public_base_url}/sms/inbound'
    return signed_post(client, url, inbound_fields(number, body, sid), get_settings().twilio_auth_token, signature)


def answer_of(response):
    """The `<Message>` text of a TwiML answer, or None for an empty `<Response/>`."""
    from xml.etree import ElementTree
    assert response.status_code == 200, response.body
    assert response.headers['Content-Type'].startswith('text/xml')
    message = ElementTree.fromstring(response.body).find('Message')
    return message.text if message is not None else None
