"""Feedback on a meeting from its facilitator: attendance, a rating and a short reflection.

Given once the meeting has started and editable afterwards. The reflection answers one
of a few prompts that rotate with the meeting's number, so a six-week circle is asked
different questions. The facilitator may share it with the learners, as a recap email
sent once (a conditional update claims the recap before anything is sent, so editing the
feedback or submitting twice never sends it again), and with the team's organizers (a
flag their pages and the weekly digest read).
"""
import logging
from dataclasses import dataclass

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.circles import circles
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.models import MeetingFeedback

log = logging.getLogger(__name__)

PROMPTS = [
    'What went well in this meeting, and what would you change next time?',
    'Where did learners get stuck, and how did the group help each other?',
    'What is one thing a learner said or did that stayed with you?',
    'How is the group feeling about the course so far, and what will you try at the next meeting?',
]
MAX_ATTENDANCE = 500
MAX_REFLECTION = 3000
RATINGS = range(1, 6)
TRUE_VALUES = {'on', 'true', '1', 'yes'}


class TooEarly(Exception):
    """Feedback on a meeting that has not started yet."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


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
    raise NotFound('No such meeting.')


def prompt_for(number):
    return PROMPTS[number % len(PROMPTS)]


def check_started(circle, meeting, now):
    if meeting.starts_at > now:
        from chalicelib.core.formatting import meeting_when
        raise TooEarly(f'This meeting starts {meeting_when(meeting, circle.timezone)}. '
                       'You can give feedback once it has started.')


def existing_feedback(ws, meeting_id):
    return next((f for f in ws.of_kind(MeetingFeedback) if f.meeting_id == meeting_id), None)


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
                               f'Please give the number of people who came, from 0 to {MAX_ATTENDANCE}.')
    rating = _whole_number(fields.get('rating'), RATINGS.start, RATINGS.stop - 1, errors, 'rating',
                           'Please choose a rating from 1 to 5.')
    reflection = (fields.get('reflection') or '').replace('\r\n', '\n').strip()
    if not reflection:
        errors['reflection'] = ['Please write a few words about the meeting.']
    elif len(reflection) > MAX_REFLECTION:
        errors['reflection'] = [f'Please keep this under {MAX_REFLECTION} characters.']
    if errors:
        raise ValidationFailed(errors)
    return FeedbackForm(attendance=attendance, rating=rating, reflection=reflection,
                        share_with_learners=fields.get('share_with_learners') in TRUE_VALUES,
                        share_with_organizers=fields.get('share_with_organizers') in TRUE_VALUES)


def record(ws, session, meeting_id, form, now=None):
    """Save the feedback (new or edited) and send the recap if it is shared and unsent.

    Returns (feedback, recap_sent_now).
    """
    now = now or circles.utcnow()
    number, meeting = find_meeting(ws.circle, meeting_id)
    check_started(ws.circle, meeting, now)
    feedback = existing_feedback(ws, meeting_id)
    created = feedback is None and _create(ws.circle, session, meeting, number, form, now)
    if created:
        feedback = created
    else:
        # Editing, also when another facilitator's feedback arrived since the page was read.
        feedback = feedback or MeetingFeedback.get(*MeetingFeedback.key(ws.circle.id, meeting_id))
        _edit(feedback, form, now)
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
    try:
        feedback.save(condition=MeetingFeedback.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return None
    return feedback


def _edit(feedback, form, now):
    # An update, not a put: the recap claim on the item must survive every edit.
    feedback.update(actions=[
        MeetingFeedback.attendance.set(form.attendance), MeetingFeedback.rating.set(form.rating),
        MeetingFeedback.reflection.set(form.reflection),
        MeetingFeedback.share_with_learners.set(form.share_with_learners),
        MeetingFeedback.share_with_organizers.set(form.share_with_organizers),
        MeetingFeedback.updated_at.set(now),
    ], condition=MeetingFeedback.pk.exists())


def send_recap(ws, feedback, meeting, now):
    """Email the reflection to every current learner, unless a recap was claimed before."""
    try:
        feedback.update(actions=[MeetingFeedback.recap_claimed_at.set(now)],
                        condition=MeetingFeedback.recap_claimed_at.does_not_exist())
    except UpdateError as error:
        if error.cause_response_code == 'ConditionalCheckFailedException':
            return False
        raise
    from chalicelib.messaging import email
    sent = failed = 0
    for signup in ws.active_signups:
        if not signup.email:
            continue
        try:
            email.send(recap_email(ws.circle, feedback, meeting, signup, now))
            sent += 1
        except Exception:  # noqa: BLE001 - one learner's failure must not stop the others
            log.exception('recap of meeting %s not emailed to signup %s', meeting.meeting_id, signup.signup_id)
            failed += 1
    feedback.update(actions=[MeetingFeedback.recap_sent.set(sent), MeetingFeedback.recap_failed.set(failed)])
    return True


def recap_email(circle, feedback, meeting, signup, now):
    from chalicelib.core.formatting import long_date, meeting_when
    from chalicelib.messaging import email
    from chalicelib.core.rendering import render
    from chalicelib.learners.signup import withdraw_link
    upcoming = circles.next_meeting(circle, now)
    context = {'circle': circle, 'feedback': feedback, 'signup': signup,
               'meeting_when': meeting_when(meeting, circle.timezone),
               'next_meeting_when': upcoming and meeting_when(upcoming, circle.timezone),
               'circle_url': circles.circle_url(circle.id), 'withdraw_url': withdraw_link(signup)}
    return email.build_message(to=signup.email, subject=f'Recap: {circle.name}, {long_date(meeting.local_date)}',
                               text=render('email/recap.txt', **context),
                               html=render('email/recap.html', **context),
                               reply_to=list(circle.facilitator_emails))
