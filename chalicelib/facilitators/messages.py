"""Messages from facilitators to their circle's current learners, by email and SMS.

Each learner gets their own email (one `To`, nobody else's address; replies go to
the facilitators) and, when the facilitator wrote an SMS text, a text message if they
gave a mobile number that has not opted out.

Exactly once, at two levels:
- the compose form carries a random `message_key` made when the form was rendered; the
  message item is written only if it does not exist yet, so a double click or a retried
  POST finds it and writes nothing again;
- the message and its outbox fan-out are one transaction; the sender (chalicelib.messaging)
  delivers each learner's email and SMS once, and the facilitator's page shows each state.
"""
import logging
import re
from dataclasses import dataclass, field

from chalicelib.circles import circles
from chalicelib.core import fields as rules
from chalicelib.messaging import sms_text
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.i18n import N_, _, ngettext
from chalicelib.core.ids import new_id
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import Circle, CircleMessage, Signup

log = logging.getLogger(__name__)

MAX_SUBJECT = rules.MESSAGE_SUBJECT.max_length
MAX_BODY = rules.MESSAGE_BODY.max_length
MESSAGE_KEY_LENGTH = 20
_MESSAGE_KEY = re.compile(r'^[a-z0-9]{%d}$' % MESSAGE_KEY_LENGTH)
EMAIL, SMS = outbox.EMAIL, outbox.SMS


@dataclass
class Draft:
    message_key: str
    subject: str
    body: str
    sms_text: str


def new_message_key():
    """Made when the compose form is rendered; the same form submitted twice has the same key."""
    return new_id(MESSAGE_KEY_LENGTH)


def validate(fields, circle=None, author_name=None):
    """A Draft from the compose form's fields, or ValidationFailed naming each bad field.

    The text message is counted as learners get it, with `sms_frame(circle, author_name)`
    around it; without a circle, with the longest frame there can be."""
    draft = Draft(message_key=(fields.get('message_key') or '').strip(),
                  subject=' '.join((fields.get('subject') or '').split()),
                  body=(fields.get('body') or '').replace('\r\n', '\n').strip(),
                  sms_text=sms_text.normalise(fields.get('sms_text')))
    errors = {}
    problems = {name: rules.text_problem(getattr(draft, name), multiline)
                for name, multiline in (('subject', False), ('body', True), ('sms_text', True))}
    if not _MESSAGE_KEY.match(draft.message_key):
        errors['message_key'] = [_('This form is incomplete. Please reload the page and write the message again.')]
    if problems['subject']:
        errors['subject'] = [problems['subject']]
    elif not draft.subject:
        errors['subject'] = [_('Please write a subject.')]
    elif len(draft.subject) > MAX_SUBJECT:
        errors['subject'] = [_('Please keep the subject under %(limit)s characters.') % {'limit': MAX_SUBJECT}]
    if problems['body']:
        errors['body'] = [problems['body']]
    elif not draft.body:
        errors['body'] = [_('Please write the message.')]
    elif len(draft.body) > MAX_BODY:
        errors['body'] = [_('Please keep the message under %(limit)s characters.') % {'limit': MAX_BODY}]
    prefix, suffix = sms_frame(circle, author_name) if circle is not None else _reserved_frame()
    encoding, length, count = sms_text.segments(_plain(prefix) + draft.sms_text + suffix if draft.sms_text else '')
    if problems['sms_text']:
        errors['sms_text'] = [problems['sms_text']]
    elif count > sms_text.MAX_SEGMENTS:
        errors['sms_text'] = [ngettext(
            'This text needs %(count)s message (%(length)s %(encoding)s characters with the circle\'s name '
            'and "%(stop)s"); please shorten it to fit %(max)s.',
            'This text needs %(count)s messages (%(length)s %(encoding)s characters with the circle\'s name '
            'and "%(stop)s"); please shorten it to fit %(max)s.', count)
            % {'count': count, 'length': length, 'encoding': encoding, 'stop': suffix.strip(),
               'max': sms_text.MAX_SEGMENTS}]
    if errors:
        raise ValidationFailed(errors)
    return draft


def email_recipients(ws):
    return [s for s in ws.active_signups if s.email]


