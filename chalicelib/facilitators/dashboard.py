"""The facilitator's dashboard: their circles grouped as drafts, upcoming, running, finished.

Reads stay within the dashboard's budget: my circles are one Query of `by_user` and one
BatchGet; an organizer adds one Query of `by_team` per team they organize (its published
circles, which is all an organizer needs to follow here). The links to the user's teams (their
organizer pages, the team page, leaving) come with the session, which reads the teams' names. All read only
the attributes a card shows (CARD_ATTRIBUTES) and build a `CircleCard` from the raw answer
(`facilitators.reads`), not a whole PynamoDB Circle: a card costs a few microseconds where a
model with its meetings costs a millisecond.
"""
from dataclasses import dataclass
from datetime import date

from pynamodb.attributes import UTCDateTimeAttribute

from chalicelib.circles import circles
from chalicelib.core.formatting import meeting_when_short
from chalicelib.core.i18n import N_
from chalicelib.models import raw as reads
from chalicelib.models import Circle, CircleFacilitator, Team
from chalicelib.models.circle import Meeting

_UTC = UTCDateTimeAttribute()


@dataclass(frozen=True, slots=True)
class CourseTitle:
    title: str | None


@dataclass(frozen=True, slots=True)
class MeetingTime:
    """What the dashboard needs of a meeting (a `models.circle.Meeting` has the same names)."""
    meeting_id: str
    local_date: str
    starts_at: object
    cancelled: bool


@dataclass(slots=True)
class CircleCard:
    """A circle as its dashboard card shows it; the attribute names are `Circle`'s."""
    id: str
    name: str | None
    course: CourseTitle
    published: bool
    timezone: str | None
    meetings: list
    signup_open: bool
    capacity: int | None
    signup_count: int
    end_date: str | None
    created_at: object
    updated_at: object


# Stored names of what a card shows, taken from the model so a renamed attribute follows.
CARD_ATTRIBUTES = [getattr(Circle, name).attr_name for name in (
    'id', 'name', 'published', 'timezone', 'meetings', 'signup_open', 'capacity', 'signup_count',
    'end_date', 'created_at', 'updated_at')] + [f'{Circle.course.attr_name}.{Circle.course.title.attr_name}']
_MEETING = {name: getattr(Meeting, name).attr_name for name in ('meeting_id', 'local_date', 'starts_at', 'cancelled')}


def _value(item, attribute, kind):
    found = item.get(attribute.attr_name)
    return found.get(kind) if found else None


def _meeting_time(raw):
    fields = raw['M']
    return MeetingTime(meeting_id=fields[_MEETING['meeting_id']]['S'], local_date=fields[_MEETING['local_date']]['S'],
                       starts_at=_UTC.deserialize(fields[_MEETING['starts_at']]['S']),
                       cancelled=bool((fields.get(_MEETING['cancelled']) or {}).get('BOOL')))


def card_from_raw(item):
    """A CircleCard from a raw item holding CARD_ATTRIBUTES."""
    def number(attribute):
        found = _value(item, attribute, 'N')
        return int(float(found)) if found is not None else None

    def instant(attribute):
        found = _value(item, attribute, 'S')
        return _UTC.deserialize(found) if found else None
    course = (_value(item, Circle.course, 'M') or {}).get(Circle.course.title.attr_name) or {}
    return CircleCard(
        id=_value(item, Circle.id, 'S'), name=_value(item, Circle.name, 'S'), course=CourseTitle(course.get('S')),
        published=bool(_value(item, Circle.published, 'BOOL')), timezone=_value(item, Circle.timezone, 'S'),
        meetings=[_meeting_time(m) for m in _value(item, Circle.meetings, 'L') or []],
        signup_open=_value(item, Circle.signup_open, 'BOOL') is not False,
        capacity=number(Circle.capacity), signup_count=number(Circle.signup_count) or 0,
        end_date=_value(item, Circle.end_date, 'S'), created_at=instant(Circle.created_at),
        updated_at=instant(Circle.updated_at))


def my_circle_cards(user_id):
    """Cards of every circle the user facilitates: one Query of `by_user`, one BatchGet."""
    index = CircleFacilitator.by_user
    links = reads.query(CircleFacilitator.user_pk.attr_name, f'USER#{user_id}', index_name=index.Meta.index_name,
                        attributes=[CircleFacilitator.circle_id.attr_name],
                        range_prefix=(CircleFacilitator.user_sk.attr_name, 'CIRCLE#'))
    keys = [Circle.key(link[CircleFacilitator.circle_id.attr_name]['S']) for link in links]
    return [card_from_raw(item) for item in reads.batch_get(keys, CARD_ATTRIBUTES)] if keys else []

# (group, label): the labels are translated where they are shown (`_(label)` in the templates).
GROUPS = [('drafts', N_('Drafts')), ('upcoming', N_('Upcoming')), ('running', N_('Running')),
          ('finished', N_('Finished'))]


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
    result = {name: [] for name, _label in GROUPS}
    for item in entries:
        result[item.group].append(item)
    for items in result.values():
        items.sort(key=_order)
    return result


def team_circles(team_ids):
    """Cards of the published circles of the teams the user organizes: one `by_team` Query per team."""
    found = {}
    for team_id in team_ids:
        for item in reads.query(Circle.team_pk.attr_name, f'TEAM#{team_id}', index_name=Circle.by_team.Meta.index_name,
                                attributes=CARD_ATTRIBUTES):
            card = card_from_raw(item)
            if card.published:
                found[card.id] = card
    return list(found.values())


def team_links(session):
    """[{'team_id', 'name', 'slug', 'role', 'url'}] of the user's teams, by name: read with the
    session (`accounts.sessions.from_cookie_header`), no call of its own."""
    return [{**team, 'url': f"/organize/{team['team_id']}"} for team in getattr(session, 'teams', None) or []]


def dashboard_context(session, now=None):
    """What the dashboard shows: my circles and, for organizers, the other circles of their teams
    and the links to the teams' organizer pages."""
    now = now or circles.utcnow()
    mine = my_circle_cards(session.user_id)
    my_ids = {circle.id for circle in mine}
    team = [c for c in team_circles(session.organizer_team_ids or []) if c.id not in my_ids]
    return {'groups': GROUPS, 'mine': grouped(mine, now), 'team': grouped(team, now),
            'has_circles': bool(mine), 'is_organizer': bool(session.organizer_team_ids),
            'teams': team_links(session)}
