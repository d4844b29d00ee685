"""A facilitator answers a learner's text by SMS, from the learner's reply page.

The page (`conversation`) shows the learner's texts (`InboundText`, in the circle's partition,
so the workspace's one Query has them) and the answers sent, with what Twilio reported of each
(delivered, undelivered...): one more Query of the learner's reply items. An answer
(`send_reply`) is one outbox item, a prepared SMS with the circle's name and the facilitator's
first name in front and the opt-out words at the end (as a facilitator's message to the circle:
chalicelib.facilitators.messages.full_sms). The form carries a random key made when it was
rendered: the same form sent twice writes one item.
"""
import re
from dataclasses import dataclass, field

from chalicelib.circles import circles
from chalicelib.core import fields as rules
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.i18n import _
from chalicelib.core.ids import new_id
from chalicelib.facilitators.messages import full_sms
from chalicelib.messaging import outbox, prepared, sms_text
from chalicelib.models import Delivery
from chalicelib.models.message import InboundText

REPLY_KEY_LENGTH = 20
_REPLY_KEY = re.compile(r'^[a-z0-9]{%d}$' % REPLY_KEY_LENGTH)
MAX_REPLY = 400


def new_reply_key():
    return new_id(REPLY_KEY_LENGTH)


def purpose_prefix(signup_id):
    return f'text-reply#{signup_id}#'


@dataclass
class Conversation:
    signup: object                      # facilitators.access.LearnerRow
    texts: list = field(default_factory=list)       # InboundText, oldest first
    replies: list = field(default_factory=list)     # Delivery, oldest first


def learner_of(ws, signup_id):
    """The current learner of the workspace's circle, or NotFound (also for a withdrawn one)."""
    signup = next((s for s in ws.signups if s.signup_id == signup_id and s.active), None)
    if signup is None:
        raise NotFound(_('No such learner in this circle.'))
    return signup


def conversation(ws, signup_id):
    signup = learner_of(ws, signup_id)
    texts = sorted((item for item in ws.others
                    if isinstance(item, InboundText) and item.signup_id == signup_id),
                   key=lambda item: item.received_at)
    prefix = f'DELIVERY#{purpose_prefix(signup_id)}'
    replies = sorted(Delivery.query(f'CIRCLE#{ws.circle.id}', Delivery.sk.startswith(prefix), consistent_read=True),
                     key=lambda item: item.created_at)
    return Conversation(signup, texts, replies)


def validate(values, ws, author_name):
    """(reply key, the text as the learner gets it), or ValidationFailed naming the field."""
    key = (values.get('reply_key') or '').strip()
    text = sms_text.normalise(values.get('text'))
    errors = {}
    if not _REPLY_KEY.match(key):
        errors['reply_key'] = [_('This form has expired. Please write your answer again.')]
    problem = rules.text_problem(text, multiline=True)
    full = full_sms(ws.circle, author_name, text) if text else ''
    if not text:
        errors['text'] = [_('Please write your answer.')]
    elif problem:
        errors['text'] = [problem]
    elif len(text) > MAX_REPLY or sms_text.segments(full)[2] > sms_text.MAX_SEGMENTS:
        errors['text'] = [_('Please keep it within %(segments)s text messages '
                            '(about 420 letters, fewer with emoji or accents).') % {'segments': sms_text.MAX_SEGMENTS}]
    if errors:
        raise ValidationFailed(errors)
    return key, full


def send_reply(ws, session, signup_id, values, now=None):
    """Queue the answer (one conditional put). Returns True when it is new, False when this
    form was sent before. Raises NotFound (no such current learner) or ValidationFailed."""
    signup = learner_of(ws, signup_id)
    if not signup.mobile:
        raise ValidationFailed({'text': [_('This learner gave no mobile number.')]})
    key, full = validate(values, ws, session.name)
    now = now or circles.utcnow()
    item = prepared.sms_to_learner(signup, f'{purpose_prefix(signup_id)}{key}', full, now)
    item.params = {**item.params, 'author_id': session.user_id, 'author_name': session.name}
    return bool(outbox.write([item]))
