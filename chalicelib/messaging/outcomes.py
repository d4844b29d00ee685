"""What became of an outbox item: the sender's outcomes, in memory and then written.

`set_skipped` and `set_failure` change the item in memory (off the queue, or retrying after a
backoff of 5, 10, 20, 40 minutes, then failed); `classify` tells a transient failure from a
permanent one, in words for the facilitator; `record` writes a batch of outcomes (the sender
holds their leases). A number Twilio cannot reach (21610 here, 30003/30005/30006 in a status
callback, chalicelib.sms_inbound.status) gets no more texts in any circle, and the text goes by
email when the message has no email of its own (chalicelib.messaging.prepared). `suppressed`
reads which of a batch's recipients are on the suppression list.
"""
import logging
from datetime import timedelta
from typing import NamedTuple

from pynamodb.exceptions import UpdateError

from chalicelib.core.i18n import N_
from chalicelib.messaging import outbox, prepared
from chalicelib.messaging.outbox import FAILED, PENDING, RETRYING, SENT, SKIPPED, SMS
from chalicelib.models import Delivery, Signup

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=5)      # then 10, 20, 40 minutes
MAX_ATTEMPTS = 5

# SES v2 error codes worth another try later: the send rate or daily quota was exceeded, or
# sending is paused for a while. Every other SES refusal is about this message or address.
SES_TRANSIENT_CODES = {'Throttling', 'ThrottlingException', 'TooManyRequestsException',
                       'LimitExceededException', 'SendingPausedException', 'ServiceUnavailable',
                       'InternalFailure', 'RequestTimeout', 'RequestTimeoutException'}


class Failure(NamedTuple):
    permanent: bool
    reason: str
    code: int = None    # Twilio's numeric error code, when there is one



def off_queue(item, now):
    item.claimed_until, item.retry_at, item.updated_at = None, None, now
    item.due_pk = item.due_sk = None


def set_skipped(item, reason, now):
    item.state, item.error = SKIPPED, reason
    off_queue(item, now)


def set_failure(item, failure, now):
    """Failed for good (permanent, or the last try), or retrying after a backoff; in memory."""
    attempts = int(item.attempts or 1)
    item.error = failure.reason
    if failure.code is not None:
        item.error_code = failure.code
    if failure.permanent or attempts >= MAX_ATTEMPTS:
        if not failure.permanent:
            item.error = f'Gave up after {attempts} tries. Last error: {failure.reason}'
        item.state = FAILED
        off_queue(item, now)
    else:
        retry_at = now + backoff(attempts)
        item.state, item.retry_at, item.claimed_until, item.updated_at = RETRYING, retry_at, None, now
        item.due_sk = Delivery.due_key(retry_at, item.pk, item.sk)
    return item.state


def backoff(attempts):
    """Wait before try number `attempts + 1`: 5, 10, 20, 40 minutes."""
    return FIRST_RETRY * 2 ** (attempts - 1)


OPTED_OUT_CODE = 21610      # Twilio: the recipient replied STOP


def classify(error):
    """Whether a failed send may succeed later, and why it failed, in words for the facilitator."""
    from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

    from chalicelib.messaging.sms import TOO_MANY_REQUESTS, SmsFailed
    if isinstance(error, SmsFailed):
        if error.code == OPTED_OUT_CODE:
            return Failure(True, N_('The learner has opted out of text messages (replied STOP).'), error.code)
        transient = error.status is None or error.status == TOO_MANY_REQUESTS or error.status >= 500
        return Failure(not transient, short_reason(error.reason), error.code)
    if isinstance(error, ClientError):
        code = error.response.get('Error', {}).get('Code', '')
        status = error.response.get('ResponseMetadata', {}).get('HTTPStatusCode') or 0
        message = error.response.get('Error', {}).get('Message', '')
        transient = code in SES_TRANSIENT_CODES or status >= 500
        return Failure(not transient, short_reason(f'{code}: {message}' if message else code))
    if isinstance(error, (BotoConnectionError, HTTPClientError, OSError)):
        return Failure(False, short_reason(f'Could not reach the provider: {error}'))
    log.exception('outbox send failed unexpectedly', exc_info=error)
    return Failure(False, short_reason(f'{type(error).__name__}: {error}'))


def mark_sms_opted_out(number):
    """Twilio refuses every text to this number from us now: stop trying, in every circle."""
    if not number:
        return
    for signup in Signup.by_phone.query(f'PHONE#{number}'):
        signup.update(actions=[Signup.sms_opted_out.set(True)], condition=Signup.pk.exists())


def forget_recipient(item):
    """A final item keeps no trace of its recipient (`Template.forgets_recipient`); a retrying one
    still needs its address."""
    if item.state in (PENDING, RETRYING):
        return
    if item.error and item.to and item.to.lower() in item.error.lower():
        item.error = 'The provider refused it (its words named the recipient and are not kept).'
    item.to = item.body = None


def short_reason(error):
    text = ' '.join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + '...'


def sms_cannot_reach(item, number, text, reason, now):
    """Twilio cannot deliver texts to `number` (21610 here; 30003/30005/30006 in a status
    callback): no more texts to it in any circle, and this one's words go by email when the
    message has no email of its own."""
    mark_sms_opted_out(number)
    fallback = prepared.email_fallback(item, text, reason, now)
    if fallback is not None:
        outbox.write([fallback])


# Twilio's statuses that a sender's `sent` must not hide (chalicelib.sms_inbound.status).
UNDELIVERED_STATUSES = ('undelivered', 'failed')


def record(items):
    """Write the outcomes (this sender holds every item's lease): BatchWriteItems of 25. A sent
    SMS is an UpdateItem of the sender's fields: Twilio's status callback may have come first."""
    sent_sms = [item for item in items if item.channel == SMS and item.state == SENT and item.provider_id]
    separate = {id(item) for item in sent_sms}
    with Delivery.batch_write() as batch:
        for item in items:
            if id(item) not in separate:
                batch.save(item)
    for item in sent_sms:
        _record_sent_sms(item)


def _record_sent_sms(item):
    """`sent` unless the status callback already said undelivered (then only the send's facts)."""
    facts = [Delivery.provider_id.set(item.provider_id), Delivery.sent_at.set(item.sent_at),
             Delivery.body.set(item.body) if item.body is not None else Delivery.body.remove(),
             Delivery.to.set(item.to) if item.to else Delivery.to.remove(), Delivery.attempts.set(item.attempts),
             Delivery.updated_at.set(item.updated_at), Delivery.claimed_until.remove(),
             Delivery.retry_at.remove(), Delivery.due_pk.remove(), Delivery.due_sk.remove()]
    try:
        item.update(actions=[Delivery.state.set(SENT), *facts],
                    condition=(Delivery.provider_status.does_not_exist()
                               | ~Delivery.provider_status.is_in(*UNDELIVERED_STATUSES)))
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        item.update(actions=facts)
        from chalicelib.messaging.sms import CANNOT_RECEIVE
        if item.error_code in CANNOT_RECEIVE:     # the callback could not repeat a text it did not know yet
            fallback = prepared.email_fallback(item, item.body, CANNOT_RECEIVE[item.error_code], item.updated_at)
            if fallback is not None:
                outbox.write([fallback])
