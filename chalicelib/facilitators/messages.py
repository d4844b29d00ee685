"""Messages from facilitators to their circle's current learners, by email and SMS.

Each learner gets their own email (one `To`, nobody else's address; replies go to
the facilitators) and, when the facilitator wrote an SMS text, a text message if they
gave a mobile number that has not opted out.

Exactly once, at two levels:
- the compose form carries a random `message_key` made when the form was rendered; the
  message item is written only if it does not exist yet, so a double click or a retried
  POST finds it and sends nothing again;
- each delivery (learner x channel) is claimed with a conditional put (`pending`) before
  it is sent and marked `sent` or `failed` afterwards, so no path sends one twice. A
  crash between the two leaves `pending`, shown as such, rather than risking a repeat.
"""
import logging
import re
from dataclasses import dataclass, field

from pynamodb.exceptions import PutError

from chalicelib.circles import circles
from chalicelib.messaging import sms_text
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.models import CircleMessage, Delivery, Signup

log = logging.getLogger(__name__)

MAX_SUBJECT = 200
MAX_BODY = 5000
MESSAGE_KEY_LENGTH = 20
_MESSAGE_KEY = re.compile(r'^[a-z0-9]{%d}$' % MESSAGE_KEY_LENGTH)
EMAIL, SMS = 'email', 'sms'


@dataclass
class Draft:
    message_key: str
    subject: str
    body: str
    sms_text: str


def new_message_key():
    """Made when the compose form is rendered; the same form submitted twice has the same key."""
    return new_id(MESSAGE_KEY_LENGTH)


