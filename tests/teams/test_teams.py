"""Teams and membership: creating a team, invitations, the join link, role changes."""
import re
from datetime import timedelta

import pytest

from chalicelib.core.clock import utcnow
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.links import BadLink
from chalicelib.models import TeamInvitation, TeamMember
from chalicelib.teams import invitations, teams
from tests.facilitators.test_facilitator_pages import account


def _invitation_path(moto, to):
    message = next(m for m in reversed(moto.sent_emails()) if m['To'] == to)
    body = message.get_body(preferencelist=('plain',)).get_content()
    return re.search(r'https?://\S+(/teams/invitations/\S+)', body).group(1)


def _token(path):
    return path.rsplit('/', 1)[1]


def _team_with_organizer(name='Chicago Public Library'):
    organizer = account('Olu Organizer')
    return teams.create_team(name, organizer.email).team, organizer


def test_create_team_makes_an_existing_account_its_organizer_and_claims_the_slug():
    organizer = account('Olu Organizer', email='olu@example.org')   # registration stores it normalised
    created = teams.create_team('Chicago Public Library', ' Olu@Example.ORG', introduction='Free circles')
    assert created.organizer.user_id == organizer.user_id and created.invitation is None
    assert created.team.slug == 'chicago-public-library'
    assert teams.team_for_slug('chicago-public-library').team_id == created.team.team_id
    assert teams.membership(created.team.team_id, organizer.user_id).role == teams.ORGANIZER


def test_a_second_team_of_the_same_name_gets_another_slug_and_a_taken_slug_is_refused():
    account('Olu Organizer', email='olu@example.org')
    first = teams.create_team('Chicago', 'olu@example.org').team
    second = teams.create_team('Chicago', 'olu@example.org').team
    assert first.slug == 'chicago' and second.slug.startswith('chicago-') and second.slug != first.slug
    with pytest.raises(ValidationFailed) as refused:
        teams.create_team('Elsewhere', 'olu@example.org', slug='chicago')
    assert 'taken' in refused.value.errors['slug'][0]


def test_create_team_invites_an_address_without_an_account_as_organizer(moto):
    created = teams.create_team('Evanston', 'New.Person@Example.org')
    assert created.organizer is None and created.invitation.role == teams.ORGANIZER
    assert created.invitation.email == 'new.person@example.org'
    path = _invitation_path(moto, 'new.person@example.org')
    team, invitation = invitations.read_invitation(_token(path))
    assert team.team_id == created.team.team_id and invitation.state == invitations.PENDING


def test_an_invitation_is_accepted_by_the_invited_address_only_and_makes_the_member(moto):
    team, organizer = _team_with_organizer()
    invitations.invite(team.team_id, 'Ann@Example.org', organizer.user_id)
    token = _token(_invitation_path(moto, 'ann@example.org'))
    other = account('Bob Other')
    with pytest.raises(invitations.InvitationRefused):
        invitations.accept(token, other)
    ann = account('Ann Invitee', email='ann@example.org')
    _, member = invitations.accept(token, ann)
    assert member.role == teams.FACILITATOR
    assert teams.membership(team.team_id, ann.user_id).role == teams.FACILITATOR
    stored = TeamInvitation.get(*TeamInvitation.key(team.team_id, 'ann@example.org'))
    assert stored.state == invitations.ACCEPTED and stored.user_id == ann.user_id
    with pytest.raises(invitations.InvitationRefused):      # only once
        invitations.accept(token, ann)


def test_one_pending_invitation_per_address_and_members_are_refused(moto):
    team, organizer = _team_with_organizer()
    invitations.invite(team.team_id, 'ann@example.org', organizer.user_id)
    with pytest.raises(ValidationFailed) as pending:
        invitations.invite(team.team_id, 'ANN@example.org', organizer.user_id)
    assert 'pending invitation' in pending.value.errors['email'][0]
    with pytest.raises(ValidationFailed) as member:
        invitations.invite(team.team_id, organizer.email.upper(), organizer.user_id)
    assert 'already a member' in member.value.errors['email'][0]


def test_only_a_current_organizer_may_invite():
    team, organizer = _team_with_organizer()
    facilitator = account('Fay Facilitator')
    with pytest.raises(NotFound):
        invitations.invite(team.team_id, 'ann@example.org', facilitator.user_id)
    TeamMember.get(f'TEAM#{team.team_id}', f'MEMBER#{organizer.user_id}').delete()
    with pytest.raises(NotFound):
        invitations.invite(team.team_id, 'ann@example.org', organizer.user_id)


def test_revoked_and_declined_invitations_stop_their_links_and_the_address_can_be_invited_again(moto):
    team, organizer = _team_with_organizer()
    invitations.invite(team.team_id, 'ann@example.org', organizer.user_id)
    token = _token(_invitation_path(moto, 'ann@example.org'))
    invitations.revoke(team.team_id, 'ann@example.org', organizer.user_id)
    with pytest.raises(invitations.InvitationRefused):
        invitations.decline(token)
    invitations.invite(team.team_id, 'ann@example.org', organizer.user_id)
    with pytest.raises(BadLink):        # a new invitation voids the old links
        invitations.read_invitation(token)
    fresh = _token(_invitation_path(moto, 'ann@example.org'))
    assert fresh != token
    invitations.decline(fresh)
    assert TeamInvitation.get(*TeamInvitation.key(team.team_id, 'ann@example.org')).state == invitations.DECLINED


