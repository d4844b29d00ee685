"""The reminder job: every 5 minutes, send the meeting reminders that are due.

    send_due_reminders(now, deadline=None, max_rate=None) -> summary

- Finds due reminders with one Query of the sparse `by_due` index (`REMINDER`, due_sk <= now):
  the work is proportional to what is due, never to how many circles exist.
- Claims each reminder with a conditional update and a lease (`claimed_until`), so two runs
  at once take different reminders; then reads the circle's partition once (circle,
  signups, facilitators, earlier deliveries).
- Every message is a `chalicelib.delivery.deliver` (claimed before it leaves, marked after),
  so a crash, a retried Lambda or a second run that took the same reminder after a lease
  never sends one twice. Each learner gets an email (personal RSVP links, withdraw link,
  List-Unsubscribe headers, the meeting's .ics) unless they unsubscribed from reminders,
  and an SMS if they gave a mobile that has not opted out; each facilitator gets a copy.
- Sends go through a bounded thread pool and one rate limit shared by emails and SMS
  (`max_rate`, default CIRCLES_MAX_SENDS_PER_SECOND: the SES account's sending rate).
- `deadline` is the `time.monotonic()` instant the run must be finished by (the Lambda's
  timeout); new work stops STOP_MARGIN_SECONDS before it (or in the last quarter of a
  shorter run), and what is left stays due for the next run.
- A reminder is marked `sent` when all its deliveries are final (sent or failed); otherwise
  its claim is released and a later run retries what is left when its backoff is over.
"""
import functools
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pynamodb.exceptions import UpdateError

from chalicelib import circles, delivery
from chalicelib.models import Circle, CircleFacilitator, Delivery, MeetingReminder, Signup, TableItem
from chalicelib.models.reminder import DUE_QUEUE, SCHEDULED, SENDING, SENT, SKIPPED
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

REMINDER_LEASE = delivery.LEASE     # longer than a run can live
STOP_MARGIN_SECONDS = 20            # stop taking new work this long before the deadline
NOT_STARTED = 'not started'         # a delivery left for the next run (out of time)
ICS_TYPE = 'text/calendar; charset=utf-8; method=PUBLISH'
RATE_HEADROOM = 0.9                 # send at 90 % of the configured rate (see SendRateLimit)


class SendRateLimit:
    """At most `per_second` sends in any second, across all threads: each send waits for its
    own slot, a fixed interval after the previous one (a token bucket holding one token, so
    there is no burst). The interval keeps RATE_HEADROOM: a thread can be scheduled a little
    late after its slot and the next one on time, and the provider counts arrivals, so slots
    exactly 1/per_second apart could still put per_second + 1 requests into one of its
    seconds. `per_second` of None or 0 means no limit."""

    def __init__(self, per_second):
        self.interval = 1.0 / (per_second * RATE_HEADROOM) if per_second else 0.0
        self.next_slot = 0.0
        self.lock = threading.Lock()

    def wait(self):
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


@dataclass
class Run:
    now: object
    stop_at: float | None           # time.monotonic() instant: take no new work after it
    limit: SendRateLimit
    states: Counter = field(default_factory=Counter)   # delivery states after this run
    sent_now: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    warmed: bool = False

    def warm_clients(self):
        """Build the SES and Twilio clients once, before the threads need them: a client made
        inside a send would delay that request past its rate-limit slot."""
        if self.warmed:
            return
        from chalicelib.messaging import email, sms
        email.ses_client(True)
        settings = get_settings()
        if not sms.uses_local_outbox(settings):
            sms.twilio_client(settings)
        self.warmed = True

    def out_of_time(self):
        return self.stop_at is not None and time.monotonic() >= self.stop_at

    def deliver(self, key, send, existing):
        """One delivery, unless it is final already or the run is out of time. Its `send` waits
        for the rate limit (`self.limit.wait`) itself, after rendering, just before the request."""
        if existing is not None and existing.state in delivery.FINAL:
            return existing.state
        if self.out_of_time():
            return NOT_STARTED

        def counted_send():
            result = send()
            with self.lock:
                self.sent_now += 1
            return result
        return delivery.deliver(key, counted_send, self.now, existing=existing)


@dataclass
class CircleItems:
    """What the job reads of a circle: its partition in one Query."""
    circle: Circle | None
    signups: list
    facilitators: list
    deliveries: dict               # sk -> Delivery


