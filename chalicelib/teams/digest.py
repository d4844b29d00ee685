"""The Monday digest's content: what a team's past week held, and what each reader may see of it.

    week_of(now) -> date                    # the Monday of the week before `now`'s
    read_team_week(team_id, week) -> TeamWeek   # 4 Queries (+ at most 1 BatchGetItem per 100 circles)
    compose(team_week, users, week) -> dict | None    # None: the team had no activity
    view_for(data, role, user_id) -> dict   # what one organizer or facilitator may read of it

A week is Monday to Sunday in each circle's own local dates (the `M#` and `F#` keys of
`by_team_day` are local dates, so one range covers every time zone); signups and new members,
stamped with UTC instants, count from Monday 00:00 UTC to the next. Reading a team's week is a
fixed number of calls whatever its number of circles: the team's partition (team, members and
their opt-outs), the meeting entries of last week and this week, last week's feedback and last
week's signups, one Query each, then one BatchGetItem of the few circles that started, finished
or start this week (their signup counts) and of the circles signed up to that had no meeting in
those two weeks (their names).

What may be shown follows the feedback rules (chalicelib.facilitators.feedback): `compose`
copies feedback only where it was shared with organizers, and notes where it was given but kept
(never its content). `view_for` then narrows the digest for a reader: organizers see it all; a
facilitator sees the feedback, the learners' names and goals, and the missing-feedback nudge
only for the circles they facilitate, and of the rest of the team the meetings, circles and
members.
"""
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple

from chalicelib.core.i18n import _
from chalicelib.models import Circle, MeetingEntry, MeetingFeedback, Signup
from chalicelib.models.meeting_entry import FEEDBACK, MEETING, SIGNUP, team_day_pk
from chalicelib.teams.teams import ORGANIZER, team_partition

# Caps that keep the stored digest far below DynamoDB's 400 KB item limit (and an email readable):
# the rest is counted ("and N more") and on the organizer's own pages.
MAX_MEETINGS, MAX_SIGNUPS = 150, 100
MAX_REFLECTION, MAX_GOALS = 700, 300
BATCH_GET = 100


class TeamWeek(NamedTuple):
    partition: object       # chalicelib.teams.teams.TeamPartition (team, members, invitations)
    entries: list           # MeetingEntry of the week and the next, in local date order
    feedback: list          # MeetingFeedback of the week
    signups: list           # Signup of the week (UTC)
    circles: dict           # circle id -> {'name', 'signups', 'capacity'} of the circles listed


def week_of(now):
    """The Monday (a date) of the week before the one `now` (UTC) falls in."""
    today = now.astimezone(timezone.utc).date()
    return today - timedelta(days=today.weekday() + 7)


def parse_week(text):
    """A week as a URL names it (its Monday, ISO); None for anything else."""
    try:
        monday = date.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return monday if monday.weekday() == 0 else None


def _utc_midnight(day):
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def week_bounds(week):
    """[start, end) of the week in UTC instants: signups and new members count in it."""
    return _utc_midnight(week), _utc_midnight(week + timedelta(days=7))


# --- reading ------------------------------------------------------------------------------

def read_team_week(team_id, week):
    """Everything the team's digest of `week` is made from (see the module docstring for the
    calls). None when there is no such team."""
    partition = team_partition(team_id)
    if partition is None:
        return None
    pk = team_day_pk(team_id)
    sunday, next_sunday = week + timedelta(days=6), week + timedelta(days=13)
    entries = list(MeetingEntry.by_team_day.query(
        pk, MeetingEntry.td_sk.between(f'{MEETING}{week.isoformat()}', f'{MEETING}{next_sunday.isoformat()}#~')))
    feedback = list(MeetingFeedback.by_team_day.query(
        pk, MeetingFeedback.td_sk.between(f'{FEEDBACK}{week.isoformat()}', f'{FEEDBACK}{sunday.isoformat()}#~')))
    start, end = week_bounds(week)
    signups = list(Signup.by_team_day.query(
        pk, Signup.td_sk.between(f'{SIGNUP}{start.isoformat()}', f'{SIGNUP}{end.isoformat()[:19]}')))
    return TeamWeek(partition, entries, feedback, [s for s in signups if s.active], {})


def with_circles(team_week, week):
    """`team_week` with the signup counts and names of the circles its digest lists but no
    meeting entry describes: one BatchGetItem per 100 circles, projected (none when nothing
    started, finished or starts, and every signup's circle met in the two weeks)."""
    wanted = {row['circle_id'] for row in _milestone_rows(team_week.entries, week)}
    named = {entry.circle_id for entry in team_week.entries}
    wanted |= {signup.circle_id for signup in team_week.signups} - named
    circles = {}
    keys = [Circle.key(circle_id) for circle_id in sorted(wanted)]
    for start in range(0, len(keys), BATCH_GET):
        for circle in Circle.batch_get(keys[start:start + BATCH_GET],
                                       attributes_to_get=['pk', 'sk', 'kind', 'id', 'nm', 'sc', 'cp',
                                                          'facilitator_ids']):
            circles[circle.id] = {'name': circle.name, 'signups': int(circle.signup_count or 0),
                                  'capacity': None if circle.capacity is None else int(circle.capacity),
                                  'facilitator_ids': list(circle.facilitator_ids or [])}
    return team_week._replace(circles=circles)


# --- composing ----------------------------------------------------------------------------

def _in_week(entry, monday):
    return monday.isoformat() <= entry.local_date <= (monday + timedelta(days=6)).isoformat()


