from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from chalicelib.accounts import accounts
from chalicelib.circles import circles
from chalicelib.ops import demo
from chalicelib.accounts import sessions
from chalicelib.ops.demo import FACILITATOR, ORGANIZER, SECOND_FACILITATOR, load_demo_data
from chalicelib.models import TeamMember

CITY_TIMEZONES = {'Chicago': 'America/Chicago', 'Nairobi': 'Africa/Nairobi', 'Berlin': 'Europe/Berlin',
                  'Buenos Aires': 'America/Argentina/Buenos_Aires'}


def listed(client, query=''):
    response = client.http.get(f'/api/learningcircles/{query}')
    assert response.status_code == 200, response.body
    return response.json_body


def account(email):
    return accounts.user_for_email(email)


def test_demo_circles_are_listed_in_four_cities_on_three_continents(client):
    load_demo_data()
    body = listed(client)
    items = body['items']
    assert body['count'] == len(items) >= 12
    assert {item['city'] for item in items} == set(CITY_TIMEZONES)
    assert len({item['time_zone'].split('/')[0] for item in items}) >= 3
    for item in items:
        assert item['time_zone'] == CITY_TIMEZONES[item['city']], item['name']
        start = datetime.fromisoformat(item['start_datetime'])
        expected = start.replace(tzinfo=None).replace(tzinfo=ZoneInfo(item['time_zone'])).utcoffset()
        assert start.utcoffset() == expected, item['name']


def test_demo_has_upcoming_running_closed_and_finished_circles(client):
    load_demo_data()
    statuses = [item['status'] for item in listed(client)['items']]
    assert {'upcoming', 'in_progress', 'closed', 'completed'} <= set(statuses)
    assert statuses.count('upcoming') >= 3 and statuses.count('completed') >= 3


def test_demo_online_circles_have_a_link_and_no_coordinates(client):
    load_demo_data()
    online = listed(client, '?online=true')['items']
    assert len(online) >= 2
    for item in online:
        assert item['latitude'] is None and item['longitude'] is None
        assert circles.get_circle(item['id']).online_link.startswith('https://')
    in_person = listed(client, '?online=false')['items']
    assert all(item['latitude'] is not None and item['venue_address'] for item in in_person)


def test_demo_signup_questions_small_capacity_and_hidden_draft(client):
    load_demo_data()
    items = listed(client)['items']
    assert len([item for item in items if item.get('signup_question')]) >= 2
    small = [item for item in items if item['signup_limit'] is not None]
    assert len(small) == 1 and small[0]['signup_limit'] <= 5
    assert small[0]['signup_count'] == 2 and small[0]['signup_open']
    drafts = [spec['name'] for spec in demo.CIRCLES if spec.get('published') is False]
    assert len(drafts) == 1
    # Every circle but the draft, and the finished one whose insights report is published.
    assert len(items) == len(demo.CIRCLES) - 1 + 1
    assert drafts[0] not in {item['name'] for item in items}
    assert len([item for item in items if item['report_url']]) == 1


def test_demo_accounts_log_in_with_the_printed_passwords_and_lead_the_circles(client):
    logins = load_demo_data()
    assert {login['email'] for login in logins} == {FACILITATOR['email'], ORGANIZER['email'],
                                                   SECOND_FACILITATOR['email']}
    for login in logins:
        user = accounts.log_in(login['email'], login['password'], '127.0.0.1')
        assert user.email_confirmed and user.password_hash.startswith('$argon2id$')
    facilitator, second = account(FACILITATOR['email']), account(SECOND_FACILITATOR['email'])
    items = listed(client)['items']
    led = [item['facilitator'] for item in items]
    assert set(led) == {facilitator.first_name, second.first_name} and led.count(second.first_name) == 1
    first = next(item for item in items if item['facilitator'] == facilitator.first_name)
    assert circles.get_circle(first['id']).facilitator_emails == [FACILITATOR['email']]


def test_demo_team_has_an_organizer_two_facilitators_a_slug_and_its_own_circles(client):
    from chalicelib.teams import teams
    load_demo_data()
    organizer = account(ORGANIZER['email'])
    memberships = list(TeamMember.by_user.query(f'USER#{organizer.user_id}'))
    assert [(m.role, m.user_sk) for m in memberships] == [('organizer', f'TEAM#{memberships[0].team_id}')]
    team = teams.team_for_slug(demo.TEAM_SLUG)
    assert team.team_id == memberships[0].team_id
    members = {m.user_id: m.role for m in teams.team_partition(team.team_id).members}
    assert members == {organizer.user_id: 'organizer', account(FACILITATOR['email']).user_id: 'facilitator',
                       account(SECOND_FACILITATOR['email']).user_id: 'facilitator'}
    assert sessions.organized_team_ids(organizer.user_id) == [memberships[0].team_id]
    team_items = listed(client, f'?team_id={memberships[0].team_id}')['items']
    assert 1 <= len(team_items) < listed(client)['count']
    assert {item['city'] for item in team_items} == {'Chicago'}


def test_loading_the_demo_twice_writes_nothing_more(client):
    load_demo_data()
    before = listed(client)['count']
    load_demo_data()
    assert listed(client)['count'] == before
    assert accounts.log_in(FACILITATOR['email'], FACILITATOR['password'], '127.0.0.1')


def test_demo_dates_follow_now(client):
    """Statuses are relative to the `now` the demo was loaded with, in each circle's timezone."""
    now = datetime.now(timezone.utc)
    load_demo_data(now)
    for item in listed(client)['items']:
        today = now.astimezone(ZoneInfo(item['time_zone'])).date().isoformat()
        if item['status'] == 'upcoming':
            assert item['start_date'] > today
        elif item['status'] == 'completed':
            assert item['last_meeting_date'] < today
        else:
            assert item['start_date'] <= today <= item['last_meeting_date']


def test_demo_facilitator_sees_the_demo_circles_on_their_dashboard():
    from chalicelib.accounts import accounts
    from chalicelib.ops import demo
    from chalicelib.facilitators import access as facilitation
    logins = demo.load_demo_data()
    facilitator = next(login for login in logins if 'facilitator' in login['email'])
    user = accounts.log_in(facilitator['email'], facilitator['password'], '127.0.0.1')
    assert len(facilitation.my_circles(user.user_id)) >= 12
