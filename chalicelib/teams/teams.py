"""Teams and their members: creating a team, reading it, and changing who is in it.

A team's partition `TEAM#<id>` holds the team (`TEAM`), its memberships (`MEMBER#<user id>`,
also found per user through `by_user`) and its invitations (`INVITE#<address>`), so
`team_partition` reads all of them in one Query.

Every change checks the caller's role as it is stored now (one GetItem of their membership),
never the copy in a session. A team always keeps an organizer: demoting, removing or the
leaving of an organizer is written with a condition that another organizer still is one, in
the same transaction, so two organizers demoting each other at once cannot both succeed.
"""
import re
import unicodedata
from typing import NamedTuple

from pynamodb.exceptions import TransactWriteError

from chalicelib.core.clock import utcnow
from chalicelib.core.errors import NotFound, Refusal, ValidationFailed
from chalicelib.core.i18n import N_, _
from chalicelib.core.ids import new_id
from chalicelib.models import TableItem, Team, TeamInvitation, TeamMember
from chalicelib.models.team import TeamSlugClaim
from chalicelib.models.transactions import transact_write

ORGANIZER, FACILITATOR = 'organizer', 'facilitator'
ROLES = (ORGANIZER, FACILITATOR)
MAX_NAME, MAX_SLUG, MAX_INTRODUCTION = 120, 60, 2000
_SLUG = re.compile(r'^[a-z0-9]+(?:-[a-z0-9]+)*$')


class LastOrganizer(Refusal):
    """The change would leave the team without an organizer."""
    status = 400
    message = N_('A team needs at least one organizer: make someone else an organizer first, '
                 'then try again.')

    def __init__(self, message=None, errors=None):
        super().__init__(message or _(type(self).message), errors)


class NewTeam(NamedTuple):
    team: Team
    organizer: object = None        # the User made organizer, when the address had an account
    invitation: object = None       # else the TeamInvitation sent to the address

    def summary(self):
        if self.organizer is not None:
            return _('%(email)s is its organizer.') % {'email': self.organizer.email}
        return _('%(email)s has no account yet: an organizer invitation is on its way.') % {
            'email': self.invitation.email}


class RemovedMember(NamedTuple):
    membership: TeamMember
    message: str


# --- reading ---------------------------------------------------------------------------------

def get_team(team_id):
    try:
        return Team.get(*Team.key(team_id))
    except Team.DoesNotExist:
        return None


def team_for_slug(slug):
    """The team that claimed `slug`, or None (two GetItems)."""
    try:
        claim = TeamSlugClaim.get(*TeamSlugClaim.key(slug))
    except TeamSlugClaim.DoesNotExist:
        return None
    return get_team(claim.team_id)


def membership(team_id, user_id):
    """The user's membership of the team as stored now (one GetItem), or None."""
    try:
        return TeamMember.get(f'TEAM#{team_id}', f'MEMBER#{user_id}')
    except TeamMember.DoesNotExist:
        return None


def require_organizer(team_id, user_id):
    """The caller's membership if they organize the team now; NotFound otherwise (the same
    answer as for a team that does not exist, so nobody learns which teams exist)."""
    member = membership(team_id, user_id) if user_id else None
    if member is None or member.role != ORGANIZER:
        raise NotFound(_('We could not find that team.'))
    return member


class TeamPartition(NamedTuple):
    team: Team
    members: list           # TeamMember
    invitations: list       # TeamInvitation, newest first


def team_partition(team_id):
    """The team, its members and its invitations: one Query of `TEAM#<id>`. None if no team."""
    team, members, invitations = None, [], []
    for item in TableItem.query(f'TEAM#{team_id}'):
        if isinstance(item, Team):
            team = item
        elif isinstance(item, TeamMember):
            members.append(item)
        elif isinstance(item, TeamInvitation):
            invitations.append(item)
    if team is None:
        return None
    invitations.sort(key=lambda i: i.updated_at or i.created_at, reverse=True)
    return TeamPartition(team, members, invitations)


