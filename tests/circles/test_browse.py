"""GET /api/learningcircles/: every parameter, their combinations, ordering, paging."""
from datetime import timedelta

import pytest

from chalicelib.circles import circles
from chalicelib.circles import geo
from tests.support import aws_calls
from tests.support.factories import local_today, make_circle

NAIROBI = dict(city='Nairobi', region='Nairobi County', country='Kenya',
               latitude=-1.2864, longitude=36.8172, timezone_name='Africa/Nairobi')
BERLIN = dict(city='Berlin', region='Berlin', country='Germany',
              latitude=52.52, longitude=13.405, timezone_name='Europe/Berlin')
ONLINE = dict(city=None, region=None, country=None, latitude=None, longitude=None,
              timezone_name='America/Chicago', online=True, online_link='https://meet.example.org/x')


def browse(client, query=''):
    response = client.http.get(f'/api/learningcircles/?{query}')
    assert response.status_code == 200, response.body
    return response.json_body


def names(body):
    return [item['name'] for item in body['items']]


def test_lists_published_circles_but_never_drafts(client):
    make_circle(name='Published')
    make_circle(name='Draft', published=False)
    assert names(browse(client)) == ['Published']


def test_item_has_the_public_shape(client):
    circle = make_circle(signup_question='Why now?', capacity=12, first_date=None, starts_in_days=8)
    item = browse(client)['items'][0]
    for key in ['id', 'name', 'course', 'facilitator', 'facilitators', 'venue', 'venue_address',
                'venue_website', 'city', 'region', 'country', 'latitude', 'longitude', 'online',
                'language', 'day', 'start_date', 'start_datetime', 'meeting_time', 'time_zone',
                'last_meeting_date', 'end_time', 'weeks', 'url', 'report_url', 'draft', 'signup_limit',
                'signup_count', 'signup_open', 'status', 'signup_question', 'next_meeting_date']:
        assert key in item, key
    assert set(item['course']) >= {'id', 'title', 'provider', 'link'}
    assert item['id'] == circle.id
    assert item['facilitator'] == 'Ada' and item['facilitators'] == ['Ada']
    assert item['weeks'] == 6 and item['signup_limit'] == 12 and item['signup_count'] == 0
    assert item['meeting_time'] == '18:00' and item['end_time'] == '19:30'
    assert item['time_zone'] == 'America/Chicago'
    assert item['start_datetime'].startswith(item['start_date'] + 'T18:00:00-0')
    assert item['status'] == 'upcoming' and item['signup_open'] is True and item['draft'] is False
    assert item['url'] == f'http://circles.test/circles/{circle.id}'
    assert item['next_meeting_date'] == item['start_date']


@pytest.mark.parametrize('starts_in_days, signup_open, expected', [
    (3, True, 'upcoming'),
    (-14, True, 'in_progress'),
    (-14, False, 'closed'),
    (3, False, 'closed'),
    (-60, True, 'completed'),
    (-60, False, 'completed'),
])
def test_status_follows_dates_and_signup(client, starts_in_days, signup_open, expected):
    make_circle(starts_in_days=starts_in_days, signup_open=signup_open)
    assert browse(client)['items'][0]['status'] == expected


def test_status_uses_the_circles_own_timezone(client, time_machine):
    # 23:30 UTC on the last meeting day in Chicago is already the next day in Nairobi.
    first = local_today('America/Chicago') + timedelta(days=10)
    make_circle(name='Chicago', first_date=first, weeks=1)
    make_circle(name='Nairobi', first_date=first, weeks=1, place=NAIROBI)
    time_machine.move_to(f'{first.isoformat()}T23:30:00+00:00', tick=False)
    statuses = {i['name']: i['status'] for i in browse(client)['items']}
    assert statuses == {'Chicago': 'in_progress', 'Nairobi': 'completed'}


def test_next_meeting_date_skips_past_meetings(client):
    circle = make_circle(starts_in_days=-8, weeks=4)
    item = browse(client)['items'][0]
    dates = [d.isoformat() for d in circles.meeting_dates(circle)]
    assert item['start_date'] == dates[0]
    assert item['next_meeting_date'] == dates[2]


