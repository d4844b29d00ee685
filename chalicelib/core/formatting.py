"""How dates, times and places read to people, in the circle's own timezone."""
from datetime import date, time

from chalicelib.core.clock import zone_info


def long_date(value):
    value = date.fromisoformat(value) if isinstance(value, str) else value
    return f'{value:%A}, {value:%B} {value.day}, {value.year}'


def short_date(value):
    value = date.fromisoformat(value) if isinstance(value, str) else value
    return f'{value:%a} {value:%b} {value.day}'


def clock(value):
    value = time.fromisoformat(value) if isinstance(value, str) else value
    return value.strftime('%H:%M')


def meeting_when(meeting, tz_name):
    """'Tuesday, December 1, 2026 at 18:00 (CST, America/Chicago)'."""
    local = meeting.starts_at.astimezone(zone_info(tz_name))
    return f'{long_date(local.date())} at {local:%H:%M} ({local.tzname()}, {tz_name})'


def meeting_when_short(meeting, tz_name):
    """'Tuesday, December 1, 2026 at 18:00 CST': for lists under a heading naming the timezone."""
    local = meeting.starts_at.astimezone(zone_info(tz_name))
    return f'{long_date(local.date())} at {local:%H:%M} {local.tzname()}'


def local_moment(instant, tz_name):
    """A UTC instant as the circle's people read it: 'Tue Dec 1, 18:05 CST'."""
    local = instant.astimezone(zone_info(tz_name))
    return f'{short_date(local.date())}, {local:%H:%M} {local.tzname()}'


FILTERS = {'long_date': long_date, 'short_date': short_date, 'clock': clock, 'local_moment': local_moment}
