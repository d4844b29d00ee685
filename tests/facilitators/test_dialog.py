"""The step-by-step creation dialog over HTTP: each step's validation, saving and resuming a
draft, the schedule preview, publishing, the goals email, roles and CSRF on every route."""
import re
from dataclasses import dataclass
from html import escape
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from chalicelib.accounts import accounts
from chalicelib.circles import circles
from chalicelib.core import fields as rules
from chalicelib.facilitators import dialog
from chalicelib.facilitators import access as facilitation
from chalicelib.circles import gazetteer
from chalicelib.accounts import sessions
from chalicelib.models import Circle, CircleFacilitator, CircleSetup, Team, TeamMember
from tests.support import aws_calls
from tests.accounts.test_accounts import PASSWORD, link_in, token_of

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}
CHICAGO = gazetteer.search('Chicago, Illinois')[0]


def chicago_today():
    return datetime.now(timezone.utc).astimezone(ZoneInfo('America/Chicago')).date()


def in_days(days):
    return (chicago_today() + timedelta(days=days)).isoformat()


COURSE = {'title': 'Python for Everybody', 'provider': 'Coursera', 'link': 'https://www.coursera.org/learn/python',
          'topics': 'Programming, Python'}
PLACE = {'mode': 'in_person', 'venue_name': 'Harold Washington Library', 'venue_address': '400 S State St',
         'venue_details': 'Room 3, second floor', 'venue_website': '', 'city_query': 'Chicago', 'city_id': CHICAGO.id}
DETAILS = {'name': 'Python at the library', 'description': 'We learn Python together, one chapter a week.',
           'language': 'en', 'welcome_message': 'Bring a laptop if you have one.',
           'signup_question': 'What would you like to build?', 'capacity': '12'}
GOALS = {'goal': 'Help my neighbours learn to code.', 'concerns': 'The Wi-Fi at the venue is slow.'}


def schedule(**changes):
    return {'first_date': in_days(14), 'meeting_time': '18:00', 'duration': '90', 'weeks': '6',
            'timezone': 'America/Chicago', **changes}


@dataclass
class Visitor:
    """A browser signed in as `user` (or anonymous), posting forms with its CSRF token."""
    client: object
    user: object = None
    cookie: str = None
    csrf: str = None

    def headers(self, **extra):
        return {**extra, **({'Cookie': self.cookie} if self.cookie else {})}

    def get(self, path):
        return self.client.http.get(path, headers=self.headers())

    def post(self, path, fields=None, csrf=True):
        body = dict(fields or {})
        if csrf and self.csrf:
            body['csrf_token'] = self.csrf
        return self.client.http.post(path, headers=self.headers(**FORM), body=urlencode(body))


def account(moto, name, email, confirm=True):
    user = accounts.register(name, email, PASSWORD)
    if confirm:
        accounts.confirm_email(token_of(link_in(moto, email, '/confirm')))
    return accounts.get_user(user.user_id)


def signed_in(client, user):
    session, cookie = sessions.start(user)
    return Visitor(client, user, cookie.split(';')[0], sessions.csrf_token(session))


@pytest.fixture
def dee(client, moto):
    return signed_in(client, account(moto, 'Dee Facilitator', 'dee@example.org'))


def step_url(circle_id, step):
    return f'/facilitate/circles/{circle_id}/step/{step}'


def start(visitor, **changes):
    response = visitor.post('/facilitate/circles/new', {**COURSE, **changes})
    assert response.status_code == 303, response.body
    return re.fullmatch(r'/facilitate/circles/(\w+)/step/2', response.headers['Location']).group(1)


def next_step(visitor, circle_id, step, fields, action='next'):
    response = visitor.post(step_url(circle_id, step), {**fields, 'action': action})
    assert response.status_code == 303, response.body.decode()
    return response


def walk(visitor, upto=5, overrides=None):
    """A draft with steps 1 to `upto` answered (`overrides`: {step: {field: value}})."""
    circle_id = start(visitor)
    steps = {2: PLACE, 3: schedule(), 4: DETAILS, 5: GOALS}
    for step in range(2, upto + 1):
        next_step(visitor, circle_id, step, {**steps[step], **(overrides or {}).get(step, {})})
    return circle_id


def stored(circle_id):
    return circles.get_circle(circle_id)


def setup_of(circle_id):
    return CircleSetup.get(*CircleSetup.key(circle_id))


def page_of(response):
    return response.body.decode()


# --- step 1 and the draft -------------------------------------------------------------

