"""The one clock: an aware UTC instant (tests move it with time-machine)."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc)
