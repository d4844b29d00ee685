"""Local stage: read back what the app sent through the local SES (moto) endpoint."""
import email
import json
import urllib.request
from datetime import timezone
from email import policy
from email.utils import format_datetime

from chalicelib.core.settings import get_settings


def sent_emails():
    """Every raw email moto recorded, parsed, oldest first."""
    endpoint = get_settings().moto_url
    if not endpoint:
        return []
    with urllib.request.urlopen(f'{endpoint}/moto-api/data.json', timeout=5) as response:
        data = json.load(response)
    return [email.message_from_string(raw['raw_data'], policy=policy.default)
            for raw in data.get('ses', {}).get('RawMessage', [])]


def forget_emails(addresses):
    """Local stage: remove the emails moto recorded to or mentioning `addresses` (erasing a
    learner's data, chalicelib.privacy.erasure). Returns how many went; 0 without moto."""
    endpoint = get_settings().moto_url
    if not endpoint or not addresses:
        return 0
    request = urllib.request.Request(f'{endpoint}/circles-local/ses/forget', method='POST',
                                     data=json.dumps({'addresses': list(addresses)}).encode(),
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)['removed']


def _part(message, subtype):
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part else ''


def _aware(moment):
    """`Date: ... -0000` (what formatdate writes for UTC) parses as a naive datetime."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def outbox_messages():
    """Emails (from moto) and text messages (stored locally, see messaging.sms), newest first."""
    from chalicelib.messaging.sms import local_outbox
    messages = []
    for message in reversed(sent_emails()):
        messages.append({
            'channel': 'email', 'to': message['To'], 'subject': message['Subject'],
            'date': message['Date'], 'headers': list(message.items()),
            'text': _part(message, 'plain'), 'html': _part(message, 'html'),
            'sent_at': _aware(message['Date'].datetime),
        })
    for sms in local_outbox():
        messages.append({'channel': 'sms', 'to': sms.to, 'subject': f'Text from {sms.sender}',
                         'date': format_datetime(sms.created_at), 'text': sms.body, 'sent_at': sms.created_at})
    return sorted(messages, key=lambda m: m['sent_at'], reverse=True)
