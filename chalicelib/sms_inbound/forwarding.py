"""A learner's text that is no keyword reaches people: their circle's facilitators, or support.

A number with exactly one current circle: the text is kept (`InboundText`, in the circle's
partition, shown on the facilitators' reply page) and forwarded by email to each facilitator,
in one transaction, keyed by Twilio's message SID: a webhook Twilio sends again stores and
forwards nothing new. The email names the learner, quotes the text, links to the reply page
and, when their next meeting is within FORWARD_RSVP_WINDOW, carries the learner's signed RSVP
links (the text is often "running late" or "can't come tonight").

Any other number (no current learner, or learners of several current circles: we cannot tell
which circle the text is about) goes to the configured support address, once per SID.

The facilitators' email is written in the circle's language (a message about the circle), the
support email in English (the language of no one in particular: the messages' source).
"""
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles
from chalicelib.core import i18n
from chalicelib.core.formatting import meeting_when
from chalicelib.core.i18n import _
from chalicelib.core.rendering import render
from chalicelib.core.settings import get_settings
from chalicelib.learners import rsvp
from chalicelib.messaging import outbox, prepared
from chalicelib.models.message import InboundText
from chalicelib.models.transactions import condition_failed, transact_write

FORWARD_RSVP_WINDOW = timedelta(days=2)
MAX_TEXT = 1600         # Twilio's longest message: ten segments of 160


def reply_url(circle_id, signup_id):
    return f'{get_settings().public_base_url}/facilitate/circles/{circle_id}/texts/{signup_id}'


def forward(number, text, message_sid, matches, now):
    """Forward the text (see the module docstring). Returns 'facilitators' or 'support'."""
    text = (text or '')[:MAX_TEXT]
    if len(matches) == 1:
        _to_facilitators(number, text, message_sid, matches[0], now)
        return 'facilitators'
    _to_support(number, text, message_sid, matches, now)
    return 'support'


def _to_facilitators(number, text, message_sid, match, now):
    signup, circle = match.signup, match.circle
    kept = InboundText(*InboundText.key(circle.id, signup.signup_id, message_sid), circle_id=circle.id,
                       signup_id=signup.signup_id, message_sid=message_sid, body=text, received_at=now,
                       created_at=now)
    context = {'signup': signup, 'circle': circle, 'number': number, 'text': text,
               'circle_url': circles.circle_url(circle.id), 'reply_url': reply_url(circle.id, signup.signup_id),
               'circle_names': [], 'meeting_when': None}
    meeting = match.next_meeting(now, FORWARD_RSVP_WINDOW)
    with i18n.language(circle.language):
        if meeting is not None:
            context.update(meeting_when=meeting_when(meeting, circle.timezone),
                           yes_url=rsvp.rsvp_url(signup, meeting, 'yes'), no_url=rsvp.rsvp_url(signup, meeting, 'no'))
        if signup.name:
            subject = _('Text from %(name)s (%(circle)s)') % {'name': signup.name, 'circle': circle.name}
        else:
            subject = _('Text from a learner (%(circle)s)') % {'circle': circle.name}
        text_body, html_body = render('email/forwarded_text.txt', **context), render('email/forwarded_text.html', **context)
        emails = [prepared.email(outbox.circle_partition(circle.id), f'text#{message_sid}', recipient_id, address,
                                 subject, text_body, html_body, now, circle_id=circle.id)
                  for recipient_id, address in circles.facilitator_recipients(circle)]

    def write(transaction):
        transaction.save(kept, condition=InboundText.pk.does_not_exist())
        for item in emails:
            transaction.save(*outbox.put(item))
    try:
        transact_write(write)
    except TransactWriteError as error:
        if not condition_failed(error):
            raise


def _to_support(number, text, message_sid, matches, now):
    context = {'signup': None, 'circle': None, 'number': number, 'text': text, 'reply_url': None,
               'meeting_when': None, 'circle_names': sorted(m.circle.name for m in matches)}
    with i18n.language(i18n.SOURCE):
        if matches:
            subject = _('Text from %(number)s (learner of several circles)') % {'number': number}
        else:
            subject = _('Text from %(number)s') % {'number': number}
        item = prepared.email(f'INBOUND#{message_sid}', 'text', 'support', get_settings().support_email, subject,
                              render('email/forwarded_text.txt', **context),
                              render('email/forwarded_text.html', **context), now)
    outbox.write([item])
