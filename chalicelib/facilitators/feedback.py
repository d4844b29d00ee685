"""Feedback on a meeting from its facilitator: attendance, a rating and a short reflection.

Given once the meeting has started and editable afterwards. The reflection answers one
of a few prompts that rotate with the meeting's number, so a six-week circle is asked
different questions. The facilitator may share it with the learners, as a recap email
sent once (a conditional update claims the recap before anything is sent, so editing the
feedback or submitting twice never sends it again), and with the team's organizers.

Feedback not shared with organizers is the circle's facilitators' own: an organizer of the
team who does not facilitate the circle can neither read nor edit it (`may_read`,
`feedback_for`, and a condition on the edit itself), and every page, export or digest an
organizer reads takes its feedback through `shared_with_organizers`.
"""
import logging
from dataclasses import dataclass

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.circles import circles
from chalicelib.core import fields as rules
from chalicelib.core.errors import NotFound, Refusal, ValidationFailed
from chalicelib.core.i18n import N_, _
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import MeetingFeedback
from chalicelib.models.meeting_entry import FEEDBACK as FEEDBACK_DAY, team_day_pk

log = logging.getLogger(__name__)

# Stored in English with the feedback (`prompt`), and shown translated: `prompt_text`.
PROMPTS = [
    N_('What went well in this meeting, and what would you change next time?'),
    N_('Where did learners get stuck, and how did the group help each other?'),
    N_('What is one thing a learner said or did that stayed with you?'),
    N_('How is the group feeling about the course so far, and what will you try at the next meeting?'),
]
MAX_ATTENDANCE = rules.ATTENDANCE.high
MAX_REFLECTION = rules.REFLECTION.max_length
RATINGS = range(rules.RATING.low, rules.RATING.high + 1)


class TooEarly(Refusal):
    """Feedback on a meeting that has not started yet."""
    status = 400


class NotShared(Refusal):
    """An organizer asked for feedback its facilitator kept from the organizers."""
    status = 403
    message = N_('This feedback is private: the facilitator did not share it with the team\'s organizers, '
                 'so only the circle\'s facilitators can read or change it.')

    def __init__(self, message=None, errors=None):
        super().__init__(message or _(self.message), errors)


@dataclass
class FeedbackForm:
    attendance: int
    rating: int
    reflection: str
    share_with_learners: bool
    share_with_organizers: bool


def schedule(circle):
    """Every meeting in date order, cancelled ones included, so a meeting's number stays put."""
    return sorted(circle.meetings, key=lambda m: m.starts_at)


def find_meeting(circle, meeting_id):
    """(number from 0, meeting) of a meeting that takes place; NotFound for unknown or cancelled."""
    for number, meeting in enumerate(schedule(circle)):
        if meeting.meeting_id == meeting_id and not meeting.cancelled:
            return number, meeting
    raise NotFound(_('No such meeting.'))


def prompt_for(number):
    """The prompt of the meeting with this number, in English: what the feedback stores."""
    return PROMPTS[number % len(PROMPTS)]


def prompt_text(prompt):
    """A stored (English) prompt in the language of the moment."""
    return _(prompt) if prompt else prompt


def check_started(circle, meeting, now):
    if meeting.starts_at > now:
        from chalicelib.core.formatting import meeting_when
        raise TooEarly(_('This meeting starts %(when)s. You can give feedback once it has started.')
                       % {'when': meeting_when(meeting, circle.timezone)})


def existing_feedback(ws, meeting_id):
    """The meeting's feedback whoever asks: callers showing it to someone use `feedback_for`."""
    return next((f for f in ws.of_kind(MeetingFeedback) if f.meeting_id == meeting_id), None)


def facilitates(session, circle):
    """Facilitators and co-facilitators read all the circle's feedback; organizers, what is shared."""
    return session.user_id in (circle.facilitator_ids or [])


def may_read(session, circle, feedback):
    return facilitates(session, circle) or bool(feedback.share_with_organizers)