def test_q_is_a_prefix_search_over_several_fields(client):
    make_circle(name='Writing circle', course_title='Creative Writing', provider='OpenLearn',
                topics=['writing'], venue_name='Rogers Park Library', facilitator_names=['Mira'])
    make_circle(name='Code club', course_title='Intro to Python', provider='Coursera', topics=['programming'])
    for query, expected in [('writ', ['Writing circle']), ('openl', ['Writing circle']),
                            ('rogers', ['Writing circle']), ('mira', ['Writing circle']),
                            ('pyth', ['Code club']), ('PROGRAM', ['Code club']),
                            ('writing rogers', ['Writing circle']), ('writing python', []),
                            ('chicago', ['Code club', 'Writing circle']), ('iting', [])]:
        assert sorted(names(browse(client, f'q={query}'))) == expected, query


def test_q_ignores_accents_and_case(client):
    make_circle(name='Programación básica', place=NAIROBI)
    assert names(browse(client, 'q=programacion%20BASI')) == ['Programación básica']


def test_city_matches_case_insensitively(client):
    make_circle(name='In Chicago')
    make_circle(name='In Berlin', place=BERLIN)
    assert names(browse(client, 'city=berlin')) == ['In Berlin']
    assert names(browse(client, 'city=CHICAGO')) == ['In Chicago']
    assert names(browse(client, 'city=Paris')) == []


def test_team_id_lists_the_teams_circles(client):
    make_circle(name='Team circle', team_id='team-1')
    make_circle(name='Other team', team_id='team-2')
    make_circle(name='No team')
    assert names(browse(client, 'team_id=team-1')) == ['Team circle']


def test_topics_match_any_listed_topic(client):
    make_circle(name='A', topics=['Python', 'Data'])
    make_circle(name='B', topics=['writing'])
    make_circle(name='C', topics=['art'])
    assert sorted(names(browse(client, 'topics=data,WRITING'))) == ['A', 'B']


def test_weekdays_filter_on_the_first_meetings_local_weekday(client):
    today = local_today('America/Chicago')
    monday = today + timedelta(days=7 - today.weekday())
    make_circle(name='Monday', first_date=monday)
    make_circle(name='Wednesday', first_date=monday + timedelta(days=2))
    assert names(browse(client, 'weekdays=0')) == ['Monday']
    assert sorted(names(browse(client, 'weekdays=0,2'))) == ['Monday', 'Wednesday']
    assert names(browse(client, 'weekdays=4')) == []


def test_online_filter(client):
    make_circle(name='Online', place=ONLINE)
    make_circle(name='In person')
    assert names(browse(client, 'online=true')) == ['Online']
    assert names(browse(client, 'online=false')) == ['In person']


def test_active_and_scopes(client):
    make_circle(name='Upcoming', starts_in_days=5)
    make_circle(name='Current', starts_in_days=-7)
    make_circle(name='Completed', starts_in_days=-90)
    assert sorted(names(browse(client, 'active=true'))) == ['Current', 'Upcoming']
    assert names(browse(client, 'active=false')) == ['Completed']
    assert sorted(names(browse(client, 'scope=active'))) == ['Current', 'Upcoming']
    assert names(browse(client, 'scope=upcoming')) == ['Upcoming']
    assert names(browse(client, 'scope=current')) == ['Current']
    assert names(browse(client, 'scope=completed')) == ['Completed']


def test_signup_filter_and_counts(client):
    make_circle(name='Open')
    make_circle(name='Closed by facilitator', signup_open=False)
    make_circle(name='Finished', starts_in_days=-90)
    body = browse(client)
    assert (body['count'], body['signup_open_count'], body['signup_closed_count']) == (3, 1, 2)
    body = browse(client, 'signup=open')
    assert names(body) == ['Open'] and body['count'] == 1
    assert (body['signup_open_count'], body['signup_closed_count']) == (1, 2)
    assert sorted(names(browse(client, 'signup=closed'))) == ['Closed by facilitator', 'Finished']


