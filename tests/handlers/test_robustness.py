"""Input that used to answer 500 or write half a change: each is a clear 400 with nothing written,
and text stored before the field rules refused it (a circle name with a line break) still
publishes, welcomes and serves its calendar."""
import json
from datetime import timedelta

import pytest

from chalicelib.circles import circles
from chalicelib.core import fields as rules
from chalicelib.core.settings import get_settings
from chalicelib.models import Signup
from tests.facilitators.test_dialog import (DETAILS, chicago_today, dee, next_step, page_of, schedule,  # noqa: F401
                                            step_url, stored, walk)
from tests.facilitators.test_facilitator_pages import Browser, account, post, run_by
from tests.support import aws_calls
from tests.support.factories import make_circle

JSON = {'Content-Type': 'application/json'}
BROKEN = '\\ud800'      # a lone surrogate, as JSON writes it


def signup_body(circle_id, **changes):
    body = {'learning_circle': circle_id, 'name': 'Grace Hopper', 'email': 'grace@example.org', 'consent': True,
            'signup_questions': {'goals': 'Learn', 'support': 'None'}}
    body.update(changes)
    return json.dumps(body)


def nothing_signed_up(circle):
    fresh = circles.get_circle(circle.id)
    return int(fresh.signup_count or 0) == 0 and not list(Signup.query(fresh.pk, Signup.sk.startswith('SIGNUP#')))


# --- text stored with a line break -----------------------------------------------------------

NAME_WITH_BREAK = 'Python\nat the library'


def test_a_circle_name_stored_with_a_line_break_still_welcomes_learners_and_serves_its_calendar(client, moto):
    circle = make_circle(name=NAME_WITH_BREAK, venue_address='400 S State St\r\nChicago')
    response = client.http.post('/api/signup/', headers=JSON, body=signup_body(circle.id))
    assert response.status_code == 200, response.body
    [welcome] = [m for m in moto.sent_emails() if m['To'] == 'grace@example.org']
    assert welcome['Subject'] == 'You signed up for Python at the library'
    calendar = client.http.get(f'/circles/{circle.id}/calendar.ics')
    assert calendar.status_code == 200
    text = calendar.body.decode()
    assert 'X-WR-CALNAME:Python at the library\r\n' in text and 'SUMMARY:Python at the library\r\n' in text
    assert 'LOCATION:Harold Washington Library\\, 400 S State St Chicago' in text


def test_a_draft_whose_stored_name_has_a_line_break_publishes_and_its_goals_email_goes_out(dee, moto):
    circle_id = walk(dee)
    draft = stored(circle_id)
    draft.name = NAME_WITH_BREAK
    draft.save()
    assert dee.post(f'/facilitate/circles/{circle_id}/publish').status_code == 303
    [goals] = [m for m in moto.sent_emails() if m['To'] == get_settings().support_email]
    assert goals['Subject'] == 'New learning circle published: Python at the library'


# --- control characters through the field rules ------------------------------------------------

@pytest.mark.parametrize('name', ['Python\nat the library', 'Python\r\nslowly', 'Tab\there', 'Bell\x07',
                                  'Line\u2028separator', 'Nul\x00'])
def test_the_dialog_refuses_a_circle_name_that_is_not_one_line_and_saves_nothing(dee, name):
    circle_id = walk(dee, upto=3)
    response = dee.post(step_url(circle_id, 4), {**DETAILS, 'name': name, 'action': 'next'})
    assert response.status_code == 400 and rules.NOT_ONE_LINE in page_of(response)
    assert stored(circle_id).name == 'Python for Everybody'


def test_the_dialog_refuses_a_course_title_with_a_line_break_before_creating_the_draft(dee):
    aws_calls.reset()
    response = dee.post('/facilitate/circles/new', {'title': 'Python\nfor all', 'link': 'https://example.org/c'})
    assert response.status_code == 400 and rules.NOT_ONE_LINE in page_of(response)
    assert 'TransactWriteItems' not in aws_calls.dynamodb_calls()


def test_multi_line_fields_keep_their_line_breaks_and_refuse_other_control_characters(dee):
    circle_id = walk(dee, upto=3)
    refused = dee.post(step_url(circle_id, 4), {**DETAILS, 'description': 'One\tTwo', 'action': 'next'})
    assert refused.status_code == 400 and rules.CONTROL_CHARACTER in page_of(refused)
    next_step(dee, circle_id, 4, {**DETAILS, 'description': 'First line\r\nSecond line\r\n'})
    assert stored(circle_id).description == 'First line\nSecond line'


@pytest.mark.parametrize('field, value, message', [
    ('name', 'Two\nlines', rules.NOT_ONE_LINE), ('venue_name', 'Library\x1b[31m', rules.NOT_ONE_LINE),
    ('course_title', 'Py\r4E', rules.NOT_ONE_LINE), ('signup_question', 'Why?\nReally?', rules.NOT_ONE_LINE),
    ('course_link', 'https://example.org/\nx', rules.NOT_A_LINK), ('welcome_message', 'Hi\x00', rules.CONTROL_CHARACTER)])
