"""The team's public page and its widget over HTTP: what they list (read from the in-memory
catalog, no DynamoDB call per circle), the 404s, and which pages may be framed."""
from datetime import timedelta

import pytest

from chalicelib.teams import team_page, teams
from tests.facilitators.test_facilitator_pages import Browser, account, get
from tests.support import aws_calls
from tests.support.factories import local_today, make_circle


def _team(**fields):
    organizer = account('Olu Organizer')
    created = teams.create_team('Chicago Public Library', organizer.email, slug='chicago-library',
                                introduction='Free study groups in every branch.', city='Chicago',
                                country='United States', **fields)
    return created.team, organizer


def _body(response):
    return response.body.decode()


def test_the_team_page_shows_the_introduction_and_upcoming_and_running_circles_with_signup_links(client):
    team, _ = _team(image_url='https://example.org/team.png')
    upcoming = make_circle(name='Python next week', team_id=team.team_id, starts_in_days=7)
    running = make_circle(name='Spanish running now', team_id=team.team_id,
                          first_date=local_today('America/Chicago') - timedelta(days=14), weeks=6)
    make_circle(name='Finished last month', team_id=team.team_id,
                first_date=local_today('America/Chicago') - timedelta(days=70), weeks=4)
    make_circle(name='A draft of the team', team_id=team.team_id, published=False)
    make_circle(name='Another team circle', team_id='t-other')
    response = get(client, '/teams/chicago-library')
    body = _body(response)
    assert response.status_code == 200
    assert '<h1>Chicago Public Library</h1>' in body and 'Free study groups in every branch.' in body
    assert 'src="https://example.org/team.png"' in body and 'Chicago, United States' in body
    assert f'href="/circles/{upcoming.id}#signup"' in body and f'href="/circles/{running.id}#signup"' in body
    assert body.index('Spanish running now') < body.index('Python next week')       # soonest first
    for absent in ('Finished last month', 'A draft of the team', 'Another team circle'):
        assert absent not in body
    assert response.headers['X-Frame-Options'] == 'DENY'
    assert "frame-ancestors 'none'" in response.headers['Content-Security-Policy']


def test_the_team_page_reads_the_team_by_its_slug_and_no_circle(client):
    team, _ = _team()
    for n in range(5):
        make_circle(name=f'Circle {n}', team_id=team.team_id)
    get(client, '/teams/chicago-library')           # the catalog is read once per container
    aws_calls.reset()
    assert get(client, '/teams/chicago-library').status_code == 200
    calls = aws_calls.dynamodb_calls()
    # The catalog refresh (tests refresh on every request) is one Query of the `catalog` index.
    assert calls.get('GetItem') == 2 and calls.get('Query', 0) <= 1, calls
    assert not calls.get('BatchGetItem') and not calls.get('Scan'), calls


def test_an_unknown_slug_is_a_404_page_and_so_is_its_widget(client):
    assert get(client, '/teams/no-such-team').status_code == 404
    response = get(client, '/teams/no-such-team/embed')
    assert response.status_code == 404 and 'There is no team at this address.' in _body(response)


def test_the_widget_lists_the_same_circles_and_may_be_framed_by_any_site(client):
    team, _ = _team()
    circle = make_circle(name='Python next week', team_id=team.team_id)
    response = get(client, '/teams/chicago-library/embed')
    body = _body(response)
    assert response.status_code == 200 and 'Python next week' in body
    assert f'href="/teams/chicago-library/embed/{circle.id}"' in body
    assert '<script src="/static/team-embed.js"></script>' in body
    assert 'X-Frame-Options' not in response.headers
    policy = response.headers['Content-Security-Policy']
    assert 'frame-ancestors *' in policy and "frame-ancestors 'none'" not in policy
    assert "script-src 'self'" in policy and "form-action 'self'" in policy
    # Links to pages that may not be framed open outside the frame.
    assert 'href="/privacy" target="_blank"' in body


def test_a_member_sees_how_to_leave_and_others_do_not(client):
    team, organizer = _team()
    assert 'Leave the team' in _body(get(client, '/teams/chicago-library', Browser(organizer)))
    assert 'Leave the team' not in _body(get(client, '/teams/chicago-library', Browser(account('Sam Stranger'))))
    assert 'Leave the team' not in _body(get(client, '/teams/chicago-library'))


def test_the_snippet_frames_the_widget_loads_our_script_and_links_the_page_without_javascript():
    team, _ = _team()
    snippet = team_page.embed_snippet(team)
    assert '<iframe src="http://circles.test/teams/chicago-library/embed"' in snippet
    assert 'title="Learning circles of Chicago Public Library"' in snippet and 'data-circles-embed' in snippet
    assert '<script src="http://circles.test/static/team-embed.js" async></script>' in snippet
    assert '<a href="http://circles.test/teams/chicago-library">' in snippet


def test_the_snippet_escapes_the_team_name():
    team, _ = _team()
    team.name = 'Books & "Bytes" <Club>'
    snippet = team_page.embed_snippet(team)
    assert '<Club>' not in snippet and '&lt;Club&gt;' in snippet and '&#34;Bytes&#34;' in snippet


def test_the_members_page_shows_the_snippet_in_a_labelled_read_only_field(client):
    team, organizer = _team()
    body = _body(get(client, f'/organize/{team.team_id}/members', Browser(organizer)))
    assert '<label for="embed-snippet">' in body and '<textarea id="embed-snippet" readonly' in body
    assert '&lt;iframe src=&#34;http://circles.test/teams/chicago-library/embed&#34;' in body


def test_the_embed_script_is_served_from_our_origin(client):
    response = get(client, '/static/team-embed.js')
    assert response.status_code == 200 and response.headers['Content-Type'].startswith('text/javascript')
    assert 'postMessage' in _body(response)


@pytest.mark.parametrize('path', ['/', '/teams/chicago-library', '/login', '/dashboard'])
def test_every_other_page_may_not_be_framed(client, path):
    _team()
    response = get(client, path)
    if response.status_code == 303:
        response = get(client, response.headers['Location'])
    assert response.headers['X-Frame-Options'] == 'DENY'
    assert "frame-ancestors 'none'" in response.headers['Content-Security-Policy']
