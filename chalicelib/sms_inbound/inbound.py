"""What a text to our number does: the messaging webhook's work, in one function.

    reply = receive(fields, now)     # Twilio's form fields, signature already checked

Returns the text to answer with (TwiML `<Message>`, delivered by Twilio as the answer to its
own request, not a call of ours to Twilio) or None for an empty `<Response/>`. Everything
else that must reach someone goes through the outbox.

- STOP and its family: the number is opted out of all SMS across all its signups (Twilio
  blocks them already and confirms itself: no answer from us).
- START, UNSTOP: opted back in (Twilio confirms). YES: opted back in, and an answer.
- HELP, INFO: a short help text naming the learner's circle and how to stop.
- Yes or no (English or the circle's language): the RSVP of the learner's next meeting when it
  starts within the next 3 days and exactly one current signup has such a meeting; the answer
  confirms in one short text naming the meeting.
- Anything else: forwarded (chalicelib.sms_inbound.forwarding).

Costs: one Query of `by_phone` (the number's signups), one BatchGetItem of their circles, then
one transaction per signup for an opt-out or opt-in (with its consent record), or the RSVP's own
reads and write (learners.rsvp), or the forward's one transaction.
"""
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles
from chalicelib.core import i18n
from chalicelib.core.i18n import N_, _
from chalicelib.learners import rsvp
from chalicelib.models import Signup
from chalicelib.models.rate_limits import Limit
from chalicelib.models.rsvp import Rsvp
from chalicelib.reminders.render import short_name
from chalicelib.sms_inbound import forwarding, keywords, matching

# A person texts a few times an hour at most; a loop between two auto-responders, thousands.
INBOUND_PER_NUMBER = Limit('sms-inbound-number', 30, timedelta(hours=1))

# The answers, in the language of the learner's circles when they share one, else English
# (`answer_language`). Texts: keep to GSM-7 (a date is folded: sms_text.fold_to_gsm7).
# Translators: an SMS (160 letters). Keep STOP in capitals, untranslated: the network acts on the English word. Y or N: your yes and no words.
HELP_TEXT = N_('%(name)s: texts about your learning circle. Reply Y or N to say if you come to the next '
               'meeting. Reply STOP to stop texts.')
# Translators: an SMS (160 letters). Keep STOP in capitals, untranslated: the network acts on the English word.
HELP_UNKNOWN = N_('Learning circles: reply STOP to stop texts. Questions: %(support)s')
NOTHING_TO_ANSWER = N_('Thanks! No meeting of yours starts in the next 3 days, so there is nothing to answer.')
SEVERAL_TO_ANSWER = N_('Thanks! You have meetings of several circles soon: please answer with the link '
                       'in the reminder of the one you mean.')
# Translators: an SMS confirming a learner's answer: the circle's name, the meeting's date and time, then the answer.
CONFIRM_YES = N_("%(circle)s, %(when)s: Yes, I'll be there")
# Translators: an SMS confirming a learner's answer: the circle's name, the meeting's date and time, then the answer.
CONFIRM_NO = N_("%(circle)s, %(when)s: No, I can't make it")


def receive(fields, now=None):
    """The webhook's work for Twilio's fields (From, Body, MessageSid); returns the answer text or None."""
    now = now or circles.utcnow()
    number = (fields.get('From') or '').strip()
    text = fields.get('Body') or ''
    message_sid = fields.get('MessageSid') or fields.get('SmsSid') or ''
    signups = matching.signups_of(number)
    word = keywords.keyword(text)
    if word == keywords.STOP:
        set_opted_out(signups, True, now)
        return None
    if keywords.opts_in(text):
        set_opted_out(signups, False, now)
    matches = matching.current(signups, now)
    if word == keywords.HELP:
        return help_text(matches)
    answer = keywords.answer(text, {m.circle.language for m in matches if m.circle.language})
    if answer is not None:
        return answer_by_text(matches, answer, now)
    if word == keywords.START:
        return None
    forwarding.forward(number, text, message_sid, matches, now)
    return None