def test_filters_combine(client):
    make_circle(name='Berlin python', place=BERLIN, topics=['python'])
    make_circle(name='Berlin art', place=BERLIN, topics=['art'])
    make_circle(name='Berlin python finished', place=BERLIN, topics=['python'], starts_in_days=-90)
    make_circle(name='Chicago python', topics=['python'])
    body = browse(client, 'city=Berlin&topics=python&active=true&q=berl')
    assert names(body) == ['Berlin python']


@pytest.mark.parametrize('order, expected', [
    ('name', ['apple', 'Banana', 'cherry']),
    ('first_meeting_date', ['Banana', 'cherry', 'apple']),
    ('start_date', ['apple', 'cherry', 'Banana']),
    ('last_meeting_date', ['apple', 'cherry', 'Banana']),
    ('created_at', ['cherry', 'apple', 'Banana']),
])
def test_order(client, order, expected):
    make_circle(name='Banana', starts_in_days=2, weeks=2)
    make_circle(name='apple', starts_in_days=20, weeks=6)
    make_circle(name='cherry', starts_in_days=9, weeks=3)
    assert names(browse(client, f'order={order}')) == expected


def test_default_order_is_creation_order(client):
    for name in ['first', 'second', 'third']:
        make_circle(name=name)
    assert names(browse(client)) == ['first', 'second', 'third']


def test_limit_and_offset_page_through_results(client):
    for n in range(5):
        make_circle(name=f'circle {n}')
    body = browse(client, 'order=name&limit=2&offset=2')
    assert body['count'] == 5 and body['limit'] == 2 and body['offset'] == 2
    assert names(body) == ['circle 2', 'circle 3']
    assert names(browse(client, 'order=name&limit=2&offset=4')) == ['circle 4']
    assert names(browse(client, 'order=name&offset=3'))[0] == 'circle 3'
    assert 'limit' not in browse(client)


def _place_at_distance(km, bearing_deg, lat=41.8781, lon=-87.6298):
    """A point `km` away from (lat, lon) along `bearing_deg` (spherical earth, as geo uses)."""
    import math
    d = km / geo.EARTH_RADIUS_KM
    brg, phi1, lmb1 = map(math.radians, (bearing_deg, lat, lon))
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(brg))
    lmb2 = lmb1 + math.atan2(math.sin(brg) * math.sin(d) * math.cos(phi1),
                             math.cos(d) - math.sin(phi1) * math.sin(phi2))
    return dict(city='Somewhere', region='IL', country='United States', latitude=math.degrees(phi2),
                longitude=math.degrees(lmb2), timezone_name='America/Chicago')


@pytest.mark.parametrize('distance', [10, 50, 100])
@pytest.mark.parametrize('bearing', [0, 90, 200, 315])
def test_radius_keeps_a_circle_just_inside_and_drops_one_just_outside(client, distance, bearing):
    make_circle(name='inside', place=_place_at_distance(distance * 0.99, bearing))
    make_circle(name='outside', place=_place_at_distance(distance * 1.01, bearing))
    body = browse(client, f'latitude=41.8781&longitude=-87.6298&distance={distance}')
    assert names(body) == ['inside']
    assert body['items'][0]['distance_km'] == pytest.approx(distance * 0.99, rel=1e-3)


def test_location_results_are_ordered_by_distance_and_skip_online(client):
    make_circle(name='far', place=_place_at_distance(40, 10))
    make_circle(name='near', place=_place_at_distance(5, 180))
    make_circle(name='middle', place=_place_at_distance(20, 270))
    make_circle(name='online', place=ONLINE)
    make_circle(name='other continent', place=BERLIN)
    body = browse(client, 'latitude=41.8781&longitude=-87.6298')   # default distance 50 km
    assert names(body) == ['near', 'middle', 'far']


