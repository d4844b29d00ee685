"""The one sender: delivers every outbox item exactly once, under one global rate.

    send_records(records, templates)    # the table's stream: a batch of INSERTs of Delivery items
    sweep(templates, now)               # every 5 minutes: what the stream missed, leases run out, retries

For a batch of items it:

1. claims each with one conditional UpdateItem (pending or retrying, not held by a live
   lease, retry due): duplicate stream records, a Lambda retry or a concurrent sweep find it
   taken and do nothing. The claim is a lease (LEASE, longer than a sender may run); an item
   whose sender crashed is taken again by the sweep when the lease has ended;
2. reads what rendering needs in one BatchGetItem for the whole batch (each template names
   the keys it reads: the circle, the signup, the meeting's reminder ...), consistently;
3. checks, in `refusal`, the one place for it, whether the message may still go: the learner
   has not withdrawn, has an address for the channel, has not opted out of SMS (STOP, 21610)
   or unsubscribed from reminder emails, and the address or number is not on the suppression
   list (hard bounce, complaint, erased: one BatchGetItem of the batch's recipients, after the
   read of step 2, which finds the learners' current addresses); otherwise the item ends
   `skipped` with the reason. A template with `ignores_suppression` (an erasure's confirmation,
   sent to the contact it has just suppressed) skips only the list check;
4. renders it from templates now (the current meeting, the current words), takes send slots
   from the channel's global rate (chalicelib.messaging.rate), and sends on a bounded pool,
   each a single provider request (no hidden retries the rate never counted);
5. records every outcome in BatchWriteItems (it holds the leases): `sent` with the provider's
   id (an SMS with one UpdateItem of its own, so that what Twilio's status callback recorded
   meanwhile stays: chalicelib.sms_inbound.status), in chalicelib.messaging.outcomes; transient
   failures (SES throttling or 5xx, Twilio 429 or 5xx, timeouts) `retrying` on the `by_due` queue with backoff (5, 10, 20, 40 minutes, then `failed`); permanent ones
   (SES rejections, Twilio 21610 opted out, a bad number) `failed` with the reason. A 21610
   marks the number opted out in every circle and, when the message has no email of its own,
   writes one with the text (chalicelib.messaging.prepared).

Texts name their status callback (`/sms/status?d=<the item's key>`), go from the Messaging
Service when one is configured, and keep their words (`body`) for an email fallback.

A crash between the provider accepting a message and step 5 sends it again after the lease:
the one repeat we accept in exchange for never losing a message.
"""
import logging
import math
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable, NamedTuple

from pynamodb.exceptions import UpdateError

from chalicelib.core import i18n, observability
from chalicelib.core.clock import utcnow
from chalicelib.core.settings import get_settings
from chalicelib.core.i18n import N_
from chalicelib.messaging import outbox, prepared
from chalicelib.messaging.outbox import EMAIL, FAILED, PENDING, RETRYING, SENT, SKIPPED, SMS
from chalicelib.messaging.outcomes import (OPTED_OUT_CODE, Failure, classify, forget_recipient, off_queue, record,
                                           set_failure, set_skipped, short_reason, sms_cannot_reach)
from chalicelib.messaging.suppression import suppressed
from chalicelib.messaging.rate import MAX_SLOTS_AT_ONCE, SendRateLimit
from chalicelib.models import Circle, Delivery, Signup, TableItem

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)            # longer than a sender invocation lives (2 minutes)
STOP_MARGIN_SECONDS = 10                # no send starts this close to the invocation's deadline
SWEEP_PAGE = 100
IN_FLIGHT_SECONDS = 0.25                # a send pool sized to keep this many seconds of sends in flight

class Template(NamedTuple):
    """How one kind of outbox item becomes a message, at send time.

    `keys(item)`: the (pk, sk) of every stored item rendering needs (read in one batch).
    `render(item, reads, to, now)`: an EmailMessage for `to` (email) or the SMS text; `reads`
    maps (pk, sk) to what was found. Raises `Skip` when the message no longer applies.
    `unsubscribable`: a learner who unsubscribed from reminder emails does not get it.
    `expand(item, reads, now)`: for a fan-out item (outbox.fan_out) instead of `render`: the
    outbox items, one per recipient and channel, that it stands for.
    `ignores_suppression`: the message goes even to a contact on the suppression list. Only for
    the one message that confirms an erasure to the contact it has just suppressed; every other
    check of `refusal` still applies.
    `forgets_recipient`: once the item is final (sent, failed, skipped) its stored item keeps
    neither the address or number (`to`), nor the text, nor a provider error naming them: an
    erasure's confirmation leaves no trace of the erased contact."""
    keys: Callable
    render: Callable = None
    unsubscribable: bool = False
    expand: Callable = None
    ignores_suppression: bool = False
    forgets_recipient: bool = False