def set_opted_out(signups, opted_out, now):
    """Mirror Twilio's block on every signup with this number: one transaction each, the update
    and its consent record (a signup withdrawn meanwhile is left alone)."""
    from chalicelib.models.transactions import condition_failed, transact_write
    from chalicelib.models import consent
    for signup in signups:
        if not signup.active or bool(signup.sms_opted_out) == opted_out:
            continue
        record = consent.record(consent.signup_subject(signup.circle_id, signup.signup_id), consent.SMS,
                                consent.WITHDRAWN if opted_out else consent.GIVEN,
                                consent.SMS_STOP if opted_out else consent.SMS_START, now)

        def write(transaction, signup=signup, record=record):
            transaction.update(signup, actions=[Signup.sms_opted_out.set(opted_out), Signup.updated_at.set(now)],
                               condition=Signup.pk.exists() & Signup.withdrawn_at.does_not_exist())
            consent.save_in(transaction, [record])
        try:
            transact_write(write)
        except TransactWriteError as error:
            if not condition_failed(error):
                raise


def answer_language(matches):
    """The language of the answer: the circles' when they share one, else English."""
    languages = {m.circle.language for m in matches}
    return languages.pop() if len(languages) == 1 else i18n.SOURCE


def sms_words(message, **values):
    """`message` translated into the language of the moment, filled and folded to GSM-7
    ('Sí, allí estaré' -> 'Si, alli estaré'), so an answer keeps to one text."""
    from chalicelib.messaging.sms_text import fold_to_gsm7
    return fold_to_gsm7(_(message) % values if values else _(message))


def help_text(matches):
    if not matches:
        from chalicelib.core.settings import get_settings
        with i18n.language(i18n.SOURCE):
            return sms_words(HELP_UNKNOWN, support=get_settings().support_email)
    names = ', '.join(sorted({short_name(m.circle) for m in matches}))
    with i18n.language(answer_language(matches)):
        return sms_words(HELP_TEXT, name=names)


def answer_by_text(matches, answer, now):
    """Record `answer` for the one learner with a meeting in the next 3 days; the confirmation."""
    soon = [(m, m.next_meeting(now)) for m in matches]
    soon = [(m, meeting) for m, meeting in soon if meeting is not None]
    if not soon or len(soon) > 1:
        with i18n.language(answer_language(matches)):
            return sms_words(SEVERAL_TO_ANSWER if soon else NOTHING_TO_ANSWER)
    (match, meeting), = soon
    circle, signup = match.circle, match.signup
    current = _current_answer(circle.id, meeting, signup.signup_id)
    page = rsvp.RsvpPage(circle, signup, meeting, current, token=None)
    rsvp.record_answer(page, answer, now)
    return confirmation(circle, meeting, answer)


def _current_answer(circle_id, meeting, signup_id):
    try:
        found = Rsvp.get(*Rsvp.key(circle_id, meeting.meeting_id, signup_id))
    except Rsvp.DoesNotExist:
        return None
    return found.answer if found.holds_for(meeting) else None


def confirmation(circle, meeting, answer):
    """'Python for Everybody, Tue, Mar 16 18:00: Yes, I'll be there' in the circle's language
    (its date folded to GSM-7: 'sáb' -> 'sab')."""
    from chalicelib.core.clock import zone_info
    from chalicelib.core.formatting import clock, short_date
    from chalicelib.messaging.sms_text import fold_to_gsm7
    local = meeting.starts_at.astimezone(zone_info(circle.timezone))
    with i18n.language(circle.language):
        when = fold_to_gsm7(f'{short_date(local.date())} {clock(local.time())}')
        return sms_words(CONFIRM_YES if answer == keywords.YES else CONFIRM_NO, circle=short_name(circle), when=when)


# --- abuse ----------------------------------------------------------------------------------

def spend_rate(number, now=None):
    """Count one text from this number; RateLimited (429) past INBOUND_PER_NUMBER an hour.
    Spent after the signature check: only Twilio's real requests count."""
    from chalicelib.models.rate_limits import spend
    spend(now or circles.utcnow(), (INBOUND_PER_NUMBER, number or 'unknown'))
