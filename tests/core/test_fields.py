"""The field rules (chalicelib/core/fields.py): each check on its own, the creation dialog and
the edit form accepting and refusing the same values at every boundary, and the OpenAPI
document stating exactly the rules' limits."""
import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core import fields as rules
from chalicelib.core.errors import ValidationFailed
from chalicelib.facilitators import circle_admin, dialog
from tests.facilitators.test_dialog import COURSE, DETAILS, PLACE, schedule
from tests.support.factories import local_today, make_circle

FORM = 'application/x-www-form-urlencoded'


def link_of_length(length):
    start = 'https://example.org/'
    return start + 'a' * (length - len(start))


NOT_LINKS = ['www.example.org', 'javascript:alert(1)', 'ftp://example.org/course', 'https://:80',
             'https://exa\tmple.org', 'https://exa mple.org', 'https://[::1/x', 'https://']


# --- each rule on its own -----------------------------------------------------------------

def test_text_is_stripped_and_kept_to_its_length():
    rule = rules.Text(5)
    assert rules.clean_text(rule, '  abcde  ') == ('abcde', None)
    value, error = rules.clean_text(rule, 'abcdef')
    assert value == 'abcdef' and error == 'Please keep this to at most 5 characters.'
    assert rules.clean_text(rule, None) == ('', None) and rules.clean_text(rule, 12) == ('', None)


def test_required_text_and_text_required_here_only():
    assert rules.clean_text(rules.Text(5, required=True), '   ') == ('', rules.REQUIRED)
    assert rules.clean_text(rules.Text(5, required=True), '  ', missing='Name it.') == ('', 'Name it.')
    assert rules.clean_text(rules.Text(5), '', missing='Needed in person.') == ('', 'Needed in person.')
    assert rules.clean_text(rules.Text(5), 'ok', missing='Needed in person.') == ('ok', None)


@pytest.mark.parametrize('value', ['https://example.org', 'http://example.org/a?b=c#d', 'HTTPS://EXAMPLE.ORG/',
                                   'https://meet.example.org:8443/room', 'https://[::1]/x'])
def test_web_links(value):
    assert rules.is_web_link(value)
    assert rules.clean_text(rules.Link(500), value) == (value, None)


@pytest.mark.parametrize('value', NOT_LINKS + [None, ''])
def test_not_web_links(value):
    assert not rules.is_web_link(value)
    if value:
        assert rules.clean_text(rules.Link(500), value)[1] == rules.NOT_A_LINK


def test_a_link_too_long_says_so_before_anything_else():
    assert rules.clean_text(rules.Link(30), link_of_length(31))[1] == 'Please keep this to at most 30 characters.'


SINGLE_LINE_REFUSED = ['a\nb', 'a\r\nb', 'a\rb', 'a\tb', 'a\x00b', 'a\x1bb', 'a\x7fb', 'a\x85b', 'a\u2028b',
                       'a\u2029b', 'a\x0bb', 'a\x0cb']


@pytest.mark.parametrize('value', SINGLE_LINE_REFUSED)
def test_single_line_text_refuses_line_breaks_tabs_and_other_control_characters(value):
    assert rules.clean_text(rules.CIRCLE_NAME, value) == (value, rules.NOT_ONE_LINE)
    assert rules.clean_text(rules.COURSE_LINK, f'https://example.org/{value}')[1] == rules.NOT_A_LINK


def test_single_line_text_keeps_letters_of_every_script_emoji_and_joiners():
    for value in ['Café Ñandú', 'Кружок', '学习小组', 'مجموعة', '👩🏽‍💻 coders', 'a\u200db']:
        assert rules.clean_text(rules.CIRCLE_NAME, value) == (value, None)


def test_multi_line_text_keeps_line_breaks_as_newlines_and_refuses_other_control_characters():
    assert rules.clean_text(rules.DESCRIPTION, ' One\r\nTwo\rThree\u2028Four\n ') == ('One\nTwo\nThree\nFour', None)
    for value in ['a\tb', 'a\x00b', 'a\x1bb', 'a\x0cb']:
        assert rules.clean_text(rules.DESCRIPTION, value) == (value, rules.CONTROL_CHARACTER)