def shared_with_organizers(items):
    """The feedback among `items` that its facilitator shared with the team's organizers: what an
    organizer's page, export or digest may show."""
    return [item for item in items if isinstance(item, MeetingFeedback) and item.share_with_organizers]


def feedback_for(ws, session, meeting_id):
    """The meeting's feedback (or None) for `session`; NotShared when it is kept from them."""
    feedback = existing_feedback(ws, meeting_id)
    if feedback is not None and not may_read(session, ws.circle, feedback):
        raise NotShared()
    return feedback


def _whole_number(value, low, high, errors, name, message):
    try:
        number = int((value or '').strip())
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        errors[name] = [message]
    return number


def validate(fields):
    errors = {}
    attendance = _whole_number(fields.get('attendance'), 0, MAX_ATTENDANCE, errors, 'attendance',
                               _('Please give the number of people who came, from 0 to %(max)s.')
                               % {'max': MAX_ATTENDANCE})
    rating = _whole_number(fields.get('rating'), RATINGS.start, RATINGS.stop - 1, errors, 'rating',
                           _('Please choose a rating from 1 to 5.'))
    reflection = (fields.get('reflection') or '').replace('\r\n', '\n').strip()
    if rules.text_problem(reflection, multiline=True):
        errors['reflection'] = [rules.text_problem(reflection, multiline=True)]
    elif not reflection:
        errors['reflection'] = [_('Please write a few words about the meeting.')]
    elif len(reflection) > MAX_REFLECTION:
        errors['reflection'] = [_('Please keep this under %(limit)s characters.') % {'limit': MAX_REFLECTION}]
    if errors:
        raise ValidationFailed(errors)
    return FeedbackForm(attendance=attendance, rating=rating, reflection=reflection,
                        share_with_learners=rules.is_true(fields.get('share_with_learners')),
                        share_with_organizers=rules.is_true(fields.get('share_with_organizers')))


def record(ws, session, meeting_id, form, now=None):
    """Save the feedback (new or edited) and queue the recap if it is shared and was not before.

    Returns (feedback, recap_queued_now). An organizer who does not facilitate the circle gets
    NotShared, with nothing written, for feedback kept from organizers (also when it was written
    or unshared since their page was read: the edit's condition decides).
    """
    now = now or circles.utcnow()
    number, meeting = find_meeting(ws.circle, meeting_id)
    check_started(ws.circle, meeting, now)
    feedback = feedback_for(ws, session, meeting_id)
    created = feedback is None and _create(ws.circle, session, meeting, number, form, now)
    if created:
        feedback = created
    else:
        # Editing, also when another facilitator's feedback arrived since the page was read.
        feedback = feedback or MeetingFeedback.get(*MeetingFeedback.key(ws.circle.id, meeting_id))
        _edit(feedback, form, now, shared_only=not facilitates(session, ws.circle))
    recap_sent = False
    if form.share_with_learners:
        recap_sent = send_recap(ws, feedback, meeting, now)
    return feedback, recap_sent


