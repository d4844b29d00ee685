"""Rate limits on what anyone can trigger without an account (signups, registrations, resets,
data requests): fixed-window counters in DynamoDB that expire through TTL.

    spend(now, (SIGNUPS_PER_CLIENT, client_ip), (SIGNUPS_PER_CIRCLE, circle_id))

Each (limit, subject) is one conditional UpdateItem: `ADD used 1` on condition that `used`
is below the limit (or the window's item does not exist yet). DynamoDB applies it atomically,
so concurrent requests never get past the limit together. Over the limit, `RateLimited`
(HTTP 429) says when the window ends, and the caller writes and sends nothing. Subjects are
stored as keyed hashes, never as addresses. The counter of an earlier limit in the same call
is spent even when a later one refuses: the refusal errs on the side of the mailbox owner.

A write that may only happen within the limits carries the same updates in its own
transaction instead (`spend_in`, then `refusal` on a cancelled transaction): no extra call,
and a refused use spends nothing, as the write itself does not happen.
"""
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pynamodb.attributes import NumberAttribute, TTLAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.core.errors import Refusal
from chalicelib.core.settings import get_settings
from chalicelib.models.base import TableItem


@dataclass(frozen=True)
class Limit:
    action: str             # names the counter: 'signup-client', 'reset-address', ...
    allowed: int            # per window
    window: timedelta


class RateLimited(Refusal):
    status = 429

    def __init__(self, retry_after_seconds):
        minutes = max(1, math.ceil(retry_after_seconds / 60))
        super().__init__(f'Too many requests. Please try again in {minutes} minute{"s" if minutes != 1 else ""}.')
        self.retry_after = max(1, int(math.ceil(retry_after_seconds)))


class UsageCounter(TableItem, discriminator='UsageCounter'):
    """`LIMIT#<action>#<hashed subject>` / `WINDOW#<start>`: uses within one window."""
    used = NumberAttribute(default=0)
    expires_at = TTLAttribute()

    @staticmethod
    def key(action, subject, window_start):
        return f'LIMIT#{action}#{subject}', f'WINDOW#{window_start.isoformat()}'


def window_start(limit, now):
    seconds = int(limit.window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=timezone.utc)


def hashed(subject):
    """A stable, keyed stand-in for an address, a number or a client IP."""
    digest = hmac.new(get_settings().secret_key.encode(), f'limit\n{subject}'.encode().lower(), hashlib.sha256)
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class Use:
    """One use of a limit by a subject: the counter's conditional update."""
    counter: UsageCounter
    limit: Limit
    start: datetime

    @property
    def actions(self):
        return [UsageCounter.used.add(1), UsageCounter.expires_at.set(self.start + self.limit.window * 2)]

    @property
    def condition(self):
        return UsageCounter.used.does_not_exist() | (UsageCounter.used < self.limit.allowed)

    def refused(self, now):
        return RateLimited((self.start + self.limit.window - now).total_seconds())


def uses(now, *limited):
    """A Use per (limit, subject); none when the rate limits are off (the local stage)."""
    if not get_settings().rate_limits:
        return []
    found = []
    for limit, subject in limited:
        start = window_start(limit, now)
        found.append(Use(UsageCounter(*UsageCounter.key(limit.action, hashed(subject or 'unknown'), start)),
                         limit, start))
    return found


def spend(now, *limited):
    """Count one use of each (limit, subject); RateLimited when any is used up in its window."""
    for use in uses(now, *limited):
        try:
            use.counter.update(actions=use.actions, condition=use.condition)
        except UpdateError as error:
            if error.cause_response_code != 'ConditionalCheckFailedException':
                raise
            raise use.refused(now) from None


def spend_in(transaction, spent):
    """Add the counters' updates of `spent` (from `uses`) to a PynamoDB TransactWrite: the
    transaction is cancelled when any is used up. PynamoDB sends updates in the order added."""
    for use in spent:
        transaction.update(use.counter, actions=use.actions, condition=use.condition)


def refusal(spent, reasons, now):
    """RateLimited for the first of `spent` whose condition failed, given the cancellation
    reason codes of those updates (in the order they were added), else None."""
    for use, reason in zip(spent, reasons):
        if reason == 'ConditionalCheckFailed':
            return use.refused(now)
    return None