class Skip(Exception):
    """Raised by a template: this message must not go out any more (the reason is recorded)."""


@dataclass
class Work:
    item: Delivery
    to: str = None
    payload: object = None          # the EmailMessage or SMS text
    slot: float = 0.0


@dataclass
class Batch:
    now: object
    templates: dict
    stop_at: float | None
    states: Counter = field(default_factory=Counter)
    suppressed: set = field(default_factory=set)     # the batch's recipients on the suppression list
    lock: threading.Lock = field(default_factory=threading.Lock)

    def out_of_time(self):
        return self.stop_at is not None and time.monotonic() >= self.stop_at


# --- entry points ----------------------------------------------------------------------------

def send_records(records, templates, now=None, deadline=None):
    """Deliver the outbox items inserted in a batch of stream records (Lambda-shaped dicts or
    chalice DynamoDBRecord objects); other records are ignored. Returns {state: count}."""
    items = []
    for record in records:
        name, image = _event_name(record), _new_image(record)
        if name == 'INSERT' and image and image.get('kind', {}).get('S') == 'Delivery':
            items.append(Delivery.from_raw_data(image))
    return send_items(items, templates, now, deadline)


def sweep(templates, now=None, deadline=None):
    """Send what is due on the `OUTBOX` queue of `by_due`: items the stream never delivered,
    claims whose lease ran out, retries whose backoff is over. One Query per page of 100."""
    now = now or utcnow()
    states = Counter()
    query = Delivery.by_due.query(outbox.QUEUE, Delivery.due_sk <= f'{now.isoformat()}#~', limit=SWEEP_PAGE)
    page = []
    for item in query:
        page.append(item)
        if len(page) == SWEEP_PAGE:
            states.update(send_items(page, templates, now, deadline))
            page = []
    if page:
        states.update(send_items(page, templates, now, deadline))
    return dict(states)


def send_items(items, templates, now=None, deadline=None):
    """Claim, check, render, send and record a batch of outbox items (see the module docstring)."""
    templates = {**prepared.templates(), **templates}
    batch = Batch(now=now or utcnow(), templates=templates, stop_at=stop_time(deadline))
    claimed = [item for item in items if claim(item, batch.now)]
    if not claimed:
        return {}
    reads = read_for(claimed, templates)
    batch.suppressed = suppressed(_recipients_to_check(claimed, reads, templates))
    work, done = [], []
    for item in claimed:
        outcome = prepare(item, reads, batch)
        if isinstance(outcome, Work):
            work.append(outcome)
        else:
            done.append(item)
    send_all(work, batch)
    for item in claimed:
        template = templates.get(item.template)
        if template is not None and template.forgets_recipient:
            forget_recipient(item)
    record([*done, *(w.item for w in work)])
    for item in claimed:
        batch.states[item.state] += 1
    count_outcomes(claimed)
    log.info('sender: %s', dict(batch.states))
    return dict(batch.states)


METRIC_OF_STATE = {SENT: 'MessagesSent', FAILED: 'MessagesFailed', RETRYING: 'MessagesRetried',
                   SKIPPED: 'MessagesSkipped', PENDING: 'MessagesDeferred'}


def count_outcomes(items):
    """The batch's outcomes as metrics per channel (chalicelib.core.observability): sent, failed,
    retried (back on the queue with backoff), skipped (refused) and deferred (released unsent, out
    of time). A fan-out item (no channel of its own) counts under channel 'fan-out'."""
    for item in items:
        name = METRIC_OF_STATE.get(item.state)
        if name:
            observability.count(name, channel=item.channel or 'fan-out')


# --- the steps -------------------------------------------------------------------------------

def claim(item, now):
    """Take the item for this sender (a lease), or False when it is final, held or not due."""
    lease_end = now + LEASE
    try:
        item.update(
            actions=[Delivery.attempts.add(1), Delivery.claimed_until.set(lease_end),
                     Delivery.due_sk.set(Delivery.due_key(lease_end, item.pk, item.sk)),
                     Delivery.updated_at.set(now)],
            condition=(Delivery.state.is_in(PENDING, RETRYING)
                       & (Delivery.claimed_until.does_not_exist() | (Delivery.claimed_until < now))
                       & (Delivery.retry_at.does_not_exist() | (Delivery.retry_at <= now))))
        return True
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return False


