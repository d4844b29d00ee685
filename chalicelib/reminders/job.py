"""The reminder job: every 5 minutes, send the meeting reminders that are due.

    send_due_reminders(now, deadline=None, max_rate=None) -> summary

- Finds due reminders with one Query of the sparse `by_due` index (`REMINDER`, due_sk <= now):
  the work is proportional to what is due, never to how many circles exist.
- Claims each reminder with a conditional update and a lease (`claimed_until`), so two runs
  at once take different reminders; then reads the circle's partition once, consistently
  (the circle, its signups, this meeting's earlier deliveries).
- Exactly once per (meeting, recipient, channel): holding the reminder's lease, the run
  writes a `Delivery` claim for each message still to send in one BatchWriteItem before
  any leaves, sends, and writes the outcomes in one more (`chalicelib.messaging.delivery`'s batch
  use). A crash, a retried Lambda or a second run that took the reminder after its lease
  never sends one twice, and a claim left by a crash is sent by the run after the lease.
  Each learner gets an email (personal RSVP links, withdraw link, List-Unsubscribe
  headers, the meeting's .ics) unless they unsubscribed from reminders, and an SMS if they
  gave a mobile that has not opted out; each facilitator gets a copy.
- Reminders are handled REMINDERS_AT_ONCE at a time, each on its own thread; their
  messages share one bounded send pool.
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
from typing import NamedTuple

from pynamodb.exceptions import UpdateError

from chalicelib.circles import circles
from chalicelib.messaging import delivery
from chalicelib.models import Circle, Delivery, MeetingReminder, Signup, TableItem
from chalicelib.models.reminder import DUE_QUEUE, SCHEDULED, SENDING, SENT, SKIPPED
from chalicelib.core.settings import get_settings

log = logging.getLogger(__name__)

REMINDER_LEASE = delivery.LEASE     # longer than a run can live
STOP_MARGIN_SECONDS = 20            # stop taking new work this long before the deadline
NOT_STARTED = 'not started'         # a delivery left for the next run (out of time)
REMINDERS_AT_ONCE = 8               # reminders being claimed, read and written at once
MAX_RUN_SECONDS = 14 * 60           # even without a deadline (the CLI), well inside the lease
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
    summary: Counter = field(default_factory=Counter)  # reminders: due, sent, skipped...
    sent_now: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    warmed: bool = False

    def warm_clients(self):
        """Build the SES and Twilio clients once, before the threads need them: a client made
        inside a send would delay that request past its rate-limit slot."""
        with self.lock:
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

    def count(self, name, states=()):
        with self.lock:
            self.summary[name] += 1
            self.states.update(states)

    def attempt(self, item, send):
        """One claimed delivery: sent (or failed) now, unless the run is out of time. Its `send`
        waits for the rate limit (`self.limit.wait`) itself, after rendering, just before the request."""
        if self.out_of_time():
            return NOT_STARTED
        state = delivery.attempt(item, send, self.now)
        if state == delivery.SENT:
            with self.lock:
                self.sent_now += 1
        return state


@dataclass
class CircleItems:
    """What the job reads of a circle: part of its partition, in one Query."""
    circle: Circle | None
    signups: list
    deliveries: dict               # sk -> Delivery


def read_circle(circle_id, meeting_id):
    """The circle, its signups and this meeting's reminder deliveries: one consistent Query (after
    taking the reminder's lease, the deliveries read here are the truth). The filter leaves the
    rest of the partition (RSVPs, messages, other meetings' deliveries) out of the answer."""
    condition = ((TableItem.sk == Circle.key(circle_id)[1]) | TableItem.sk.startswith('SIGNUP#')
                 | TableItem.sk.startswith(f'DELIVERY#{purpose_of_id(meeting_id)}#'))
    circle, signups, deliveries = None, [], {}
    for item in TableItem.query(f'CIRCLE#{circle_id}', filter_condition=condition, consistent_read=True):
        if isinstance(item, Circle):
            circle = item
        elif isinstance(item, Signup):
            signups.append(item)
        elif isinstance(item, Delivery):
            deliveries[item.sk] = item
    return CircleItems(circle, signups, deliveries)


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
    subject, text, html = rendered
    return build_message(
        to=signup.email, subject=subject, text=text, html=html, reply_to=list(circle.facilitator_emails),
        headers={'List-Unsubscribe': f'<{links["unsubscribe"]}>',
                 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'},
        attachments=[('meeting.ics', ics, ICS_TYPE)])


def facilitator_email(circle, meeting, reminder, address, ics):
    from chalicelib.reminders import render as reminders
    from chalicelib.messaging.email import build_message
    subject, text, html = reminders.render_for_facilitator(circle, meeting, reminder, address)
    return build_message(to=address, subject=subject, text=text, html=html,
                         attachments=[('meeting.ics', ics, ICS_TYPE)])


def meeting_ics(circle, meeting):
    """The meeting's calendar entry, the same for every recipient: made once per reminder."""
    from chalicelib.circles import calendar_ics
    return calendar_ics.meeting_event_ics(circle, meeting)


@dataclass
class Shared:
    """What every message of one reminder uses, made once on the reminder's thread."""
    ics: bytes
    sms_text: object        # short link -> the SMS (reminders.sms_renderer)


class Message(NamedTuple):
    """One delivery a reminder wants: its key, its `send`, and an item to write with its claim."""
    key: delivery.DeliveryKey
    send: object
    with_claim: object = None       # the SMS's ShortLink item


def learner_messages(run, items, meeting, reminder, shared, signup):
    """The learner's email and SMS; links made once, and each text only if its message is taken."""
    from chalicelib.reminders import render as reminders
    from chalicelib.learners import rsvp
    circle, purpose = items.circle, purpose_of(meeting)

    @functools.cache
    def links():
        return rsvp.learner_links(signup, meeting, save_short=False)    # the link is saved with the claim

    def email():
        rendered = reminders.render_email_for_learner(circle, meeting, reminder, signup, links())
        return learner_email(circle, signup, links(), rendered, shared.ics)

    messages = []
    if signup.email and not getattr(signup, 'reminders_stopped', False):
        send = delivery.email_send(email, run.limit.wait)
        messages.append(Message(delivery.DeliveryKey(circle.id, purpose, signup.signup_id, delivery.EMAIL), send))
    if signup.mobile and not signup.sms_opted_out:
        send = delivery.sms_send(signup.mobile, lambda: shared.sms_text(links()['short']), run.limit.wait)
        messages.append(Message(delivery.DeliveryKey(circle.id, purpose, signup.signup_id, delivery.SMS), send,
                                rsvp.short_link(signup, meeting)[1]))
    return messages


def facilitator_message(run, items, meeting, reminder, shared, recipient_id, address):
    send = delivery.email_send(lambda: facilitator_email(items.circle, meeting, reminder, address, shared.ics),
                               run.limit.wait)
    return Message(delivery.DeliveryKey(items.circle.id, purpose_of(meeting), recipient_id, delivery.EMAIL), send)


def purpose_of(meeting):
    return purpose_of_id(meeting.meeting_id)


def purpose_of_id(meeting_id):
    return f'reminder#{meeting_id}'


# --- the run -------------------------------------------------------------------------------

def send_reminder(run, sends, reminder):
    """Everything for one due reminder, on a reminder thread; its messages go through `sends`.

    Claim the reminder (its lease makes this run the only one sending for that meeting), read
    the circle, write the claims of every delivery still to make in one batch, send them on
    the send pool, write their outcomes in one batch, then mark the reminder sent (every
    delivery final) or release it for a later run. Deliveries the run had no time to start
    are put back as they were, so the next run can take them at once.
    """
    if not claim_reminder(reminder, run.now):
        run.count('held_by_another_run')
        return
    items = read_circle(reminder.circle_id, reminder.meeting_id)
    meeting = find_meeting(items.circle, reminder.meeting_id) if items.circle else None
    if not still_wanted(items, meeting, run.now):
        finish_reminder(reminder, SKIPPED, run.now)
        run.count('skipped')
        return
    shared = Shared(ics=None, sms_text=None)
    messages = [m for s in items.signups if s.active
                for m in learner_messages(run, items, meeting, reminder, shared, s)]
    messages += [facilitator_message(run, items, meeting, reminder, shared, rid, address)
                 for rid, address in facilitator_emails(items)]

    states, taken = [], []      # taken: (message, claimed item, the item as it was)
    for message in messages:
        existing = items.deliveries.get(message.key.item_key()[1])
        item, state = delivery.take(message.key, existing, run.now)
        if item is None:
            states.append(state)
        elif run.out_of_time():
            states.append(NOT_STARTED)
        else:
            taken.append((message, item, existing))
    if taken:
        from chalicelib.reminders import render as reminders
        run.warm_clients()
        if any(message.key.channel == delivery.EMAIL for message, _, _ in taken):
            shared.ics = meeting_ics(items.circle, meeting)
        shared.sms_text = reminders.sms_renderer(items.circle, meeting, reminder.sms_text)
        delivery.write(save=[item for _, item, _ in taken] + [m.with_claim for m, _, _ in taken if m.with_claim])
        futures = [sends.submit(run.attempt, item, message.send) for message, item, _ in taken]
        outcomes = [future.result() for future in futures]
        save, unclaim = [], []     # outcomes; and claims never started, put back as they were
        for (_, item, existing), state in zip(taken, outcomes):
            if state != NOT_STARTED:
                save.append(item)
            elif existing is not None:
                save.append(existing)
            else:
                unclaim.append(item)
        delivery.write(save=save, delete=unclaim)
        states += outcomes
    if all(state in delivery.FINAL for state in states):
        finish_reminder(reminder, SENT, run.now, sequence=int(meeting.sequence or 0))
        run.count('reminders_sent', states)
    else:
        release_reminder(reminder, run.now)
        run.count('reminders_left_due', states)


def send_due_reminders(now=None, deadline=None, max_rate=None, workers=None):
    """Send what is due at `now` (see the module docstring); returns a summary dict of counts."""
    settings = get_settings()
    now = now or circles.utcnow()
    workers = workers or settings.send_workers
    started = time.monotonic()
    run = Run(now=now, stop_at=stop_time(started, deadline or started + MAX_RUN_SECONDS),
              limit=SendRateLimit(max_rate if max_rate is not None else settings.max_sends_per_second))
    in_flight = threading.BoundedSemaphore(REMINDERS_AT_ONCE)
    tasks = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix='reminder-send') as sends, \
            ThreadPoolExecutor(max_workers=REMINDERS_AT_ONCE, thread_name_prefix='reminder') as reminders:
        for reminder in due_reminders(now):
            in_flight.acquire()     # read the due index only as fast as reminders are sent
            if run.out_of_time():
                in_flight.release()
                run.summary['stopped_early'] = 1
                break
            run.count('due')
            task = reminders.submit(send_reminder, run, sends, reminder)
            task.add_done_callback(lambda _: in_flight.release())
            tasks.append((reminder, task))
        for reminder, task in tasks:
            try:
                task.result()
            except Exception:  # noqa: BLE001 - a DynamoDB error: its lease runs out, a later run retries
                log.exception('reminder %s: failed', reminder.sk)
                run.count('reminders_failed', [NOT_STARTED])
    if run.states[NOT_STARTED]:
        run.summary['stopped_early'] = 1
    result = {**run.summary, 'messages_sent': run.sent_now, 'deliveries': dict(run.states),
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