def test_the_edit_form_refuses_control_characters_and_writes_nothing(client, field, value, message):
    dee = account()
    circle = run_by(dee)
    browser = Browser(dee)
    from chalicelib.facilitators import circle_admin
    form = {**circle_admin.detail_values(circle), 'version': circle_admin.version_of(circle), field: value}
    response = post(client, f'/facilitate/circles/{circle.id}/edit', form, browser)
    assert response.status_code == 400 and message in response.body.decode()
    assert circles.get_circle(circle.id).updated_at == circle.updated_at


# --- JSON bodies: nesting and lone surrogates ------------------------------------------------------

@pytest.mark.parametrize('body', ['[' * 100_000, '{"a":' * 50_000, json.dumps({'name': [[[[[[[[[[[[[[[[[[[[[['x']]]]]]]]]]]]]]]]]]]]]]}),
                                  '{"learning_circle": ' + '[' * 30 + ']' * 30 + '}'])
def test_deeply_nested_json_is_a_400_and_nothing_is_written(client, body):
    circle = make_circle()
    response = client.http.post('/api/signup/', headers=JSON, body=body)
    assert response.status_code == 400, response.body
    assert response.json_body['status'] == 'error' and 'body' in response.json_body['errors']
    assert nothing_signed_up(circle)


@pytest.mark.parametrize('field, expected', [
    ('name', 'name'), ('email', 'email'), ('mobile', 'mobile'), ('learning_circle', 'learning_circle'),
    ('goals', 'signup_questions.goals'), ('key', f'x{BROKEN}')])
def test_a_lone_surrogate_in_any_text_field_of_the_signup_api_is_a_400_and_nothing_is_written(client, moto, field,
                                                                                              expected):
    circle = make_circle()
    body = json.loads(signup_body(circle.id))
    if field == 'goals':
        body['signup_questions']['goals'] = 'Learn PLACEHOLDER'
    elif field == 'key':
        body['xPLACEHOLDER'] = 'value'
    else:
        body[field] = f'{body.get(field) or "x"}PLACEHOLDER'
    raw = json.dumps(body).replace('PLACEHOLDER', BROKEN)
    response = client.http.post('/api/signup/', headers=JSON, body=raw)
    assert response.status_code == 400, response.body
    errors = response.json_body['errors']
    assert list(errors) == [expected.replace(BROKEN, '\ufffd')] and errors[list(errors)[0]] == [rules.BROKEN_CHARACTER]
    assert nothing_signed_up(circle) and not moto.sent_emails()


# --- meeting dates within five years ----------------------------------------------------------------

@pytest.mark.parametrize('first_date', ['9999-12-31', '0001-01-01'])
def test_the_dialog_refuses_a_first_meeting_in_year_9999_or_year_1_and_saves_nothing(dee, first_date):
    circle_id = walk(dee, upto=2)
    response = dee.post(step_url(circle_id, 3), {**schedule(first_date=first_date), 'action': 'next'})
    assert response.status_code == 400 and 'first_date-error' in page_of(response)
    assert stored(circle_id).meetings == []


def test_the_dialog_refuses_moving_a_meeting_beyond_five_years_even_when_it_is_removed(dee):
    circle_id = walk(dee, upto=3)
    planned = schedule()['first_date']
    fields = {**schedule(), 'meeting_1_planned': planned, 'meeting_1_date': '9999-01-01', 'meeting_1_remove': 'on',
              'action': 'next'}
    response = dee.post(step_url(circle_id, 3), fields)
    assert response.status_code == 400 and 'within 5 years' in page_of(response)


def test_the_last_day_five_years_ahead_is_accepted_and_the_day_after_is_not(dee):
    latest = rules.latest_meeting_date(chicago_today())
    circle_id = walk(dee, upto=2)
    too_late = dee.post(step_url(circle_id, 3), {**schedule(first_date=(latest + timedelta(days=1)).isoformat(),
                                                            weeks='1'), 'action': 'next'})
    assert too_late.status_code == 400 and f'by {latest.isoformat()}' in page_of(too_late)
    next_step(dee, circle_id, 3, schedule(first_date=latest.isoformat(), weeks='1'))
    assert [m.local_date for m in stored(circle_id).meetings] == [latest.isoformat()]


@pytest.mark.parametrize('when', ['9999-12-31', '0001-01-01', '2100-06-01'])
def test_the_meetings_page_refuses_adding_or_moving_a_meeting_to_a_far_year_and_writes_nothing(client, when):
    dee = account()
    circle = run_by(dee)
    browser = Browser(dee)
    base = f'/facilitate/circles/{circle.id}/meetings'
    added = post(client, base, {'date': when, 'time': '23:30'}, browser)
    moved = post(client, f'{base}/{circle.meetings[0].meeting_id}/move', {'date': when, 'time': '23:30'}, browser)
    for response in (added, moved):
        assert response.status_code == 400 and 'date-error' in response.body.decode()
    assert circles.get_circle(circle.id).updated_at == circle.updated_at