def member_rows(members):
    """Members with their accounts' names and addresses, organizers first, then by name: one
    BatchGetItem of the users."""
    from chalicelib.models import User
    users = {u.user_id: u for u in User.batch_get([User.key(m.user_id) for m in members])} if members else {}
    rows = [{'user_id': m.user_id, 'role': m.role, 'name': getattr(users.get(m.user_id), 'name', None) or _('Someone'),
             'email': getattr(users.get(m.user_id), 'email', '')} for m in members]
    return sorted(rows, key=lambda r: (r['role'] != ORGANIZER, r['name'].lower()))


def memberships_of(user_id):
    """Every team membership of a user: one Query of `by_user`."""
    return list(TeamMember.by_user.query(f'USER#{user_id}', TeamMember.user_sk.startswith('TEAM#')))


# --- creating a team ------------------------------------------------------------------------

def slug_for(name):
    """A URL slug from a name: ASCII letters and digits joined by single hyphens."""
    ascii_name = unicodedata.normalize('NFKD', name).encode('ascii', 'ignore').decode()
    return re.sub(r'[^a-z0-9]+', '-', ascii_name.lower()).strip('-')[:MAX_SLUG].strip('-') or 'team'


def _clean(name, slug, introduction, image_url, latitude, longitude):
    errors = {}
    name = (name or '').strip()
    if not name:
        errors['name'] = [_('Please give the team a name.')]
    elif len(name) > MAX_NAME:
        errors['name'] = [_('Use at most %(limit)s characters.') % {'limit': MAX_NAME}]
    if slug is not None:
        slug = slug.strip().lower()
        if not _SLUG.match(slug) or len(slug) > MAX_SLUG:
            errors['slug'] = [_('Use lowercase letters, digits and single hyphens, at most %(limit)s characters.')
                              % {'limit': MAX_SLUG}]
    if len(introduction or '') > MAX_INTRODUCTION:
        errors['introduction'] = [_('Use at most %(limit)s characters.') % {'limit': MAX_INTRODUCTION}]
    if image_url and not re.match(r'^https://\S+$', image_url):
        errors['image_url'] = [_('The image must be an https:// address.')]
    if (latitude is None) != (longitude is None):
        errors['latitude'] = [_('Give both latitude and longitude, or neither.')]
    elif latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        errors['latitude'] = [_('Latitude is between -90 and 90, longitude between -180 and 180.')]
    if errors:
        raise ValidationFailed(errors)
    return name, slug


def create_team(name, organizer_email, *, slug=None, introduction=None, image_url=None, city=None, country=None,
                latitude=None, longitude=None, now=None):
    """Create a team and its first organizer; returns a NewTeam.

    The team, its slug's claim and either the organizer's membership (the address has an
    account) or an organizer invitation with its email are one transaction. Without `slug`,
    one is made from the name (with a random suffix when that one is taken); a given `slug`
    that is taken is refused."""
    from chalicelib.accounts.accounts import user_for_email
    from chalicelib.teams import invitations
    now = now or utcnow()
    errors = {}     # every field's problem at once, for the administrators' form
    try:
        name, wanted = _clean(name, slug, introduction, image_url, latitude, longitude)
    except ValidationFailed as error:
        errors.update(error.errors)
    try:
        address = invitations.normalised_address(organizer_email)
    except ValidationFailed as error:
        errors.update(error.errors)
    if errors:
        raise ValidationFailed(errors)
    user = user_for_email(address)
    candidates = [wanted] if wanted else [slug_for(name), f'{slug_for(name)[:MAX_SLUG - 7]}-{new_id(4).lower()}']
    for candidate in candidates:
        team_id = new_id()
        team = Team(*Team.key(team_id), team_id=team_id, name=name, slug=candidate, introduction=introduction or None,
                    image_url=image_url or None, city=city or None, country=country or None, latitude=latitude,
                    longitude=longitude, created_at=now, updated_at=now)
        claim = TeamSlugClaim(*TeamSlugClaim.key(candidate), team_id=team_id, created_at=now)
        member = new_membership(team_id, user, ORGANIZER, now) if user is not None else None
        invitation = None if user is not None else invitations.new_invitation(team_id, address, ORGANIZER, None, now)

        def write(transaction):
            transaction.save(claim, condition=TeamSlugClaim.pk.does_not_exist())
            transaction.save(team, condition=Team.pk.does_not_exist())
            if member is not None:
                transaction.save(member, condition=TeamMember.pk.does_not_exist())
            else:
                invitations.save_invitation(transaction, invitation, now)
        try:
            transact_write(write)
        except TransactWriteError:
            if team_for_slug(candidate) is None:
                raise
            continue
        return NewTeam(team, user, invitation)
    raise ValidationFailed({'slug': [_('The address /teams/%(slug)s is taken: choose another slug.')
                                     % {'slug': wanted or candidates[0]}]})


