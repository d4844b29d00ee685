"""The transactional outbox: a change that causes a message writes the message with it.

    transaction.save(*outbox.put(outbox.message(...)))   # in the change's TransactWrite
    outbox.write([...])                                   # alone, or in a batch under a lease

No request and no job calls SES or Twilio. They write one `Delivery` item per recipient and
channel in the same DynamoDB write as the change (a signup and its welcome are stored
together or not at all); the sender (chalicelib.messaging.sender), fed by the table's
stream, delivers each exactly once. An item is found again by its key, which names the
purpose, the recipient and the channel, so writing the same message twice is refused by
its condition instead of sending twice.

Each item is written `pending` on the `OUTBOX` queue of `by_due`, due SWEEP_GRACE later: the
stream normally delivers it within a second, and the sweep takes whatever the stream did not.
"""
from datetime import timedelta

from pynamodb.exceptions import PutError

from chalicelib.core import i18n
from chalicelib.models import Delivery

PENDING, RETRYING, SENT, FAILED, SKIPPED = 'pending', 'retrying', 'sent', 'failed', 'skipped'
FINAL = (SENT, FAILED, SKIPPED)
EMAIL, SMS, FAN_OUT = 'email', 'sms', 'fan-out'
QUEUE = 'OUTBOX'
SWEEP_GRACE = timedelta(minutes=2)


def circle_partition(circle_id):
    return f'CIRCLE#{circle_id}'


def account_partition(user_id):
    return f'ACCOUNT#{user_id}'


def message(partition, purpose, recipient_id, channel, template, now, *, circle_id=None, signup_id=None,
            to=None, params=None, language=None):
    """A new outbox item (not written yet). `signup_id` names a learner, whose current address
    and consent the sender checks just before sending; `to` an address for anyone else.
    `language` (default: the language of the moment, the page's in a request) is what a message
    about no circle is written in; one about a circle is written in the circle's."""
    pk, sk = Delivery.key(partition, purpose, recipient_id, channel)
    return Delivery(pk, sk, purpose=purpose, recipient_id=recipient_id, channel=channel, template=template,
                    circle_id=circle_id, signup_id=signup_id, to=to, params=params or None,
                    language=language or i18n.current(),
                    state=PENDING, attempts=0, created_at=now, updated_at=now,
                    due_pk=QUEUE, due_sk=Delivery.due_key(now + SWEEP_GRACE, pk, sk))


def for_signup(signup, purpose, channel, template, now, params=None):
    """An item to a learner of a circle, in the circle's partition (the facilitator's page
    reads its state in the circle's one Query)."""
    return message(circle_partition(signup.circle_id), purpose, signup.signup_id, channel, template, now,
                   circle_id=signup.circle_id, signup_id=signup.signup_id, params=params)


def for_address(circle_id, purpose, recipient_id, address, template, now, params=None):
    """An email about a circle to someone who is no learner of it (a facilitator, an organizer)."""
    return message(circle_partition(circle_id), purpose, recipient_id, EMAIL, template, now,
                   circle_id=circle_id, to=address, params=params)


def fan_out(partition, purpose, template, now, *, circle_id=None, params=None):
    """One item standing for a message to many (every learner of a circle): the change writes
    it in its own transaction whatever the number of recipients (a transaction holds at most
    100 items), and the sender expands it into one item per recipient and channel."""
    return message(partition, purpose, 'all', FAN_OUT, template, now, circle_id=circle_id, params=params)


def put(item):
    """(item, condition) for `transaction.save(*put(item))`: written once, never overwritten."""
    return item, Delivery.pk.does_not_exist()


def write(items):
    """Write items that no transaction carries: a conditional put each, so an item written
    before (a retried request) stays as it is. Returns the items that are new."""
    written = []
    for item in items:
        try:
            item.save(condition=Delivery.pk.does_not_exist())
            written.append(item)
        except PutError as error:
            if error.cause_response_code != 'ConditionalCheckFailedException':
                raise
    return written


def write_batch(items):
    """Items for a caller that holds the lease over all of them (the reminder job holds the
    meeting's reminder, and read that none of them exists): one BatchWriteItem per 25."""
    with Delivery.batch_write() as batch:
        for item in items:
            batch.save(item)