def test_step_one_creates_a_draft_with_its_facilitator_in_one_transaction(dee, client):
    aws_calls.reset()
    circle_id = start(dee)
    assert aws_calls.dynamodb_calls() == {'GetItem': 1, 'Query': 1, 'TransactWriteItems': 1}

    circle = stored(circle_id)
    assert circle.published is False and circle.name == 'Python for Everybody'     # placeholder name
    assert circle.timezone == 'UTC' and circle.meetings == []
    assert circle.course.topics == ['programming', 'python'] and circle.course.provider == 'Coursera'
    assert circle.facilitator_ids == [dee.user.user_id] and circle.facilitator_names == ['Dee']
    assert circle.facilitator_emails == ['dee@example.org'] and circle.team_id is None
    link = CircleFacilitator.get(*CircleFacilitator.key(circle_id, dee.user.user_id))
    assert link.role == 'facilitator'
    assert [c.id for c in facilitation.my_circles(dee.user.user_id)] == [circle_id]
    assert setup_of(circle_id).steps_done == [1]
    assert client.http.get('/api/learningcircles').json_body['count'] == 0     # drafts are never listed


def test_the_default_button_of_every_step_is_next(dee):
    """Pressing Enter in a field submits with the form's first button: it must be Next, not Back."""
    circle_id = walk(dee)
    for step in range(1, 6):
        form = page_of(dee.get(step_url(circle_id, step))).split('<form', 1)[1]
        first_button = re.search(r'<button[^>]*>', form).group(0)
        assert 'value="next"' in first_button, step


# --- each step validates its own fields -------------------------------------------------

STEP_ONE_ERRORS = [
    ({'title': ''}, 'title'),
    ({'link': ''}, 'link'),
    ({'link': 'ftp://example.org/course'}, 'link'),
    ({'link': 'javascript:alert(1)'}, 'link'),
    ({'topics': ', '.join(f'topic {n}' for n in range(11))}, 'topics'),
]


@pytest.mark.parametrize('changes, field', STEP_ONE_ERRORS)
def test_step_one_shows_errors_in_place_and_keeps_the_input(dee, changes, field):
    response = dee.post('/facilitate/circles/new', {**COURSE, **changes})
    page = page_of(response)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and f'href="#{field}"' in page
    assert 'value="Coursera"' in page       # what was typed stays
    assert facilitation.my_circles(dee.user.user_id) == []


LATER_STEP_ERRORS = [
    (2, {**PLACE, 'mode': ''}, 'mode'),
    (2, {**PLACE, 'venue_name': ''}, 'venue_name'),
    (2, {**PLACE, 'venue_address': ''}, 'venue_address'),
    (2, {**PLACE, 'city_id': ''}, 'city_id'),
    (2, {**PLACE, 'city_id': 'not-a-city'}, 'city_id'),
    (2, {**PLACE, 'venue_website': 'www.example.org'}, 'venue_website'),
    (2, {**PLACE, 'coordinates_city_id': CHICAGO.id, 'latitude': '95', 'longitude': '-87.6'}, 'latitude'),
    (2, {**PLACE, 'coordinates_city_id': CHICAGO.id, 'latitude': '41.9', 'longitude': 'west'}, 'longitude'),
    (2, {'mode': 'online', 'online_link': ''}, 'online_link'),
    (2, {'mode': 'online', 'online_link': 'javascript:alert(1)'}, 'online_link'),
    (3, schedule(first_date=''), 'first_date'),
    (3, schedule(first_date=in_days(-1)), 'first_date'),
    (3, schedule(first_date='31/12/2030'), 'first_date'),
    (3, schedule(meeting_time='25:00'), 'meeting_time'),
    (3, schedule(duration='14'), 'duration'),
    (3, schedule(duration=str(rules.DURATION.high + 1)), 'duration'),
    (3, schedule(duration='ninety'), 'duration'),
    (3, schedule(weeks='0'), 'weeks'),
    (3, schedule(weeks='53'), 'weeks'),
    (3, schedule(timezone='Mars/Olympus_Mons'), 'timezone'),
    (3, schedule(timezone=''), 'timezone'),
    (4, {**DETAILS, 'name': ''}, 'name'),
    (4, {**DETAILS, 'description': ''}, 'description'),
    (4, {**DETAILS, 'language': 'xx'}, 'language'),
    (4, {**DETAILS, 'capacity': '0'}, 'capacity'),
    (4, {**DETAILS, 'capacity': str(rules.CAPACITY.high + 1)}, 'capacity'),
    (4, {**DETAILS, 'capacity': 'twelve'}, 'capacity'),
    (4, {**DETAILS, 'name': 'x' * 201}, 'name'),
    (5, {**GOALS, 'goal': '  '}, 'goal'),
    (5, {**GOALS, 'concerns': 'x' * 2001}, 'concerns'),
]


