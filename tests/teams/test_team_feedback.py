"""The organizer's feedback page: shared feedback only, newest first, filters, pages with a bounded
number of Queries, bad input refused in place, and who may see it."""
import re
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.teams import team_feedback
from tests.facilitators.test_facilitator_pages import Browser, account, get
from tests.support import aws_calls
from tests.support.factories import local_today
from tests.teams.test_week import give_feedback, organizer_of, team_circle, TEAM


def body(response):
    return response.body.decode()


@pytest.fixture
def world():
    olu = organizer_of(TEAM)
    fay, gus = account('Fay Facilitator'), account('Gus Garcia')
    today = local_today('America/Chicago')
    python = team_circle(fay, 'Python at the library', today - timedelta(days=21), weeks=4)
    spanish = team_circle(gus, 'Spanish for beginners', today - timedelta(days=15), weeks=3)
    give_feedback(python, python.meetings[0], fay, shared=True, rating=5, reflection='Python week one went well.')
    give_feedback(python, python.meetings[1], fay, shared=False, rating=2, reflection='Private: low energy.')
    give_feedback(python, python.meetings[2], fay, shared=True, rating=3, reflection='Python week three, so-so.')
    give_feedback(spanish, spanish.meetings[0], gus, shared=True, rating=5, reflection='Hola, first meeting.')
    return SimpleNamespace(olu=olu, fay=fay, gus=gus, python=python, spanish=spanish, browser=Browser(olu))


def reflections(page):
    return re.findall(r'<blockquote class="reflection">(.*?)</blockquote>', page, re.S)


def test_only_shared_feedback_is_listed_newest_meeting_first(client, world):
    page = body(get(client, f'/organize/{TEAM}/feedback', world.browser))
    assert reflections(page) == ['Python week three, so-so.', 'Hola, first meeting.', 'Python week one went well.']
    assert 'Private' not in page and 'rated 2 of 5' not in page
    assert f'href="/facilitate/circles/{world.python.id}"' in page and 'Meeting 3 of 4, 18:00 C' in page


@pytest.mark.parametrize('filters, expected', [
    ({'circle': 'python'}, ['Python week three, so-so.', 'Python week one went well.']),
    ({'author': 'gus'}, ['Hola, first meeting.']),
    ({'rating': '5'}, ['Hola, first meeting.', 'Python week one went well.']),
    ({'rating': '2'}, []),                           # the only 2 was not shared
    ({'circle': 'python', 'rating': '5'}, ['Python week one went well.']),
])
def test_the_filters_narrow_the_list(client, world, filters, expected):
    ids = {'python': world.python.id, 'gus': world.gus.user_id}
    query = {name: ids.get(value, value) for name, value in filters.items()}
    page = body(get(client, f'/organize/{TEAM}/feedback?{urlencode(query)}', world.browser))
    assert reflections(page) == expected
    if not expected:
        assert 'No shared feedback matches these filters yet.' in page


def test_the_filter_form_offers_the_teams_circles_and_facilitators_and_keeps_the_choice(client, world):
    page = body(get(client, f'/organize/{TEAM}/feedback?circle={world.spanish.id}', world.browser))
    assert '<form method="get" action="/organize/t-week/feedback"' in page
    assert f'<option value="{world.spanish.id}" selected>Spanish for beginners</option>' in page
    assert f'<option value="{world.fay.user_id}">Fay</option>' in page
    for label in ('<label for="circle">Circle</label>', '<label for="author">Written by</label>',
                  '<label for="rating">Rating</label>'):
        assert label in page


def test_bad_filters_and_cursors_are_refused_in_place(client, world):
    bad = get(client, f'/organize/{TEAM}/feedback?rating=9', world.browser)
    assert bad.status_code == 400 and 'Please choose a rating from 1 to 5.' in body(bad)
    assert 'aria-invalid="true"' in body(bad)
    forged = get(client, f'/organize/{TEAM}/feedback?after=F%23x', world.browser)
    assert forged.status_code == 400 and 'not one we made' in body(forged)
    with pytest.raises(ValidationFailed):
        team_feedback.parse_filters({'circle': '<script>'})


def test_pages_follow_each_other_and_each_costs_a_bounded_number_of_queries(client, world, monkeypatch):
    monkeypatch.setattr(team_feedback, 'PAGE_SIZE', 2)
    first = body(get(client, f'/organize/{TEAM}/feedback', world.browser))
    assert reflections(first) == ['Python week three, so-so.', 'Hola, first meeting.']
    older = re.search(r'href="(/organize/t-week/feedback\?after=[^"]+)" rel="next"', first).group(1)
    aws_calls.reset()
    second = body(get(client, older.replace('&amp;', '&'), world.browser))
    calls = aws_calls.dynamodb_calls()
    assert reflections(second) == ['Python week one went well.']
    assert 'rel="next"' not in second and 'Newest feedback' in second
    # Session, team + membership, entries of the rows: BatchGetItems; <= MAX_QUERIES + by_team: Queries.
    assert calls['BatchGetItem'] == 3 and calls['Query'] <= team_feedback.MAX_QUERIES + 1


def test_a_filter_that_matches_little_stops_after_max_queries_and_offers_older(world, monkeypatch):
    monkeypatch.setattr(team_feedback, 'READ_PER_QUERY', 1)
    monkeypatch.setattr(team_feedback, 'MAX_QUERIES', 2)
    # Newest first: Python week three, week two (unshared), Spanish week one, Python week one.
    gus = team_feedback.Filters(author_id=world.gus.user_id)
    aws_calls.reset()
    page = team_feedback.feedback_page(TEAM, gus)
    assert aws_calls.dynamodb_calls()['Query'] == 2 and page.queries == 2
    assert page.rows == [] and page.after                 # two read, none matched: older ones may
    page = team_feedback.feedback_page(TEAM, gus, page.after)
    assert [r.feedback.reflection for r in page.rows] == ['Hola, first meeting.'] and page.queries <= 2
    while page.after:
        page = team_feedback.feedback_page(TEAM, gus, page.after)
        assert page.rows == []


def test_the_feedback_page_is_only_for_current_organizers(client, world):
    path = f'/organize/{TEAM}/feedback'
    assert get(client, path).status_code == 303
    assert get(client, path, Browser(world.fay)).status_code == 404
    assert get(client, path, Browser(organizer_of('t-other', 'Oz Other'))).status_code == 404
