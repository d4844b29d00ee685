"""Email through SES v2, always as a Raw MIME message.

Raw keeps every header and part (text, HTML, attachments, List-Unsubscribe)
exactly as built here, and is what moto records whole for the tests.
"""
import functools
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from chalicelib.settings import get_settings


@functools.cache
def ses_client():
    import boto3
    return boto3.client('sesv2', region_name=get_settings().region)


def build_message(*, to, subject, text, html, reply_to=(), headers=None, sender=None):
    message = EmailMessage()
    message['From'] = sender or get_settings().sender
    message['To'] = to
    message['Subject'] = subject
    message['Date'] = formatdate(localtime=False)
    message['Message-ID'] = make_msgid(domain='circles.local')
    if reply_to:
        message['Reply-To'] = ', '.join(reply_to)
    for name, value in (headers or {}).items():
        message[name] = value
    # Quoted-printable keeps every part 7-bit: raw 8-bit bodies get mangled by some relays.
    message.set_content(text, cte='quoted-printable')
    message.add_alternative(html, subtype='html', cte='quoted-printable')
    return message


def send(message):
    """Send one message to its single `To` address; returns the SES message id."""
    settings = get_settings()
    kwargs = {
        'FromEmailAddress': str(message['From']),
        'Destination': {'ToAddresses': [str(message['To'])]},
        'Content': {'Raw': {'Data': message.as_bytes()}},
    }
    if settings.ses_configuration_set:
        kwargs['ConfigurationSetName'] = settings.ses_configuration_set
    return ses_client().send_email(**kwargs)['MessageId']
