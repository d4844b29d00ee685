"""DynamoDB transactions, retried when DynamoDB cancels them for contention.

DynamoDB may cancel a `TransactWriteItems` with `TransactionCanceledException`
and the reason code `TransactionConflict` for an item when another transaction
or a plain write touches that item at the same moment. Nothing of a cancelled
transaction is written, and the same request can succeed a moment later: AWS
advises retrying it. botocore's retries do not cover it (the cancellation is
not a throttling error), and a reason `ConditionalCheckFailed` means the data
really refused the write: that one is never retried, the caller decides.

`transact_write(build)` runs `build(transaction)` to add the operations to a
PynamoDB `TransactWrite` and commits it. A cancellation whose reasons are all
`TransactionConflict` (the others `None`, items not at fault) is built and sent
again after a short jittered pause (about 20, 40, 80 ms), up to `attempts` sends
in all; after the last it raises `TransactionBusy`. Any other error, a
`TransactWriteError` for a failed condition included, reaches the caller
unchanged. `build` runs again for every attempt, so it must only add
operations (no other side effects); the models' version attributes are
advanced by PynamoDB only when a commit succeeds.

The local and test DynamoDB (`scripts/moto_launcher.py`) runs one request at a
time and never cancels for conflicts; the tests stub the wire to produce them.
"""
import logging
import random
import time

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Refusal
from chalicelib.core.i18n import N_
from chalicelib.models.base import connection

log = logging.getLogger(__name__)

CONFLICT = 'TransactionConflict'
CONDITION_FAILED = 'ConditionalCheckFailed'
FIRST_PAUSE = 0.02    # seconds; doubled after each conflict


class TransactionBusy(Refusal):
    """DynamoDB cancelled the transaction for conflicting writes on every attempt; nothing was written."""
    status = 409
    message = N_('Please try again in a moment.')


def conflict_only(error):
    """True when DynamoDB cancelled the transaction only because of concurrent writes."""
    codes = {reason.code for reason in error.cancellation_reasons if reason is not None}
    return codes == {CONFLICT}


def condition_failed(error):
    """True when DynamoDB cancelled the transaction because a condition of it did not hold (the
    data refused the write: the caller decides what that means)."""
    return CONDITION_FAILED in {reason.code for reason in error.cancellation_reasons or () if reason is not None}


def transact_write(build, attempts=4, sleep=time.sleep):
    """Commit the transaction `build(transaction)` describes; retry TransactionConflict.

    Raises TransactionBusy after `attempts` conflicted sends, and any other error
    (TransactWriteError for a failed condition, connection errors) at once, unchanged.
    `sleep` waits between attempts (tests may pass a recorder)."""
    if attempts < 1:
        raise ValueError('attempts must be at least 1')
    for attempt in range(1, attempts + 1):
        try:
            with TransactWrite(connection=connection()) as transaction:
                build(transaction)
            return
        except TransactWriteError as error:
            if not conflict_only(error):
                raise
            if attempt == attempts:
                log.warning('transaction conflicted %d times; giving up', attempts)
                raise TransactionBusy() from error
            pause = FIRST_PAUSE * 2 ** (attempt - 1)
            sleep(random.uniform(pause / 2, pause * 1.5))
