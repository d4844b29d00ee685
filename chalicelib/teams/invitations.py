"""The ways into a team: an organizer's email invitation, and the team's join link.

An invitation is one item per (team, normalised address), `TEAM#<id>` / `INVITE#<address>`,
written with its email (an outbox item in the team's partition) in one transaction. Its state
is stored (pending, accepted, declined, revoked) except `expired`, which a pending invitation
is once `expires_at` has passed. Its link is signed at send time and carries the invitation's
nonce: inviting the address again after a declined, revoked or expired invitation makes a new
nonce, so the older links stop working. Resending writes a new email and moves `expires_at`.

Accepting needs the signed-in account of the invited address; the membership and the
invitation's new state are one transaction, conditioned on the invitation still pending.
Declining needs no account: the link is enough.

The join link carries the team's `join_token`: an organizer turns it on (a token), off (none)
or rotates it (a new token, so every earlier link stops working). Anyone signed in who opens
it joins as a facilitator.
"""
import functools
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pynamodb.exceptions import TransactWriteError

from chalicelib.core.clock import utcnow
from chalicelib.core.errors import NotFound, Refusal, ValidationFailed
from chalicelib.core.i18n import N_, _
from chalicelib.core.ids import new_id
from chalicelib.core.links import BadLink
from chalicelib.core.settings import get_settings
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import Team, TeamInvitation, TeamMember
from chalicelib.models.transactions import transact_write
from chalicelib.teams import teams
from chalicelib.teams.teams import FACILITATOR, ORGANIZER, ROLES

PENDING, ACCEPTED, DECLINED, REVOKED, EXPIRED = 'pending', 'accepted', 'declined', 'revoked', 'expired'
INVITATION_DAYS = 7
DAY = 24 * 3600
# Purposes of their own (salts), so no other signed link of the app works here.
TEAM_INVITATION, TEAM_JOIN = 'team-invitation', 'team-join'
MAX_AGE_SECONDS = {TEAM_INVITATION: INVITATION_DAYS * DAY, TEAM_JOIN: 3650 * DAY}
# What an invitation no longer open says, by its state: whole sentences (the state's word agrees
# with the invitation in other languages).
NOT_OPEN = {PENDING: N_('This invitation is pending: ask an organizer of the team for a new one.'),
            ACCEPTED: N_('This invitation is accepted: ask an organizer of the team for a new one.'),
            DECLINED: N_('This invitation is declined: ask an organizer of the team for a new one.'),
            REVOKED: N_('This invitation is revoked: ask an organizer of the team for a new one.'),
            EXPIRED: N_('This invitation is expired: ask an organizer of the team for a new one.')}
ALREADY = {PENDING: N_('The invitation is pending already.'),
           ACCEPTED: N_('The invitation is accepted already.'),
           DECLINED: N_('The invitation is declined already.'),
           REVOKED: N_('The invitation is revoked already.')}
NOT_PENDING = {ACCEPTED: N_('The invitation is accepted: invite them again instead.'),
               DECLINED: N_('The invitation is declined: invite them again instead.'),
               REVOKED: N_('The invitation is revoked: invite them again instead.')}


class InvitationRefused(Refusal):
    """This account may not accept the invitation (another address, unconfirmed, no longer pending)."""
    status = 403


# --- signed links ----------------------------------------------------------------------------

@functools.cache
def _serializer(purpose):
    return URLSafeTimedSerializer(get_settings().secret_key, salt=f'circles.{purpose}')


def _unsign(purpose, token):
    try:
        return _serializer(purpose).loads(token, max_age=MAX_AGE_SECONDS[purpose])
    except BadSignature as error:
        raise BadLink(str(error)) from error


def invitation_path(invitation):
    token = _serializer(TEAM_INVITATION).dumps({'t': invitation.team_id, 'e': invitation.email,
                                                'n': invitation.nonce})
    return f'/teams/invitations/{token}'


def invitation_url(invitation):
    return f'{get_settings().public_base_url}{invitation_path(invitation)}'