def test_an_invitation_expires_and_resend_sends_a_new_link_and_moves_its_expiry(moto):
    team, organizer = _team_with_organizer()
    long_ago = utcnow() - timedelta(days=8)
    invitation = invitations.invite(team.team_id, 'ann@example.org', organizer.user_id, now=long_ago)
    assert invitations.state_of(invitation) == invitations.EXPIRED
    ann = account('Ann Invitee', email='ann@example.org')
    assert not [m for m in moto.sent_emails() if m['To'] == 'ann@example.org']   # the sender skipped it
    with pytest.raises(invitations.InvitationRefused) as refused:
        invitations.accept(_token(invitations.invitation_path(invitation)), ann)
    assert 'expired' in refused.value.message
    before = len(moto.sent_emails())
    resent = invitations.resend(team.team_id, 'ann@example.org', organizer.user_id)
    assert invitations.state_of(resent) == invitations.PENDING
    assert len(moto.sent_emails()) == before + 1
    invitations.accept(_token(_invitation_path(moto, 'ann@example.org')), ann)
    assert teams.membership(team.team_id, ann.user_id) is not None


def test_the_join_link_works_while_on_and_rotating_voids_old_links():
    team, organizer = _team_with_organizer()
    team = invitations.set_join_link(team.team_id, organizer.user_id, on=True)
    old = invitations.join_path(team).rsplit('/', 1)[1]
    joiner = account('Jo Joiner')
    _, member = invitations.join_with_link(old, joiner)
    assert member.role == teams.FACILITATOR
    team = invitations.rotate_join_link(team.team_id, organizer.user_id)
    late = account('Lee Late')
    with pytest.raises(BadLink):
        invitations.join_with_link(old, late)
    new = invitations.join_path(team).rsplit('/', 1)[1]
    invitations.join_with_link(new, late)
    invitations.set_join_link(team.team_id, organizer.user_id, on=False)
    with pytest.raises(BadLink):
        invitations.join_with_link(new, account('Max Toolate'))


def test_the_last_organizer_can_be_neither_demoted_nor_removed_nor_leave():
    team, organizer = _team_with_organizer()
    for attempt in (lambda: teams.change_role(team.team_id, organizer.user_id, organizer.user_id, teams.FACILITATOR),
                    lambda: teams.remove_member(team.team_id, organizer.user_id, organizer.user_id),
                    lambda: teams.leave_team(team.team_id, organizer.user_id)):
        with pytest.raises(teams.LastOrganizer):
            attempt()
    assert teams.membership(team.team_id, organizer.user_id).role == teams.ORGANIZER


def test_roles_change_members_are_removed_and_their_circles_stay_in_the_team():
    team, organizer = _team_with_organizer()
    team = invitations.set_join_link(team.team_id, organizer.user_id, on=True)
    token = invitations.join_path(team).rsplit('/', 1)[1]
    fay = account('Fay Facilitator')
    invitations.join_with_link(token, fay)
    with pytest.raises(NotFound):       # a facilitator cannot change roles
        teams.change_role(team.team_id, fay.user_id, fay.user_id, teams.ORGANIZER)
    teams.change_role(team.team_id, organizer.user_id, fay.user_id, teams.ORGANIZER)
    teams.change_role(team.team_id, fay.user_id, organizer.user_id, teams.FACILITATOR)   # fay organizes now
    assert teams.leave_team(team.team_id, organizer.user_id).message.startswith('You left')
    olu = account('Olu Again')
    invitations.join_with_link(token, olu)
    removed = teams.remove_member(team.team_id, fay.user_id, olu.user_id)
    assert 'circles stay in the team' in removed.message
    assert teams.membership(team.team_id, olu.user_id) is None
    rows = teams.member_rows(teams.team_partition(team.team_id).members)
    assert [(r['name'], r['role']) for r in rows] == [('Fay Facilitator', teams.ORGANIZER)]


def test_the_create_team_command_prints_the_slug_and_what_happened(capsys):
    from chalicelib.ops import cli
    account('Olu Organizer', email='olu@example.org')
    cli.main(['create-team', '--name', 'Oak Park Library', '--organizer', 'olu@example.org', '--slug', 'oak-park'])
    assert capsys.readouterr().out.startswith("Team 'Oak Park Library' created: slug oak-park")
    cli.main(['create-team', '--name', 'Berwyn', '--organizer', 'nobody@example.org'])
    assert 'nobody@example.org has no account yet: an organizer invitation is on its way.' in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        cli.main(['create-team', '--name', 'Again', '--organizer', 'olu@example.org', '--slug', 'oak-park'])
    assert 'taken' in str(refused.value)
