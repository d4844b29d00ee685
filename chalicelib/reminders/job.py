"""The reminder job: every 5 minutes, decide which meeting reminders are due and write their
messages to the outbox. The sender (chalicelib.messaging.sender) sends them.

    send_due_reminders(now, deadline=None) -> summary

- Finds due reminders with one Query of the sparse `by_due` index (`REMINDER`, due_sk <= now):
  the work is proportional to what is due, never to how many circles exist.
- Claims each reminder with a conditional update and a lease (`claimed_until`), so two runs
  at once take different reminders; then reads the circle's partition once, consistently
  (the circle, its signups, this meeting's outbox items).
- Holding the lease, the run is the only writer of the meeting's reminder items: it writes
  every one not written yet (each learner's email and SMS, each facilitator's copy, the SMS
  short links) in BatchWriteItems, then marks the reminder sent. A crash in between leaves
  the reminder claimed; the run after the lease reads what exists and writes only the rest.
- What goes to whom, and whether it still may (withdrawn, unsubscribed, opted out), is
  decided again by the sender just before each send; the facts (date, place, RSVP links) are
  rendered then too, from the meeting as it is.
- `deadline` is the `time.monotonic()` instant the run must be finished by (the Lambda's
  timeout); new work stops STOP_MARGIN_SECONDS before it, and what is left stays due.
"""
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.circles import circles
from chalicelib.core import observability
from chalicelib.core.i18n import N_
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import Circle, Delivery, MeetingReminder, Signup, TableItem
from chalicelib.models.reminder import DUE_QUEUE, SCHEDULED, SENDING, SENT, SKIPPED

log = logging.getLogger(__name__)

REMINDER_LEASE = timedelta(minutes=16)  # longer than a run can live (Lambda: 15 minutes at most)
STOP_MARGIN_SECONDS = 20                # stop taking new work this long before the deadline
REMINDERS_AT_ONCE = 8                   # reminders claimed, read and written at once
MAX_RUN_SECONDS = 14 * 60               # even without a deadline (the CLI), well inside the lease
ICS_TYPE = 'text/calendar; charset=utf-8; method=PUBLISH'


def purpose_of_id(meeting_id):
    return f'reminder#{meeting_id}'


def read_circle(circle_id, meeting_id):
    """(circle, signups, {sk of this meeting's reminder items}): one consistent Query, after
    taking the reminder's lease, so what it finds is the truth. The filter leaves the rest of
    the partition (RSVPs, messages, other meetings' items) out of the answer."""
    prefix = f'DELIVERY#{purpose_of_id(meeting_id)}#'
    condition = ((TableItem.sk == Circle.key(circle_id)[1]) | TableItem.sk.startswith('SIGNUP#')
                 | TableItem.sk.startswith(prefix))
    circle, signups, written = None, [], set()
    for item in TableItem.query(f'CIRCLE#{circle_id}', filter_condition=condition, consistent_read=True):
        if isinstance(item, Circle):
            circle = item
        elif isinstance(item, Signup):
            signups.append(item)
        elif isinstance(item, Delivery):
            written.add(item.sk)
    return circle, signups, written


def due_reminders(now):
    """Reminders due at `now`, oldest first: one Query of the `by_due` index (pages as needed)."""
    return MeetingReminder.by_due.query(DUE_QUEUE, MeetingReminder.due_sk <= f'{now.isoformat()}#~')


def claim_reminder(reminder, now):
    """Take the reminder for this run; False if another run holds it or it is no longer due."""
    try:
        reminder.update(
            actions=[MeetingReminder.state.set(SENDING), MeetingReminder.claimed_until.set(now + REMINDER_LEASE),
                     MeetingReminder.run_attempts.add(1), MeetingReminder.updated_at.set(now)],
            condition=(MeetingReminder.state.is_in(SCHEDULED, SENDING)
                       & (MeetingReminder.due_sk <= f'{now.isoformat()}#~')
                       & (MeetingReminder.claimed_until.does_not_exist() | (MeetingReminder.claimed_until < now))))
        return True
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return False


