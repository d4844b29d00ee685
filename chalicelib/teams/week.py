"""The organizer's week: every meeting of the team's circles in one week, day by day.

Reads, whatever the number of circles: one Query of the week's `M#` range of the team's days
(`by_team_day`, see models/meeting_entry.py: each entry holds the meeting's facts and its RSVP
tally) and one Query of its `F#` range (the meetings' feedback). A week is Monday to Sunday of
each circle's own local dates, which is how the entries are keyed, so a meeting sits on the day
its learners see on their calendars.

Feedback: attendance, rating and reflection are shown only when the facilitator shared the
feedback with organizers (`organizing.visible_feedback`); feedback kept for the circle's
facilitators is said to exist, nothing more. A meeting that has ended (start + duration) and
was not cancelled, with no feedback at all, is flagged "No feedback yet".
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from chalicelib.core.clock import zone_info
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.formatting import clock
from chalicelib.core.i18n import _
from chalicelib.models import MeetingEntry, MeetingFeedback
from chalicelib.models.meeting_entry import FEEDBACK, MEETING, team_day_pk
from chalicelib.teams.organizing import visible_feedback

# The feedback states of a meeting on the page.
SHARED, PRIVATE, MISSING, NOT_YET = 'shared', 'private', 'missing', 'not yet'
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def week_start(value, now):
    """The Monday of the week holding `value` ('YYYY-MM-DD', any day of it); this week in UTC
    when `value` is empty. ValidationFailed (field `week`) for anything else."""
    if not value:
        day = now.astimezone(timezone.utc).date()
    else:
        try:
            day = date.fromisoformat(value.strip()) if len(value) <= 10 else None
        except ValueError:
            day = None
        if day is None or not EARLIEST <= day <= LATEST:
            raise ValidationFailed({'week': [_('Please give a date as YYYY-MM-DD, for example 2026-11-30.')]})
    return day - timedelta(days=day.weekday())


@dataclass
class WeekMeeting:
    entry: MeetingEntry
    local_clock: str                 # '18:00 CST', in the circle's timezone
    ended: bool
    feedback_state: str
    feedback: MeetingFeedback = None     # only when shared with organizers

    @property
    def circle_url(self):
        return f'/facilitate/circles/{self.entry.circle_id}'

    @property
    def feedback_flagged(self):
        return self.feedback_state == MISSING


@dataclass
class Day:
    day: date
    meetings: list = field(default_factory=list)


@dataclass
class Week:
    monday: date
    days: list                      # seven Days, Monday first
    meeting_count: int
    missing_feedback: int

    @property
    def sunday(self):
        return self.monday + timedelta(days=6)

    @property
    def previous(self):
        return self.monday - timedelta(days=7)

    @property
    def next(self):
        return self.monday + timedelta(days=7)


def _range(prefix, monday):
    """A key condition pair covering every key `<prefix><date>#...` of the week's seven dates."""
    sunday = monday + timedelta(days=6)
    return f'{prefix}{monday.isoformat()}', f'{prefix}{sunday.isoformat()}#~'


def week_entries(team_id, monday):
    """The meeting entries of the week: one Query (more pages only past 1 MB)."""
    low, high = _range(MEETING, monday)
    return list(MeetingEntry.by_team_day.query(team_day_pk(team_id), MeetingEntry.td_sk.between(low, high)))


def week_feedback(team_id, monday):
    """{(circle id, meeting id): MeetingFeedback} of the week's meetings, shared or not: one Query."""
    low, high = _range(FEEDBACK, monday)
    found = MeetingFeedback.by_team_day.query(team_day_pk(team_id), MeetingFeedback.td_sk.between(low, high))
    return {(f.circle_id, f.meeting_id): f for f in found}


def _clock(entry):
    local = entry.starts_at.astimezone(zone_info(entry.timezone))
    return f'{clock(local.time())} {local.tzname()}'


def _meeting(entry, feedback, now):
    ended = entry.starts_at + timedelta(minutes=int(entry.duration_minutes or 0)) <= now
    shown = visible_feedback(feedback)
    if shown is not None:
        state = SHARED
    elif feedback is not None:
        state = PRIVATE
    elif ended and not entry.cancelled:
        state = MISSING
    else:
        state = NOT_YET
    return WeekMeeting(entry=entry, local_clock=_clock(entry), ended=ended, feedback_state=state, feedback=shown)


def team_week(team_id, monday, now=None):
    """The Week starting `monday`: two Queries."""
    now = now or datetime.now(timezone.utc)
    entries = week_entries(team_id, monday)
    feedback = week_feedback(team_id, monday) if entries else {}
    days = [Day(monday + timedelta(days=n)) for n in range(7)]
    by_day = {d.day.isoformat(): d for d in days}
    meetings = []
    for entry in entries:
        day = by_day.get(entry.local_date)
        if day is None:
            continue
        meeting = _meeting(entry, feedback.get((entry.circle_id, entry.meeting_id)), now)
        day.meetings.append(meeting)
        meetings.append(meeting)
    for day in days:
        day.meetings.sort(key=lambda m: (m.entry.local_time, m.entry.starts_at, (m.entry.circle_name or '').lower()))
    return Week(monday=monday, days=days, meeting_count=len(meetings),
                missing_feedback=sum(1 for m in meetings if m.feedback_flagged))