def test_radius_search_across_the_antimeridian(client):
    fiji = dict(city='Suva', region='Central', country='Fiji', latitude=-18.0, longitude=179.95,
                timezone_name='Pacific/Fiji')
    make_circle(name='east of the line', place=dict(fiji, longitude=-179.95))
    make_circle(name='west of the line', place=fiji)
    body = browse(client, 'latitude=-18.0&longitude=179.99&distance=30')
    assert sorted(names(body)) == ['east of the line', 'west of the line']


def test_location_combines_with_other_filters(client):
    make_circle(name='near python', place=_place_at_distance(5, 0), topics=['python'])
    make_circle(name='near art', place=_place_at_distance(5, 90), topics=['art'])
    body = browse(client, 'latitude=41.8781&longitude=-87.6298&distance=10&topics=python&order=name')
    assert names(body) == ['near python']


@pytest.mark.parametrize('query, field', [
    ('latitude=91&longitude=0', 'latitude'),
    ('latitude=abc&longitude=0', 'latitude'),
    ('latitude=10', 'longitude'),
    ('latitude=10&longitude=200', 'longitude'),
    ('latitude=10&longitude=10&distance=-5', 'distance'),
    ('latitude=10&longitude=10&distance=nan', 'distance'),
    ('weekdays=7', 'weekdays'),
    ('weekdays=mon', 'weekdays'),
    ('online=maybe', 'online'),
    ('active=yes please', 'active'),
    ('scope=someday', 'scope'),
    ('signup=ajar', 'signup'),
    ('order=random', 'order'),
    ('limit=0', 'limit'),
    ('limit=ten', 'limit'),
    ('offset=-1', 'offset'),
])
def test_invalid_parameters_get_400_with_field_errors(client, query, field):
    response = client.http.get(f'/api/learningcircles/?{query}')
    assert response.status_code == 400
    assert response.json_body['status'] == 'error'
    assert field in response.json_body['errors']
    assert all(isinstance(m, str) and m for m in response.json_body['errors'][field])


@pytest.mark.parametrize('path, method', [('/api/learningcircles/', 'GET'), ('/api/signup/', 'POST'),
                                          ('/api/learningcircles/abc', 'GET')])
def test_cors_preflight_answers_for_partner_sites(path, method):
    # chalice.test.Client cannot send a preflight; LocalGateway is what `chalice local` serves.
    from chalice.config import Config
    from chalice.local import LocalGateway

    from app import app
    gateway = LocalGateway(app, Config())
    response = gateway.handle_request('OPTIONS', path, {
        'origin': 'https://partner.example.net', 'access-control-request-method': method}, b'')
    assert response['statusCode'] == 200
    headers = response['headers']
    assert headers['Access-Control-Allow-Origin'] == '*'
    assert method in headers['Access-Control-Allow-Methods']


def test_cors_header_on_answers(client):
    make_circle()
    response = client.http.get('/api/learningcircles/', headers={'Origin': 'https://partner.example.net'})
    assert response.headers['Access-Control-Allow-Origin'] == '*'


def test_circle_details_endpoint(client):
    circle = make_circle(description='Six weeks of Python.')
    make_circle(name='Draft', published=False)
    body = client.http.get(f'/api/learningcircles/{circle.id}').json_body
    assert body['id'] == circle.id and body['description'] == 'Six weeks of Python.'
    assert len(body['meetings']) == 6
    assert 'online_link' not in body
    assert client.http.get('/api/learningcircles/nope').status_code == 404


def test_browse_reads_only_what_changed_in_the_catalog_and_never_scans(client):
    """The tests refresh the catalog on every request: one Query of what changed, whatever the filters."""
    make_circle(team_id='t1')
    for query in ['', 'city=Chicago', 'team_id=t1', 'q=python', 'latitude=41.88&longitude=-87.63&distance=100']:
        aws_calls.reset()
        browse(client, query)
        assert aws_calls.dynamodb_calls() == {'Query': 1}, query


# --- radius search: the cells of at most geo.MAX_CELLS covering prefixes ---------------------------