@pytest.mark.parametrize('step, fields, field', LATER_STEP_ERRORS)
def test_each_step_shows_its_errors_in_place_keeps_the_input_and_saves_nothing(dee, step, fields, field):
    circle_id = walk(dee, upto=step - 1)
    before = stored(circle_id)
    response = dee.post(step_url(circle_id, step), fields)
    page = page_of(response)
    assert response.status_code == 400, page
    assert f'id="{field}-error"' in page and f'href="#{field}"' in page
    typed = {name: value for name, value in fields.items() if value and name not in ('mode', 'city_id', 'language',
                                                                                       'timezone')}
    for name, value in typed.items():      # what was typed stays, the invalid answer too
        assert escape(value) in page, name
    if fields.get('mode'):
        assert f'value="{fields["mode"]}" checked' in page
    after = stored(circle_id)
    assert after.updated_at == before.updated_at and setup_of(circle_id).steps_done == list(range(1, step))


def test_the_edges_of_each_range_are_accepted(dee):
    circle_id = walk(dee, upto=2)
    next_step(dee, circle_id, 3, schedule(weeks='52', duration=str(rules.DURATION.high)))
    assert len(stored(circle_id).meetings) == 52 and stored(circle_id).duration_minutes == rules.DURATION.high
    next_step(dee, circle_id, 3, schedule(weeks='1', duration='15'))
    assert len(stored(circle_id).meetings) == 1 and stored(circle_id).duration_minutes == 15
    for capacity, expected in (('1', 1), (str(rules.CAPACITY.high), rules.CAPACITY.high), ('', None)):
        next_step(dee, circle_id, 4, {**DETAILS, 'capacity': capacity})
        assert stored(circle_id).capacity == expected


def test_online_circles_need_only_the_link(dee):
    circle_id = walk(dee, upto=1)
    next_step(dee, circle_id, 2, {'mode': 'online', 'online_link': 'https://meet.example.org/python'})
    circle = stored(circle_id)
    assert circle.online and circle.online_link == 'https://meet.example.org/python'
    assert circle.city is None and circle.geohash is None and circle.timezone == 'UTC'


# --- Back, resume ------------------------------------------------------------------------------

def test_back_saves_the_step_and_shows_the_previous_one_with_its_answers(dee):
    circle_id = walk(dee, upto=2)
    response = next_step(dee, circle_id, 3, schedule(), action='back')
    assert response.headers['Location'] == step_url(circle_id, 2)
    place = page_of(dee.get(step_url(circle_id, 2)))
    assert 'value="Harold Washington Library"' in place and 'Chicago, Illinois, United States' in place
    again = page_of(dee.get(step_url(circle_id, 3)))
    assert f'value="{in_days(14)}"' in again and 'value="18:00"' in again
    assert len(stored(circle_id).meetings) == 6


def test_back_with_an_error_keeps_the_page_and_offers_to_leave_without_saving(dee):
    circle_id = walk(dee, upto=3)
    response = dee.post(step_url(circle_id, 4), {**DETAILS, 'capacity': '9999', 'action': 'back'})
    page = page_of(response)
    assert response.status_code == 400 and 'id="capacity-error"' in page
    assert f'<a href="{step_url(circle_id, 3)}">go back without saving this page</a>' in page
    assert 'value="Python at the library"' in page


def test_a_draft_can_be_left_and_resumed_from_any_step_in_another_session(dee, client):
    circle_id = walk(dee, upto=4)
    later = signed_in(client, dee.user)     # another day, another browser
    assert [c.id for c in facilitation.my_circles(dee.user.user_id)] == [circle_id]
    assert 'value="Python for Everybody"' in page_of(later.get(step_url(circle_id, 1)))
    assert 'value="400 S State St"' in page_of(later.get(step_url(circle_id, 2)))
    assert 'value="Python at the library"' in page_of(later.get(step_url(circle_id, 4)))
    goals = page_of(later.get(step_url(circle_id, 5)))
    assert 'id="goal"' in goals
    review = page_of(later.get(step_url(circle_id, 6)))
    assert 'Please complete the Goals step.' in review and 'Python at the library' in review
    next_step(later, circle_id, 5, GOALS)
    assert setup_of(circle_id).steps_done == [1, 2, 3, 4, 5]


def test_the_name_follows_the_course_title_until_the_details_step_sets_it(dee):
    circle_id = walk(dee, upto=3)
    next_step(dee, circle_id, 1, {**COURSE, 'title': 'Python 2'})
    assert stored(circle_id).name == 'Python 2'
    next_step(dee, circle_id, 4, DETAILS)
    next_step(dee, circle_id, 1, {**COURSE, 'title': 'Python 3'})
    assert stored(circle_id).name == 'Python at the library'


def test_a_step_saved_from_a_stale_read_is_refused(dee):
    circle_id = walk(dee, upto=3)
    session = sessions.from_cookie_header(dee.cookie)
    first, second = facilitation.workspace(session, circle_id), facilitation.workspace(session, circle_id)
    dialog.save_step(first, 5, GOALS)
    with pytest.raises(dialog.DraftChanged):
        dialog.save_step(second, 4, dialog.validate_details(DETAILS))
    assert stored(circle_id).description is None


