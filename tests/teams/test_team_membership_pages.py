"""Leaving a team, site administrators creating one, and sessions that learn role changes."""
from urllib.parse import quote

import pytest

from chalicelib.accounts import sessions
from chalicelib.core.settings import get_settings
from chalicelib.teams import invitations, teams
from tests.facilitators.test_facilitator_pages import Browser, account, get, post, run_by
from tests.support import aws_calls

SLUG = 'chicago-library'


def _team():
    organizer = account('Olu Organizer')
    team = teams.create_team('Chicago Public Library', organizer.email, slug=SLUG).team
    return team, organizer


def _join(team, organizer, user):
    team = invitations.set_join_link(team.team_id, organizer.user_id, on=True)
    return invitations.join_with_link(invitations.join_path(team).rsplit('/', 1)[1], user)[1]


# --- leaving ------------------------------------------------------------------------------------

def test_a_facilitator_leaves_after_confirming_and_their_circles_stay_in_the_team(client):
    team, organizer = _team()
    fay = account('Fay Facilitator')
    _join(team, organizer, fay)
    circle = run_by(fay, name='Fay circle', team_id=team.team_id)
    browser = Browser(fay)
    ask = get(client, f'/teams/{SLUG}/leave', browser)
    assert ask.status_code == 200 and 'Your circles stay in the team' in ask.body.decode()
    assert teams.membership(team.team_id, fay.user_id) is not None      # asking changes nothing
    done = post(client, f'/teams/{SLUG}/leave', {}, browser)
    body = done.body.decode()
    assert done.status_code == 200 and 'You left the team. Your circles stay in it.' in body
    assert teams.membership(team.team_id, fay.user_id) is None
    from chalicelib.circles import circles
    assert circles.get_circle(circle.id).team_id == team.team_id
    # The same session no longer counts the team.
    assert 'Leave the team' not in get(client, f'/teams/{SLUG}', browser).body.decode()


def test_the_last_organizer_is_refused_with_a_clear_message_and_stays(client):
    team, organizer = _team()
    answer = post(client, f'/teams/{SLUG}/leave', {}, Browser(organizer))
    assert answer.status_code == 400 and 'at least one organizer' in answer.body.decode()
    assert teams.membership(team.team_id, organizer.user_id).role == teams.ORGANIZER


def test_an_organizer_who_is_not_the_last_may_leave(client):
    team, organizer = _team()
    other = account('Oz Organizer')
    _join(team, organizer, other)
    teams.change_role(team.team_id, organizer.user_id, other.user_id, teams.ORGANIZER)
    assert post(client, f'/teams/{SLUG}/leave', {}, Browser(organizer)).status_code == 200
    assert teams.membership(team.team_id, organizer.user_id) is None


def test_someone_outside_the_team_gets_404_and_anonymous_visitors_the_login(client):
    _team()
    stranger = Browser(account('Sam Stranger'))
    assert get(client, f'/teams/{SLUG}/leave', stranger).status_code == 404
    assert post(client, f'/teams/{SLUG}/leave', {}, stranger).status_code == 404
    answer = get(client, f'/teams/{SLUG}/leave')
    assert answer.status_code == 303 and answer.headers['Location'] == f'/login?next={quote(f"/teams/{SLUG}/leave")}'


def test_leaving_without_the_csrf_token_is_refused(client):
    team, organizer = _team()
    fay = account('Fay Facilitator')
    _join(team, organizer, fay)
    assert post(client, f'/teams/{SLUG}/leave', {}, Browser(fay), csrf=False).status_code == 403
    assert teams.membership(team.team_id, fay.user_id) is not None


# --- site administrators -----------------------------------------------------------------------

@pytest.fixture
def site_admin(monkeypatch):
    """An account whose address is listed in CIRCLES_SITE_ADMINS (settings read afresh)."""
    admin = account('Ada Admin', email='Ada.Admin@example.org')
    monkeypatch.setenv('CIRCLES_SITE_ADMINS', ' someone@example.org, ada.admin@example.org ')
    get_settings.cache_clear()
    yield admin
    monkeypatch.delenv('CIRCLES_SITE_ADMINS')
    get_settings.cache_clear()


def test_the_setting_lists_addresses_lowercased(site_admin):
    assert get_settings().site_admin_emails == {'someone@example.org', 'ada.admin@example.org'}


def test_a_site_administrator_creates_a_team_for_an_existing_account(client, site_admin):
    olu = account('Olu Organizer')
    browser = Browser(site_admin)
    page = get(client, '/admin/teams/new', browser)
    assert page.status_code == 200 and '<label for="organizer_email">' in page.body.decode()
    done = post(client, '/admin/teams/new', {'name': 'Nairobi Makers', 'slug': 'nairobi-makers',
                                            'organizer_email': olu.email}, browser)
    body = done.body.decode()
    assert done.status_code == 201 and '/teams/nairobi-makers' in body and f'{olu.email} is its organizer' in body
    team = teams.team_for_slug('nairobi-makers')
    assert team.name == 'Nairobi Makers' and teams.membership(team.team_id, olu.user_id).role == teams.ORGANIZER