def _place(latitude, longitude, km, bearing):
    place = _place_at_distance(km, bearing, lat=latitude, lon=longitude)
    place['longitude'] = (place['longitude'] + 180) % 360 - 180
    return dict(place, timezone_name='UTC')


@pytest.mark.parametrize('latitude, longitude, distance', [
    (89.9, 0.0, 50), (89.9, 120.0, geo.MAX_RADIUS_KM), (-89.9, -45.0, 50), (-89.9, 179.0, geo.MAX_RADIUS_KM),
    (-18.0, 179.99, 300), (0.0, -180.0, geo.MAX_RADIUS_KM), (45.0, 0.0, geo.MAX_RADIUS_KM),
    (52.52, 13.405, geo.MAX_RADIUS_KM), (64.0, -21.9, 5)])
def test_a_radius_search_near_the_poles_across_the_antimeridian_or_at_the_largest_distance_finds_exactly_the_circles_inside(
        client, latitude, longitude, distance):
    for bearing in (0, 100, 180, 260):
        make_circle(name=f'inside {bearing}', place=_place(latitude, longitude, distance * 0.98, bearing))
        make_circle(name=f'outside {bearing}', place=_place(latitude, longitude, distance * 1.02, bearing))
    body = browse(client, f'latitude={latitude}&longitude={longitude}&distance={distance}&order=name')
    assert names(body) == [f'inside {bearing}' for bearing in (0, 100, 180, 260)]
    assert len(geo.covering_cells(latitude, longitude, distance)) <= 9


def test_every_radius_up_to_the_largest_is_covered_by_at_most_nine_cells_at_any_latitude():
    import itertools
    centres = itertools.product([-90, -89.9, -75, -46, -45, -44.9, -10, 0, 0.1, 33, 44.99, 45, 60, 84, 89.9, 90],
                                [-180, -179.99, -91, 0, 0.01, 44.9, 135, 179.99, 180])
    for (latitude, longitude), distance in itertools.product(centres, [0.001, 1, 50, 300, 700, geo.MAX_RADIUS_KM]):
        cells = geo.covering_cells(latitude, longitude, distance)
        assert 1 <= len(cells) <= geo.MAX_CELLS, (latitude, longitude, distance, cells)
        for bearing in range(0, 360, 30):
            for fraction in (0.5, 0.999):
                point = _place(latitude, longitude, distance * fraction, bearing)
                stored = geo.encode(point['latitude'], point['longitude'])
                assert any(stored.startswith(cell) for cell in cells), (latitude, longitude, distance, bearing)


def test_a_distance_beyond_the_largest_is_refused(client):
    response = client.http.get(f'/api/learningcircles/?latitude=0&longitude=0&distance={geo.MAX_RADIUS_KM + 1}')
    assert response.status_code == 400 and 'distance' in response.json_body['errors']


@pytest.mark.parametrize('query, field', [('city=Chi%0Acago', 'city'), ('team_id=t%09one', 'team_id'),
                                          (f'q={"a" * 501}', 'q'), (f'city={"b" * 501}', 'city')])
def test_text_parameters_follow_the_field_rules(client, query, field):
    response = client.http.get(f'/api/learningcircles/?{query}')
    assert response.status_code == 400 and list(response.json_body['errors']) == [field]


def test_the_browse_page_shows_twenty_circles_a_page_with_links_that_keep_the_filters(client):
    for n in range(23):
        make_circle(name=f'Python {n:02d}', starts_in_days=n + 1)
    first = client.http.get('/?q=python').body.decode()
    assert first.count('class="card"') == 20
    assert '23 learning circles, showing 1–20' in first
    assert 'href="/?q=python&amp;page=2" rel="next"' in first and 'rel="prev"' not in first
    second = client.http.get('/?q=python&page=2').body.decode()
    assert second.count('class="card"') == 3 and 'Python 22' in second and 'Python 00' not in second
    assert 'href="/?q=python" rel="prev"' in second and 'rel="next"' not in second
    refused = client.http.get('/?page=0')
    assert refused.status_code == 400 and 'Must be a page number.' in refused.body.decode()