def finish_reminder(reminder, state, now, sequence=None):
    """Sent (its messages are in the outbox) or skipped: off the due index for good.
    Conditional on still holding our claim."""
    actions = [MeetingReminder.state.set(state), MeetingReminder.claimed_until.remove(),
               MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove(),
               MeetingReminder.updated_at.set(now)]
    if state == SENT:
        actions.append(MeetingReminder.sent_at.set(now))
    if sequence is not None:
        actions.append(MeetingReminder.sequence.set(sequence))
    try:
        reminder.update(actions=actions, condition=MeetingReminder.claimed_until == reminder.claimed_until)
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        log.warning('reminder %s: claim lost before it was finished', reminder.sk)


def find_meeting(circle, meeting_id):
    return next((m for m in circle.meetings if m.meeting_id == meeting_id), None)


def still_wanted(circle, meeting, now):
    """A reminder goes out only for a published circle's meeting that is on and has not begun."""
    return (circle is not None and circle.published and meeting is not None
            and not meeting.cancelled and now < meeting.starts_at)


def reminder_items(circle, meeting, signups, now):
    """Every outbox item the meeting's reminder stands for, with the SMS short links: each
    learner's email and, with a mobile, SMS; each facilitator's copy. Consent (unsubscribed,
    opted out, withdrawn meanwhile) is the sender's one check, just before sending: an item
    it refuses ends `skipped` with the reason, which the facilitator's page shows."""
    from chalicelib.learners import rsvp
    purpose, params = purpose_of_id(meeting.meeting_id), {'meeting': meeting.meeting_id}
    items, links = [], []
    for signup in signups:
        if not signup.active:
            continue
        if signup.email:
            items.append(outbox.for_signup(signup, purpose, outbox.EMAIL, 'reminder', now, params))
        if signup.mobile:
            items.append(outbox.for_signup(signup, purpose, outbox.SMS, 'reminder_sms', now, params))
            links.append(rsvp.short_link(signup, meeting)[1])
    for recipient_id, address in circles.facilitator_recipients(circle):
        items.append(outbox.for_address(circle.id, purpose, recipient_id, address, 'reminder_facilitator', now,
                                        params))
    return items, links