def test_pages_and_saves_cost_a_few_dynamodb_calls(dee):
    circle_id = walk(dee, upto=3)
    aws_calls.reset()
    dee.get(step_url(circle_id, 3))
    assert aws_calls.dynamodb_calls() == {'GetItem': 1, 'Query': 1}
    aws_calls.reset()
    next_step(dee, circle_id, 4, DETAILS)
    assert aws_calls.dynamodb_calls() == {'GetItem': 1, 'Query': 1, 'TransactWriteItems': 1}


# --- place: the gazetteer ---------------------------------------------------------------------

def test_find_city_lists_matches_and_choosing_one_fills_region_country_coordinates_and_timezone(dee):
    circle_id = walk(dee, upto=1)
    response = dee.post(step_url(circle_id, 2), {**PLACE, 'city_id': '', 'city_query': 'springfield, ill',
                                                 'action': 'find_city'})
    page = page_of(response)
    assert response.status_code == 200 and 'Springfield, Illinois, United States' in page
    assert 'value="Harold Washington Library"' in page
    springfield = gazetteer.search('Springfield, Illinois')[0]
    next_step(dee, circle_id, 2, {**PLACE, 'city_id': springfield.id})
    circle = stored(circle_id)
    assert (circle.city, circle.region, circle.country) == ('Springfield', 'Illinois', 'United States')
    assert float(circle.latitude) == pytest.approx(39.80, abs=0.05)
    assert float(circle.longitude) == pytest.approx(-89.64, abs=0.05)
    assert circle.timezone == 'America/Chicago' and circle.geohash


def test_coordinates_can_be_adjusted_for_the_chosen_city(dee):
    circle_id = walk(dee, upto=2)
    page = page_of(dee.get(step_url(circle_id, 2)))
    assert f'name="coordinates_city_id" value="{CHICAGO.id}"' in page
    next_step(dee, circle_id, 2, {**PLACE, 'coordinates_city_id': CHICAGO.id, 'latitude': '41.8765',
                                  'longitude': '-87.6281'})
    circle = stored(circle_id)
    assert (float(circle.latitude), float(circle.longitude)) == (41.8765, -87.6281)


def test_a_new_city_brings_its_own_coordinates_and_default_timezone(dee):
    circle_id = walk(dee, upto=2)
    nairobi = gazetteer.search('Nairobi')[0]
    next_step(dee, circle_id, 2, {**PLACE, 'city_id': nairobi.id, 'coordinates_city_id': CHICAGO.id,
                                  'latitude': '41.8765', 'longitude': '-87.6281'})
    circle = stored(circle_id)
    assert circle.country == 'Kenya' and circle.timezone == 'Africa/Nairobi'
    assert float(circle.latitude) == pytest.approx(nairobi.latitude)


def test_a_timezone_chosen_in_the_schedule_is_kept_when_the_city_changes(dee):
    circle_id = walk(dee, upto=3, overrides={3: {'timezone': 'America/New_York'}})
    next_step(dee, circle_id, 2, {**PLACE, 'city_id': gazetteer.search('Nairobi')[0].id})
    circle = stored(circle_id)
    assert circle.timezone == 'America/New_York'
    assert {m.local_time for m in circle.meetings} == {'18:00'}


def test_a_city_default_timezone_follows_the_city_and_meetings_keep_their_local_time(dee):
    circle_id = walk(dee, upto=3)
    assert stored(circle_id).meetings[0].starts_at.hour in (23, 0)      # 18:00 in Chicago
    next_step(dee, circle_id, 2, {**PLACE, 'city_id': gazetteer.search('Nairobi')[0].id})
    circle = stored(circle_id)
    assert circle.timezone == 'Africa/Nairobi'
    assert circle.meetings[0].local_time == '18:00' and circle.meetings[0].starts_at.hour == 15


# --- schedule: the preview ---------------------------------------------------------------------

def preview_rows(page):
    return re.findall(r'<li class="(removed)?">\s*<p class="when">([^<]+)', page)


def test_the_preview_lists_every_meeting_date_without_saving(dee):
    circle_id = walk(dee, upto=2)
    response = dee.post(step_url(circle_id, 3), {**schedule(), 'action': 'preview'})
    page = page_of(response)
    assert response.status_code == 200
    first = date.fromisoformat(in_days(14))
    for week in range(6):
        day = first + timedelta(weeks=week)
        assert f'name="meeting_{week}_date" type="date" value="{day.isoformat()}"' in page
        assert f'{day:%B} {day.day}, {day.year} at 18:00' in page
    assert stored(circle_id).meetings == []