def test_no_text_takes_a_lone_surrogate_and_it_comes_back_replaced_so_the_form_can_show_it():
    for rule in (rules.CIRCLE_NAME, rules.DESCRIPTION, rules.COURSE_LINK):
        assert rules.clean_text(rule, 'abc\ud800') == ('abc\ufffd', rules.BROKEN_CHARACTER)
    assert rules.clean_text(rules.CIRCLE_NAME, '😀') == ('😀', None)       # a surrogate pair in JSON, one character


def test_the_textareas_are_the_multi_line_rules():
    multi = {name for name, rule in vars(rules).items() if isinstance(rule, rules.Text) and rule.multiline}
    assert multi == {'VENUE_DETAILS', 'DESCRIPTION', 'WELCOME_MESSAGE', 'GOAL', 'CONCERNS', 'MESSAGE_BODY',
                     'REFLECTION', 'REMINDER_INTRO', 'REMINDER_SMS_WORDS', 'ANSWER'}
    assert all(rules.SIGNUP[name].multiline for name in ('goals', 'support', 'custom_answer'))
    assert not rules.SIGNUP['name'].multiline and not rules.SIGNUP['email'].multiline


def test_one_line_makes_stored_text_safe_for_a_header_or_a_calendar_property():
    assert rules.one_line(' Python\r\nat the\tlibrary\x00\u2028now\ud800 ') == 'Python at the library now\ufffd'
    assert rules.one_line(None) == '' and rules.one_line('Plain') == 'Plain'


def test_meeting_dates_reach_five_years_ahead_and_never_before_1970():
    from datetime import date
    today = date(2028, 2, 29)
    assert rules.latest_meeting_date(today) == date(2033, 2, 28)
    assert rules.clean_meeting_date('2033-02-28', today) == (date(2033, 2, 28), None)
    assert rules.clean_meeting_date(' 2026-12-01 ', today) == (date(2026, 12, 1), None)   # past: the caller decides
    for raw, message in [('2033-03-01', 'within 5 years from today (by 2033-02-28)'), ('9999-12-31', 'within 5 years'),
                         ('1969-12-31', 'has not passed'), ('0001-01-01', 'has not passed'),
                         ('next week', 'YYYY-MM-DD'), (None, 'YYYY-MM-DD')]:
        value, error = rules.clean_meeting_date(raw, today)
        assert value is None and message in error, raw


def test_whole_numbers():
    rule = rules.Number(1, 10)
    assert rules.clean_whole_number(rule, ' 10 ') == (10, None)
    assert rules.clean_whole_number(rule, '1') == (1, None)
    for raw in ('0', '11', '2.5', 'seven', '', None):
        assert rules.clean_whole_number(rule, raw)[1] == 'Please give a whole number from 1 to 10.', raw
    assert rules.clean_whole_number(rule, '11', 'Too many.') == (11, 'Too many.')


def test_a_number_that_is_not_required_may_be_left_empty():
    rule = rules.Number(1, 10, required=False)
    assert rules.clean_whole_number(rule, '  ') == (None, None)
    assert rules.clean_whole_number(rule, '0')[1] == 'Please give a whole number from 1 to 10, or leave it empty.'


def test_languages_of_the_list_or_the_one_a_circle_has():
    assert rules.clean_language(' sw ') == ('sw', None)
    assert rules.clean_language('xx') == ('xx', rules.NOT_A_LANGUAGE)
    assert rules.clean_language('') == ('', rules.NOT_A_LANGUAGE)
    assert rules.clean_language('xx', keep='xx') == ('xx', None)
    assert rules.clean_language('', keep='') == ('', rules.NOT_A_LANGUAGE)


@pytest.mark.parametrize('value', [True, 1, 'true', 'on', 'yes', '1'])
def test_true_values_of_forms_and_json(value):
    assert rules.is_true(value)


