"""Exactly-once sends: one `Delivery` item per (purpose, recipient, channel), claimed with a
conditional write before the message leaves and marked after.

    deliver(DeliveryKey(circle_id, f'reminder#{meeting_id}', signup_id, 'email'),
            email_send(message), now)

The item is `CIRCLE#<circle>` / `DELIVERY#<purpose>#<recipient>#<channel>` and moves through:

- `pending`: a run claimed it and is sending it now. `retry_at` is the end of that claim's
  lease, longer than any Lambda can live, so a run still alive never loses its claim; a
  later run may take it again only after the lease, i.e. when the first one crashed between
  claim and confirmation. A crash just after the provider accepted the message means it
  goes out twice; that one rare repeat is the price of never losing a message.
- `retrying`: a transient failure (SES throttling or 5xx, Twilio 429 or 5xx, a timeout).
  A run at or after `retry_at` tries again, with exponential backoff, up to MAX_ATTEMPTS.
- `sent` and `failed` are final. Permanent refusals (SES MessageRejected or a suspended
  account, a bad address, Twilio 21610 "replied STOP") go straight to `failed`, with the reason.

Items written by chalicelib.facilitators.messages (`pending` with no `retry_at`) are never taken again.

Two ways to use it:

- `deliver(key, send, now)`: one message on its own (change notices). The claim is a
  conditional put (or a conditional update of a retry), so two callers never both send.
- In batches, by a caller that already holds an exclusive lease on everything the batch
  delivers (the reminder job holds the meeting's reminder): `take` the deliveries in
  memory, `write` the claims in one BatchWriteItem before sending, `attempt` each send, and
  `write` the outcomes after. The exclusive claim is the lease's conditional write, made
  once for the batch; the per-delivery records are still written before anything leaves,
  so a crash is finished by the run that takes the lease next. A run never outlives its
  lease (LEASE is longer than any Lambda or CLI run may take work).
"""
import logging
from datetime import timedelta
from typing import NamedTuple

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.models import Delivery

log = logging.getLogger(__name__)

PENDING, RETRYING, SENT, FAILED = 'pending', 'retrying', 'sent', 'failed'
FINAL = (SENT, FAILED)
EMAIL, SMS = 'email', 'sms'

LEASE = timedelta(minutes=16)           # Lambda's longest timeout is 15 minutes
FIRST_RETRY = timedelta(minutes=5)      # then 10, 20, 40 minutes
MAX_ATTEMPTS = 5

# SES v2 error codes worth another try later: the send rate or daily quota was exceeded, or
# sending is paused for a while. Every other SES refusal is about this message or address.
SES_TRANSIENT_CODES = {'Throttling', 'ThrottlingException', 'TooManyRequestsException',
                       'LimitExceededException', 'SendingPausedException', 'ServiceUnavailable',
                       'InternalFailure', 'RequestTimeout', 'RequestTimeoutException'}


class DeliveryKey(NamedTuple):
    circle_id: str
    purpose: str        # what is delivered, unique in the circle: 'reminder#<meeting id>', ...
    recipient_id: str   # a signup id, or 'facilitator-<user id>'
    channel: str        # EMAIL or SMS

    def item_key(self):
        return Delivery.key(self.circle_id, self.purpose, self.recipient_id, self.channel)


class TransientFailure(Exception):
    """Raised by a `send` to say: nothing went out, try again later."""


class PermanentFailure(Exception):
    """Raised by a `send` to say: this can never be delivered; record why and stop."""

    def __init__(self, reason, code=None):
        super().__init__(reason)
        self.code = code


class Failure(NamedTuple):
    permanent: bool
    reason: str
    code: int = None    # Twilio's numeric error code, when there is one


def deliver(key, send, now, existing=None):
    """Call `send()` at most once for `key`, unless an earlier try failed transiently or a
    crashed run's lease ran out; returns the delivery's state afterwards.

    `send` returns the provider's message id or raises. `existing` is the Delivery item as
    already read (e.g. in the circle's one Query), or None when there was none: it saves a
    read, and a stale copy is harmless (the claim is conditional on what it saw). A state of
    `pending` or `retrying` means not final yet: another run holds it, or a retry is due later.
    """
    item, state = claim(key, now, existing)
    if item is None:
        return state
    state = attempt(item, send, now)
    item.save()     # ours: the claim above is held until this write
    return state


def attempt(item, send, now):
    """Call `send()` for a claimed item and set the outcome on it, in memory (the caller writes
    it): sent with the provider's id, or retrying / failed with the reason."""
    try:
        provider_id = send()
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the delivery
        return set_failure(item, classify(error), now)
    item.state, item.provider_id, item.retry_at, item.updated_at = SENT, provider_id or None, None, now
    return SENT


def take(key, existing, now):
    """For a caller holding a lease over the key: (the claimed item, PENDING) to write before
    sending, or (None, its state) when it is final or a retry is not due yet. `existing` must
    be a read made after the lease was taken."""
    if existing is None:
        return new_claim(key, now), PENDING
    if not may_take(existing, now):
        return None, existing.state
    item = Delivery.from_raw_data(existing.serialize())     # a copy: `existing` is what to restore
    item.state, item.attempts = PENDING, int(existing.attempts or 0) + 1
    item.retry_at, item.updated_at = now + LEASE, now
    return item, PENDING