def _create(circle, session, meeting, number, form, now):
    """The first feedback on this meeting, or None if someone else's was written first."""
    feedback = MeetingFeedback(
        *MeetingFeedback.key(circle.id, meeting.meeting_id), circle_id=circle.id, meeting_id=meeting.meeting_id,
        author_id=session.user_id, author_name=session.name, prompt=prompt_for(number),
        created_at=now, updated_at=now, **vars(form))
    if circle.team_id:
        # The organizer's week and feedback pages read it by team and date (models/meeting_entry.py).
        feedback.td_pk = team_day_pk(circle.team_id)
        feedback.td_sk = f'{FEEDBACK_DAY}{meeting.local_date}#{circle.id}#{meeting.meeting_id}'
    try:
        feedback.save(condition=MeetingFeedback.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return None
    return feedback


def _edit(feedback, form, now, shared_only=False):
    """An update, not a put: the recap claim on the item must survive every edit. With
    `shared_only` (an organizer), only feedback still shared with organizers is changed."""
    condition = MeetingFeedback.pk.exists()
    if shared_only:
        condition &= MeetingFeedback.share_with_organizers == True  # noqa: E712 - a DynamoDB condition
    try:
        feedback.update(actions=[
            MeetingFeedback.attendance.set(form.attendance), MeetingFeedback.rating.set(form.rating),
            MeetingFeedback.reflection.set(form.reflection),
            MeetingFeedback.share_with_learners.set(form.share_with_learners),
            MeetingFeedback.share_with_organizers.set(form.share_with_organizers),
            MeetingFeedback.updated_at.set(now),
        ], condition=condition)
    except UpdateError as error:
        if shared_only and error.cause_response_code == 'ConditionalCheckFailedException':
            raise NotShared() from None
        raise


def send_recap(ws, feedback, meeting, now):
    """Queue the recap to every current learner, unless one was queued before: the feedback's
    `recap_claimed_at` and the outbox fan-out are one transaction. True when queued now."""
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.models.transactions import condition_failed, transact_write
    fan_out = outbox.fan_out(outbox.circle_partition(ws.circle.id), f'recap#{meeting.meeting_id}', 'recap_fan_out',
                             now, circle_id=ws.circle.id, params={'meeting': meeting.meeting_id})

    def write(transaction):
        transaction.update(feedback, actions=[MeetingFeedback.recap_claimed_at.set(now)],
                           condition=MeetingFeedback.recap_claimed_at.does_not_exist())
        transaction.save(*outbox.put(fan_out))
    try:
        transact_write(write)
    except TransactWriteError as error:
        if condition_failed(error):
            return False
        raise
    return True


def _expand_recap(item, reads, now):
    from chalicelib.models import Signup
    return [outbox.for_signup(signup, item.purpose, outbox.EMAIL, 'recap', now, params=item.params)
            for signup in Signup.query(f'CIRCLE#{item.circle_id}', Signup.sk.startswith('SIGNUP#'),
                                       consistent_read=True)
            if signup.active and signup.email]


def _recap_keys(item):
    from chalicelib.models import Circle
    return [Circle.key(item.circle_id), MeetingFeedback.key(item.circle_id, item.params['meeting'])]


def _render_recap(item, reads, to, now):
    from chalicelib.models import Circle, Signup
    circle = reads.get(Circle.key(item.circle_id))
    feedback = reads.get(MeetingFeedback.key(item.circle_id, item.params['meeting']))
    meeting = circle and next((m for m in circle.meetings if m.meeting_id == item.params['meeting']), None)
    if meeting is None or feedback is None or not feedback.share_with_learners:
        raise Skip(N_('The recap is no longer shared with learners.'))
    return recap_email(circle, feedback, meeting, reads[Signup.key(item.circle_id, item.signup_id)], now, to)


RECAP_FAN_OUT = Template(keys=lambda item: [], expand=_expand_recap)
RECAP = Template(keys=_recap_keys, render=_render_recap)


def recap_email(circle, feedback, meeting, signup, now, to=None):
    from chalicelib.core.formatting import long_date, meeting_when
    from chalicelib.messaging import email
    from chalicelib.core.rendering import render
    from chalicelib.learners.signup import withdraw_link
    from chalicelib.learners.texts import texts_link
    upcoming = circles.next_meeting(circle, now)
    context = {'circle': circle, 'feedback': feedback, 'signup': signup, 'prompt': prompt_text(feedback.prompt),
               'meeting_when': meeting_when(meeting, circle.timezone),
               'next_meeting_when': upcoming and meeting_when(upcoming, circle.timezone),
               'circle_url': circles.circle_url(circle.id), 'withdraw_url': withdraw_link(signup),
               'texts_url': texts_link(signup)}
    return email.build_message(to=to or signup.email, subject=_('Recap: %(circle)s, %(date)s') % {
                                   'circle': circle.name, 'date': long_date(meeting.local_date)},
                               text=render('email/recap.txt', **context),
                               html=render('email/recap.html', **context),
                               reply_to=list(circle.facilitator_emails))