@pytest.mark.parametrize('value', [False, 0, None, '', 'false', 'off', 'no', '0', 2, [], {}, 'y'])
def test_everything_else_is_false(value):
    assert not rules.is_true(value)


def test_rules_are_values_nobody_can_change():
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.CAPACITY.high = 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.WELCOME_MESSAGE.max_length = 5


def test_the_former_disagreements_have_one_value_each():
    assert (rules.CAPACITY.low, rules.CAPACITY.high) == (1, 1000)
    assert rules.WELCOME_MESSAGE.max_length == 5000 and rules.SIGNUP_QUESTION.max_length == 500
    assert (rules.DURATION.low, rules.DURATION.high) == (15, 600)
    assert rules.DESCRIPTION.required and rules.COURSE_LINK.required
    assert rules.ATTENDANCE.high == rules.CAPACITY.high


def test_modules_that_keep_their_own_names_for_limits_take_them_from_the_rules():
    from chalicelib.facilitators import feedback, messages
    from chalicelib.reminders import schedule as reminders
    assert (messages.MAX_SUBJECT, messages.MAX_BODY) == (rules.MESSAGE_SUBJECT.max_length,
                                                         rules.MESSAGE_BODY.max_length)
    assert (feedback.MAX_ATTENDANCE, feedback.MAX_REFLECTION) == (rules.ATTENDANCE.high, rules.REFLECTION.max_length)
    assert list(feedback.RATINGS) == list(range(rules.RATING.low, rules.RATING.high + 1))
    assert (reminders.MAX_SUBJECT, reminders.MAX_INTRO, reminders.MAX_SMS_WORDS) == (
        rules.REMINDER_SUBJECT.max_length, rules.REMINDER_INTRO.max_length, rules.REMINDER_SMS_WORDS.max_length)
    assert dialog.LANGUAGES == circle_admin.LANGUAGES == rules.LANGUAGES


# --- the dialog and the edit form agree ------------------------------------------------------

# (rule, where the dialog asks for it, its name in the dialog, its name in the edit form)
SHARED_TEXT = [
    (rules.COURSE_TITLE, 1, 'title', 'course_title'),
    (rules.COURSE_PROVIDER, 1, 'provider', 'course_provider'),
    (rules.COURSE_LINK, 1, 'link', 'course_link'),
    (rules.VENUE_NAME, 'in_person', 'venue_name', 'venue_name'),
    (rules.VENUE_ADDRESS, 'in_person', 'venue_address', 'venue_address'),
    (rules.VENUE_DETAILS, 'in_person', 'venue_details', 'venue_details'),
    (rules.VENUE_WEBSITE, 'in_person', 'venue_website', 'venue_website'),
    (rules.ONLINE_LINK, 'online', 'online_link', 'online_link'),
    (rules.CIRCLE_NAME, 4, 'name', 'name'),
    (rules.DESCRIPTION, 4, 'description', 'description'),
    (rules.WELCOME_MESSAGE, 4, 'welcome_message', 'welcome_message'),
    (rules.SIGNUP_QUESTION, 4, 'signup_question', 'signup_question'),
]
REQUIRED_THERE = {'venue_name', 'venue_address', 'online_link'}     # in person, online


def errors_of(validate, fields):
    try:
        validate(fields)
    except ValidationFailed as failed:
        return failed.errors
    return {}


def dialog_errors(where, changes):
    step = {1: (dialog.validate_course, COURSE), 4: (dialog.validate_details, DETAILS),
            'in_person': (lambda fields: dialog.validate_place(fields, None), PLACE),
            'online': (lambda fields: dialog.validate_place(fields, None), {'mode': 'online'})}
    validate, base = step[where]
    return errors_of(validate, {**base, **changes})


def edit_errors(where, changes):
    circle = make_circle(save=False)
    online = {'online': 'yes', 'online_link': 'https://meet.example.org/python'} if where == 'online' else {}
    return errors_of(lambda fields: circle_admin.validate_details(fields, circle),
                     {**circle_admin.detail_values(circle), **online, **changes})