def write(save=(), delete=()):
    """Claims or outcomes of a batch in BatchWriteItem requests (25 items each, unprocessed
    items retried by PynamoDB): unconditional, so only for a caller holding the lease."""
    with Delivery.batch_write() as batch:
        for item in save:
            batch.save(item)
        for item in delete:
            batch.delete(item)


def new_claim(key, now):
    return Delivery(*key.item_key(), circle_id=key.circle_id, message_key=key.purpose, signup_id=key.recipient_id,
                    channel=key.channel, state=PENDING, attempts=1, retry_at=now + LEASE, created_at=now,
                    updated_at=now)


def claim(key, now, existing=None):
    """Take the delivery for this run: (item, PENDING), or (None, its state) when it is final,
    held by another run, or not due for a retry yet."""
    if existing is None:
        item = new_claim(key, now)
        try:
            item.save(condition=Delivery.pk.does_not_exist())
            return item, PENDING
        except PutError as error:
            if error.cause_response_code != 'ConditionalCheckFailedException':
                raise
        existing = read(key)
        if existing is None:
            return None, PENDING
    if not may_take(existing, now):
        return None, existing.state
    try:
        existing.update(
            actions=[Delivery.state.set(PENDING), Delivery.attempts.add(1),
                     Delivery.retry_at.set(now + LEASE), Delivery.updated_at.set(now)],
            condition=(Delivery.state == existing.state) & (Delivery.retry_at == existing.retry_at))
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return None, PENDING
    return existing, PENDING


def may_take(item, now):
    return item.state in (PENDING, RETRYING) and item.retry_at is not None and item.retry_at <= now


def read(key):
    try:
        return Delivery.get(*key.item_key(), consistent_read=True)
    except Delivery.DoesNotExist:
        return None


def set_failure(item, failure, now):
    """Failed for good (permanent, or the last try), or retrying after a backoff; in memory."""
    attempts = int(item.attempts or 1)
    item.updated_at, item.error = now, failure.reason
    if failure.code is not None:
        item.error_code = failure.code
    if failure.permanent or attempts >= MAX_ATTEMPTS:
        if not failure.permanent:
            item.error = f'Gave up after {attempts} tries. Last error: {failure.reason}'
        item.state, item.retry_at = FAILED, None
    else:
        item.state, item.retry_at = RETRYING, now + backoff(attempts)
    return item.state


def backoff(attempts):
    """Wait before try number `attempts + 1`: 5, 10, 20, 40 minutes."""
    return FIRST_RETRY * 2 ** (attempts - 1)


def classify(error):
    """Whether a failed send may succeed later, and why it failed, in words for the facilitator."""
    from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

    from chalicelib.messaging.sms import OPTED_OUT, TOO_MANY_REQUESTS, SmsFailed
    if isinstance(error, PermanentFailure):
        return Failure(True, _short(error), error.code)
    if isinstance(error, TransientFailure):
        return Failure(False, _short(error))
    if isinstance(error, SmsFailed):
        if error.code == OPTED_OUT:
            return Failure(True, 'The learner has opted out of text messages (replied STOP).', error.code)
        transient = error.status is None or error.status == TOO_MANY_REQUESTS or error.status >= 500
        return Failure(not transient, _short(error.reason), error.code)
    if isinstance(error, ClientError):
        code = error.response.get('Error', {}).get('Code', '')
        status = error.response.get('ResponseMetadata', {}).get('HTTPStatusCode') or 0
        message = error.response.get('Error', {}).get('Message', '')
        transient = code in SES_TRANSIENT_CODES or status >= 500
        return Failure(not transient, _short(f'{code}: {message}' if message else code))
    if isinstance(error, (BotoConnectionError, HTTPClientError, OSError)):
        return Failure(False, _short(f'Could not reach the provider: {error}'))
    # A bug (a template, a missing field): retried a few times, so a fix deployed soon still
    # delivers, then recorded as failed.
    log.exception('delivery failed unexpectedly', exc_info=error)
    return Failure(False, _short(f'{type(error).__name__}: {error}'))


def _short(error):
    text = ' '.join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + '...'


# --- sends for deliver() ----------------------------------------------------------------

def email_send(build, before_request=None):
    """A `send` for an email: `build` is the EmailMessage or a callable making it (so rendering
    happens only for deliveries actually taken); one SES request, no hidden retries.
    `before_request` runs after building, just before the request (a rate limit's wait)."""
    def send():
        from chalicelib.messaging import email
        message = build() if callable(build) else build
        if before_request:
            before_request()
        return email.send(message, single_attempt=True)
    return send


def sms_send(number, body, before_request=None):
    """A `send` for a text message (`body` a string or a callable making it); a number that
    replied STOP is marked opted out in every circle."""
    def send():
        from chalicelib.messaging import sms
        text = body() if callable(body) else body
        if before_request:
            before_request()
        try:
            return sms.send(number, text, single_attempt=True)     # a 429 is retried by a later run
        except sms.SmsFailed as failure:
            if failure.opted_out:
                from chalicelib.facilitators.messages import mark_sms_opted_out
                mark_sms_opted_out(number)
            raise
    return send