def join_path(team):
    """The team's join link (a path), or None when it is off."""
    if not team.join_token:
        return None
    return f'/teams/join/{_serializer(TEAM_JOIN).dumps({"t": team.team_id, "j": team.join_token})}'


def join_url(team):
    path = join_path(team)
    return f'{get_settings().public_base_url}{path}' if path else None


# --- addresses and states --------------------------------------------------------------------

def normalised_address(email):
    """The address as signups and registrations normalise it (email-validator, lowercased)."""
    from email_validator import EmailNotValidError, validate_email
    try:
        return validate_email((email or '').strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed({'email': [_('Please give a valid email address.')]}) from None


def state_of(invitation, now=None):
    """pending, accepted, declined, revoked, or expired (a pending one past `expires_at`)."""
    if invitation.state == PENDING and invitation.expires_at <= (now or utcnow()):
        return EXPIRED
    return invitation.state


def is_open(invitation, now=None):
    return state_of(invitation, now) == PENDING


# --- writing an invitation -----------------------------------------------------------------

def new_invitation(team_id, address, role, inviter, now):
    """A pending invitation (not written yet); `inviter` is the User inviting, None for the site."""
    return TeamInvitation(*TeamInvitation.key(team_id, address), team_id=team_id, email=address, role=role,
                          state=PENDING, expires_at=now + timedelta(days=INVITATION_DAYS), nonce=new_id(12),
                          invited_by=inviter.user_id if inviter else None,
                          invited_by_name=inviter.name if inviter else None, created_at=now, updated_at=now)


def _email_item(invitation, now):
    return outbox.message(f'TEAM#{invitation.team_id}', f'team-invitation#{now:%Y%m%dT%H%M%S%f}',
                          f'invitee-{invitation.nonce}', outbox.EMAIL, 'team_invitation', now, to=invitation.email,
                          params={'team': invitation.team_id, 'email': invitation.email, 'nonce': invitation.nonce})


def save_invitation(transaction, invitation, now):
    """Add the invitation and its email to `transaction`. Refused by its condition when the
    address has a pending invitation that has not expired."""
    condition = (TeamInvitation.pk.does_not_exist() | (TeamInvitation.state != PENDING)
                 | (TeamInvitation.expires_at <= now))
    transaction.save(invitation, condition=condition)
    transaction.save(*outbox.put(_email_item(invitation, now)))


def invite(team_id, email, by_user_id, role=FACILITATOR, now=None):
    """An organizer invites `email` into the team with `role`; returns the TeamInvitation.

    Refused (ValidationFailed on `email`) when the address's account is already a member, or
    the address has a pending invitation (resend that one instead)."""
    from chalicelib.accounts.accounts import get_user, user_for_email
    now = now or utcnow()
    teams.require_organizer(team_id, by_user_id)
    if role not in ROLES:
        raise ValidationFailed({'role': [_('Choose organizer or facilitator.')]})
    address = normalised_address(email)
    invitee = user_for_email(address)
    if invitee is not None and teams.membership(team_id, invitee.user_id) is not None:
        raise ValidationFailed({'email': [_('%(address)s is already a member of this team.') % {'address': address}]})
    invitation = new_invitation(team_id, address, role, get_user(by_user_id), now)
    try:
        transact_write(lambda transaction: save_invitation(transaction, invitation, now))
    except TransactWriteError:
        raise ValidationFailed({'email': [_('%(address)s already has a pending invitation: resend it, '
                                            'or revoke it first.') % {'address': address}]}) from None
    return invitation


def _invitation_or_404(team_id, email):
    try:
        return TeamInvitation.get(*TeamInvitation.key(team_id, normalised_address(email)))
    except (TeamInvitation.DoesNotExist, ValidationFailed):
        raise NotFound(_('There is no such invitation.')) from None


def revoke(team_id, email, by_user_id, now=None):
    """An organizer withdraws a pending (or expired) invitation; its links stop working."""
    now = now or utcnow()
    teams.require_organizer(team_id, by_user_id)
    invitation = _invitation_or_404(team_id, email)
    try:
        invitation.update(actions=[TeamInvitation.state.set(REVOKED), TeamInvitation.updated_at.set(now)],
                          condition=(TeamInvitation.state == PENDING))
    except Exception as error:   # noqa: BLE001 - UpdateError: the condition failed
        if getattr(error, 'cause_response_code', None) != 'ConditionalCheckFailedException':
            raise
        raise ValidationFailed({'email': [_(ALREADY[invitation.state])]}) from None
    return invitation


def resend(team_id, email, by_user_id, now=None):
    """An organizer sends a pending (or expired) invitation again: a new email with a new link,
    valid INVITATION_DAYS from now (the old links keep working until then)."""
    now = now or utcnow()
    teams.require_organizer(team_id, by_user_id)
    invitation = _invitation_or_404(team_id, email)
    if invitation.state != PENDING:
        raise ValidationFailed({'email': [_(NOT_PENDING[invitation.state])]})
    expires_at = now + timedelta(days=INVITATION_DAYS)

    def write(transaction):
        transaction.update(invitation, actions=[TeamInvitation.expires_at.set(expires_at),
                                                TeamInvitation.updated_at.set(now)],
                           condition=(TeamInvitation.state == PENDING) & (TeamInvitation.nonce == invitation.nonce))
        transaction.save(*outbox.put(_email_item(invitation, now)))
    try:
        transact_write(write)
    except TransactWriteError:
        raise ValidationFailed({'email': [_('The invitation changed meanwhile: reload the page.')]}) from None
    invitation.expires_at = expires_at
    return invitation


# --- answering an invitation ---------------------------------------------------------------

def read_invitation(token):
    """(team, invitation) for a well-signed link whose invitation is the one it was made for;
    BadLink otherwise. The invitation may be in any state: the page says which."""
    payload = _unsign(TEAM_INVITATION, token)
    try:
        invitation = TeamInvitation.get(*TeamInvitation.key(payload.get('t', ''), payload.get('e', '')))
    except TeamInvitation.DoesNotExist:
        raise BadLink('no such invitation') from None
    if invitation.nonce != payload.get('n'):
        raise BadLink('the address was invited again since')
    team = teams.get_team(invitation.team_id)
    if team is None:
        raise BadLink('the team no longer exists')
    return team, invitation


def _answer_condition(invitation, now):
    return ((TeamInvitation.state == PENDING) & (TeamInvitation.nonce == invitation.nonce)
            & (TeamInvitation.expires_at > now))


def _not_open_refusal(invitation, now):
    return InvitationRefused(_(NOT_OPEN[state_of(invitation, now)]))


def accept(token, user, now=None):
    """The signed-in `user` accepts; returns (team, membership). Their confirmed address must be
    the invited one. One transaction: the membership with the invited role (an existing member
    invited as organizer becomes one) and the invitation accepted, if still pending."""
    now = now or utcnow()
    team, invitation = read_invitation(token)
    if (user.email or '').lower() != invitation.email:
        raise InvitationRefused(_('This invitation was sent to another address: sign in with the account of '
                                  'the address it was sent to.'))
    if not user.email_confirmed:
        raise InvitationRefused(_('Please confirm your email address first (follow the link we emailed you), '
                                  'then open the invitation again.'))
    if not is_open(invitation, now):
        raise _not_open_refusal(invitation, now)
    current = teams.membership(team.team_id, user.user_id)
    role = ORGANIZER if ORGANIZER in (invitation.role, getattr(current, 'role', None)) else invitation.role
    member = teams.new_membership(team.team_id, user, role, now)
    if current is not None:
        member.created_at = current.created_at

    def write(transaction):
        transaction.save(member)
        transaction.update(invitation, actions=[TeamInvitation.state.set(ACCEPTED), TeamInvitation.user_id.set(
            user.user_id), TeamInvitation.answered_at.set(now), TeamInvitation.updated_at.set(now)],
                           condition=_answer_condition(invitation, now))
    try:
        transact_write(write)
    except TransactWriteError:
        raise _not_open_refusal(TeamInvitation.get(invitation.pk, invitation.sk), now) from None
    return team, member


def decline(token, now=None):
    """Whoever holds the link declines (no account needed); returns the team."""
    now = now or utcnow()
    team, invitation = read_invitation(token)
    try:
        invitation.update(actions=[TeamInvitation.state.set(DECLINED), TeamInvitation.answered_at.set(now),
                                   TeamInvitation.updated_at.set(now)],
                          condition=_answer_condition(invitation, now))
    except Exception as error:   # noqa: BLE001 - UpdateError: the condition failed
        if getattr(error, 'cause_response_code', None) != 'ConditionalCheckFailedException':
            raise
        raise _not_open_refusal(invitation, now) from None
    return team


# --- the join link -------------------------------------------------------------------------

def set_join_link(team_id, by_user_id, on, now=None):
    """An organizer turns the join link on (keeping a token it has) or off; returns the team."""
    teams.require_organizer(team_id, by_user_id)
    team = teams.get_team(team_id)
    token = (team.join_token or new_id(16)) if on else None
    return _save_join_token(team, token, now)


def rotate_join_link(team_id, by_user_id, now=None):
    """An organizer makes a new join link: every earlier one stops working."""
    teams.require_organizer(team_id, by_user_id)
    return _save_join_token(teams.get_team(team_id), new_id(16), now)


def _save_join_token(team, token, now):
    action = Team.join_token.set(token) if token else Team.join_token.remove()
    team.update(actions=[action, Team.updated_at.set(now or utcnow())], condition=Team.pk.exists())
    return team


def read_join_link(token):
    """The team whose current join link this is; BadLink for an altered, rotated or switched-off link."""
    payload = _unsign(TEAM_JOIN, token)
    team = teams.get_team(payload.get('t', ''))
    if team is None or not team.join_token or team.join_token != payload.get('j'):
        raise BadLink('the join link was switched off or replaced')
    return team


def join_with_link(token, user, now=None):
    """The signed-in `user` joins the link's team as a facilitator; returns (team, membership).
    A member already keeps their membership (and role) as it is."""
    now = now or utcnow()
    team = read_join_link(token)
    current = teams.membership(team.team_id, user.user_id)
    if current is not None:
        return team, current
    member = teams.new_membership(team.team_id, user, FACILITATOR, now)

    def write(transaction):
        transaction.save(member, condition=TeamMember.pk.does_not_exist())
        transaction.condition_check(Team, team.pk, team.sk, condition=(Team.join_token == team.join_token))
    try:
        transact_write(write)
    except TransactWriteError:
        current = teams.membership(team.team_id, user.user_id)
        if current is None:
            raise BadLink('the join link was switched off or replaced') from None
        return team, current
    return team, member


# --- the invitation email (the sender's template) ------------------------------------------

def invitation_message(team, invitation, to):
    from chalicelib.core.rendering import render
    from chalicelib.messaging import email
    inviter = invitation.invited_by_name or _('The organizers of %(team)s') % {'team': team.name}
    context = {'team': team, 'inviter': inviter, 'role': invitation.role, 'accept_url': invitation_url(invitation),
               'days': INVITATION_DAYS, 'expires_at': invitation.expires_at}
    names = {'inviter': inviter, 'team': team.name}
    subject = (_('%(inviter)s invites you to organize %(team)s') % names if invitation.role == ORGANIZER
               else _('%(inviter)s invites you to join %(team)s') % names)
    return email.build_message(to=to, subject=subject, text=render('email/team_invitation.txt', **context),
                               html=render('email/team_invitation.html', **context))


def _render_invitation(item, reads, to, now):
    team = reads.get(Team.key(item.params['team']))
    invitation = reads.get(TeamInvitation.key(item.params['team'], item.params['email']))
    if team is None or invitation is None:
        raise Skip(N_('The team or the invitation no longer exists.'))
    if invitation.nonce != item.params.get('nonce') or state_of(invitation, now) != PENDING:
        raise Skip(N_('The invitation is no longer pending.'))
    return invitation_message(team, invitation, to)


TEAM_INVITATION_EMAIL = Template(keys=lambda item: [Team.key(item.params['team']),
                                                    TeamInvitation.key(item.params['team'], item.params['email'])],
                                 render=_render_invitation)