def accepted_by_both(where, dialog_field, edit_field, value):
    """(dialog accepts, edit form accepts); each refuses, if at all, only the field tried."""
    in_dialog, in_edit = dialog_errors(where, {dialog_field: value}), edit_errors(where, {edit_field: value})
    assert set(in_dialog) <= {dialog_field} and set(in_edit) <= {edit_field}, (in_dialog, in_edit)
    return not in_dialog, not in_edit


@pytest.mark.parametrize('rule, where, dialog_field, edit_field', SHARED_TEXT, ids=[t[2] for t in SHARED_TEXT])
def test_the_dialog_and_the_edit_form_accept_and_refuse_the_same_text(rule, where, dialog_field, edit_field):
    longest = link_of_length if isinstance(rule, rules.Link) else (lambda n: 'x' * n)
    required = rule.required or dialog_field in REQUIRED_THERE
    expected = {longest(rule.max_length): True, longest(rule.max_length + 1): False, '': not required,
                '   ': not required}
    expected.update({'x\ny': rule.multiline, 'x\r\ny': rule.multiline, 'x\ty': False, 'x\x00y': False,
                     'x\ud800y': False})
    if isinstance(rule, rules.Link):
        expected.update({value: False for value in NOT_LINKS})
        expected['https://example.org/course'] = True
    for value, accepted in expected.items():
        assert accepted_by_both(where, dialog_field, edit_field, value) == (accepted, accepted), (value, accepted)


@pytest.mark.parametrize('value, accepted', [
    ('', True), ('1', True), (str(rules.CAPACITY.high), True), ('0', False), (str(rules.CAPACITY.high + 1), False),
    ('-3', False), ('twelve', False), ('2.5', False)])
def test_the_dialog_and_the_edit_form_take_the_same_capacities(value, accepted):
    assert accepted_by_both(4, 'capacity', 'capacity', value) == (accepted, accepted)
    if not accepted:
        assert dialog_errors(4, {'capacity': value}) == edit_errors(4, {'capacity': value})


@pytest.mark.parametrize('value, accepted', [('en', True), ('sw', True), ('xx', False), ('', False)])
def test_the_dialog_and_the_edit_form_take_the_same_languages(value, accepted):
    assert accepted_by_both(4, 'language', 'language', value) == (accepted, accepted)


@pytest.mark.parametrize('value, accepted', [
    (str(rules.DURATION.low), True), (str(rules.DURATION.high), True), (str(rules.DURATION.low - 1), False),
    (str(rules.DURATION.high + 1), False), ('ninety', False)])
def test_the_dialog_and_the_meetings_page_take_the_same_meeting_lengths(value, accepted):
    in_dialog = errors_of(lambda fields: dialog.validate_schedule(fields, datetime.now(timezone.utc)),
                          schedule(duration=value))
    circle = make_circle(save=False)
    later = (local_today(circle.timezone) + timedelta(days=100)).isoformat()
    in_edit = errors_of(lambda fields: circle_admin.add_meeting(circle, fields),
                        {'date': later, 'time': '18:00', 'duration': value})
    assert set(in_dialog) <= {'duration'} and set(in_edit) <= {'duration'}, (in_dialog, in_edit)
    assert (not in_dialog, not in_edit) == (accepted, accepted)


# --- the OpenAPI document states the rules -------------------------------------------------

@pytest.fixture
def doc(client):
    return client.http.get('/api/openapi.json').json_body


def form_of(doc, path):
    return doc['paths'][path]['post']['requestBody']['content'][FORM]['schema']


def states_range(schema, rule):
    return f'{rule.low} to {rule.high}' in schema['description']


