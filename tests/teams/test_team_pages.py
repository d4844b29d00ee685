"""The team pages over HTTP: the organizer's members page and its forms, answering an
invitation, the join link."""
import re
from urllib.parse import quote

from chalicelib.accounts import sessions
from chalicelib.models import TeamInvitation
from chalicelib.teams import invitations, teams
from tests.facilitators.test_facilitator_pages import Browser, account, get, post


def _anonymous_form(client, path):
    """(cookie header, token) of the page's anonymous form (its decline button)."""
    value, set_cookie = sessions.new_form_cookie()
    return set_cookie.split(';')[0], sessions.form_token(value)


def _setup():
    organizer = account('Olu Organizer')
    team = teams.create_team('Chicago Public Library', organizer.email).team
    return team, organizer, Browser(organizer)


def test_an_organizer_invites_sees_the_state_and_revokes_and_resends(client, moto):
    team, organizer, browser = _setup()
    members = f'/organize/{team.team_id}/members'
    page = get(client, members, browser)
    assert page.status_code == 200 and 'Olu Organizer' in page.body.decode()
    answer = post(client, f'/organize/{team.team_id}/invitations', {'email': 'Ann@Example.org'}, browser)
    assert answer.status_code == 303 and answer.headers['Location'] == f'{members}?done=invited'
    body = get(client, members, browser).body.decode()
    assert 'ann@example.org' in body and '>pending<' in body
    again = post(client, f'/organize/{team.team_id}/invitations', {'email': 'ann@example.org'}, browser)
    assert again.status_code == 400 and 'pending invitation' in again.body.decode()
    assert post(client, f'/organize/{team.team_id}/invitations/resend', {'email': 'ann@example.org'},
                browser).status_code == 303
    assert len([m for m in moto.sent_emails() if m['To'] == 'ann@example.org']) == 2
    assert post(client, f'/organize/{team.team_id}/invitations/revoke', {'email': 'ann@example.org'},
                browser).status_code == 303
    assert '>revoked<' in get(client, members, browser).body.decode()


def test_the_last_organizer_is_refused_with_a_clear_message(client):
    team, organizer, browser = _setup()
    answer = post(client, f'/organize/{team.team_id}/members/role',
                  {'user_id': organizer.user_id, 'role': 'facilitator'}, browser)
    assert answer.status_code == 400 and 'at least one organizer' in answer.body.decode()
    assert teams.membership(team.team_id, organizer.user_id).role == teams.ORGANIZER


def test_the_members_page_is_not_found_for_a_facilitator_of_the_team_and_anyone_else(client):
    team, organizer, _ = _setup()
    team = invitations.set_join_link(team.team_id, organizer.user_id, on=True)
    fay = account('Fay Facilitator')
    invitations.join_with_link(invitations.join_path(team).rsplit('/', 1)[1], fay)
    for user in (fay, account('Sam Stranger')):
        assert get(client, f'/organize/{team.team_id}/members', Browser(user)).status_code == 404
        answer = post(client, f'/organize/{team.team_id}/invitations', {'email': 'x@example.org'}, Browser(user))
        assert answer.status_code == 404
    assert not list(TeamInvitation.query(f'TEAM#{team.team_id}', TeamInvitation.sk.startswith('INVITE#x')))


def test_an_invitee_without_a_session_is_sent_to_login_and_back_then_accepts(client, moto):
    team, organizer, _ = _setup()
    invitations.invite(team.team_id, 'ann@example.org', organizer.user_id, role=teams.ORGANIZER)
    message = next(m for m in moto.sent_emails() if m['To'] == 'ann@example.org')
    path = re.search(r'https?://\S+(/teams/invitations/\S+)', message.get_body(('plain',)).get_content()).group(1)
    page = get(client, path)
    assert page.status_code == 200 and f'/login?next={quote(path)}' in page.body.decode()
    ann = account('Ann Invitee', email='ann@example.org')
    answer = post(client, path, {}, Browser(ann))
    assert answer.status_code == 303 and answer.headers['Location'] == f'/organize/{team.team_id}/members?done=joined'
    assert teams.membership(team.team_id, ann.user_id).role == teams.ORGANIZER


def test_declining_needs_no_account(client, moto):
    team, organizer, _ = _setup()
    invitation = invitations.invite(team.team_id, 'ann@example.org', organizer.user_id)
    path = invitations.invitation_path(invitation)
    cookie, token = _anonymous_form(client, path)
    answer = client.http.post(f'{path}/decline', body=f'csrf_token={token}',
                              headers={'Cookie': cookie, 'Content-Type': 'application/x-www-form-urlencoded'})
    assert answer.status_code == 200 and 'You declined' in answer.body.decode()
    assert TeamInvitation.get(*TeamInvitation.key(team.team_id, 'ann@example.org')).state == invitations.DECLINED


def test_the_join_link_page_and_joining(client):
    team, organizer, browser = _setup()
    assert post(client, f'/organize/{team.team_id}/join-link', {'action': 'on'}, browser).status_code == 303
    path = invitations.join_path(teams.get_team(team.team_id))
    assert get(client, path).status_code == 200
    jo = account('Jo Joiner')
    assert post(client, path, {}, Browser(jo)).status_code == 303
    assert teams.membership(team.team_id, jo.user_id).role == teams.FACILITATOR
    assert post(client, f'/organize/{team.team_id}/join-link', {'action': 'rotate'}, browser).status_code == 303
    assert get(client, path).status_code == 400