def sms_recipients(ws):
    return [s for s in ws.active_signups if s.mobile and not s.sms_opted_out]


def find_message(circle_id, message_key):
    try:
        return CircleMessage.get(*CircleMessage.key(circle_id, message_key))
    except CircleMessage.DoesNotExist:
        return None


def send_message(ws, session, draft, now=None):
    """Record the message with its fan-out to the outbox, in one transaction; returns
    (message, sent_now).

    `sent_now` is False when this form was submitted before: the earlier message is
    returned and nothing is written again. The sender expands the fan-out into one email
    per current learner (and an SMS to each mobile not opted out) and delivers them.
    """
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.models.transactions import condition_failed, transact_write
    now = now or circles.utcnow()
    circle = ws.circle
    with_sms = bool(draft.sms_text)
    message = CircleMessage(
        *CircleMessage.key(circle.id, draft.message_key), circle_id=circle.id, message_key=draft.message_key,
        subject=draft.subject, body=draft.body, sms_text=draft.sms_text or None,
        author_id=session.user_id, author_name=session.name, created_at=now,
        email_recipients=len(email_recipients(ws)), sms_recipients=len(sms_recipients(ws)) if with_sms else 0)
    fan_out = outbox.fan_out(outbox.circle_partition(circle.id), purpose_of(message), 'message_fan_out', now,
                             circle_id=circle.id, params={'message': message.message_key})

    def write(transaction):
        transaction.save(message, condition=CircleMessage.pk.does_not_exist())
        transaction.save(*outbox.put(fan_out))
    try:
        transact_write(write)
    except TransactWriteError as error:
        if not condition_failed(error):
            raise
        return find_message(circle.id, draft.message_key), False
    return message, True


def purpose_of(message):
    return f'message#{message.message_key}'


def _expand(item, reads, now):
    """One email per current learner with an address, one SMS per mobile (the sender checks
    consent just before sending and records a refused one as skipped, with the reason)."""
    message = reads.get(CircleMessage.key(item.circle_id, item.params['message']))
    if message is None:
        return []
    items = []
    for signup in Signup.query(f'CIRCLE#{item.circle_id}', Signup.sk.startswith('SIGNUP#'), consistent_read=True):
        if not signup.active:
            continue
        if signup.email:
            items.append(outbox.for_signup(signup, purpose_of(message), EMAIL, 'message', now,
                                           params={'message': message.message_key}))
        if message.sms_text and signup.mobile:      # an opted-out number is skipped by the sender
            items.append(outbox.for_signup(signup, purpose_of(message), SMS, 'message_sms', now,
                                           params={'message': message.message_key}))
    return items


def message_email(circle, message, signup, to=None):
    from chalicelib.core.rendering import render
    from chalicelib.learners.signup import withdraw_link
    from chalicelib.learners.texts import texts_link
    from chalicelib.messaging import email
    context = {'circle': circle, 'message': message, 'signup': signup,
               'circle_url': circles.circle_url(circle.id), 'withdraw_url': withdraw_link(signup),
               'texts_url': texts_link(signup)}
    return email.build_message(to=to or signup.email, subject=message.subject,
                               text=render('email/message.txt', **context),
                               html=render('email/message.html', **context),
                               reply_to=list(circle.facilitator_emails))


def _message_keys(item):
    return [Circle.key(item.circle_id), CircleMessage.key(item.circle_id, item.params['message'])]


def _stored(item, reads):
    circle = reads.get(Circle.key(item.circle_id))
    message = reads.get(CircleMessage.key(item.circle_id, item.params['message']))
    if circle is None or message is None:
        raise Skip(N_('The circle or the message no longer exists.'))
    return circle, message


def _render_email(item, reads, to, now):
    circle, message = _stored(item, reads)
    return message_email(circle, message, reads[Signup.key(item.circle_id, item.signup_id)], to)


def _render_sms(item, reads, to, now):
    circle, message = _stored(item, reads)
    return full_sms(circle, message.author_name, message.sms_text)