def test_the_document_states_the_circle_rules(doc):
    edit = form_of(doc, '/facilitate/circles/{circle_id}/edit')
    steps = form_of(doc, '/facilitate/circles/{circle_id}/step/{step}')['properties']
    first_step = form_of(doc, '/facilitate/circles/new')['properties']
    for rule, where, dialog_field, edit_field in SHARED_TEXT:
        assert edit['properties'][edit_field]['maxLength'] == rule.max_length, edit_field
        assert steps[dialog_field]['maxLength'] == rule.max_length, dialog_field
        if where == 1:
            assert first_step[dialog_field]['maxLength'] == rule.max_length, dialog_field
    assert set(edit['required']) == {'csrf_token', 'version'} | {
        edit_field for rule, _, _, edit_field in SHARED_TEXT if rule.required}
    for name, rule in (('topics', rules.TOPICS), ('goal', rules.GOAL), ('concerns', rules.CONCERNS)):
        assert steps[name]['maxLength'] == rule.max_length, name
    assert states_range(edit['properties']['capacity'], rules.CAPACITY)
    assert states_range(steps['capacity'], rules.CAPACITY)
    assert states_range(steps['duration'], rules.DURATION) and states_range(steps['weeks'], rules.WEEKS)
    assert states_range(steps['latitude'], rules.LATITUDE) and states_range(steps['longitude'], rules.LONGITUDE)
    meetings = form_of(doc, '/facilitate/circles/{circle_id}/meetings')['properties']
    assert states_range(meetings['duration'], rules.DURATION)
    assert steps['language']['enum'] == list(rules.LANGUAGES)


def test_the_document_states_the_rules_of_messages_feedback_and_reminders(doc):
    message = form_of(doc, '/facilitate/circles/{circle_id}/messages/new')['properties']
    assert (message['subject']['maxLength'], message['body']['maxLength']) == (
        rules.MESSAGE_SUBJECT.max_length, rules.MESSAGE_BODY.max_length)
    feedback = form_of(doc, '/facilitate/circles/{circle_id}/meetings/{meeting_id}/feedback')['properties']
    assert states_range(feedback['attendance'], rules.ATTENDANCE)
    assert feedback['rating']['enum'] == [str(n) for n in range(rules.RATING.low, rules.RATING.high + 1)]
    assert feedback['reflection']['maxLength'] == rules.REFLECTION.max_length
    reminder = form_of(doc, '/facilitate/circles/{circle_id}/meetings/{meeting_id}/reminder')['properties']
    assert [reminder[name]['maxLength'] for name in ('subject', 'intro', 'sms_text')] == [
        rules.REMINDER_SUBJECT.max_length, rules.REMINDER_INTRO.max_length, rules.REMINDER_SMS_WORDS.max_length]


def test_the_document_states_the_rules_of_people(doc):
    signup_api = doc['components']['schemas']['SignupRequest']['properties']
    answers = signup_api['signup_questions']['properties']
    assert signup_api['name']['maxLength'] == rules.SIGNUP['name'].max_length
    assert signup_api['email']['maxLength'] == rules.SIGNUP['email'].max_length
    assert [answers[name]['maxLength'] for name in ('goals', 'support', 'custom_question')] == [
        rules.SIGNUP[name].max_length for name in ('goals', 'support', 'custom_answer')]
    signup_form = form_of(doc, '/circles/{circle_id}/signup')['properties']
    for name, rule in rules.SIGNUP.items():
        assert signup_form[name]['maxLength'] == rule.max_length, name
    register = form_of(doc, '/register')['properties']
    assert (register['name']['maxLength'], register['email']['maxLength']) == (
        rules.PERSON_NAME.max_length, rules.EMAIL.max_length)
    co_facilitator = form_of(doc, '/facilitate/circles/{circle_id}/facilitators')['properties']
    assert co_facilitator['email']['maxLength'] == rules.EMAIL.max_length
    browse = {p['name']: p['schema'] for p in doc['paths']['/api/learningcircles']['get']['parameters']}
    for name, rule in (('latitude', rules.LATITUDE), ('longitude', rules.LONGITUDE)):
        assert (browse[name]['minimum'], browse[name]['maximum']) == (rule.low, rule.high)
