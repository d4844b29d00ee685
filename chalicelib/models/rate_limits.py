"""Rate limits on what anyone can trigger without an account (signups, registrations, resets,
data requests): fixed-window counters in DynamoDB that expire through TTL.

    spend(now, (SIGNUPS_PER_CLIENT, client_ip), (SIGNUPS_PER_CIRCLE, circle_id))

Each (limit, subject) is one conditional UpdateItem: `ADD used 1` on condition that `used`
is below the limit (or the window's item does not exist yet). DynamoDB applies it atomically,
so concurrent requests never get past the limit together. Over the limit, `RateLimited`
(HTTP 429) says when the window ends, and the caller writes and sends nothing. Subjects are
stored as keyed hashes, never as addresses. The counter of an earlier limit in the same call
is spent even when a later one refuses: the refusal errs on the side of the mailbox owner.
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


def spend(now, *uses):
    """Count one use of each (limit, subject); RateLimited when any is used up in its window."""
    if not get_settings().rate_limits:
        return
    for limit, subject in uses:
        start = window_start(limit, now)
        counter = UsageCounter(*UsageCounter.key(limit.action, hashed(subject or 'unknown'), start))
        try:
            counter.update(actions=[UsageCounter.used.add(1),
                                    UsageCounter.expires_at.set(start + limit.window * 2)],
                           condition=UsageCounter.used.does_not_exist() | (UsageCounter.used < limit.allowed))
        except UpdateError as error:
            if error.cause_response_code != 'ConditionalCheckFailedException':
                raise
            raise RateLimited((start + limit.window - now).total_seconds()) from None