def test_a_meeting_can_be_removed_or_moved_in_the_preview_and_that_is_saved(dee, client):
    circle_id = walk(dee, upto=2)
    first = date.fromisoformat(in_days(14))
    planned = [(first + timedelta(weeks=n)).isoformat() for n in range(6)]
    moved_to = (first + timedelta(weeks=3, days=1)).isoformat()
    rows = {f'meeting_{n}_planned': planned[n] for n in range(6)}
    rows.update({f'meeting_{n}_date': planned[n] for n in range(6)})
    rows.update({'meeting_2_remove': 'on', 'meeting_3_date': moved_to})
    page = page_of(dee.post(step_url(circle_id, 3), {**schedule(), **rows, 'action': 'preview'}))
    assert 'removed</span>' in page and 'moved</span>' in page
    assert 'name="meeting_2_remove" type="checkbox" value="on" checked' in page
    next_step(dee, circle_id, 3, {**schedule(), **rows})

    meetings = stored(circle_id).meetings
    assert [m.local_date for m in meetings] == [*planned[:3], moved_to, *planned[4:]]
    assert [m.cancelled for m in meetings] == [False, False, True, False, False, False]
    resumed = page_of(dee.get(step_url(circle_id, 3)))      # the preview comes back as saved
    assert 'name="meeting_2_remove" type="checkbox" value="on" checked' in resumed
    assert f'name="meeting_3_date" type="date" value="{moved_to}"' in resumed

    next_step(dee, circle_id, 4, DETAILS)
    next_step(dee, circle_id, 5, GOALS)
    assert dee.post(f'/facilitate/circles/{circle_id}/publish').status_code == 303
    published = stored(circle_id)
    assert [m.local_date for m in published.meetings] == [*planned[:2], moved_to, *planned[4:]]
    item = client.http.get(f'/api/learningcircles/{circle_id}').json_body
    assert item['weeks'] == 5 and not any(m['cancelled'] for m in item['meetings'])


def test_changing_the_pattern_replans_every_meeting_not_moved_by_hand(dee):
    circle_id = walk(dee, upto=2)
    first = date.fromisoformat(in_days(14))
    moved_to = (first + timedelta(weeks=1, days=2)).isoformat()
    rows = {'meeting_0_planned': first.isoformat(), 'meeting_0_date': first.isoformat(),
            'meeting_1_planned': (first + timedelta(weeks=1)).isoformat(), 'meeting_1_date': moved_to}
    later = first + timedelta(days=1)
    next_step(dee, circle_id, 3, {**schedule(first_date=later.isoformat(), weeks='3'), **rows})
    assert [m.local_date for m in stored(circle_id).meetings] == [
        later.isoformat(), moved_to, (later + timedelta(weeks=2)).isoformat()]


@pytest.mark.parametrize('rows, field', [
    ({'meeting_1_planned': 'x', 'meeting_1_date': 'someday'}, 'meeting_1_date'),
    ({'meeting_1_planned': 'x', 'meeting_1_date': '2001-01-01'}, 'meeting_1_date'),
    ({'meeting_2_planned': 'x', 'meeting_2_date': in_days(14)}, 'meeting_2_date'),
    ({f'meeting_{n}_remove': 'on' for n in range(6)}, 'meetings'),
])
def test_a_moved_meeting_must_be_a_free_future_day_and_one_meeting_must_remain(dee, rows, field):
    circle_id = walk(dee, upto=2)
    response = dee.post(step_url(circle_id, 3), {**schedule(), **rows})
    page = page_of(response)
    assert response.status_code == 400 and f'id="{field}-error"' in page
    assert stored(circle_id).meetings == []


def test_a_week_across_a_dst_change_keeps_its_local_time_with_a_new_utc_instant(dee):
    year = chicago_today().year + 1
    march_first = date(year, 3, 1)
    dst_sunday = march_first + timedelta(days=(6 - march_first.weekday()) % 7 + 7)    # 2nd Sunday of March
    first = dst_sunday - timedelta(days=6)                                              # the Monday before
    circle_id = walk(dee, upto=2)
    fields = schedule(first_date=first.isoformat(), weeks='2')
    page = page_of(dee.post(step_url(circle_id, 3), {**fields, 'action': 'preview'}))
    assert f'{first.day}, {year} at 18:00 CST' in page and f'{first.day + 7}, {year} at 18:00 CDT' in page
    next_step(dee, circle_id, 3, fields)
    before, after = stored(circle_id).meetings
    assert (before.local_time, after.local_time) == ('18:00', '18:00')
    assert before.starts_at == datetime.combine(first + timedelta(days=1), datetime.min.time(), timezone.utc)
    assert after.starts_at == datetime.combine(first + timedelta(days=7), datetime.min.time(),
                                               timezone.utc) + timedelta(hours=23)


# --- review and publish -------------------------------------------------------------------------

def test_the_review_shows_everything_with_edit_links_to_each_step(dee):
    circle_id = walk(dee)
    page = page_of(dee.get(step_url(circle_id, 6)))
    for step in range(1, 6):
        assert f'href="{step_url(circle_id, step)}">Edit' in page
    for text in ('Python for Everybody', 'Coursera', 'Harold Washington Library', 'Room 3, second floor',
                 'Chicago, Illinois, United States', 'Python at the library', 'Bring a laptop',
                 'What would you like to build?', 'Help my neighbours learn to code.', 'Wi-Fi', '18:00 C'):
        assert text in page, text
    assert page.count('at 18:00 C') == 6 and 'action="/facilitate/circles/' in page