def read_circle(circle_id):
    circle, signups, facilitators, deliveries = None, [], [], {}
    for item in TableItem.query(f'CIRCLE#{circle_id}'):
        if isinstance(item, Circle):
            circle = item
        elif isinstance(item, Signup):
            signups.append(item)
        elif isinstance(item, CircleFacilitator):
            facilitators.append(item)
        elif isinstance(item, Delivery):
            deliveries[item.sk] = item
    return CircleItems(circle, signups, facilitators, deliveries)


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
    """Sent or skipped: off the due index for good. Conditional on still holding our claim."""
    actions = [MeetingReminder.state.set(state), MeetingReminder.claimed_until.remove(),
               MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove(),
               MeetingReminder.updated_at.set(now)]
    if state == SENT:
        actions.append(MeetingReminder.sent_at.set(now))
    if sequence is not None:
        actions.append(MeetingReminder.sequence.set(sequence))
    _update_while_claimed(reminder, actions)


def release_reminder(reminder, now):
    """Some deliveries are not final yet: leave the reminder due, for a later run."""
    _update_while_claimed(reminder, [MeetingReminder.claimed_until.remove(), MeetingReminder.updated_at.set(now)])


def _update_while_claimed(reminder, actions):
    try:
        reminder.update(actions=actions, condition=MeetingReminder.claimed_until == reminder.claimed_until)
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        log.warning('reminder %s: claim lost before it was finished', reminder.sk)


def find_meeting(circle, meeting_id):
    return next((m for m in circle.meetings if m.meeting_id == meeting_id), None)


def still_wanted(items, meeting, now):
    """A reminder goes out only for a published circle's meeting that is on and has not begun."""
    return (items.circle is not None and items.circle.published and meeting is not None
            and not meeting.cancelled and now < meeting.starts_at)


def facilitator_emails(items):
    """(recipient id, email) of each facilitator: the circle's own list, by user id."""
    circle = items.circle
    ids = list(circle.facilitator_ids or [])
    result = []
    for index, address in enumerate(circle.facilitator_emails or []):
        user_id = ids[index] if index < len(ids) else f'n{index}'
        result.append((f'facilitator-{user_id}', address))
    return result


# --- the messages --------------------------------------------------------------------------

