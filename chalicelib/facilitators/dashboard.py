"""The facilitator's dashboard: their circles grouped as drafts, upcoming, running, finished.

Reads stay within the dashboard's budget: `facilitation.my_circles` is one Query and one
BatchGet; an organizer adds one Query of `by_team` per team they organize (that index
holds published circles only, which is all an organizer needs to follow).
"""
from dataclasses import dataclass
from datetime import date

from chalicelib.circles import circles
from chalicelib.core.formatting import meeting_when_short

GROUPS = [('drafts', 'Drafts'), ('upcoming', 'Upcoming'), ('running', 'Running'), ('finished', 'Finished')]


@dataclass
class Entry:
    circle: object
    group: str
    next_meeting: str | None      # "Tuesday, December 1, 2026 at 18:00 CST", in the circle's timezone
    next_starts_at: object        # its UTC instant, for ordering
    signup_count: int

    @property
    def continue_url(self):
        return f'/facilitate/circles/{self.circle.id}/step/1'

    @property
    def page_url(self):
        return f'/facilitate/circles/{self.circle.id}'


def group_of(circle, now):
    """Which group a circle is in, comparing dates in the circle's own timezone:
    running from the day of its first meeting to the day of its last."""
    if not circle.published:
        return 'drafts'
    meetings = circles.active_meetings(circle)
    if not meetings:
        return 'finished'
    today = circles.local_today(circle, now)
    if date.fromisoformat(meetings[0].local_date) > today:
        return 'upcoming'
    if date.fromisoformat(meetings[-1].local_date) < today:
        return 'finished'
    return 'running'


def entry(circle, now):
    meeting = circles.next_meeting(circle, now) if circle.timezone else None
    return Entry(circle=circle, group=group_of(circle, now),
                 next_meeting=meeting_when_short(meeting, circle.timezone) if meeting else None,
                 next_starts_at=meeting.starts_at if meeting else None,
                 signup_count=int(circle.signup_count or 0))


def _order(entry_):
    """Drafts newest first; upcoming and running by the next meeting; finished latest first."""
    circle = entry_.circle
    if entry_.group == 'drafts':
        changed = circle.updated_at or circle.created_at
        return (-changed.timestamp() if changed else 0, circle.name or '')
    if entry_.group == 'finished':
        return (-date.fromisoformat(circle.end_date).toordinal() if circle.end_date else 0, circle.name or '')
    return (entry_.next_starts_at.timestamp() if entry_.next_starts_at else float('inf'), circle.name or '')


def grouped(circles_, now):
    """{group: [Entry, ...]} for every group, in display order (empty groups included)."""
    entries = [entry(circle, now) for circle in circles_]
    result = {name: [] for name, _ in GROUPS}
    for item in entries:
        result[item.group].append(item)
    for items in result.values():
        items.sort(key=_order)
    return result


def team_circles(team_ids):
    """Published circles of the teams the user organizes: one `by_team` Query per team."""
    from chalicelib.models import Circle
    found = {}
    for team_id in team_ids:
        for circle in Circle.by_team.query(f'TEAM#{team_id}'):
            found[circle.id] = circle
    return list(found.values())


def dashboard_context(session, now=None):
    """What the dashboard shows: my circles and, for organizers, the other circles of their teams."""
    from chalicelib.facilitators.access import my_circles
    now = now or circles.utcnow()
    mine = my_circles(session.user_id)
    my_ids = {circle.id for circle in mine}
    team = [c for c in team_circles(session.organizer_team_ids or []) if c.id not in my_ids]
    return {'groups': GROUPS, 'mine': grouped(mine, now), 'team': grouped(team, now),
            'has_circles': bool(mine), 'is_organizer': bool(session.organizer_team_ids)}