def test_publishing_needs_a_confirmed_email_and_says_how_to_get_one(client, moto):
    dana = signed_in(client, account(moto, 'Dana Newcomer', 'dana@example.org', confirm=False))
    circle_id = walk(dana)
    review = page_of(dana.get(step_url(circle_id, 6)))
    assert 'Please confirm your email address before you publish.' in review
    assert f'/facilitate/circles/{circle_id}/publish' not in review
    refused = dana.post(f'/facilitate/circles/{circle_id}/publish')
    assert refused.status_code == 400 and 'Please confirm your email address' in page_of(refused)
    assert stored(circle_id).published is False

    resent = dana.post(f'/facilitate/circles/{circle_id}/confirmation')
    assert resent.headers['Location'] == f'{step_url(circle_id, 6)}?sent=1'
    assert 'We sent the confirmation link again' in page_of(dana.get(resent.headers['Location']))
    confirmations = [m for m in moto.sent_emails() if m['To'] == 'dana@example.org']
    assert len(confirmations) == 2
    accounts.confirm_email(token_of(link_in(moto, 'dana@example.org', '/confirm')))
    # The same session (made before the confirmation) may publish now.
    assert dana.post(f'/facilitate/circles/{circle_id}/publish').status_code == 303
    assert stored(circle_id).published is True


def test_a_published_circle_is_listed_by_the_public_api_with_its_answers(dee, client):
    circle_id = walk(dee)
    response = dee.post(f'/facilitate/circles/{circle_id}/publish')
    assert response.headers['Location'] == step_url(circle_id, 6)
    assert 'Your learning circle is published' in page_of(dee.get(step_url(circle_id, 6)))

    listing = client.http.get('/api/learningcircles/').json_body
    [item] = listing['items']
    first = date.fromisoformat(in_days(14))
    assert item['id'] == circle_id and item['name'] == 'Python at the library'
    assert item['course'] == {'id': None, 'title': 'Python for Everybody', 'provider': 'Coursera',
                              'link': 'https://www.coursera.org/learn/python', 'topics': ['programming', 'python']}
    assert item['facilitator'] == 'Dee' and item['facilitators'] == ['Dee']
    assert (item['venue'], item['venue_address']) == ('Harold Washington Library', '400 S State St')
    assert (item['city'], item['region'], item['country']) == ('Chicago', 'Illinois', 'United States')
    assert item['latitude'] == pytest.approx(CHICAGO.latitude) and item['online'] is False
    assert item['language'] == 'en' and item['time_zone'] == 'America/Chicago'
    assert item['start_date'] == first.isoformat() and item['meeting_time'] == '18:00'
    assert item['end_time'] == '19:30' and item['weeks'] == 6
    assert item['last_meeting_date'] == (first + timedelta(weeks=5)).isoformat()
    assert item['day'] == f'{first:%A}' and item['signup_limit'] == 12 and item['signup_count'] == 0
    assert item['signup_question'] == 'What would you like to build?'
    assert item['draft'] is False and item['signup_open'] is True and item['status'] == 'upcoming'
    assert client.http.get('/api/learningcircles?city=Chicago&q=python').json_body['count'] == 1


def test_steps_of_a_published_circle_are_edited_on_its_own_page(dee):
    circle_id = walk(dee)
    dee.post(f'/facilitate/circles/{circle_id}/publish')
    for step in range(1, 6):
        response = dee.get(step_url(circle_id, step))
        assert response.status_code == 303 and response.headers['Location'] == f'/facilitate/circles/{circle_id}'
    again = dee.post(f'/facilitate/circles/{circle_id}/step/4', {**DETAILS, 'name': 'Changed'})
    assert again.status_code == 303 and stored(circle_id).name == 'Python at the library'


def test_incomplete_or_past_drafts_are_not_published(dee):
    circle_id = walk(dee, upto=4)
    response = dee.post(f'/facilitate/circles/{circle_id}/publish')
    assert response.status_code == 400 and 'Please complete the Goals step.' in page_of(response)
    next_step(dee, circle_id, 5, GOALS)
    circle = stored(circle_id)
    past = chicago_today() - timedelta(days=8)
    circle.meetings = circles.weekly_meetings(past, datetime.strptime('18:00', '%H:%M').time(), 6, 90,
                                              'America/Chicago')
    circle.save()       # the draft waited too long: its first meetings are now in the past
    response = dee.post(f'/facilitate/circles/{circle_id}/publish')
    assert response.status_code == 400 and 'These meetings are in the past' in page_of(response)
    assert f'{past.isoformat()}' in page_of(response) and stored(circle_id).published is False