class LockedCounter(Counter):
    """The run's summary, counted from several reminder threads at once."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def __iadd__(self, other):
        raise TypeError('use add()')

    def add(self, name, amount=1):
        with self.lock:
            self[name] += amount


def queue_reminder(reminder, now, summary):
    """Everything for one due reminder: claim it, read the circle, write the outbox items not
    written yet (and their short links), mark it sent."""
    if not claim_reminder(reminder, now):
        summary.add('held_by_another_run')
        return
    circle, signups, written = read_circle(reminder.circle_id, reminder.meeting_id)
    meeting = find_meeting(circle, reminder.meeting_id) if circle else None
    if not still_wanted(circle, meeting, now):
        finish_reminder(reminder, SKIPPED, now)
        summary.add('skipped')
        return
    items, links = reminder_items(circle, meeting, signups, now)
    new = [item for item in items if item.sk not in written]
    with TableItem.batch_write() as batch:
        for item in [*links, *new]:
            batch.save(item)
    finish_reminder(reminder, SENT, now, sequence=int(meeting.sequence or 0))
    summary.add('reminders_sent')
    summary.add('messages_queued', len(new))


def send_due_reminders(now=None, deadline=None, max_rate=None, workers=None):
    """Queue what is due at `now` (see the module docstring); returns a summary dict of counts.
    (`max_rate` and `workers` are the sender's business now; accepted for old callers.)"""
    now = now or circles.utcnow()
    started = time.monotonic()
    stop_at = stop_time(started, deadline or started + MAX_RUN_SECONDS)
    summary = LockedCounter()
    tasks = []
    with ThreadPoolExecutor(max_workers=REMINDERS_AT_ONCE, thread_name_prefix='reminder') as pool:
        for reminder in due_reminders(now):
            if time.monotonic() >= stop_at:
                summary.add('stopped_early')
                break
            summary.add('due')
            tasks.append((reminder, pool.submit(queue_reminder, reminder, now, summary)))
        for reminder, task in tasks:
            try:
                task.result()
            except Exception:  # noqa: BLE001 - a DynamoDB error: its lease runs out, a later run retries
                log.exception('reminder %s: failed', reminder.sk)
                summary.add('reminders_failed')
    result = {**summary, 'seconds': round(time.monotonic() - started, 2)}
    log.info('send_due_reminders: %s', result)
    count_run(summary)
    return result


def count_run(summary):
    """The run as metrics (chalicelib.core.observability), zeros included: RemindersDue (taken this
    run), RemindersSent, RemindersLeft (due but neither sent, skipped nor held by another run: failed,
    a later run retries them) and RemindersStoppedEarly (1 when the run ran out of time with more due)."""
    summary = dict(summary)
    due, sent = summary.get('due', 0), summary.get('reminders_sent', 0)
    done = sent + summary.get('skipped', 0) + summary.get('held_by_another_run', 0)
    observability.count('RemindersDue', due)
    observability.count('RemindersSent', sent)
    observability.count('RemindersLeft', max(due - done, 0))
    observability.count('RemindersStoppedEarly', 1 if summary.get('stopped_early') else 0)


def stop_time(started, deadline):
    """When to stop taking new work: STOP_MARGIN_SECONDS before the deadline, or the last
    quarter of a short run (chalice local gives its jobs 3 seconds)."""
    return deadline - min(STOP_MARGIN_SECONDS, max(deadline - started, 0) / 4)


def lambda_deadline(context):
    """The `time.monotonic()` instant this Lambda invocation times out (None without a context)."""
    remaining = getattr(context, 'get_remaining_time_in_millis', None)
    return time.monotonic() + remaining() / 1000.0 if remaining else None


# --- rendering at send time (the sender's templates) ----------------------------------------

def _keys(item):
    return [Circle.key(item.circle_id), MeetingReminder.key(item.circle_id, item.params['meeting'])]


def _current(item, reads, now):
    """The circle, meeting and reminder as they are now; Skip when the meeting is off or begun."""
    circle = reads.get(Circle.key(item.circle_id))
    reminder = reads.get(MeetingReminder.key(item.circle_id, item.params['meeting']))
    meeting = circle and find_meeting(circle, item.params['meeting'])
    if reminder is None or not still_wanted(circle, meeting, now):
        raise Skip(N_('The meeting is cancelled, has begun, or the circle is no longer published.'))
    return circle, meeting, reminder


_ics_cache = {}


def meeting_ics(circle, meeting):
    """The meeting's calendar entry, the same for every recipient: built once per circle
    version and meeting in a process (a VTIMEZONE costs milliseconds)."""
    from chalicelib.circles import calendar_ics
    key = (circle.id, str(circle.updated_at), meeting.meeting_id, int(meeting.sequence or 0))
    if key not in _ics_cache:
        if len(_ics_cache) > 256:
            _ics_cache.clear()
        _ics_cache[key] = calendar_ics.meeting_event_ics(circle, meeting)
    return _ics_cache[key]


def _render_learner_email(item, reads, to, now):
    from chalicelib.learners import rsvp
    from chalicelib.messaging.email import build_message
    from chalicelib.reminders import render
    circle, meeting, reminder = _current(item, reads, now)
    signup = reads[Signup.key(item.circle_id, item.signup_id)]
    links = rsvp.learner_links(signup, meeting, save_short=False)
    subject, text, html = render.render_email_for_learner(circle, meeting, reminder, signup, links)
    return build_message(
        to=to, subject=subject, text=text, html=html, reply_to=list(circle.facilitator_emails),
        headers={'List-Unsubscribe': f'<{links["unsubscribe"]}>',
                 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'},
        attachments=[('meeting.ics', meeting_ics(circle, meeting), ICS_TYPE)])


def _render_learner_sms(item, reads, to, now):
    from chalicelib.learners import rsvp
    from chalicelib.reminders import render
    circle, meeting, reminder = _current(item, reads, now)
    signup = reads[Signup.key(item.circle_id, item.signup_id)]
    return render.sms_renderer(circle, meeting, reminder.sms_text)(rsvp.short_link(signup, meeting)[0])


def _render_facilitator_email(item, reads, to, now):
    from chalicelib.messaging.email import build_message
    from chalicelib.reminders import render
    circle, meeting, reminder = _current(item, reads, now)
    subject, text, html = render.render_for_facilitator(circle, meeting, reminder, to)
    return build_message(to=to, subject=subject, text=text, html=html,
                         attachments=[('meeting.ics', meeting_ics(circle, meeting), ICS_TYPE)])


REMINDER = Template(keys=_keys, render=_render_learner_email, unsubscribable=True)
REMINDER_SMS = Template(keys=_keys, render=_render_learner_sms)
REMINDER_FACILITATOR = Template(keys=_keys, render=_render_facilitator_email)