def learner_email(circle, signup, links, rendered, ics):
    from chalicelib.messaging.email import build_message
    subject, text, html, _ = rendered
    return build_message(
        to=signup.email, subject=subject, text=text, html=html, reply_to=list(circle.facilitator_emails),
        headers={'List-Unsubscribe': f'<{links["unsubscribe"]}>',
                 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'},
        attachments=[('meeting.ics', ics, ICS_TYPE)])


def facilitator_email(circle, meeting, reminder, address, ics):
    from chalicelib import reminders
    from chalicelib.messaging.email import build_message
    subject, text, html = reminders.render_for_facilitator(circle, meeting, reminder, address)
    return build_message(to=address, subject=subject, text=text, html=html,
                         attachments=[('meeting.ics', ics, ICS_TYPE)])


def meeting_ics(circle, meeting):
    """The meeting's calendar entry, made once per reminder (the same for every recipient;
    building a VTIMEZONE costs milliseconds of CPU, which all the sending threads share)."""
    from chalicelib import calendar_ics
    return functools.cache(lambda: calendar_ics.meeting_event_ics(circle, meeting))


def send_to_learner(run, items, meeting, reminder, ics, signup):
    """The learner's email and SMS, rendered once (and only if one of them is still to send)."""
    from chalicelib import reminders, rsvp
    circle, purpose = items.circle, purpose_of(meeting)

    @functools.cache
    def rendered():
        links = rsvp.learner_links(signup, meeting)
        return links, reminders.render_for_learner(circle, meeting, reminder, signup, links)

    states = []
    if signup.email and not getattr(signup, 'reminders_stopped', False):
        key = delivery.DeliveryKey(circle.id, purpose, signup.signup_id, delivery.EMAIL)
        send = delivery.email_send(lambda: learner_email(circle, signup, *rendered(), ics()),
                                   run.limit.wait)
        states.append(run.deliver(key, send, items.deliveries.get(key.item_key()[1])))
    if signup.mobile and not signup.sms_opted_out:
        key = delivery.DeliveryKey(circle.id, purpose, signup.signup_id, delivery.SMS)
        send = delivery.sms_send(signup.mobile, lambda: rendered()[1][3], run.limit.wait)
        states.append(run.deliver(key, send, items.deliveries.get(key.item_key()[1])))
    return states


def send_to_facilitator(run, items, meeting, reminder, ics, recipient_id, address):
    key = delivery.DeliveryKey(items.circle.id, purpose_of(meeting), recipient_id, delivery.EMAIL)
    send = delivery.email_send(lambda: facilitator_email(items.circle, meeting, reminder, address, ics()),
                               run.limit.wait)
    return [run.deliver(key, send, items.deliveries.get(key.item_key()[1]))]


def purpose_of(meeting):
    return f'reminder#{meeting.meeting_id}'


# --- the run -------------------------------------------------------------------------------

@dataclass
class Pending:
    """A claimed reminder whose deliveries are in the pool."""
    reminder: MeetingReminder
    meeting: object
    futures: list


def start_reminder(run, pool, slots, reminder, summary):
    """Claim, read the circle, and queue a task per recipient; None when there is nothing to send."""
    if not claim_reminder(reminder, run.now):
        summary['held_by_another_run'] += 1
        return None
    items = read_circle(reminder.circle_id)
    meeting = find_meeting(items.circle, reminder.meeting_id) if items.circle else None
    if not still_wanted(items, meeting, run.now):
        finish_reminder(reminder, SKIPPED, run.now)
        summary['skipped'] += 1
        return None
    ics = meeting_ics(items.circle, meeting)
    tasks = [(send_to_learner, (run, items, meeting, reminder, ics, s)) for s in items.signups if s.active]
    tasks += [(send_to_facilitator, (run, items, meeting, reminder, ics, rid, address))
              for rid, address in facilitator_emails(items)]
    run.warm_clients()
    futures = []
    for function, args in tasks:
        slots.acquire()     # a bounded queue: reading runs at most a few tasks ahead of sending
        future = pool.submit(function, *args)
        future.add_done_callback(lambda _: slots.release())
        futures.append(future)
    return Pending(reminder, meeting, futures)


def settle(run, pending, summary):
    """Wait for the reminder's deliveries; mark it sent when all are final, else release it."""
    states = []
    for future in pending.futures:
        try:
            states += future.result()
        except Exception:  # noqa: BLE001 - a DynamoDB error on one delivery: retried next run
            log.exception('reminder %s: a delivery task failed', pending.reminder.sk)
            states.append(NOT_STARTED)
    run.states.update(states)
    if all(state in delivery.FINAL for state in states):
        finish_reminder(pending.reminder, SENT, run.now, sequence=int(pending.meeting.sequence or 0))
        summary['reminders_sent'] += 1
    else:
        release_reminder(pending.reminder, run.now)
        summary['reminders_left_due'] += 1


def send_due_reminders(now=None, deadline=None, max_rate=None, workers=None):
    """Send what is due at `now` (see the module docstring); returns a summary dict of counts."""
    settings = get_settings()
    now = now or circles.utcnow()
    workers = workers or settings.send_workers
    started = time.monotonic()
    run = Run(now=now, stop_at=stop_time(started, deadline),
              limit=SendRateLimit(max_rate if max_rate is not None else settings.max_sends_per_second))
    summary = Counter()
    slots = threading.BoundedSemaphore(workers * 4)
    pending = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix='reminder-send') as pool:
        for reminder in due_reminders(now):
            if run.out_of_time():
                summary['stopped_early'] = 1
                break
            summary['due'] += 1
            started_reminder = start_reminder(run, pool, slots, reminder, summary)
            if started_reminder:
                pending.append(started_reminder)
        for item in pending:
            settle(run, item, summary)
    if run.states[NOT_STARTED]:
        summary['stopped_early'] = 1
    result = {**summary, 'messages_sent': run.sent_now, 'deliveries': dict(run.states),
              'seconds': round(time.monotonic() - started, 2)}
    log.info('send_due_reminders: %s', result)
    return result


def stop_time(started, deadline):
    """When to stop taking new work: STOP_MARGIN_SECONDS before the deadline, or the last
    quarter of a short run (chalice local gives its jobs 3 seconds)."""
    if deadline is None:
        return None
    return deadline - min(STOP_MARGIN_SECONDS, max(deadline - started, 0) / 4)


def lambda_deadline(context):
    """The `time.monotonic()` instant this Lambda invocation times out (None without a context)."""
    remaining = getattr(context, 'get_remaining_time_in_millis', None)
    return time.monotonic() + remaining() / 1000.0 if remaining else None