def new_membership(team_id, user, role, now):
    return TeamMember(f'TEAM#{team_id}', f'MEMBER#{user.user_id}', team_id=team_id, user_id=user.user_id,
                      role=role, user_pk=f'USER#{user.user_id}',
                      user_sk=f'TEAM#{team_id}', created_at=now, updated_at=now)


# --- changing who is in the team ------------------------------------------------------------

def _another_organizer(team_id, user_id):
    """Another current organizer's membership (one Query of the team's members), or None."""
    return next((m for m in TeamMember.query(f'TEAM#{team_id}', TeamMember.sk.startswith('MEMBER#'))
                 if isinstance(m, TeamMember) and m.role == ORGANIZER and m.user_id != user_id), None)


def _write_keeping_an_organizer(team_id, user_id, change):
    """Run `change(transaction)` on `user_id`'s organizer membership, with a condition that
    another organizer stays one; LastOrganizer when there is none."""
    other = _another_organizer(team_id, user_id)
    if other is None:
        raise LastOrganizer()

    def write(transaction):
        change(transaction)
        transaction.condition_check(TeamMember, other.pk, other.sk,
                                    condition=(TeamMember.role == ORGANIZER))
    try:
        transact_write(write)
    except TransactWriteError:
        raise LastOrganizer() from None


def _member_or_404(team_id, user_id):
    member = membership(team_id, user_id)
    if member is None:
        raise NotFound(_('They are not a member of this team.'))
    return member


def change_role(team_id, by_user_id, user_id, role, now=None):
    """An organizer gives a member the role `role`; returns the membership. The last organizer
    cannot be demoted."""
    require_organizer(team_id, by_user_id)
    if role not in ROLES:
        raise ValidationFailed({'role': [_('Choose organizer or facilitator.')]})
    member = _member_or_404(team_id, user_id)
    if member.role == role:
        return member
    now = now or utcnow()
    actions = [TeamMember.role.set(role), TeamMember.updated_at.set(now)]
    if member.role == ORGANIZER:
        _write_keeping_an_organizer(team_id, user_id, lambda t: t.update(
            member, actions=actions, condition=(TeamMember.role == ORGANIZER)))
    else:
        member.update(actions=actions, condition=TeamMember.pk.exists())
    member.role = role
    return member


KEPT_CIRCLES = N_('Their circles stay in the team: its organizers still see and manage them.')   # _() where shown


def remove_member(team_id, by_user_id, user_id):
    """An organizer takes someone out of the team; returns RemovedMember with the sentence to
    show. Their circles stay in the team. The last organizer cannot be removed."""
    require_organizer(team_id, by_user_id)
    member = _member_or_404(team_id, user_id)
    _delete_membership(team_id, member)
    return RemovedMember(member, _('They no longer belong to the team. Their circles stay in the team: its organizers '
                                   'still see and manage them.'))


def leave_team(team_id, user_id):
    """A member leaves the team (their circles stay in it); the last organizer cannot."""
    member = _member_or_404(team_id, user_id)
    _delete_membership(team_id, member)
    return RemovedMember(member, _('You left the team. Your circles stay in it.'))


def _delete_membership(team_id, member):
    if member.role == ORGANIZER:
        _write_keeping_an_organizer(team_id, member.user_id, lambda t: t.delete(
            member, condition=(TeamMember.role == ORGANIZER)))
    else:
        member.delete()
