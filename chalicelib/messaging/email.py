"""Email through SES v2, always as a Raw MIME message.

Raw keeps every header and part (text, HTML, attachments, List-Unsubscribe)
exactly as built here, and is what moto records whole for the tests.

`build_message` writes the MIME text itself: the standard library's `EmailMessage` parses
every header it is given and re-renders it (about 2 ms of CPU per message, most of the
sender's budget). The layout is fixed and simple (multipart/alternative of a quoted-printable
text and HTML part, in a multipart/mixed when there are base64 attachments), so it is
assembled directly; non-ASCII header text is encoded per RFC 2047 by `email.header.Header`.
What this assembly does not handle (a non-ASCII address, a header line it cannot keep under
RFC 5322's 998 characters) is built by `EmailMessage` as before. tests/messaging/test_email.py
checks that both parse back to the same message. Two differences, both fixes: a long
`List-Unsubscribe` URL stays the URL (`EmailMessage` turns a word over 78 characters into
RFC 2047 encoded words, which RFC 2369 readers do not decode), and an encoded subject keeps
the space between two words that `EmailMessage` drops when it folds between them.
"""
import base64
import binascii
import functools
import random
import sys
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from chalicelib.core.fields import one_line
from chalicelib.core.settings import get_settings


# For callers that retry on their own schedule (the outbox sender): one HTTP request per
# send, so a rate limit counts every request SES sees, and a short read timeout so a stuck
# request cannot eat a job's time.
SINGLE_ATTEMPT = {'retries': {'mode': 'standard', 'total_max_attempts': 1},
                  'connect_timeout': 5, 'read_timeout': 15}
ADDRESS_HEADERS = ('From', 'To', 'Reply-To')
FOLD_AT = 78            # RFC 5322's recommended line length; folding happens at spaces
MAX_LINE = 998          # RFC 5322's hard limit


@functools.cache
def ses_client(single_attempt=False):
    """botocore's own retries (throttling, 5xx) by default; `single_attempt` turns them off."""
    import boto3
    config = None
    if single_attempt:
        from botocore.config import Config
        config = Config(**SINGLE_ATTEMPT, max_pool_connections=32)
    return boto3.client('sesv2', region_name=get_settings().region, config=config)


class RawEmail:
    """A built message: its bytes (what SES receives) and its top-level header values by name
    (`message['To']`, as given, unencoded), like the `EmailMessage` it stands in for."""
    __slots__ = ('_headers', '_data')

    def __init__(self, headers, data):
        self._headers = {name.lower(): value for name, value in headers}
        self._data = data

    def __getitem__(self, name):
        return self._headers.get(name.lower())

    def __contains__(self, name):
        return name.lower() in self._headers

    def as_bytes(self):
        return self._data

    def as_string(self):
        return self._data.decode('ascii')


def build_message(*, to, subject, text, html, reply_to=(), headers=None, sender=None, attachments=()):
    """A multipart text + HTML message; `attachments` are (filename, bytes, content type) triples,
    e.g. ('meeting.ics', data, 'text/calendar; method=PUBLISH').

    Header values pass through `one_line`: a subject naming a circle stored with a line break
    (before the field rules refused them) would otherwise make the message unbuildable, or
    start a header of its own."""
    fields = [('From', _one_line(sender or get_settings().sender)), ('To', _one_line(to)),
              ('Subject', _one_line(subject)), ('Date', formatdate(localtime=False)),
              ('Message-ID', make_msgid(domain='circles.local'))]
    if reply_to:
        fields.append(('Reply-To', _one_line(', '.join(reply_to))))
    fields.extend((name, _one_line(value)) for name, value in (headers or {}).items())
    lines = [_header_line(name, value) for name, value in fields]
    if None in lines:
        return _build_with_email_package(fields, text, html, attachments)
    body = _multipart('alternative', [_text_part('plain', text), _text_part('html', html)])
    if attachments:
        body = _multipart('mixed', [body, *(_attachment(*a) for a in attachments)])
    return RawEmail(fields, '\n'.join([*lines, 'MIME-Version: 1.0', body]).encode('ascii'))


