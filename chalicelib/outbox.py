"""Local stage: read back what the app sent through the local SES (moto) endpoint."""
import email
import json
import urllib.request
from email import policy

from chalicelib.settings import get_settings


def sent_emails():
    """Every raw email moto recorded, parsed, oldest first."""
    endpoint = get_settings().moto_url
    if not endpoint:
        return []
    with urllib.request.urlopen(f'{endpoint}/moto-api/data.json', timeout=5) as response:
        data = json.load(response)
    return [email.message_from_string(raw['raw_data'], policy=policy.default)
            for raw in data.get('ses', {}).get('RawMessage', [])]


def _part(message, subtype):
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part else ''


def outbox_messages():
    messages = []
    for message in reversed(sent_emails()):
        messages.append({
            'channel': 'email', 'to': message['To'], 'subject': message['Subject'],
            'date': message['Date'], 'headers': list(message.items()),
            'text': _part(message, 'plain'), 'html': _part(message, 'html'),
        })
    return messages