def read_for(items, templates):
    """Everything the batch's templates read, in BatchGetItems (100 keys each), consistent."""
    keys = set()
    for item in items:
        template = templates.get(item.template)
        if template:
            keys.update(template.keys(item))
        if item.signup_id:
            keys.add(Signup.key(item.circle_id, item.signup_id))
        if item.circle_id:
            keys.add(Circle.key(item.circle_id))     # its language (language_of)
    if not keys:
        return {}
    return {(found.pk, found.sk): found for found in TableItem.batch_get(sorted(keys), consistent_read=True)}


def prepare(item, reads, batch):
    """A `Work` to send, or None after setting the item's final or retry state in memory."""
    template = batch.templates.get(item.template)
    if template is None:
        set_failure(item, Failure(True, f'No template named {item.template!r}.'), batch.now)
        return None
    if template.expand:
        return fan_out(item, template, reads, batch.now)
    signup = _signup_of(item, reads)
    reason = refusal(item, signup, template, batch.suppressed)
    if reason:
        set_skipped(item, reason, batch.now)
        return None
    to = recipient(item, signup)
    try:
        with i18n.language(language_of(item, reads)):
            payload = template.render(item, reads, to, batch.now)
    except Skip as skip:
        set_skipped(item, str(skip), batch.now)
        return None
    except Exception as error:  # noqa: BLE001 - a bug in one template must not stop the batch
        log.exception('outbox item %s: rendering failed', item.template)
        set_failure(item, Failure(False, short_reason(f'{type(error).__name__}: {error}')), batch.now)
        return None
    return Work(item, to, payload)


def language_of(item, reads):
    """A message about a circle is written in the circle's language (as it is now); any other in
    the language its item was written with."""
    if item.circle_id:
        circle = reads.get(Circle.key(item.circle_id))
        if circle is not None:
            return circle.language
    return item.language


def fan_out(item, template, reads, now):
    """Write the items a fan-out stands for, each a conditional put: after a crash the next
    try writes only those still missing, and none is ever reset. They reach the stream as
    inserts of their own; the fan-out item itself is then done."""
    try:
        written = outbox.write(template.expand(item, reads, now))
    except Exception as error:  # noqa: BLE001 - retried like a failed send
        log.exception('outbox fan-out %s failed', item.template)
        set_failure(item, Failure(False, short_reason(f'{type(error).__name__}: {error}')), now)
        return None
    item.state, item.sent_at, item.error = SENT, now, f'{len(written)} messages queued'
    off_queue(item, now)
    return None


def refusal(item, signup, template, suppressed=frozenset()):
    """Why this message must not go out now, or None: the one place for these checks.
    `suppressed`: the batch's recipients on the suppression list (`messaging.suppression.suppressed`)."""
    reason = _refusal(item, signup, template)
    if reason is None and not template.ignores_suppression and recipient(item, signup) in suppressed:
        return (N_('The number is on the suppression list (erased, or it cannot take our texts).') if item.channel == SMS
                else N_('The address is on the suppression list (it bounced, complained or was erased).'))
    return reason


def _refusal(item, signup, template):
    if item.signup_id:
        if signup is None or not signup.active:
            return N_('The learner has left the circle.')
        if item.channel == SMS:
            if not signup.mobile:
                return N_('The learner gave no mobile number.')
            if signup.sms_opted_out:
                return N_('The learner has opted out of text messages (replied STOP).')
        elif not signup.email:
            return N_('The learner gave no email address.')
        elif template.unsubscribable and getattr(signup, 'reminders_stopped', False):
            return N_('The learner unsubscribed from reminder emails.')
    elif not item.to:
        return N_('The message has no recipient.')
    return None


def recipient(item, signup):
    """The address or number the item goes to: its own, else the learner's current one."""
    if item.to:
        return item.to
    if signup is None:
        return None
    return (signup.mobile if item.channel == SMS else signup.email) or None


def _recipients_to_check(items, reads, templates):
    """Every recipient of the batch the suppression list applies to (not fan-outs, not
    `ignores_suppression`)."""
    contacts = set()
    for item in items:
        template = templates.get(item.template)
        if template is None or template.expand or template.ignores_suppression:
            continue
        to = recipient(item, _signup_of(item, reads))
        if to:
            contacts.add(to)
    return contacts


