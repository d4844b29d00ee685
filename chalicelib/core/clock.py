"""The one clock: an aware UTC instant (tests move it with time-machine), and time zones."""
import functools
from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def utcnow():
    return datetime.now(timezone.utc)


@functools.lru_cache(maxsize=None)
def zone_info(name):
    """The ZoneInfo of an IANA name, held for the life of the process.

    `ZoneInfo(name)` keeps only the 8 most recent zones strongly; with more zones in play (a
    listing spans many) the others are dropped as soon as no datetime holds them, and the zone
    file is read and parsed again on the next use. ZoneInfo objects are immutable, and this
    returns the very object `ZoneInfo(name)` would, so nothing else changes. Unknown names raise
    as before (exceptions are not cached).
    """
    return ZoneInfo(name)