# --- the words around the facilitator's text message ---------------------------------------
# "Python for Everybody (Ada): <the facilitator's text> Reply STOP to stop texts": learners see
# which circle and who wrote, and how to stop texts. The facilitator's words are never cut: the
# form counts them with these words around them (`validate`), and only the name can give way.

SENDER_LENGTH = 12


def _sender(author_name):
    first = (author_name or '').split()
    return first[0][:SENDER_LENGTH] if first else ''


def sms_frame(circle, author_name):
    """(prefix, suffix) of a facilitator's text message to this circle's learners: the opt-out
    words in the circle's language, whatever the language of the page counting them."""
    from chalicelib.core import i18n
    from chalicelib.messaging.sms_text import short_name
    from chalicelib.reminders.render import sms_stop
    name = short_name(circle.name)
    sender = _sender(author_name)
    prefix = f'{name} ({sender}): ' if sender else f'{name}: '
    with i18n.language(circle.language):
        return prefix, ' ' + sms_stop()


def _reserved_frame():
    """The longest frame any circle and author can have, all GSM-7: what `validate` counts when
    it is not told the circle."""
    from chalicelib.messaging.sms_text import SHORT_NAME_LENGTH
    from chalicelib.reminders.render import longest_sms_stop
    stop = longest_sms_stop()
    return f'{"x" * SHORT_NAME_LENGTH} ({"x" * SENDER_LENGTH}): ', f' {stop}'


def _plain(prefix):
    """The prefix without accents, so that a name such as "Programação" does not make the
    whole text UCS-2 (70 characters a message instead of 160)."""
    import unicodedata
    return ''.join(ch if sms_text.encoding_of(ch) == 'GSM-7' else
                   unicodedata.normalize('NFKD', ch).encode('ascii', 'ignore').decode() for ch in prefix)


def full_sms(circle, author_name, text):
    """The text message as learners get it. It fits MAX_SEGMENTS whenever `validate` accepted
    `text`: if the name forces UCS-2 (an "ã"), it loses its accents; for a message accepted
    before the frame existed, the sender, then the name go, never the facilitator's words or
    the opt-out words."""
    prefix, suffix = sms_frame(circle, author_name)
    plain = _plain(prefix)
    # The accents stay unless they alone cost the learner more messages.
    prefix = min((prefix, plain), key=lambda p: sms_text.segments(p + text + suffix)[2])
    for candidate in (prefix, plain.split(' (')[0].rstrip(':') + ': ', ''):
        if sms_text.segments(candidate + text + suffix)[2] <= sms_text.MAX_SEGMENTS:
            return candidate + text + suffix
    return text + suffix


MESSAGE_FAN_OUT = Template(keys=lambda item: [CircleMessage.key(item.circle_id, item.params['message'])],
                           expand=_expand)
MESSAGE = Template(keys=_message_keys, render=_render_email)
MESSAGE_SMS = Template(keys=_message_keys, render=_render_sms)


# --- what the facilitator sees ----------------------------------------------------

@dataclass
class ChannelCounts:
    sent: int = 0
    failed: int = 0
    pending: int = 0        # queued, being sent, or waiting for another try
    skipped: int = 0        # the learner left or opted out before it went


@dataclass
class MessageReport:
    message: CircleMessage
    email: ChannelCounts = field(default_factory=ChannelCounts)
    sms: ChannelCounts = field(default_factory=ChannelCounts)
    rows: list = field(default_factory=list)    # (learner name, channel, state, error)


def message_report(ws, message):
    """Delivery states of one message, per channel and per learner, from the workspace read."""
    left = _('A learner who has left')
    names = {s.signup_id: s.name or left for s in ws.signups}
    report = MessageReport(message)
    prefix = f'DELIVERY#{purpose_of(message)}#'
    for delivery in sorted(ws.deliveries, key=lambda d: (d.channel, names.get(d.signup_id) or '')):
        if not delivery.sk.startswith(prefix) or delivery.channel == outbox.FAN_OUT:
            continue
        counts = getattr(report, delivery.channel)
        state = 'pending' if delivery.state == 'retrying' else delivery.state
        setattr(counts, state, getattr(counts, state) + 1)
        report.rows.append((names.get(delivery.signup_id, left), delivery.channel,
                            delivery.state, delivery.error))
    return report