def _one_line(value):
    """`one_line`, skipping its per-character pass for the usual already-clean value: a printable
    string holds no control character, line separator or surrogate, and its only white space
    is the ASCII space."""
    if value and value.isprintable() and '  ' not in value and value.strip() == value:
        return value
    return one_line(value)


def _header_line(name, value):
    """`Name: value`, folded; RFC 2047 encoded words for non-ASCII unstructured text. None
    when an address header holds non-ASCII (an encoded word may not stand in an address) or
    a line would stay over 998 characters."""
    if value.isascii() and '=?' not in value:
        line = _fold(f'{name}: {value}')
    elif name in ADDRESS_HEADERS:
        return None
    else:
        line = f'{name}: ' + Header(value, 'utf-8', header_name=name).encode(linesep='\n')
    return line if all(len(part) <= MAX_LINE for part in line.split('\n')) else None


def _fold(line):
    """Fold an ASCII header line at spaces so that lines stay within 78 characters where a
    space allows (one_line left single spaces only); a longer word stays whole, and the value's
    first word stays on the name's line."""
    if len(line) <= FOLD_AT:
        return line
    words = line.split(' ')
    folded, current = [], f'{words[0]} {words[1]}'
    for word in words[2:]:
        if len(current) + 1 + len(word) > FOLD_AT:
            folded.append(current)
            current = ' ' + word
        else:
            current += ' ' + word
    folded.append(current)
    return '\n'.join(folded)


def _text_part(subtype, text):
    """A quoted-printable utf-8 part: every part 7-bit (raw 8-bit bodies get mangled by some
    relays), line breaks normalised to one LF and a final one, as `EmailMessage` does."""
    lines = text.encode('utf-8').splitlines()
    data = binascii.b2a_qp(b'\n'.join(lines) + b'\n', istext=True).decode('ascii')
    return (f'Content-Type: text/{subtype}; charset="utf-8"\n'
            f'Content-Transfer-Encoding: quoted-printable\n\n{data}')


def _attachment(filename, data, content_type):
    maintype, _, rest = content_type.partition('/')
    subtype, *params = [part.strip() for part in rest.split(';')]
    parameters = ''.join(f'; {key}="{value}"' for key, _, value in (p.partition('=') for p in params if '=' in p))
    return (f'Content-Type: {maintype}/{subtype}{parameters}\nContent-Transfer-Encoding: base64\n'
            f'Content-Disposition: attachment; filename="{filename}"\n\n'
            f'{base64.encodebytes(data).decode("ascii")}')


def _multipart(subtype, parts):
    """A multipart body with its Content-Type header. The boundary holds a run of fifteen '=',
    which neither quoted-printable (every '=' starts an escape or ends a line) nor base64 can
    contain, so it never occurs inside a part."""
    boundary = f'==============={random.randrange(sys.maxsize):019d}=='
    inner = ''.join(f'\n--{boundary}\n{part}' for part in parts)
    return _fold(f'Content-Type: multipart/{subtype}; boundary="{boundary}"') + f'\n{inner}\n--{boundary}--\n'


def _build_with_email_package(fields, text, html, attachments):
    """The same message built by `EmailMessage` (the cases `build_message` leaves to it)."""
    message = EmailMessage()
    for name, value in fields:
        message[name] = value
    message.set_content(text, cte='quoted-printable')
    message.add_alternative(html, subtype='html', cte='quoted-printable')
    for filename, data, content_type in attachments:
        maintype, _, rest = content_type.partition('/')
        subtype, *params = [part.strip() for part in rest.split(';')]
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename,
                               params=dict(param.split('=', 1) for param in params if '=' in param))
    return message


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
