"""Headers every response carries (handlers/web.py `response_headers`): pages and files that show
someone's data are never stored by browsers or proxies, `nosniff` on everything including the
API's JSON, HSTS outside the local stage; the same on the 500 page."""
import pytest

from chalicelib.handlers.web import HSTS, PUBLIC_ROUTES, transport_headers
from chalicelib.learners import rsvp
from chalicelib.learners.details import details_link
from chalicelib.learners.signup import sign_up, withdraw_link
from tests.facilitators.test_facilitator_pages import Browser, account, run_by
from tests.handlers.test_errors import small_app  # noqa: F401 - the fixture, found by name
from tests.support.factories import make_circle

BASE = 'http://circles.test'


def learner(circle):
    signup, _, _ = sign_up(circle.id, {'name': 'Grace Hopper', 'email': 'grace@example.org', 'consent': 'true',
                                       'mobile': '+1 312 555 0101'})
    return signup


def get(client, url, cookie=None):
    response = client.http.get(url.removeprefix(BASE), headers={'Cookie': cookie} if cookie else {})
    assert response.status_code < 500, (url, response.status_code)
    return response


def test_pages_and_files_with_learner_data_are_never_stored(client):
    dee = Browser(account())
    circle = run_by(dee.user)
    signup = learner(circle)
    meeting = circle.meetings[0]
    private = {
        'facilitator page': (f'/facilitate/circles/{circle.id}', dee.cookie),
        'signups export': (f'/facilitate/circles/{circle.id}/signups.csv', dee.cookie),
        'dashboard': ('/dashboard', dee.cookie),
        'rsvp page': (rsvp.learner_links(signup, meeting)['yes'], None),
        'rsvp link that does not work': ('/rsvp/nope', None),
        'unsubscribe page': (rsvp.unsubscribe_url(signup), None),
        'withdraw page': (withdraw_link(signup), None),
        'details page': (details_link(signup), None),
        'learner feed': (rsvp.learner_feed_url(signup), None),
        'short rsvp link': (rsvp.learner_links(signup, meeting)['short'], None),
        'texts page': (rsvp.learner_links(signup, meeting)['texts'], None),
        'thanks page': (f'/circles/{circle.id}/thanks', None),
    }
    for name, (url, cookie) in private.items():
        response = get(client, url, cookie)
        assert response.headers.get('Cache-Control') == 'no-store', name
        assert response.headers.get('X-Content-Type-Options') == 'nosniff', name


def test_public_pages_may_be_cached_and_a_handlers_own_cache_control_wins(client):
    circle = make_circle()
    for url in ('/', f'/circles/{circle.id}', '/api/learningcircles', '/api/openapi.json'):
        response = get(client, url)
        assert 'no-store' not in response.headers.get('Cache-Control', ''), url
        assert response.headers['X-Content-Type-Options'] == 'nosniff', url
    calendar = get(client, f'/circles/{circle.id}/calendar.ics')
    assert calendar.headers['Cache-Control'] == 'public, max-age=300'


def test_api_json_answers_carry_nosniff_errors_too(client):
    circle = make_circle()
    answers = [client.http.get('/api/learningcircles?limit=1'),
               client.http.get(f'/api/learningcircles/{circle.id}'),
               client.http.get('/api/learningcircles?limit=nope'),
               client.http.get('/api/no-such-thing'),
               client.http.post('/api/signup', headers={'Content-Type': 'application/json'}, body='[]')]
    assert sorted(r.status_code for r in answers) == [200, 200, 400, 400, 404]
    for response in answers:
        assert response.headers['Content-Type'] == 'application/json'
        assert response.headers['X-Content-Type-Options'] == 'nosniff'


def test_hsts_is_sent_outside_the_local_stage_only(client):
    assert transport_headers('/', local=False)['Strict-Transport-Security'] == HSTS
    assert 'Strict-Transport-Security' not in transport_headers('/', local=True)
    assert transport_headers('/rsvp/{token}', local=False)['Cache-Control'] == 'no-store'
    assert 'Cache-Control' not in transport_headers('/circles/{circle_id}', local=False)
    # The tests run the local stage (plain HTTP): no HSTS there.
    assert 'Strict-Transport-Security' not in client.http.get('/').headers


def test_a_route_is_private_unless_listed_as_public(client):
    """Every public route exists, so the list cannot silently name a route that moved."""
    from app import app
    assert PUBLIC_ROUTES <= set(app.routes)
    assert not any(route.startswith(('/facilitate', '/rsvp', '/r/', '/withdraw', '/unsubscribe', '/calendar',
                                     '/my-details', '/account', '/dashboard')) for route in PUBLIC_ROUTES)


@pytest.mark.parametrize('path', ['/broken', '/api/broken'])
def test_the_500_answer_carries_the_headers_too(small_app, path):
    response = small_app.http.get(path)
    assert response.status_code == 500
    assert response.headers['X-Content-Type-Options'] == 'nosniff'
    assert response.headers['Cache-Control'] == 'no-store'
