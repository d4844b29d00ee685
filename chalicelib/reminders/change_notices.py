"""Change notices: a meeting moved or cancelled after its reminder went out.

Every current learner is told once per (meeting, sequence, channel): an email with the
updated .ics (same UID, higher SEQUENCE, or STATUS:CANCELLED) and an SMS. `sync_reminders`
queues the meeting on the `CHANGE` queue of `by_due` before sending, so what a crash or a
transient failure leaves is finished by the `send-due-change-notices` job.
"""
from datetime import date, timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.circles import circles
from chalicelib.models import Signup, TableItem
from chalicelib.models.reminder import SENT, MeetingReminder
from chalicelib.reminders.words import long_date, sms_date, words_for
from chalicelib.reminders.render import email_context, local_start, render_sms, render_template
from chalicelib.reminders.schedule import CANCELLED, MOVED, WENT_OUT

CHANGE_QUEUE = 'CHANGE'
CHANGE_RETRY = timedelta(minutes=5)


def queue_change_notice(reminder, now):
    """Put the meeting on the `CHANGE` queue of `by_due` before any notice is sent, so that a
    crash or a transient failure part-way leaves work that `send_due_change_notices` finishes.
    (A reminder still `sending` keeps its place on the job's queue; the job's own run follows.)"""
    if reminder.state != SENT:
        return
    due = now + CHANGE_RETRY
    reminder.update(actions=[MeetingReminder.due_pk.set(CHANGE_QUEUE),
                             MeetingReminder.due_sk.set(MeetingReminder.due_key(due, reminder.circle_id,
                                                                                reminder.meeting_id))])


def send_due_change_notices(now=None):
    """The scheduled half of change notices: finish every queued one whose time has come.

    Reads the `CHANGE` queue of `by_due` (no Scan) and, per entry, the circle; delivery is
    exactly once per learner and channel, so running beside the request that queued it is safe.
    Returns how many meetings' notices are now complete.
    """
    from chalicelib.messaging import delivery
    now = now or circles.utcnow()
    done = 0
    due = MeetingReminder.by_due.query(CHANGE_QUEUE, MeetingReminder.due_sk <= f'{now.isoformat()}#~')
    for reminder in due:
        circle = circles.get_circle(reminder.circle_id)
        meeting = circle and next((m for m in circle.meetings if m.meeting_id == reminder.meeting_id), None)
        if meeting is None:
            reminder.update(actions=[MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove()])
            continue
        counts = notify_change(circle, meeting, CANCELLED if meeting.cancelled else MOVED, now)
        if all(state in delivery.FINAL for state in counts):
            # Complete, or nothing left to do (another run finished it): leave the queue.
            reminder.update(actions=[MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove()])
            done += 1
        else:
            retry = now + CHANGE_RETRY
            reminder.update(actions=[MeetingReminder.due_sk.set(
                MeetingReminder.due_key(retry, reminder.circle_id, reminder.meeting_id))])
    return done


def _before(circle, meeting, kind):
    """The date and time learners were told before this change, in the circle's language."""
    last = next((c for c in reversed(meeting.changes) if c.kind == kind), None)
    if last and last.from_date and last.from_time:
        day, clock = last.from_date, last.from_time
    else:
        local = local_start(meeting, circle)
        day, clock = local.date().isoformat(), f'{local:%H:%M}'
    value = date.fromisoformat(day)
    return f'{long_date(value, circle.language)}, {clock}', f'{sms_date(value, circle.language)} {clock}'


def change_notice(circle, meeting, signup, links, kind):
    """(subject, text, html, sms) telling one learner that `meeting` moved or is cancelled.

    The facts are the meeting's current ones; `before` is what the reminder said."""
    words = words_for(circle.language)
    before, sms_before = _before(circle, meeting, kind)
    context = dict(email_context(circle, meeting, None, signup.name, links, facilitator=False),
                   kind=kind, before=before, sms_before=sms_before)
    subject = words[f'{kind}_subject'].format(name=circle.name)
    sms = render_sms(circle, meeting, '', links['short'], template='sms/reminder_change.txt',
                     kind=kind, sms_before=sms_before)
    return subject, render_template('email/reminder_change.txt', **context), render_template('email/reminder_change.html', **context), sms


def notify_change(circle, meeting, kind, now):
    """Tell every current learner that `meeting` moved or was cancelled, if its reminder went out
    before this change; before that, the reminder itself will simply carry the new facts.

    Exactly once per (meeting, sequence, learner, channel): each email (with the updated
    .ics: same UID, higher SEQUENCE or STATUS:CANCELLED) and SMS is a `delivery.deliver` keyed
    `change#<meeting>#<sequence>`. When every delivery is final the reminder records the
    sequence learners now know; until then a later sync tries the rest again. Returns
    {state: count} of the deliveries.
    """
    from chalicelib.circles import calendar_ics
    from chalicelib.messaging import delivery
    from chalicelib.learners import rsvp
    from chalicelib.messaging.email import build_message
    items = list(TableItem.query(f'CIRCLE#{circle.id}'))
    reminder = next((i for i in items if isinstance(i, MeetingReminder) and i.meeting_id == meeting.meeting_id), None)
    sequence = int(meeting.sequence or 0)
    if reminder is None or reminder.state not in WENT_OUT or int(reminder.sequence or 0) >= sequence:
        return {}
    purpose = f'change#{meeting.meeting_id}#{sequence}'
    existing = {i.sk: i for i in items if getattr(i, 'sk', '').startswith(f'DELIVERY#{purpose}#')}
    ics = calendar_ics.meeting_event_ics(circle, meeting, method='PUBLISH')
    counts = {}

    def run(signup, channel, send):
        key = delivery.DeliveryKey(circle.id, purpose, signup.signup_id, channel)
        state = delivery.deliver(key, send, now, existing=existing.get(key.item_key()[1]))
        counts[state] = counts.get(state, 0) + 1

    for signup in (i for i in items if isinstance(i, Signup) and i.active):
        links = rsvp.learner_links(signup, meeting)
        subject, text, html, sms = change_notice(circle, meeting, signup, links, kind)
        if signup.email and not getattr(signup, 'reminders_stopped', False):
            message = build_message(
                to=signup.email, subject=subject, text=text, html=html, reply_to=list(circle.facilitator_emails),
                headers={'List-Unsubscribe': f'<{links["unsubscribe"]}>',
                         'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'},
                attachments=[('meeting.ics', ics, 'text/calendar; method=PUBLISH')])
            run(signup, delivery.EMAIL, delivery.email_send(message))
        if signup.mobile and not signup.sms_opted_out:
            run(signup, delivery.SMS, delivery.sms_send(signup.mobile, sms))
    if all(state in delivery.FINAL for state in counts):
        try:
            reminder.update(actions=[MeetingReminder.sequence.set(sequence), MeetingReminder.updated_at.set(now),
                                     MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove()],
                            condition=MeetingReminder.sequence < sequence)
        except UpdateError as error:
            if error.cause_response_code != 'ConditionalCheckFailedException':
                raise
    return counts
