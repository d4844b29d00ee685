"""How dates, times and numbers read to people: Babel's formats for the language of the moment
(core/i18n.py), in the circle's own timezone.

Times are 24-hour in every language (Babel's `Hm` skeleton: '18:00'), as the circles' pages have
always written them; dates are the locale's own ('Tuesday, December 1, 2026', 'martes, 1 de
diciembre de 2026', 'Dienstag, 1. Dezember 2026'). Texts fold what GSM-7 lacks
(messaging/sms_text.fold_to_gsm7).
"""
from datetime import date, time

from babel import dates as babel_dates
from babel import numbers as babel_numbers

from chalicelib.core import i18n
from chalicelib.core.clock import zone_info


def _date(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def long_date(value):
    """'Tuesday, December 1, 2026'."""
    return babel_dates.format_date(_date(value), 'full', locale=i18n.current())


def short_date(value):
    """'Tue, Dec 1'."""
    return babel_dates.format_skeleton('MMMEd', _date(value), locale=i18n.current())


def clock(value):
    """'18:00'."""
    value = time.fromisoformat(value) if isinstance(value, str) else value
    return babel_dates.format_skeleton('Hm', value, locale=i18n.current())


def weekday_name(day):
    """A weekday by its name in the language of the moment ('martes'): `day` is its index
    (Monday = 0) or its English name, as the API writes it ('Tuesday')."""
    if isinstance(day, str):
        day = next(index for index, name in babel_dates.get_day_names('wide', locale='en').items() if name == day)
    return babel_dates.get_day_names('wide', locale=i18n.current())[day]


def _local(instant, tz_name):
    return instant.astimezone(zone_info(tz_name))


def at(day, moment):
    """'Tuesday, December 1, 2026 at 18:00', the words joining them translated."""
    return i18n.gettext('%(date)s at %(time)s') % {'date': day, 'time': moment}


def meeting_when(meeting, tz_name):
    """'Tuesday, December 1, 2026 at 18:00 (CST, America/Chicago)'."""
    local = _local(meeting.starts_at, tz_name)
    return f'{at(long_date(local.date()), clock(local.time()))} ({local.tzname()}, {tz_name})'


def meeting_when_short(meeting, tz_name):
    """'Tuesday, December 1, 2026 at 18:00 CST': for lists under a heading naming the timezone."""
    local = _local(meeting.starts_at, tz_name)
    return f'{at(long_date(local.date()), clock(local.time()))} {local.tzname()}'


def short_moment(instant, tz_name):
    """'Tue, Dec 1 18:00 CST': a meeting's start in a text message."""
    local = _local(instant, tz_name)
    return f'{short_date(local.date())} {clock(local.time())} {local.tzname()}'


def local_moment(instant, tz_name):
    """A UTC instant as the circle's people read it: 'Tue, Dec 1, 18:05 CST'."""
    local = _local(instant, tz_name)
    return f'{short_date(local.date())}, {clock(local.time())} {local.tzname()}'


def number(value):
    """1234.5 -> '1,234.5' / '1.234,5'."""
    return babel_numbers.format_decimal(value, locale=i18n.current())


def percent(fraction):
    """0.25 -> '25%' / '25 %'."""
    return babel_numbers.format_percent(fraction, locale=i18n.current())


FILTERS = {'long_date': long_date, 'short_date': short_date, 'clock': clock, 'local_moment': local_moment,
           'weekday_name': weekday_name, 'number': number, 'percent': percent}

