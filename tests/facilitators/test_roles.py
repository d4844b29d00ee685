"""Who may use the facilitator routes: a matrix over EVERY route under /facilitate/ (and the
dashboard), discovered from `app.routes`, so a route added later is covered without editing
this file (unless it has a path placeholder this file does not know: it then fails and says so).

- anonymous: 303 to the login page, nothing changes;
- another facilitator (runs a circle of their own): 404 for every circle route, learning
  nothing and changing nothing;
- the facilitator, a co-facilitator and an organizer of the circle's team: allowed
  (GET 200 or 303, POST 200, 303 or 400 when the sample body is not a valid form), except the
  end-of-circle survey, the facilitators' own: an organizer gets 404 there;
- every POST without the CSRF token: 403, nothing changes.
"""
import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest

from chalicelib.facilitators import circle_admin
from chalicelib.circles import circles
from tests.support.factories import local_today
from tests.facilitators.test_facilitator_pages import Browser, account, learner, organizer_of, post, run_by

ROLES = ['anonymous', 'another facilitator', 'facilitator', 'co-facilitator', 'organizer']
ALLOWED = {'facilitator', 'co-facilitator', 'organizer'}
TEAM = 't-roles'
# The facilitators' end-of-circle survey (chalicelib/handlers/surveys.py): not the organizers'.
FACILITATORS_ONLY = {'/facilitate/circles/{circle_id}/survey', '/facilitate/circles/{circle_id}/survey/thanks'}


def facilitator_routes():
    """(path, method, view name) of every route a facilitator uses."""
    from app import app
    return sorted((path, method, entry.view_name)
                  for path, methods in app.routes.items() for method, entry in methods.items()
                  if method in ('GET', 'POST') and (path == '/dashboard' or path.startswith('/facilitate/')))


ROUTES = facilitator_routes()


class World:
    """A running circle of a team, run by a facilitator and a co-facilitator, with one learner;
    a stranger who runs another circle, an organizer of the team, and one more account."""
    def __init__(self):
        self.facilitator = account('Fay Facilitator')
        self.co_facilitator = account('Cody Cofacilitator')
        self.stranger = account('Sam Stranger')
        self.organizer = organizer_of(TEAM)
        self.newcomer = account('Nia Newcomer')
        today = local_today('America/Chicago')
        self.circle = run_by(self.facilitator, self.co_facilitator, name='The secret circle name',
                             team_id=TEAM, first_date=today - timedelta(days=7), weeks=4)
        run_by(self.stranger, name="The stranger's own circle")
        self.signup = learner(self.circle, 'Lea Learner', 'lea@example.org')
        # The circle's end-of-circle surveys are open (as the survey job leaves them).
        from chalicelib.models import CircleEnding
        now = circles.utcnow()
        CircleEnding(*CircleEnding.key(self.circle.id), circle_id=self.circle.id, stage='SURVEY_REMINDER',
                     last_meeting_ends_at=now, surveys_sent_at=now, surveys_close_at=now + timedelta(days=7)).save()

    def user(self, role):
        return {'another facilitator': self.stranger, 'facilitator': self.facilitator,
                'co-facilitator': self.co_facilitator, 'organizer': self.organizer}[role]

    def placeholder(self, name, path):
        past, upcoming = self.circle.meetings[0], self.circle.meetings[1]
        values = {
            'circle_id': lambda: self.circle.id,
            # Moving or cancelling needs a meeting that has not started; feedback and the like, one that has.
            'meeting_id': lambda: upcoming.meeting_id if path.endswith(('/move', '/cancel')) else past.meeting_id,
            'user_id': lambda: self.co_facilitator.user_id,
            'signup_id': lambda: self.signup.signup_id,
            'step': lambda: '1',
            'message_key': self.message_key,
        }
        if name not in values:
            pytest.fail(f'{path} has a placeholder {{{name}}} that tests/facilitators/test_roles.py does not know: '
                        f'add a sample value for it in World.placeholder')
        return values[name]()

    def message_key(self):
        """A message the facilitator sent to the circle (recorded, not delivered)."""
        from chalicelib.models import CircleMessage
        key = 'roles-test-message'
        CircleMessage(*CircleMessage.key(self.circle.id, key), circle_id=self.circle.id, message_key=key,
                      subject='Hello', body='See you soon', author_id=self.facilitator.user_id,
                      author_name=self.facilitator.name, created_at=circles.utcnow()).save()
        return key

    def url(self, path):
        return re.sub(r'{(\w+)}', lambda m: quote(self.placeholder(m.group(1), path)), path)

    def body(self, view_name):
        """A valid form for the routes whose forms this file knows; others get only the CSRF token."""
        current = circles.get_circle(self.circle.id)
        next_week = (date.fromisoformat(current.meetings[-1].local_date) + timedelta(days=7)).isoformat()
        moved_to = (date.fromisoformat(current.meetings[1].local_date) + timedelta(days=1)).isoformat()
        return {
            'facilitator_edit': {**circle_admin.detail_values(current), 'name': 'Renamed',
                                 'version': circle_admin.version_of(current)},
            'facilitator_add_meeting': {'date': next_week, 'time': '18:00'},
            'facilitator_move_meeting': {'date': moved_to, 'time': '18:00'},
            'facilitator_set_signup_open': {'open': 'no'},
            'facilitator_add_cofacilitator': {'email': self.newcomer.email},
        }.get(view_name, {})

    def circle_state(self):
        """What a refused request must leave unchanged: the circle item as stored."""
        return circles.get_circle(self.circle.id).serialize()


