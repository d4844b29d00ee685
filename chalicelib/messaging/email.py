"""Email through SES v2, always as a Raw MIME message.

Raw keeps every header and part (text, HTML, attachments, List-Unsubscribe)
exactly as built here, and is what moto records whole for the tests.
"""
import functools
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from chalicelib.core.fields import one_line
from chalicelib.core.settings import get_settings


# For callers that retry on their own schedule (the outbox sender): one HTTP request per
# send, so a rate limit counts every request SES sees, and a short read timeout so a stuck
# request cannot eat a job's time.
SINGLE_ATTEMPT = {'retries': {'mode': 'standard', 'total_max_attempts': 1},
                  'connect_timeout': 5, 'read_timeout': 15}


@functools.cache
def ses_client(single_attempt=False):
    """botocore's own retries (throttling, 5xx) by default; `single_attempt` turns them off."""
    import boto3
    config = None
    if single_attempt:
        from botocore.config import Config
        config = Config(**SINGLE_ATTEMPT, max_pool_connections=32)
    return boto3.client('sesv2', region_name=get_settings().region, config=config)


def build_message(*, to, subject, text, html, reply_to=(), headers=None, sender=None, attachments=()):
    """A multipart text + HTML message; `attachments` are (filename, bytes, content type) triples,
    e.g. ('meeting.ics', data, 'text/calendar; method=PUBLISH').

    Header values pass through `one_line`: a subject naming a circle stored with a line break
    (before the field rules refused them) would otherwise make the message unbuildable, or
    start a header of its own."""
    message = EmailMessage()
    message['From'] = one_line(sender or get_settings().sender)
    message['To'] = one_line(to)
    message['Subject'] = one_line(subject)
    message['Date'] = formatdate(localtime=False)
    message['Message-ID'] = make_msgid(domain='circles.local')
    if reply_to:
        message['Reply-To'] = one_line(', '.join(reply_to))
    for name, value in (headers or {}).items():
        message[name] = one_line(value)
    # Quoted-printable keeps every part 7-bit: raw 8-bit bodies get mangled by some relays.
    message.set_content(text, cte='quoted-printable')
    message.add_alternative(html, subtype='html', cte='quoted-printable')
    for filename, data, content_type in attachments:
        _attach(message, filename, data, content_type)
    return message


def _attach(message, filename, data, content_type):
    maintype, _, rest = content_type.partition('/')
    subtype, *params = [part.strip() for part in rest.split(';')]
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename,
                           params=dict(param.split('=', 1) for param in params if '=' in param))


def send(message, single_attempt=False):
    """Send one message to its single `To` address; returns the SES message id.

    With `single_attempt` a throttled or failed request raises at once (the caller retries)."""
    settings = get_settings()
    kwargs = {
        'FromEmailAddress': str(message['From']),
        'Destination': {'ToAddresses': [str(message['To'])]},
        'Content': {'Raw': {'Data': message.as_bytes()}},
    }
    if settings.ses_configuration_set:
        kwargs['ConfigurationSetName'] = settings.ses_configuration_set
    return ses_client(single_attempt).send_email(**kwargs)['MessageId']
