"""What a facilitator (or an organizer of the circle's team) may see and do with a circle.

`workspace(session, circle_id)` is the one read behind every facilitator page: a single
Query of the circle's partition returns the circle and everything that belongs to it.
Anyone else gets NotFound, exactly as for a circle that does not exist, so a stranger
learns nothing about which circles exist.

The outbox items of the partition (a welcome, a notice, every reminder and message per
learner and channel: most of the partition once a circle has run a few weeks) are kept only
as `DeliveryState`s, the few fields the pages show, read from the raw answer
(`facilitators.reads`) without building a PynamoDB model for each.
"""
from dataclasses import dataclass, field

from chalicelib.core.errors import NotFound
from chalicelib.core.i18n import _
from chalicelib.models import raw as reads
from chalicelib.models import Circle, CircleFacilitator, Signup, TableItem

WAITING = ('pending', 'retrying')


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """An outbox item of the circle as the facilitator's pages show it."""
    sk: str
    channel: str
    state: str
    signup_id: str | None = None
    error: str | None = None
    provider_status: str | None = None    # Twilio's last status callback (chalicelib.sms_inbound.status)

    @classmethod
    def from_raw(cls, item):
        def text(name):
            value = item.get(name)
            return value.get('S') if value else None
        return cls(sk=text('sk'), channel=text('channel'), state=text('state'), signup_id=text('signup_id'),
                   error=text('error'), provider_status=text('provider_status'))


_SIGNUP_FIELDS = {'pk': Signup.pk, 'sk': Signup.sk, **Signup.get_attributes()}


class LearnerRow:
    """A signup as the facilitator's pages read it: `Signup`'s attribute names and `active`,
    built from the raw item without a PynamoDB model (a model costs ~40 µs a signup, most of
    a page with 50 learners). Read-only: writes go through `models.Signup`."""
    __slots__ = tuple(_SIGNUP_FIELDS)

    def __init__(self, item):
        for name, attribute in _SIGNUP_FIELDS.items():
            raw = item.get(attribute.attr_name)
            if raw is None or 'NULL' in raw:
                default = attribute.default
                value = default() if callable(default) else default
            else:
                value = attribute.deserialize(attribute.get_value(raw))
            setattr(self, name, value)

    active = Signup.active


@dataclass
class Tally:
    """Deliveries of one kind by state: counts, and the failed and retrying ones themselves.
    A sent text is `delivered` once Twilio's status callback says the phone has it, until then
    only `accepted` (by Twilio)."""
    items: list = field(default_factory=list)
    sent: int = 0
    delivered: int = 0
    accepted: int = 0
    failed: list = field(default_factory=list)
    retrying: list = field(default_factory=list)
    waiting: int = 0        # pending or retrying

    def add(self, delivery):
        self.items.append(delivery)
        if delivery.state == 'sent':
            self.sent += 1
            if delivery.channel == 'sms':
                if delivery.provider_status == 'delivered':
                    self.delivered += 1
                else:
                    self.accepted += 1
        elif delivery.state == 'failed':
            self.failed.append(delivery)
        if delivery.state == 'retrying':
            self.retrying.append(delivery)
        if delivery.state in WAITING:
            self.waiting += 1


@dataclass
class Workspace:
    circle: Circle
    signups: list = field(default_factory=list)
    facilitators: list = field(default_factory=list)
    others: list = field(default_factory=list)     # messages, reminders, feedback, RSVPs... by kind
    deliveries: list = field(default_factory=list)  # DeliveryState of every outbox item

    @property
    def active_signups(self):
        return [s for s in self.signups if s.active]

    def of_kind(self, cls):
        return [item for item in self.others if isinstance(item, cls)]

    def learner_names(self):
        """{signup id: name}, a withdrawn learner named as one who has left."""
        return {s.signup_id: s.name or _('A learner who has left') for s in self.signups}

    def tally(self, prefix, channel=None):
        """The deliveries whose sort key starts with `prefix` (e.g. 'DELIVERY#reminder#<meeting>#'),
        of one channel if given."""
        found = Tally()
        for delivery in self.deliveries:
            if delivery.sk.startswith(prefix) and (channel is None or delivery.channel == channel):
                found.add(delivery)
        return found


def can_manage(session, circle):
    """Facilitators and co-facilitators of the circle, and organizers of its team. The session's
    `organizer_team_ids` are the current memberships, read with the session
    (`accounts.sessions.from_cookie_header`), not the ones at login: a revoked organizer loses
    access on their next request."""
    return (session.user_id in circle.facilitator_ids
            or bool(circle.team_id and circle.team_id in (session.organizer_team_ids or [])))


def workspace(session, circle_id):
    """The circle and all its items, for someone allowed to manage it; else NotFound."""
    items = reads.query('pk', f'CIRCLE#{circle_id}')
    circle_sk = Circle.key(circle_id)[1]
    found = next((item for item in items if item['sk'].get('S') == circle_sk), None)
    circle = Circle.from_raw_data(found) if found else None
    if circle is None or not can_manage(session, circle):
        raise NotFound(_('No such learning circle.'))
    result = Workspace(circle)
    for item in items:
        kind = (item.get('kind') or {}).get('S')
        if item is found:
            continue
        if kind == 'Delivery':
            result.deliveries.append(DeliveryState.from_raw(item))
        elif kind == 'Signup':
            result.signups.append(LearnerRow(item))
        elif kind == 'CircleFacilitator':
            result.facilitators.append(CircleFacilitator.from_raw_data(item))
        else:
            result.others.append(TableItem.from_raw_data(item))
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
