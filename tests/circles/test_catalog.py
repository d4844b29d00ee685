"""The container's catalog: read whole once, then only what changed; fresh within its interval.

The tests' default interval is 0 (every request asks what changed); the tests here that need
one set `CIRCLES_CATALOG_REFRESH_SECONDS` and read the settings again.
"""
import json
import os
import time
from datetime import timedelta

import pytest

from chalicelib.circles import catalog, circles
from chalicelib.circles.browse import browse, parse_browse_query
from chalicelib.core.settings import get_settings
from chalicelib.facilitators import circle_admin
from chalicelib.learners.signup import sign_up
from tests.support import aws_calls
from tests.support.factories import make_circle

LISTING = '/api/learningcircles'


def listed(client, query=''):
    return {item['id']: item for item in client.http.get(f'{LISTING}?{query}' if query else LISTING).json_body['items']}


def unpublish(circle_id):
    stored = circles.get_circle(circle_id)
    circle_admin.save(stored, circle_admin.unpublish(stored))


@pytest.fixture
def refresh_every():
    """Set the refresh interval (seconds) for the rest of the test."""
    def set_interval(seconds):
        # Read here, outside a request: the test client sets the stage's config during one.
        os.environ['CIRCLES_CATALOG_REFRESH_SECONDS'] = str(seconds)
        get_settings.cache_clear()
        assert get_settings().catalog_refresh_seconds == seconds
    yield set_interval
    set_interval(0)


def test_a_container_reads_the_whole_catalog_once_then_only_what_changed(client):
    first, second = make_circle(name='First'), make_circle(name='Second')
    aws_calls.reset()
    assert set(listed(client)) == {first.id, second.id}
    assert aws_calls.dynamodb_calls() == {'Query': 1}
    third = make_circle(name='Third')
    aws_calls.reset()
    assert set(listed(client)) == {first.id, second.id, third.id}
    assert aws_calls.dynamodb_calls() == {'Query': 1}
    # The refresh asked only for changes since the newest one held (less the overlap).
    assert catalog.current().newest == third.changed_millis


def test_between_two_refreshes_requests_make_no_call_and_a_change_shows_at_the_next_refresh(client, refresh_every):
    refresh_every(0.5)
    circle = make_circle()
    assert circle.id in listed(client)
    unpublish(circle.id)
    aws_calls.reset()
    assert circle.id in listed(client)                       # within the interval: the copy held
    assert aws_calls.dynamodb_calls() == {}
    time.sleep(0.6)
    assert circle.id not in listed(client)
    assert aws_calls.dynamodb_calls() == {'Query': 1}


def test_the_default_interval_keeps_every_listing_within_the_60_seconds_allowed():
    interval = get_settings().__class__.__dataclass_fields__['catalog_refresh_seconds'].default
    assert interval + catalog.OVERLAP_MS / 1000 <= 60


def test_a_signup_or_a_withdrawal_changes_the_count_at_the_next_refresh(client):
    circle = make_circle()
    assert listed(client)[circle.id]['signup_count'] == 0
    signup = sign_up(circle.id, {'name': 'Lee', 'email': 'lee@example.org', 'consent': 'yes'})[0]
    assert listed(client)[circle.id]['signup_count'] == 1
    from chalicelib.learners.signup import withdraw
    withdraw(signup)
    assert listed(client)[circle.id]['signup_count'] == 0


def test_a_circle_whose_every_meeting_is_cancelled_or_that_is_unpublished_leaves_the_listing(client):
    cancelled, unpublished, kept = make_circle(weeks=1), make_circle(), make_circle()
    assert set(listed(client)) == {cancelled.id, unpublished.id, kept.id}
    stored = circles.get_circle(cancelled.id)
    circle_admin.cancel_meeting(stored, stored.meetings[0].meeting_id)
    circle_admin.save(stored)
    unpublish(unpublished.id)
    assert set(listed(client)) == {kept.id}
    # Both stay in the index with an empty card, so a container that held them learns they left.
    assert circles.get_circle(unpublished.id).card == circles.EMPTY_CARD


def test_an_edit_replaces_the_card_and_the_views_built_from_it(client):
    circle = make_circle(name='Python', city='Chicago')
    assert circle.id in listed(client, 'city=Chicago') and circle.id in listed(client, 'q=pyth') and circle.id not in listed(client, 'q=knit')
    stored = circles.get_circle(circle.id)
    stored.name, stored.city = 'Knitting', 'Evanston'
    circles.save(stored)
    assert circle.id not in listed(client, 'city=Chicago') and circle.id in listed(client, 'q=knit')
    assert listed(client, 'city=Evanston')[circle.id]['name'] == 'Knitting'


