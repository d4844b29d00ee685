"""`/register?next=`: an invitee without an account registers, confirms, logs in and lands back
on the invitation. The kept `next` follows the login page's rules (auth.safe_next)."""
import re
from urllib.parse import quote

import pytest

from chalicelib.accounts import sessions
from chalicelib.teams import invitations, teams
from tests.accounts.test_account_pages import Visitor, csrf_from, post
from tests.accounts.test_accounts import PASSWORD, link_in
from tests.facilitators.test_facilitator_pages import account


def _cookies(response):
    """Set-Cookie values of a response ('name=value' each), one header or several."""
    value = response.headers.get('Set-Cookie') or []
    return [v.split(';')[0] for v in ([value] if isinstance(value, str) else value)]


def test_an_invitee_registers_confirms_logs_in_and_lands_on_the_invitation(client, moto):
    organizer = account('Olu Organizer')
    team = teams.create_team('Chicago Public Library', organizer.email, slug='chicago-library').team
    invitation = invitations.invite(team.team_id, 'nia@example.org', organizer.user_id)
    invitation_path = invitations.invitation_path(invitation)
    invite_page = client.http.get(invitation_path).body.decode()
    register_url = f'/register?next={quote(invitation_path)}'
    assert f'href="{register_url}"' in invite_page

    browser = Visitor(client)
    form = browser.open(register_url).body.decode()
    assert f'name="next" value="{invitation_path}"' in form
    registered = post(client, '/register', {'name': 'Nia Newcomer', 'email': 'nia@example.org', 'password': PASSWORD,
                                            'next': invitation_path, 'csrf_token': csrf_from(form)}, browser.cookie)
    assert registered.status_code == 200 and 'Check your email' in registered.body.decode()
    [kept] = [c for c in _cookies(registered) if c.startswith(f'{sessions.NEXT_COOKIE_NAME}=')]
    browser.cookie = f'{browser.cookie}; {kept}'
    client.http.get(link_in(moto, 'nia@example.org', '/confirm'))

    login = browser.open('/login').body.decode()        # the confirmation page links plain /login
    assert f'name="next" value="{invitation_path}"' in login
    answer = post(client, '/login', {'email': 'nia@example.org', 'password': PASSWORD, 'next': invitation_path,
                                     'csrf_token': csrf_from(login)}, browser.cookie)
    assert answer.status_code == 303 and answer.headers['Location'] == invitation_path
    cookies = _cookies(answer)
    assert f'{sessions.NEXT_COOKIE_NAME}=' in cookies          # spent: cleared
    session_cookie = next(c for c in cookies if c.startswith(f'{sessions.COOKIE_NAME}='))
    page = client.http.get(invitation_path, headers={'Cookie': session_cookie}).body.decode()
    assert 'Accept and join Chicago Public Library' in page


@pytest.mark.parametrize('target', ['//evil.example/x', 'https://evil.example/', '/%2F/evil.example', '/\\evil'])
def test_an_unsafe_next_is_neither_kept_in_the_form_nor_in_a_cookie(client, target):
    browser = Visitor(client)
    form = browser.open(f'/register?next={quote(target)}').body.decode()
    assert 'name="next"' not in form
    registered = post(client, '/register', {'name': 'Nia Newcomer', 'email': 'nia@example.org', 'password': PASSWORD,
                                            'next': target, 'csrf_token': csrf_from(form)}, browser.cookie)
    assert registered.status_code == 200
    assert not [c for c in _cookies(registered) if c.startswith(f'{sessions.NEXT_COOKIE_NAME}=')]


def test_a_forged_kept_next_cookie_is_checked_like_any_next(client):
    cookie = f'{sessions.NEXT_COOKIE_NAME}={quote("//evil.example/", safe="")}'
    login = client.http.get('/login', headers={'Cookie': cookie}).body.decode()
    assert re.search(r'name="next" value="/dashboard"', login)


def test_registration_errors_keep_the_next(client):
    browser = Visitor(client)
    form = browser.open('/register?next=/teams/chicago-library').body.decode()
    again = post(client, '/register', {'name': 'Nia', 'email': 'nope', 'password': 'short', 'next': '/teams/chicago-library',
                                       'csrf_token': csrf_from(form)}, browser.cookie)
    body = again.body.decode()
    assert again.status_code == 400 and 'name="next" value="/teams/chicago-library"' in body
    assert 'href="/login?next=/teams/chicago-library"' in body