def _signup_of(item, reads):
    return reads.get(Signup.key(item.circle_id, item.signup_id)) if item.signup_id else None


def send_all(work, batch):
    """Send every prepared message at its slot of its channel's global rate, on a bounded pool."""
    if not work:
        return
    settings = get_settings()
    limits = {EMAIL: SendRateLimit(EMAIL, settings.max_sends_per_second),
              SMS: SendRateLimit(SMS, settings.max_sms_per_second)}
    _warm_clients(work)
    for channel, limit in limits.items():
        mine = [w for w in work if w.item.channel == channel]
        for start in range(0, len(mine), limit_chunk(limit)):
            chunk = mine[start:start + limit_chunk(limit)]
            for w, slot in zip(chunk, limit.take(len(chunk))):
                w.slot = slot
    work.sort(key=lambda w: w.slot)
    # Each send holds a thread for the provider's answer (50-100 ms): at 100/s a pool of 8 is
    # saturated, sends start after their slots and take new ones. Enough threads for
    # IN_FLIGHT_SECONDS of the fastest channel's rate, at least `send_workers`.
    needed = math.ceil(max(limit.per_second for limit in limits.values()) * IN_FLIGHT_SECONDS)
    workers = max(1, min(max(settings.send_workers, needed), len(work)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix='outbox-send') as pool:
        for future in [pool.submit(send_one, w, limits[w.item.channel], batch) for w in work]:
            future.result()


def limit_chunk(limit):
    """Slots taken per UpdateItem: at most about one second of sends, so a batch never books
    the rate far ahead of what it will use."""
    return max(1, min(MAX_SLOTS_AT_ONCE, int(1 / limit.step) if limit.step else MAX_SLOTS_AT_ONCE))


def send_one(work, limit, batch):
    item = work.item
    if batch.stop_at is not None and work.slot - time.time() > batch.stop_at - time.monotonic():
        release(item)       # its slot lies past this invocation's end: the sweep sends it
        return
    limit.send_at(work.slot)
    if batch.out_of_time():
        release(item)
        return
    try:
        provider_id = provider_send(item.channel, work.to, work.payload, item)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the item
        failure = classify(error)
        set_failure(item, failure, batch.now)
        if failure.code == OPTED_OUT_CODE:
            sms_cannot_reach(item, work.to, work.payload, prepared.OPTED_OUT_REASON, batch.now)
        return
    item.state, item.provider_id, item.sent_at = SENT, provider_id or None, batch.now
    if item.channel == SMS:
        item.body = work.payload
    off_queue(item, batch.now)


def provider_send(channel, to, payload, item=None):
    """One request to SES or Twilio; raises on any refusal. A text names its item's status callback."""
    if channel == EMAIL:
        from chalicelib.messaging import email
        return email.send(payload, single_attempt=True)
    from chalicelib.messaging import sms
    callback = sms.status_callback_url(item.pk, item.sk) if item is not None else None
    return sms.send(to, payload, single_attempt=True, status_callback=callback)


def release(item):
    """Not sent by this invocation (out of time): due again at once, for the sweep."""
    now = utcnow()
    item.claimed_until, item.updated_at = None, now
    item.due_sk = Delivery.due_key(now, item.pk, item.sk)


def _warm_clients(work):
    """Build the SES and Twilio clients before the threads need them: a client made inside a
    send would delay that request past its slot."""
    from chalicelib.messaging import email, sms
    if any(w.item.channel == EMAIL for w in work):
        email.ses_client(True)
    settings = get_settings()
    if any(w.item.channel == SMS for w in work) and not sms.uses_local_outbox(settings):
        sms.twilio_client(settings)


def _event_name(record):
    return record.get('eventName') if isinstance(record, dict) else getattr(record, 'event_name', None)


def _new_image(record):
    if isinstance(record, dict):
        return (record.get('dynamodb') or {}).get('NewImage')
    return getattr(record, 'new_image', None)


def stop_time(deadline):
    """No send starts after this `time.monotonic()` instant: STOP_MARGIN_SECONDS before the
    deadline, or in its last quarter for a short invocation (chalice local gives 3 seconds)."""
    if deadline is None:
        return None
    left = max(deadline - time.monotonic(), 0)
    return deadline - min(STOP_MARGIN_SECONDS, left / 4)


def lambda_deadline(context):
    """The `time.monotonic()` instant this Lambda invocation times out (None without a context)."""
    remaining = getattr(context, 'get_remaining_time_in_millis', None)
    return time.monotonic() + remaining() / 1000.0 if remaining else None
