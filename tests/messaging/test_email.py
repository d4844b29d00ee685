"""The MIME text `email.build_message` writes parses back to the message the standard library's
`EmailMessage` builds from the same parts: same headers, same parts, same content."""
import email
from email import policy

import pytest

from chalicelib.core.fields import one_line
from chalicelib.messaging import email as outgoing

UNSUBSCRIBE = '<https://circles.example.org/unsubscribe/' + 'x1Yz_-' * 20 + '>'
ICS = b'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:Caf\xc3\xa9\r\nEND:VCALENDAR\r\n'
LONG_TEXT = ('Hello Grace, welcome to Python für Anfänger at the Café Zürich. ' * 8 + ' \n') * 4

CASES = {
    'ascii': dict(to='lee@example.org', subject='You signed up for Python 101', text='Hi Lee,\nsee you.',
                  html='<p>Hi Lee,</p>'),
    'non-ascii subject and bodies': dict(
        to='lee@example.org', subject='You signed up for Python für Anfänger — Café Zürich, 日本語の輪講 😀',
        text=LONG_TEXT, html=f'<p>{LONG_TEXT}</p>', reply_to=['ada@example.org', 'bob@example.org']),
    'long ascii subject folds': dict(to='lee@example.org', subject='Reminder: ' + 'word ' * 40, text='x', html='y'),
    'reminder headers and attachment': dict(
        to='lee@example.org', subject='Reminder: Python on Tuesday', text='Body =3D = equals\r\nCRLF line\rCR',
        html='<a href="https://x.org/?a=1&b=2">link</a>',
        headers={'List-Unsubscribe': UNSUBSCRIBE, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'},
        attachments=[('meeting.ics', ICS, 'text/calendar; charset=utf-8; method=PUBLISH')]),
    'stored line breaks and controls in a subject': dict(to='lee@example.org', subject='Python\nBcc: x@y.org\t\x07 end',
                                                         text='', html=''),
    'looks like an encoded word': dict(to='lee@example.org', subject='=?utf-8?q?not_encoded?=', text='a', html='b'),
    'non-ascii display name in From': dict(to='lee@example.org', subject='Hi', text='a', html='b',
                                           sender='Círculos de aprendizaje <circles@example.org>'),
}


def reference(**parts):
    """What the sender built before: the fields through `EmailMessage`."""
    built = outgoing.build_message(**parts)
    fields = [(name, built[name]) for name in ('From', 'To', 'Subject', 'Date', 'Message-ID', 'Reply-To',
                                               *(parts.get('headers') or {})) if built[name] is not None]
    return outgoing._build_with_email_package(fields, parts['text'], parts['html'], parts.get('attachments', ())), built


def shape(message):
    """Everything a mail client sees, except the random boundaries."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    headers = [(k, str(v)) for k, v in parsed.items() if k not in ('Content-Type', 'MIME-Version')]
    parts = []
    for part in parsed.walk():
        params = {k: v for k, v in part.get_params() or [] if k != 'boundary'}
        content = None if part.is_multipart() else part.get_content()
        parts.append((part.get_content_type(), params, part.get_content_disposition(), part.get_filename(), content))
    return headers, parts


@pytest.mark.parametrize('case', CASES)
def test_the_assembled_message_parses_like_the_email_package_builds_it(case):
    parts = CASES[case]
    expected, built = reference(**parts)
    headers, body = shape(built)
    assert body == shape(expected)[1]
    # The headers are the values given, made one line (where EmailMessage loses a space between
    # two encoded words, or decodes a subject that only looks like an encoded word, it is wrong).
    given = {'From': parts.get('sender', 'Learning Circles <circles@example.org>'), 'To': parts['to'],
             'Subject': one_line(parts['subject']), 'Reply-To': ', '.join(parts.get('reply_to', ())) or None,
             **(parts.get('headers') or {})}
    assert {k: v for k, v in headers if k in given} == {k: v for k, v in given.items() if v is not None}
    assert [k for k, _ in headers][:5] == ['From', 'To', 'Subject', 'Date', 'Message-ID']
    data = built.as_bytes()
    assert data.isascii()
    assert all(len(line) <= 998 for line in data.split(b'\n'))


def test_the_fast_path_is_taken_for_what_the_sender_sends_most():
    for case in ('ascii', 'non-ascii subject and bodies', 'reminder headers and attachment'):
        assert isinstance(outgoing.build_message(**CASES[case]), outgoing.RawEmail), case


def test_headers_stay_within_78_characters_where_a_space_allows_and_subjects_are_rfc_2047_encoded():
    built = outgoing.build_message(**CASES['non-ascii subject and bodies']).as_bytes().decode('ascii')
    head = built.split('\n\n', 1)[0].split('\n')
    subject = [line for line in head if line.startswith('Subject:')][0]
    assert '=?utf-8?' in subject
    assert all(len(line) <= 78 for line in head)
    assert all(len(line) <= 76 for line in built.split('\n\n', 1)[1].split('\n'))   # quoted-printable lines


def test_list_unsubscribe_is_written_as_the_url_itself_not_an_encoded_word():
    built = outgoing.build_message(**CASES['reminder headers and attachment']).as_bytes().decode('ascii')
    assert f'\nList-Unsubscribe: {UNSUBSCRIBE}\n' in built
    assert '\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n' in built


def test_a_subject_with_a_stored_line_break_cannot_start_a_header():
    built = outgoing.build_message(**CASES['stored line breaks and controls in a subject'])
    parsed = email.message_from_bytes(built.as_bytes(), policy=policy.default)
    assert parsed['Subject'] == 'Python Bcc: x@y.org end' and parsed['Bcc'] is None
    assert built['Subject'] == 'Python Bcc: x@y.org end'