def test_a_site_administrator_invites_an_address_without_account_and_sees_problems_again(client, site_admin, moto):
    browser = Browser(site_admin)
    bad = post(client, '/admin/teams/new', {'name': '', 'organizer_email': 'not an address'}, browser)
    body = bad.body.decode()
    assert bad.status_code == 400 and 'Please give the team a name.' in body
    assert 'id="organizer_email-error"' in body or 'valid email' in body
    taken = teams.create_team('First', 'x@example.org', slug='taken').team
    again = post(client, '/admin/teams/new', {'name': 'Second', 'slug': 'taken',
                                             'organizer_email': 'new@example.org'}, browser)
    assert again.status_code == 400 and 'is taken' in again.body.decode()
    assert teams.team_for_slug('taken').team_id == taken.team_id
    done = post(client, '/admin/teams/new', {'name': 'Lagos Readers', 'organizer_email': 'new@example.org'}, browser)
    assert done.status_code == 201 and 'an organizer invitation is on its way' in done.body.decode()
    assert [m for m in moto.sent_emails() if m['To'] == 'new@example.org']


def test_anyone_but_a_site_administrator_gets_404_and_nothing_is_created(client, site_admin):
    for browser in (None, Browser(account('Sam Stranger')), Browser(account('Ada Unconfirmed',
                                                                             email='someone@example.org',
                                                                             confirmed=False))):
        assert get(client, '/admin/teams/new', browser).status_code == 404
        answer = post(client, '/admin/teams/new', {'name': 'Sneaky', 'slug': 'sneaky',
                                                   'organizer_email': 'x@example.org'}, browser)
        assert answer.status_code == 404
    assert teams.team_for_slug('sneaky') is None


def test_a_site_administrators_post_without_the_csrf_token_is_refused(client, site_admin):
    answer = post(client, '/admin/teams/new', {'name': 'Forged', 'slug': 'forged', 'organizer_email': 'x@example.org'},
                  Browser(site_admin), csrf=False)
    assert answer.status_code == 403 and teams.team_for_slug('forged') is None


# --- sessions learn role changes ----------------------------------------------------------------

def test_a_promotion_counts_on_the_next_request_in_a_session_started_before_it(client):
    team, organizer = _team()
    fay = account('Fay Facilitator')
    _join(team, organizer, fay)
    browser = Browser(fay)                          # signed in as a facilitator of the team
    assert sessions.from_cookie_header(browser.cookie).organizer_team_ids == []
    teams.change_role(team.team_id, organizer.user_id, fay.user_id, teams.ORGANIZER)
    assert sessions.from_cookie_header(browser.cookie).organizer_team_ids == [team.team_id]
    teams.change_role(team.team_id, organizer.user_id, fay.user_id, teams.FACILITATOR)
    assert sessions.from_cookie_header(browser.cookie).organizer_team_ids == []


def test_the_session_is_still_read_in_one_call(client):
    team, organizer = _team()
    fay = account('Fay Facilitator')
    _join(team, organizer, fay)
    second = teams.create_team('Second Team', fay.email, slug='second').team
    browser = Browser(fay)
    aws_calls.reset()
    session = sessions.from_cookie_header(browser.cookie)
    assert aws_calls.dynamodb_calls() == {'BatchGetItem': 1}
    assert session.team_ids == sorted([team.team_id, second.team_id])
    assert session.organizer_team_ids == [second.team_id]


def test_accepting_an_organizer_invitation_counts_on_the_next_request_of_that_browser(client):
    team, organizer = _team()
    fay = account('Fay Facilitator', email='fay@example.org')
    browser = Browser(fay)                          # signed in before being invited
    invitation = invitations.invite(team.team_id, 'fay@example.org', organizer.user_id, role=teams.ORGANIZER)
    token = invitations.invitation_path(invitation).rsplit('/', 1)[1]
    answer = post(client, f'/teams/invitations/{token}', {}, browser)
    assert answer.status_code == 303
    cookie = answer.headers['Set-Cookie'].split(';')[0]
    assert cookie.startswith(f'{sessions.COOKIE_NAME}=') and cookie != browser.cookie
    session = sessions.from_cookie_header(cookie)
    assert session.session_id == sessions.from_cookie_header(browser.cookie).session_id     # the same session
    assert session.organizer_team_ids == [team.team_id]
    assert sessions.from_cookie_header(browser.cookie).organizer_team_ids == []            # the old cookie


def test_joining_with_the_link_refreshes_the_cookie_too(client):
    team, organizer = _team()
    team = invitations.set_join_link(team.team_id, organizer.user_id, on=True)
    fay = account('Fay Facilitator')
    browser = Browser(fay)
    answer = post(client, invitations.join_path(team), {}, browser)
    assert answer.status_code == 303
    session = sessions.from_cookie_header(answer.headers['Set-Cookie'].split(';')[0])
    assert session.team_ids == [team.team_id] and session.organizer_team_ids == []