def validate(fields):
    """A Draft from the compose form's fields, or ValidationFailed naming each bad field."""
    draft = Draft(message_key=(fields.get('message_key') or '').strip(),
                  subject=' '.join((fields.get('subject') or '').split()),
                  body=(fields.get('body') or '').replace('\r\n', '\n').strip(),
                  sms_text=sms_text.normalise(fields.get('sms_text')))
    errors = {}
    if not _MESSAGE_KEY.match(draft.message_key):
        errors['message_key'] = ['This form is incomplete. Please reload the page and write the message again.']
    if not draft.subject:
        errors['subject'] = ['Please write a subject.']
    elif len(draft.subject) > MAX_SUBJECT:
        errors['subject'] = [f'Please keep the subject under {MAX_SUBJECT} characters.']
    if not draft.body:
        errors['body'] = ['Please write the message.']
    elif len(draft.body) > MAX_BODY:
        errors['body'] = [f'Please keep the message under {MAX_BODY} characters.']
    encoding, length, count = sms_text.segments(draft.sms_text)
    if count > sms_text.MAX_SEGMENTS:
        errors['sms_text'] = [f'This text needs {count} messages ({length} {encoding} characters); '
                              f'please shorten it to fit {sms_text.MAX_SEGMENTS}.']
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
    """Record the message and deliver it at once; returns (message, sent_now).

    `sent_now` is False when this form was submitted before: the earlier message is
    returned and nothing is sent again.
    """
    now = now or circles.utcnow()
    circle = ws.circle
    with_sms = bool(draft.sms_text)
    message = CircleMessage(
        *CircleMessage.key(circle.id, draft.message_key), circle_id=circle.id, message_key=draft.message_key,
        subject=draft.subject, body=draft.body, sms_text=draft.sms_text or None,
        author_id=session.user_id, author_name=session.name, created_at=now,
        email_recipients=len(email_recipients(ws)), sms_recipients=len(sms_recipients(ws)) if with_sms else 0)
    try:
        message.save(condition=CircleMessage.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return find_message(circle.id, draft.message_key), False
    deliver(ws, message, now)
    return message, True


def deliver(ws, message, now):
    """One email per learner, then the SMS; each claimed first so none goes out twice."""
    for signup in email_recipients(ws):
        delivery = _claim(message, signup, EMAIL, now)
        if delivery:
            _send_email(ws.circle, message, signup, delivery)
    if message.sms_text:
        for signup in sms_recipients(ws):
            delivery = _claim(message, signup, SMS, now)
            if delivery:
                _send_sms(message, signup, delivery)


def _claim(message, signup, channel, now):
    delivery = Delivery(*Delivery.key(message.circle_id, message.message_key, signup.signup_id, channel),
                        circle_id=message.circle_id, message_key=message.message_key,
                        signup_id=signup.signup_id, channel=channel, state='pending', created_at=now)
    try:
        delivery.save(condition=Delivery.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code == 'ConditionalCheckFailedException':
            return None
        raise
    return delivery


def _mark(delivery, state, provider_id=None, error=None, error_code=None):
    actions = [Delivery.state.set(state), Delivery.updated_at.set(circles.utcnow())]
    if provider_id:
        actions.append(Delivery.provider_id.set(provider_id))
    if error:
        actions.append(Delivery.error.set(error))
    if error_code is not None:
        actions.append(Delivery.error_code.set(error_code))
    delivery.update(actions=actions)


def message_email(circle, message, signup):
    from chalicelib.messaging import email
    from chalicelib.core.rendering import render
    from chalicelib.learners.signup import withdraw_link
    context = {'circle': circle, 'message': message, 'signup': signup,
               'circle_url': circles.circle_url(circle.id), 'withdraw_url': withdraw_link(signup)}
    return email.build_message(to=signup.email, subject=message.subject,
                               text=render('email/message.txt', **context),
                               html=render('email/message.html', **context),
                               reply_to=list(circle.facilitator_emails))


def _send_email(circle, message, signup, delivery):
    from chalicelib.messaging import email
    try:
        provider_id = email.send(message_email(circle, message, signup))
    except Exception as error:  # noqa: BLE001 - one learner's failure must not stop the others
        log.exception('message %s to signup %s not emailed', message.message_key, signup.signup_id)
        _mark(delivery, 'failed', error=_reason(error))
        return
    _mark(delivery, 'sent', provider_id=provider_id)


def _send_sms(message, signup, delivery):
    from chalicelib.messaging import sms
    try:
        provider_id = sms.send(signup.mobile, message.sms_text)
    except sms.SmsFailed as failure:
        if failure.opted_out:
            mark_sms_opted_out(signup.mobile)
            _mark(delivery, 'failed', error='The learner has opted out of text messages (replied STOP).',
                  error_code=failure.code)
        else:
            _mark(delivery, 'failed', error=failure.reason, error_code=failure.code)
        return
    _mark(delivery, 'sent', provider_id=provider_id)


def mark_sms_opted_out(number):
    """Twilio refuses every text to this number from us now: stop trying, in every circle."""
    for signup in Signup.by_phone.query(f'PHONE#{number}'):
        signup.update(actions=[Signup.sms_opted_out.set(True)], condition=Signup.pk.exists())


def _reason(error):
    text = ' '.join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + '...'


# --- what the facilitator sees ----------------------------------------------------

@dataclass
class ChannelCounts:
    sent: int = 0
    failed: int = 0
    pending: int = 0


@dataclass
class MessageReport:
    message: CircleMessage
    email: ChannelCounts = field(default_factory=ChannelCounts)
    sms: ChannelCounts = field(default_factory=ChannelCounts)
    rows: list = field(default_factory=list)    # (learner name, channel, state, error)


def message_report(ws, message):
    """Delivery states of one message, per channel and per learner, from the workspace read."""
    names = {s.signup_id: s.name or 'A learner who has left' for s in ws.signups}
    report = MessageReport(message)
    prefix = f'DELIVERY#{message.message_key}#'
    for delivery in sorted(ws.of_kind(Delivery), key=lambda d: (d.channel, names.get(d.signup_id) or '')):
        if not delivery.sk.startswith(prefix):
            continue
        counts = getattr(report, delivery.channel)
        setattr(counts, delivery.state, getattr(counts, delivery.state) + 1)
        report.rows.append((names.get(delivery.signup_id, 'A learner who has left'), delivery.channel,
                            delivery.state, delivery.error))
    return report