def test_a_circle_published_before_is_published_again_without_touching_its_meetings(dee, moto):
    circle_id = walk(dee)
    dee.post(f'/facilitate/circles/{circle_id}/publish')
    circle = stored(circle_id)
    circle.published = False         # unpublished from its own page
    circles.save(circle)
    assert dee.get(step_url(circle_id, 3)).headers['Location'] == f'/facilitate/circles/{circle_id}/meetings'
    emails = len(moto.sent_emails())
    assert dee.post(f'/facilitate/circles/{circle_id}/publish').status_code == 303
    again = stored(circle_id)
    assert again.published and [m.meeting_id for m in again.meetings] == [m.meeting_id for m in circle.meetings]
    assert len(moto.sent_emails()) == emails      # the goals went out the first time only


# --- teams and the goals email -----------------------------------------------------------------

def make_team(name, members):
    team_id = re.sub(r'\W+', '-', name.lower())
    Team(*Team.key(team_id), team_id=team_id, name=name).save()
    for user, role in members:
        TeamMember(f'TEAM#{team_id}', f'MEMBER#{user.user_id}', team_id=team_id, user_id=user.user_id, role=role,
                   user_pk=f'USER#{user.user_id}', user_sk=f'TEAM#{team_id}').save()
    return team_id


def test_the_goals_email_reaches_the_team_organizers_and_the_support_address(dee, moto):
    olga = account(moto, 'Olga Organizer', 'olga@example.org')
    fred = account(moto, 'Fred Fellow', 'fred@example.org')
    team_id = make_team('Chicago Public Library', [(olga, 'organizer'), (dee.user, 'facilitator'),
                                                    (fred, 'facilitator')])
    circle_id = walk(dee)
    assert stored(circle_id).team_id == team_id
    assert 'Chicago Public Library' in page_of(dee.get(step_url(circle_id, 6)))
    before = len(moto.sent_emails())
    dee.post(f'/facilitate/circles/{circle_id}/publish')

    sent = moto.sent_emails()[before:]
    assert sorted(m['To'] for m in sent) == ['olga@example.org', 'support@example.org']
    for message in sent:
        text = message.get_body(('plain',)).get_content()
        assert message['Subject'] == 'New learning circle published: Python at the library'
        assert message['Reply-To'] == 'dee@example.org' and message['Cc'] is None
        assert 'Help my neighbours learn to code.' in text and 'The Wi-Fi at the venue is slow.' in text
        assert f'http://circles.test/circles/{circle_id}' in text and 'Dee Facilitator' in text
    assert stored(circle_id).team_pk == f'TEAM#{team_id}'


def test_without_a_team_the_goals_go_to_support(dee, moto):
    circle_id = walk(dee)
    dee.post(f'/facilitate/circles/{circle_id}/publish')
    assert [m['To'] for m in moto.sent_emails() if 'published' in m['Subject']] == ['support@example.org']


def test_someone_in_several_teams_chooses_the_circle_team(dee, moto):
    make_team('Chicago Public Library', [(dee.user, 'facilitator')])
    evanston = make_team('Evanston Library', [(dee.user, 'organizer')])
    page = page_of(dee.get('/facilitate/circles/new'))
    assert '<option value="chicago-public-library">Chicago Public Library</option>' in page
    refused = dee.post('/facilitate/circles/new', COURSE)
    assert refused.status_code == 400 and 'id="team_id-error"' in page_of(refused)
    assert dee.post('/facilitate/circles/new', {**COURSE, 'team_id': 'not-my-team'}).status_code == 400
    circle_id = start(dee, team_id=evanston)
    assert stored(circle_id).team_id == evanston


# --- roles and CSRF on every route -------------------------------------------------------------

def dialog_routes(circle_id):
    """(method, path, fields) for every route of the dialog."""
    routes = [('GET', '/facilitate/circles/new', None), ('POST', '/facilitate/circles/new', COURSE)]
    routes += [('GET', step_url(circle_id, step), None) for step in range(1, 7)]
    fields = {1: COURSE, 2: PLACE, 3: schedule(), 4: DETAILS, 5: GOALS}
    routes += [('POST', step_url(circle_id, step), fields[step]) for step in range(1, 6)]
    routes += [('POST', f'/facilitate/circles/{circle_id}/confirmation', {}),
               ('POST', f'/facilitate/circles/{circle_id}/publish', {})]
    return routes


def call(visitor, method, path, fields):
    return visitor.get(path) if method == 'GET' else visitor.post(path, fields)