def test_what_depends_on_the_date_follows_the_clock_without_any_write(client):
    circle = make_circle(starts_in_days=3, weeks=2)
    query = parse_browse_query({})
    now = circles.utcnow()
    [item] = browse(query, now)['items']
    assert (item['status'], item['signup_open']) == ('upcoming', True)
    [item] = browse(query, now + timedelta(days=10))['items']
    assert item['status'] == 'in_progress' and item['next_meeting_date'] == circle.end_date
    [item] = browse(query, now + timedelta(days=30))['items']
    assert (item['status'], item['signup_open']) == ('completed', False) and 'next_meeting_date' not in item
    [item] = browse(query, now)['items']                     # and back: the days are recomputed
    assert item['status'] == 'upcoming'


def test_a_listing_is_the_same_from_a_fresh_container_and_from_one_kept_up_to_date(client):
    circles_made = [make_circle(name=f'Circle {n}', starts_in_days=n) for n in range(5)]
    stored = circles.get_circle(circles_made[2].id)
    stored.name = 'Renamed'
    circles.save(stored)
    unpublish(circles_made[4].id)
    kept_up = client.http.get(f'{LISTING}?order=name').json_body
    catalog.forget()
    fresh = client.http.get(f'{LISTING}?order=name').json_body
    assert kept_up == fresh and [i['name'] for i in fresh['items']] == ['Circle 0', 'Circle 1', 'Circle 3', 'Renamed']


def test_a_card_stays_small_whatever_the_circle_holds():
    """The index entry (keys, card, count) of a circle with long texts stays under 1 KB, so a 1 MB
    Query page holds over 1,000 circles (bench/dynamodb_calls.py measures the seeded ones)."""
    circle = make_circle(name='N' * 200, description='D' * 5000, venue_name='V' * 200,
                         venue_address='A' * 200, facilitator_names=['F' * 80, 'G' * 80],
                         signup_question='Q' * 500, image_url='https://example.org/' + 'i' * 200, save=False)
    card = circles.encode_card(circles.card_of(circle))
    keys = len('pk') + len(circle.pk) + len('sk') + len(circle.sk) + len('cg') + 1 + len('cu') + 7 + len('sc') + 2
    assert len('cd') + len(card) + keys < 1024
    assert circles.decode_card(card) == json.loads(json.dumps(circles.card_of(circle)))


def test_api_listing_answers_304_to_a_client_holding_the_same_body_and_200_after_a_change(client):
    circle = make_circle()
    first = client.http.get(LISTING)
    tag = first.headers['ETag']
    assert first.headers['Cache-Control'] == 'public, max-age=0, s-maxage=30, must-revalidate'
    again = client.http.get(LISTING, headers={'If-None-Match': tag})
    assert again.status_code == 304 and again.body in (b'', '')
    stored = circles.get_circle(circle.id)
    stored.name = 'Another name'
    circles.save(stored)
    changed = client.http.get(LISTING, headers={'If-None-Match': tag})
    assert changed.status_code == 200 and changed.headers['ETag'] != tag


def test_text_search_finds_exactly_the_circles_whose_words_start_with_every_word_typed(client):
    names = ['Python basics', 'Pythagoras and friends', 'Intro to Python', 'Knitting', 'Py', 'Spanish for python users']
    for name in names:
        make_circle(name=name, course_title=name, provider=None, topics=(), venue_name='Library',
                    facilitator_names=['Ada'])
    current = catalog.current()
    ordered = current.ordered(None)
    for words in (['py'], ['python'], ['pyth', 'intro'], ['python', 'spanish'], ['knit'], ['ython'], ['zzz']):
        expected = [e.id for e in ordered if all(' ' + w in e.search for w in words)]
        assert [e.id for e in current.text_matches(words)] == expected, words
    assert sorted(listed(client, 'q=python&scope=active')) == sorted(listed(client, 'q=python'))


def test_an_answer_is_kept_until_anything_in_the_catalog_changes(client):
    circle = make_circle()
    first = client.http.get(f'{LISTING}?city=Chicago').body
    assert len(catalog.current().answers) == 1
    assert client.http.get(f'{LISTING}?city=Chicago').body == first
    sign_up(circle.id, {'name': 'Lee', 'email': 'lee@example.org', 'consent': 'yes'})
    changed = client.http.get(f'{LISTING}?city=Chicago').json_body
    assert changed['items'][0]['signup_count'] == 1
