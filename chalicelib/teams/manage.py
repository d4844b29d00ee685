"""The organizer's manage page: the team's circles by group and its facilitators with their circles.

Reads: one Query of the team's partition (the team, its members, its invitations: the caller's
own membership among them is the role check, as stored now), one Query of `by_team` (the team's
circles, only the attributes a card shows and their facilitators) and one BatchGetItem of the
members' accounts (names). Invitations and roles are changed on the members page.

`by_team` holds every circle of the team, drafts (never published, or unpublished) included
(`chalicelib.circles.circles.refresh_derived`).
"""
from dataclasses import dataclass

from chalicelib.core.errors import NotFound
from chalicelib.core.i18n import _
from chalicelib.facilitators import dashboard
from chalicelib.models import raw as reads
from chalicelib.models import Circle
from chalicelib.teams import teams

_FACILITATORS = [Circle.facilitator_ids.attr_name, Circle.facilitator_names.attr_name]


@dataclass
class Person:
    user_id: str
    name: str
    email: str
    role: str                  # organizer, facilitator, or None for someone no longer in the team
    circles: list              # dashboard.Entry, by group then name

    @property
    def member(self):
        return self.role is not None


@dataclass
class ManagePage:
    team: object
    groups: dict               # {group: [dashboard.Entry]} (dashboard.GROUPS)
    people: list               # Person: members (organizers first), then former members with circles
    pending_invitations: int

    @property
    def circle_count(self):
        return sum(len(entries) for entries in self.groups.values())


def team_circles(team_id):
    """[(CircleCard, [(user id, name)])] of the team's circles on `by_team`: one Query."""
    found = []
    for item in reads.query(Circle.team_pk.attr_name, f'TEAM#{team_id}', index_name=Circle.by_team.Meta.index_name,
                            attributes=dashboard.CARD_ATTRIBUTES + _FACILITATORS):
        ids = [v['S'] for v in (item.get(_FACILITATORS[0]) or {}).get('L', [])]
        names = [v['S'] for v in (item.get(_FACILITATORS[1]) or {}).get('L', [])]
        found.append((dashboard.card_from_raw(item),
                      [(user_id, names[n] if n < len(names) else _('A facilitator')) for n, user_id in enumerate(ids)]))
    return found


def manage_page(team_id, user_id, now):
    """The page for a current organizer of the team; NotFound for anyone else."""
    from chalicelib.teams import invitations
    partition = teams.team_partition(team_id)
    mine = partition and next((m for m in partition.members if m.user_id == user_id), None)
    if mine is None or mine.role != teams.ORGANIZER:
        raise NotFound(_('We could not find that team.'))
    circles = team_circles(team_id)
    groups = dashboard.grouped([card for card, _facilitators in circles], now)
    entry_of = {entry.circle.id: entry for entries in groups.values() for entry in entries}
    order = {name: n for n, (name, _label) in enumerate(dashboard.GROUPS)}
    by_person, names = {}, {}
    for card, facilitators in circles:
        for person_id, name in facilitators:
            by_person.setdefault(person_id, []).append(entry_of[card.id])
            names.setdefault(person_id, name)

    def their(person_id):
        return sorted(by_person.get(person_id, []), key=lambda e: (order[e.group], (e.circle.name or '').lower()))
    people = [Person(row['user_id'], row['name'], row['email'], row['role'], their(row['user_id']))
              for row in teams.member_rows(partition.members)]
    members = {p.user_id for p in people}
    former = [Person(person_id, names[person_id], '', None, their(person_id))
              for person_id in by_person if person_id not in members]
    people += sorted(former, key=lambda p: p.name.lower())
    pending = sum(1 for i in partition.invitations if invitations.state_of(i) == invitations.PENDING)
    return ManagePage(team=partition.team, groups=groups, people=people, pending_invitations=pending)
