"""Meetings as iCalendar: the `.ics` attached to reminders and change notices, and the feeds.

Calendar programs recognise an event by its UID and take the copy with the highest
SEQUENCE, so a meeting keeps the UID `<meeting id>@circles` for life, its SEQUENCE grows
with every move or cancel (`Meeting.sequence`), and a cancelled meeting is sent with
STATUS:CANCELLED rather than dropped (a dropped event just stays in people's calendars).
Times carry the circle's TZID with a VTIMEZONE, so the event stays at the local time the
circle meets at even across daylight-saving changes.
"""
import threading
from datetime import date, timedelta, timezone

from chalicelib.circles import circles
from chalicelib.core.fields import one_line
from chalicelib.core.i18n import _
from chalicelib.models import Circle, Signup
from chalicelib.core.clock import zone_info

PRODID = '-//Learning Circles//Circles//EN'
CONTENT_TYPE = 'text/calendar; charset=utf-8'
METHODS = ('PUBLISH', 'REQUEST', 'CANCEL')
ZONE_MARGIN = timedelta(days=366)


def meeting_uid(meeting):
    return f'{meeting.meeting_id}@circles'


def meeting_event_ics(circle, meeting, method='PUBLISH'):
    """One meeting as a whole calendar (for an email attachment to a learner who signed up,
    so the online link is included)."""
    return _calendar([(circle, meeting)], method=method, private=True).to_ical()


def circle_feed_ics(circle, now=None):
    """Every meeting of a published circle, for anyone: the online link is left out, as on
    the public page (learners get it when they sign up)."""
    pairs = [(circle, meeting) for meeting in circle.meetings]
    return _calendar(pairs, name=circle.name, private=False, now=now).to_ical()


def learner_feed_ics(email, now=None):
    """Every meeting of every published circle this email is signed up to, with online links.

    One Query of `by_email` (withdrawn signups have left that index) and one BatchGet of
    the circles: the cost follows the learner's circles, never the table's size.
    """
    pairs = [(circle, meeting) for circle in learner_circles(email) for meeting in circle.meetings]
    return _calendar(pairs, name=_('My learning circles'), private=True, now=now).to_ical()


def learner_circles(email):
    signups = list(Signup.by_email.query(f'EMAIL#{email}', Signup.email_sk.startswith('SIGNUP#')))
    circle_ids = sorted({s.circle_id for s in signups if s.active})
    if not circle_ids:
        return []
    found = Circle.batch_get([Circle.key(circle_id) for circle_id in circle_ids])
    return sorted((c for c in found if c.published), key=lambda c: (c.start_date or '', c.id))


def _calendar(pairs, method='PUBLISH', name=None, private=True, now=None):
    from icalendar import Calendar
    if method not in METHODS:
        raise ValueError(f'unknown iCalendar METHOD {method!r}')
    now = now or circles.utcnow()
    calendar = Calendar()
    calendar.add('prodid', PRODID)
    calendar.add('version', '2.0')
    calendar.add('calscale', 'GREGORIAN')
    calendar.add('method', method)
    if name:
        calendar.add('x-wr-calname', one_line(name))   # an X- property: not escaped as TEXT
    for circle, meeting in pairs:
        calendar.add_component(_event(circle, meeting, private, now))
    if pairs:
        # Transitions for about a year either side of these meetings (calendar programs may
        # reuse a VTIMEZONE for other events with its TZID): the zone's whole 1970-2038 history
        # would make every attachment several kilobytes long.
        starts = [meeting.starts_at for _circle, meeting in pairs]
        first_year, last_year = (min(starts) - ZONE_MARGIN).year, (max(starts) + ZONE_MARGIN).year
        for tzid in sorted({circle.timezone for circle, _meeting in pairs}):
            calendar.add_component(_vtimezone(tzid, first_year, last_year))
    return calendar


_VTIMEZONES = {}
_VTIMEZONES_LOCK = threading.Lock()


def _vtimezone(tzid, first_year, last_year):
    """A zone's VTIMEZONE for whole years, built once per process: building one costs tens of
    milliseconds of CPU, paid otherwise by every reminder's attachment. The lock makes the
    reminder job's threads wait for the first build instead of all building it at once. Only
    ever serialized, never changed."""
    key = (tzid, first_year, last_year)
    found = _VTIMEZONES.get(key)
    if found is None:
        with _VTIMEZONES_LOCK:
            found = _VTIMEZONES.get(key)
            if found is None:
                from icalendar import Timezone
                found = Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31))
                _VTIMEZONES[key] = found
    return found


def _event(circle, meeting, private, now):
    from icalendar import Event
    tz = zone_info(circle.timezone)
    start = meeting.starts_at.astimezone(tz)
    event = Event()
    event.add('uid', meeting_uid(meeting))
    event.add('sequence', int(meeting.sequence or 0))
    event.add('dtstamp', now.astimezone(timezone.utc))
    event.add('dtstart', start)
    event.add('dtend', start + timedelta(minutes=int(meeting.duration_minutes)))
    event.add('summary', one_line(circle.name))
    event.add('status', 'CANCELLED' if meeting.cancelled else 'CONFIRMED')
    event.add('location', _location(circle, private))
    event.add('url', circles.circle_url(circle.id))
    event.add('description', _description(circle, private))
    changed = _last_changed(meeting)
    if changed:
        event.add('last-modified', changed)
    return event


def _location(circle, private):
    if circle.online:
        return circle.online_link if private and circle.online_link else _('Online')
    parts = [circle.venue_name, circle.venue_address, circle.city]
    return ', '.join(one_line(part) for part in parts if part)


def _description(circle, private):
    lines = [_('A learning circle studying %(course)s.') % {'course': circle.course.title}]
    if circle.venue_details and not circle.online:
        lines.append(circle.venue_details)
    if circle.online and private and circle.online_link:
        lines.append(_('Join online: %(link)s') % {'link': circle.online_link})
    lines.append(_('Details: %(link)s') % {'link': circles.circle_url(circle.id)})
    return '\n'.join(lines)


def _last_changed(meeting):
    times = [change.at for change in (meeting.changes or []) if change.at]
    if meeting.cancelled_at:
        times.append(meeting.cancelled_at)
    return max(times).astimezone(timezone.utc) if times else None
