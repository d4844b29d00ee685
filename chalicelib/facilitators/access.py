"""What a facilitator (or an organizer of the circle's team) may see and do with a circle.

`workspace(session, circle_id)` is the one read behind every facilitator page: a single
Query of the circle's partition returns the circle and everything that belongs to it.
Anyone else gets NotFound, exactly as for a circle that does not exist, so a stranger
learns nothing about which circles exist.
"""
from dataclasses import dataclass, field

from chalicelib.core.errors import NotFound
from chalicelib.models import Circle, CircleFacilitator, Signup, TableItem


@dataclass
class Workspace:
    circle: Circle
    signups: list = field(default_factory=list)
    facilitators: list = field(default_factory=list)
    others: list = field(default_factory=list)     # messages, deliveries, feedback... by kind

    @property
    def active_signups(self):
        return [s for s in self.signups if s.active]

    def of_kind(self, cls):
        return [item for item in self.others if isinstance(item, cls)]


def can_manage(session, circle):
    """Facilitators and co-facilitators of the circle, and organizers of its team. The session's
    `organizer_team_ids` are the current memberships, read with the session
    (`accounts.sessions.from_cookie_header`), not the ones at login: a revoked organizer loses
    access on their next request."""
    return (session.user_id in circle.facilitator_ids
            or bool(circle.team_id and circle.team_id in (session.organizer_team_ids or [])))


def workspace(session, circle_id):
    """The circle and all its items, for someone allowed to manage it; else NotFound."""
    items = list(TableItem.query(f'CIRCLE#{circle_id}'))
    circle = next((item for item in items if isinstance(item, Circle)), None)
    if circle is None or not can_manage(session, circle):
        raise NotFound('No such learning circle.')
    result = Workspace(circle)
    for item in items:
        if isinstance(item, Signup):
            result.signups.append(item)
        elif isinstance(item, CircleFacilitator):
            result.facilitators.append(item)
        elif item is not circle:
            result.others.append(item)
    return result


def facilitator_link(circle, user, role='facilitator', now=None):
    """The item that lists `circle` on `user`'s dashboard."""
    return CircleFacilitator(*CircleFacilitator.key(circle.id, user.user_id), circle_id=circle.id,
                             user_id=user.user_id, name=user.name, email=user.email, role=role,
                             user_pk=f'USER#{user.user_id}', user_sk=f'CIRCLE#{circle.id}', created_at=now)


def my_circles(user_id):
    """Every circle the user facilitates: one Query of `by_user`, one BatchGet of the circles."""
    links = list(CircleFacilitator.by_user.query(f'USER#{user_id}', CircleFacilitator.user_sk.startswith('CIRCLE#')))
    if not links:
        return []
    return list(Circle.batch_get([Circle.key(link.circle_id) for link in links]))