@pytest.fixture
def world(dee, client, moto):
    """Dee's complete draft in a team; Cody co-facilitates it, Olga organizes the team, Sam is a stranger."""
    olga = account(moto, 'Olga Organizer', 'olga@example.org')
    make_team('Chicago Public Library', [(olga, 'organizer'), (dee.user, 'facilitator')])
    circle_id = walk(dee)
    cody = account(moto, 'Cody Cofacilitator', 'cody@example.org')
    circle = stored(circle_id)
    circle.facilitator_ids.append(cody.user_id)
    circle.facilitator_names.append('Cody')
    circle.facilitator_emails.append(cody.email)
    circle.save()
    facilitation.facilitator_link(circle, cody, 'co-facilitator').save()
    sam = account(moto, 'Sam Stranger', 'sam@example.org')
    return {'circle_id': circle_id, 'dee': dee, 'cody': signed_in(client, cody), 'olga': signed_in(client, olga),
            'sam': signed_in(client, sam), 'anonymous': Visitor(client)}


def test_anonymous_visitors_are_sent_to_log_in_from_every_route(world):
    for method, path, fields in dialog_routes(world['circle_id']):
        response = call(world['anonymous'], method, path, fields)
        assert response.status_code == 303, (method, path)
        assert response.headers['Location'] == f'/login?next={path}', (method, path)


def test_another_facilitator_gets_404_on_every_route_of_the_draft_and_changes_nothing(world, moto):
    circle_id = world['circle_id']
    before = stored(circle_id)
    emails = len(moto.sent_emails())
    for method, path, fields in dialog_routes(circle_id)[2:]:
        response = call(world['sam'], method, path, fields)
        assert response.status_code == 404, (method, path)
        assert 'Python' not in page_of(response)
    assert stored(circle_id).updated_at == before.updated_at and len(moto.sent_emails()) == emails


@pytest.mark.parametrize('who', ['dee', 'cody', 'olga'])
def test_the_facilitator_a_co_facilitator_and_the_team_organizer_can_use_every_route(world, who):
    visitor, circle_id = world[who], world['circle_id']
    for method, path, fields in dialog_routes(circle_id):
        response = call(visitor, method, path, fields)
        assert response.status_code in (200, 303), (who, method, path, response.body)
        if method == 'POST' and '/step/' in path:
            step = int(path.rsplit('/', 1)[1])
            assert response.headers['Location'] == step_url(circle_id, step + 1), (who, path)
    assert stored(circle_id).published is True
    assert visitor.get(step_url(circle_id, 6)).status_code == 200


def test_steps_that_do_not_exist_are_not_found(dee):
    circle_id = walk(dee, upto=1)
    for step in ('0', '7', 'two', '-1'):
        assert dee.get(step_url(circle_id, step)).status_code == 404
    assert dee.post(step_url(circle_id, 6), {}).status_code == 404
    assert dee.get(step_url('no-such-circle', 1)).status_code == 404


def test_every_post_needs_the_csrf_token(world, moto):
    circle_id = world['circle_id']
    before = stored(circle_id)
    emails = len(moto.sent_emails())
    for method, path, fields in dialog_routes(circle_id):
        if method != 'POST':
            continue
        assert world['dee'].post(path, fields, csrf=False).status_code == 403, path
        assert world['dee'].post(path, {**fields, 'csrf_token': 'forged'}, csrf=False).status_code == 403, path
    after = stored(circle_id)
    assert after.updated_at == before.updated_at and after.published is False
    assert len(moto.sent_emails()) == emails
    assert len(facilitation.my_circles(world['dee'].user.user_id)) == 1


# --- the timezone of an online circle ------------------------------------------------------

ONLINE = {'mode': 'online', 'online_link': 'https://meet.example.org/python'}


def test_an_online_circle_is_asked_its_timezone_with_nothing_chosen_for_it(dee):
    circle_id = start(dee)
    next_step(dee, circle_id, 2, ONLINE)
    page = dee.get(step_url(circle_id, 3)).body.decode()
    select = re.search(r'<select id="timezone".*?</select>', page, re.S).group(0)
    assert '<option value="">Choose the timezone</option>' in select and ' selected' not in select
    assert '<form method="post" action="/facilitate/circles/' in page and 'data-browser-timezone' in page
    assert '<script src="/static/timezone.js" defer></script>' in page
    refused = dee.post(step_url(circle_id, 3), {**schedule(timezone=''), 'action': 'next'})
    assert refused.status_code == 400 and 'Please choose a timezone' in refused.body.decode()
    next_step(dee, circle_id, 3, schedule(timezone='Asia/Kolkata'))
    circle = circles.get_circle(circle_id)
    assert circle.timezone == 'Asia/Kolkata'
    assert circle.meetings[0].starts_at.astimezone(ZoneInfo('Asia/Kolkata')).strftime('%H:%M') == '18:00'


def test_the_timezone_script_only_fills_an_empty_select_with_the_browsers_zone(client):
    response = client.http.get('/static/timezone.js')
    script = response.body.decode()
    assert response.status_code == 200 and 'javascript' in response.headers['Content-Type']
    assert 'Intl.DateTimeFormat().resolvedOptions().timeZone' in script and 'if (select.value)' in script