def _request(client, world, path, method, view_name, browser, csrf=True):
    url = world.url(path)
    headers = {'Cookie': browser.cookie} if browser else {}
    if method == 'GET':
        return url, client.http.get(url, headers=headers)
    return url, post(client, url, world.body(view_name), browser, csrf=csrf)


@pytest.mark.parametrize('role', ROLES)
@pytest.mark.parametrize('path, method, view_name', ROUTES, ids=[f'{m} {p}' for p, m, _ in ROUTES])
def test_role_matrix(client, path, method, view_name, role):
    world = World()
    browser = None if role == 'anonymous' else Browser(world.user(role))
    before = world.circle_state()
    url, response = _request(client, world, path, method, view_name, browser)
    status, location = response.status_code, response.headers.get('Location', '')
    circle_route = '{circle_id}' in path
    if role == 'anonymous':
        assert status == 303 and location == f'/login?next={url}', (status, location)
        assert world.circle_state() == before
    elif (role == 'another facilitator' and circle_route) or (role == 'organizer' and path in FACILITATORS_ONLY):
        assert status == 404, status
        assert 'secret circle' not in response.body.decode() and 'Lea Learner' not in response.body.decode()
        assert world.circle_state() == before
    else:
        allowed = {200, 303} if method == 'GET' else {200, 303, 400}
        assert status in allowed, (status, response.body[:500])
        assert not location.startswith('/login'), location


POSTS = [route for route in ROUTES if route[1] == 'POST']


@pytest.mark.parametrize('path, method, view_name', POSTS, ids=[f'{m} {p}' for p, m, _ in POSTS])
def test_posts_without_the_csrf_token_are_refused(client, path, method, view_name):
    world = World()
    before = world.circle_state()
    _, response = _request(client, world, path, method, view_name, Browser(world.facilitator), csrf=False)
    assert response.status_code == 403
    assert world.circle_state() == before


def test_the_matrix_covers_the_routes_of_this_issue():
    """Guard against the discovery silently finding nothing."""
    views = {view for _, _, view in ROUTES}
    assert {'dashboard', 'facilitator_circle', 'facilitator_signups_csv', 'facilitator_edit_page',
            'facilitator_edit', 'facilitator_meetings_page', 'facilitator_add_meeting',
            'facilitator_move_meeting', 'facilitator_cancel_meeting', 'facilitator_set_signup_open',
            'facilitator_unpublish', 'facilitator_add_cofacilitator',
            'facilitator_remove_cofacilitator'} <= views


# --- roles follow the current membership, not the one at login ---------------------------

def _membership(world):
    from chalicelib.models import TeamMember
    return TeamMember.get(f'TEAM#{TEAM}', f'MEMBER#{world.organizer.user_id}')


def test_a_revoked_organizer_loses_access_on_the_next_request(client):
    world = World()
    organizer = Browser(world.organizer)
    page = f'/facilitate/circles/{world.circle.id}'
    assert client.http.get(page, headers={'Cookie': organizer.cookie}).status_code == 200
    assert 'The secret circle name' in client.http.get('/dashboard', headers={'Cookie': organizer.cookie}).body.decode()
    _membership(world).delete()
    assert client.http.get(page, headers={'Cookie': organizer.cookie}).status_code == 404
    dashboard = client.http.get('/dashboard', headers={'Cookie': organizer.cookie})
    assert dashboard.status_code == 200 and 'The secret circle name' not in dashboard.body.decode()


def test_an_organizer_demoted_to_facilitator_loses_the_organizer_role_at_once(client):
    from chalicelib.models import TeamMember
    world = World()
    organizer = Browser(world.organizer)
    _membership(world).update(actions=[TeamMember.role.set('facilitator')])
    response = client.http.get(f'/facilitate/circles/{world.circle.id}', headers={'Cookie': organizer.cookie})
    assert response.status_code == 404 and 'secret circle' not in response.body.decode()


def test_checking_the_current_membership_costs_no_extra_call(client):
    """The organizer's session and memberships come in one BatchGetItem, where a facilitator's
    session is one GetItem: the same number of calls for the same page."""
    from tests.support import aws_calls
    world = World()
    page = f'/facilitate/circles/{world.circle.id}'
    costs = {}
    for role in ('facilitator', 'organizer'):
        browser = Browser(world.user(role))
        aws_calls.reset()
        assert client.http.get(page, headers={'Cookie': browser.cookie}).status_code == 200
        costs[role] = aws_calls.dynamodb_calls()
    assert costs['organizer'].get('GetItem', 0) == costs['facilitator'].get('GetItem', 0) - 1
    assert costs['organizer'].get('BatchGetItem', 0) == costs['facilitator'].get('BatchGetItem', 0) + 1
    assert sum(costs['organizer'].values()) == sum(costs['facilitator'].values())