def _meeting_row(entry):
    return {'circle_id': entry.circle_id, 'circle': entry.circle_name, 'meeting_id': entry.meeting_id,
            'date': entry.local_date, 'time': entry.local_time, 'timezone': entry.timezone,
            'number': int(entry.number), 'of': int(entry.of), 'facilitators': list(entry.facilitator_names or []),
            'facilitator_ids': list(entry.facilitator_ids or []), 'yes': entry.yes_count, 'no': entry.no_count}


def _taking_place(entries, monday):
    return [e for e in entries if _in_week(e, monday) and not e.cancelled and e.number]


def took_place(team_week, week):
    """Whether any of the team's meetings took place in `week`."""
    return bool(_taking_place(team_week.entries, week))


def _milestone_rows(entries, week):
    """(kind, row) of the circles that started or finished in `week` or start the week after."""
    rows = []
    for entry in _taking_place(entries, week):
        if int(entry.number) == 1:
            rows.append({'kind': 'started', **_meeting_row(entry)})
        if int(entry.number) == int(entry.of):
            rows.append({'kind': 'finished', **_meeting_row(entry)})
    for entry in _taking_place(entries, week + timedelta(days=7)):
        if int(entry.number) == 1:
            rows.append({'kind': 'starting', **_meeting_row(entry)})
    return rows


def _shorter(text, limit):
    text = (text or '').strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + '…'


def _feedback_row(item):
    """What the digest keeps of one meeting's feedback: everything if shared with organizers,
    else only that it was given."""
    from chalicelib.facilitators.feedback import shared_with_organizers
    if not shared_with_organizers([item]):
        return {'shared': False}
    return {'shared': True, 'attendance': int(item.attendance), 'rating': int(item.rating),
            'reflection': _shorter(item.reflection, MAX_REFLECTION), 'by': item.author_name}


def compose(team_week, users, week, always=False):
    """The digest of `week` as stored (JSON-ready), or None when the team had no activity:
    no meeting took place, no learner signed up and nobody joined (with `always`, the digest of
    a quiet week: the web version of a week no digest was sent for). `users` maps user ids to
    accounts (for new members' names)."""
    team, members = team_week.partition.team, team_week.partition.members
    feedback = {(f.circle_id, f.meeting_id): _feedback_row(f) for f in team_week.feedback}
    held = [dict(_meeting_row(e), feedback=feedback.get((e.circle_id, e.meeting_id)))
            for e in _taking_place(team_week.entries, week)]
    coming = [_meeting_row(e) for e in _taking_place(team_week.entries, week + timedelta(days=7))]
    start, end = week_bounds(week)
    joined = sorted((m for m in members if m.created_at and start <= m.created_at < end), key=lambda m: m.created_at)
    # Names only (None for an account without one): the templates say 'Someone' in the reader's language.
    new_members = [{'name': getattr(users.get(m.user_id), 'name', None) or None, 'role': m.role}
                   for m in joined]
    if not (always or held or team_week.signups or new_members):
        return None
    names = {e.circle_id: (e.circle_name, list(e.facilitator_ids or [])) for e in team_week.entries}
    names.update({circle_id: (c['name'], c['facilitator_ids']) for circle_id, c in team_week.circles.items()})
    return {
        'team_id': team.team_id, 'team': team.name, 'week': week.isoformat(),
        'held': held[:MAX_MEETINGS], 'held_more': max(0, len(held) - MAX_MEETINGS),
        'coming': coming[:MAX_MEETINGS], 'coming_more': max(0, len(coming) - MAX_MEETINGS),
        'signups': _signup_groups(team_week.signups, names),
        'milestones': [dict(row, **{k: v for k, v in team_week.circles.get(row['circle_id'], {}).items()
                                    if k in ('signups', 'capacity')})
                       for row in _milestone_rows(team_week.entries, week)],
        'new_members': new_members,
    }


def _signup_groups(signups, names):
    """Last week's signups by circle (the circle's facilitators first see whose goals)."""
    groups, listed = {}, 0
    for signup in sorted(signups, key=lambda s: s.td_sk):
        name, facilitator_ids = names.get(signup.circle_id, (None, []))     # None: 'A circle', as shown
        group = groups.setdefault(signup.circle_id, {'circle_id': signup.circle_id, 'circle': name,
                                                     'facilitator_ids': facilitator_ids, 'count': 0, 'learners': []})
        group['count'] += 1
        if listed < MAX_SIGNUPS:
            group['learners'].append({'name': signup.name, 'goals': _shorter(signup.goals, MAX_GOALS) or None})
            listed += 1
    return sorted(groups.values(), key=lambda g: (g['circle'] or '').lower())


# --- what one reader may see ----------------------------------------------------------------

def view_for(data, role, user_id):
    """The digest as `user_id`, with `role` in the team now, may read it (the module docstring),
    with the sections the templates show: meetings held, meetings without feedback, signups,
    milestones, this week's meetings, new members."""
    organizer = role == ORGANIZER

    def own(row):
        return organizer or user_id in row.get('facilitator_ids', ())
    held = []
    for row in data['held']:
        row = dict(row, feedback_visible=own(row))
        if not row['feedback_visible']:
            row['feedback'] = None
        held.append(row)
    signups = [dict(group, learners=group['learners'] if own(group) else []) for group in data['signups']]
    milestones = {kind: [row for row in data['milestones'] if row['kind'] == kind]
                  for kind in ('started', 'finished', 'starting')}
    return {**data, 'organizer': organizer, 'held': held,
            'without_feedback': [row for row in held if row['feedback_visible'] and row['feedback'] is None],
            'signups': signups, 'signup_count': sum(group['count'] for group in signups), **milestones}


def subject(view):
    from chalicelib.core.formatting import short_date
    monday = date.fromisoformat(view['week'])
    return _('%(team)s: the week of %(start)s to %(end)s') % {
        'team': view['team'], 'start': short_date(monday), 'end': short_date(monday + timedelta(days=6))}
