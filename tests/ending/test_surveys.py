"""The end-of-circle surveys: sent once when the last meeting ends (email, or SMS to a learner
with only a mobile), one reminder 3 days later to those who have not answered, then on to the
insights report's queue; the learner's page (signed, single-purpose link, no account; answering
twice updates; closed after the close) and the facilitator's (signed in, facilitators only)."""
import re
import threading
from datetime import timedelta
from urllib.parse import urlencode

from chalicelib.accounts import sessions
from chalicelib.core import links
from chalicelib.ending import schedule, surveys
from chalicelib.ending.survey_job import send_end_of_circle_surveys, survey_sms
from chalicelib.messaging import sms_text
from chalicelib.models import Signup
from chalicelib.models.ending import CircleEnding, FacilitatorSurvey, LearnerSurvey
from tests.ending.world import FIVE_MINUTES, World, deliveries, emails_to, text_of
from tests.support import aws_calls

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


def survey_url_in(message):
    return re.search(r'(http\S+/survey/\S+)', text_of(message)).group(1)


def path_of(url):
    return '/' + url.split('/', 3)[3]


def open_surveys(world):
    summary = send_end_of_circle_surveys(world.last_end() + FIVE_MINUTES)
    assert summary == {'surveys_sent': 1}, summary


def form_post(client, path, fields):
    value, set_cookie = sessions.new_form_cookie()
    body = urlencode({'csrf_token': sessions.form_token(value), **fields})
    return client.http.post(path, headers={**FORM, 'Cookie': set_cookie.split(';')[0]}, body=body)


def test_when_the_last_meeting_ends_each_learner_and_facilitator_gets_their_survey_once(moto):
    world = World(weeks=2)
    assert send_end_of_circle_surveys(world.last_end() - timedelta(seconds=1)) == {}
    open_surveys(world)
    (lea,) = emails_to(moto, 'lea@example.org', 'has ended')
    assert 'Lea wants to write a small web app' in text_of(lea)
    token = surveys.token_of(survey_url_in(lea))
    assert links.unsign(links.SURVEY, token) == [world.circle.id, world.signups[0].signup_id]
    assert len(emails_to(moto, 'ben@example.org', 'has ended')) == 1
    for address in ('fay@example.org', 'cody@example.org'):
        (mail,) = emails_to(moto, address, 'your facilitator survey')
        assert f'/facilitate/circles/{world.circle.id}/survey' in text_of(mail)
    ending = schedule.ending_of(world.circle.id)
    assert ending.stage == 'SURVEY_REMINDER' and ending.due_pk == 'SURVEY_REMINDER'
    assert ending.due_sk.startswith((world.last_end() + FIVE_MINUTES + timedelta(days=3)).isoformat())
    assert send_end_of_circle_surveys(world.last_end() + timedelta(hours=1)) == {}     # not again
    assert len(moto.sent_emails()) == 4 + 2 * 2 + 2     # welcomes and new-signup notices, then these four


def test_a_learner_with_only_a_mobile_gets_the_survey_by_sms(moto, twilio):
    world = World(weeks=2, learners=('Lea Learner',))
    signup = world.signups[0]
    # The signup form asks for an address; a mobile-only signup (imported data) is written directly.
    Signup(*Signup.key(world.circle.id, 'mobileonly'), signup_id='mobileonly', circle_id=world.circle.id,
           name='Mo Bile', mobile='+13125550177', goals='Learn SQL').save()
    open_surveys(world)
    (text,) = [form for form in twilio.sent() if form['To'] == '+13125550177']
    assert '/survey/' in text['Body'] and text['Body'].endswith('Reply STOP to stop texts')
    assert sms_text.segments(text['Body'])[2] <= sms_text.MAX_SEGMENTS
    assert not [m for m in moto.sent_emails() if 'Mo Bile' in text_of(m)]
    assert len(emails_to(moto, signup.email, 'has ended')) == 1


def test_the_survey_sms_fits_with_a_long_circle_name():
    world = World(weeks=1, learners=(), name='A very long learning circle name about Python and data')
    link = surveys.survey_link(Signup(circle_id=world.circle.id, signup_id='x' * 16))
    for reminder in (False, True):
        text = survey_sms(world.fresh(), link, reminder=reminder)
        assert text.startswith('A very long learning...') and link in text
        assert sms_text.segments(text)[2] <= 2


def test_a_learner_answers_without_an_account_and_answering_again_updates(client, moto):
    world = World(weeks=2)
    open_surveys(world)
    path = path_of(survey_url_in(emails_to(moto, 'lea@example.org', 'has ended')[0]))
    page = client.http.get(path)
    assert page.status_code == 200 and 'Lea wants to write a small web app' in page.body.decode()
    answer = {'goal_reached': '4', 'worked_well': 'The group', 'improve': 'More time', 'next_step': 'A project',
              'recommend': '9', 'may_quote': 'on'}
    response = form_post(client, path, answer)
    assert response.status_code == 303 and response.headers['Location'] == f'{path}/thanks'
    assert client.http.get(f'{path}/thanks').status_code == 200
    saved = LearnerSurvey.get(*LearnerSurvey.key(world.circle.id, world.signups[0].signup_id))
    assert (saved.goal_reached, saved.recommend, saved.may_quote, saved.goal) == (
        4, 9, True, 'Lea wants to write a small web app')
    form_post(client, path, {**answer, 'goal_reached': '5', 'may_quote': ''})
    answers = surveys.learner_answers(world.circle.id)
    assert [(a.signup_id, a.goal_reached, a.may_quote) for a in answers] == [(world.signups[0].signup_id, 5, False)]
    assert 'value="5" checked' in client.http.get(path).body.decode()


def test_a_bad_answer_re_renders_the_form_with_messages_and_stores_nothing(client, moto):
    world = World(weeks=2)
    open_surveys(world)
    path = path_of(survey_url_in(emails_to(moto, 'lea@example.org', 'has ended')[0]))
    response = form_post(client, path, {'goal_reached': '7', 'worked_well': 'ok'})
    body = response.body.decode()
    assert response.status_code == 400
    assert 'from 1 to 5' in body and 'from 0 to 10' in body and 'href="#goal_reached-1"' in body
    assert '>ok</textarea>' in body
    assert surveys.learner_answers(world.circle.id) == []
    assert form_post(client, path, {'goal_reached': '\x00'}).status_code == 400


def test_the_survey_link_is_single_purpose_and_posts_need_the_form_token(client, moto):
    from chalicelib.learners.signup import withdraw_link
    world = World(weeks=2)
    open_surveys(world)
    signup = world.signups[0]
    withdraw_token = surveys.token_of(withdraw_link(signup))
    response = client.http.get(f'/survey/{withdraw_token}')
    assert response.status_code == 400 and 'This link does not work' in response.body.decode()
    survey_token = surveys.token_of(surveys.survey_link(signup))
    assert client.http.get(f'/withdraw/{survey_token}').status_code == 400
    no_token = client.http.post(f'/survey/{survey_token}', headers=FORM, body='goal_reached=3&recommend=3')
    assert no_token.status_code == 403 and surveys.learner_answers(world.circle.id) == []


def test_the_link_works_until_the_survey_closes_then_the_page_says_it_closed(client, moto):
    world = World(weeks=2)
    open_surveys(world)
    token = surveys.token_of(surveys.survey_link(world.signups[0]))
    ending = schedule.ending_of(world.circle.id)
    assert surveys.open_learner_survey(token, now=ending.surveys_close_at - timedelta(seconds=1))
    try:
        surveys.open_learner_survey(token, now=ending.surveys_close_at)
        raise AssertionError('open after the close')
    except surveys.SurveyClosed:
        pass
    # The close has passed (the item as it will be then): the page, and a late answer.
    ending.update(actions=[CircleEnding.surveys_close_at.set(schedule.utc(world.last_end()) - timedelta(days=30))])
    response = client.http.get(f'/survey/{token}')
    assert response.status_code == 410 and 'This survey has closed' in response.body.decode()
    assert form_post(client, f'/survey/{token}', {'goal_reached': '3', 'recommend': '5'}).status_code == 410
    assert surveys.learner_answers(world.circle.id) == []


def test_before_the_surveys_go_out_and_after_withdrawing_there_is_nothing_to_answer(client, moto):
    from chalicelib.learners.signup import withdraw
    world = World(weeks=2)
    token = surveys.token_of(surveys.survey_link(world.signups[0]))
    assert client.http.get(f'/survey/{token}').status_code == 400
    open_surveys(world)
    withdraw(Signup.get(*Signup.key(world.circle.id, world.signups[0].signup_id)))
    response = client.http.get(f'/survey/{token}')
    assert response.status_code == 400 and 'no longer signed up' in response.body.decode()


def test_the_reminder_goes_once_three_days_later_only_to_those_who_have_not_answered(client, moto):
    world = World(weeks=2)
    open_surveys(world)
    token = surveys.token_of(surveys.survey_link(world.signups[0]))
    assert form_post(client, f'/survey/{token}', {'goal_reached': '3', 'recommend': '8'}).status_code == 303
    ending = schedule.ending_of(world.circle.id)
    due = ending.surveys_sent_at + timedelta(days=3)
    assert send_end_of_circle_surveys(due - timedelta(minutes=1)) == {}
    assert send_end_of_circle_surveys(due + FIVE_MINUTES) == {'reminders_sent': 1}
    assert send_end_of_circle_surveys(due + timedelta(days=1)) == {}
    assert emails_to(moto, 'lea@example.org', 'Reminder') == []
    assert len(emails_to(moto, 'ben@example.org', 'Reminder')) == 1
    assert len(emails_to(moto, 'fay@example.org', 'Reminder: your survey')) == 1
    ending = schedule.ending_of(world.circle.id)
    assert (ending.stage, ending.due_pk) == ('INSIGHTS', 'INSIGHTS')
    assert ending.due_sk == CircleEnding.due_key(ending.surveys_close_at, world.circle.id)


def test_concurrent_runs_send_the_surveys_and_the_reminder_once(moto):
    world = World(weeks=2)
    for now in (world.last_end() + FIVE_MINUTES, world.last_end() + timedelta(days=3, minutes=10)):
        start, summaries = threading.Barrier(4), []

        def run():
            start.wait()
            summaries.append(send_end_of_circle_surveys(now))
        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        done = [s for s in summaries if 'surveys_sent' in s or 'reminders_sent' in s]
        assert len(done) == 1, summaries
    assert len(emails_to(moto, 'ben@example.org', 'has ended')) == 1       # (reading SES delivers the outbox)
    assert len(emails_to(moto, 'ben@example.org', 'Reminder')) == 1
    assert len(deliveries(world.circle.id, 'survey#')) == 1 + 4               # the fan-out, 2 learners, 2 facilitators
    assert len(deliveries(world.circle.id, 'survey-reminder#')) == 1 + 4


def test_the_job_with_nothing_due_makes_two_dynamodb_calls():
    before = World(weeks=2).last_end() - FIVE_MINUTES
    aws_calls.reset()
    assert send_end_of_circle_surveys(before) == {}
    assert aws_calls.dynamodb_calls() == {'Query': 2}


# --- the facilitator's survey ----------------------------------------------------------------

def test_the_facilitator_answers_signed_in_with_their_goal_and_reflections(client, moto):
    from chalicelib.models import CircleSetup, MeetingFeedback
    from tests.facilitators.test_facilitator_pages import Browser, get, post
    world = World(weeks=2)
    circle = world.fresh()
    CircleSetup(*CircleSetup.key(circle.id), circle_id=circle.id, goal='Help ten neighbours code').save()
    first = circle.meetings[0]
    MeetingFeedback(*MeetingFeedback.key(circle.id, first.meeting_id), circle_id=circle.id,
                    meeting_id=first.meeting_id, author_id=world.facilitator.user_id, author_name='Fay',
                    attendance=5, rating=4, prompt='How?', reflection='Everyone built a page.').save()
    path = f'/facilitate/circles/{circle.id}/survey'
    fay = Browser(world.facilitator)
    assert get(client, path, fay).status_code == 400          # not open before the surveys go out
    open_surveys(world)
    body = get(client, path, fay).body.decode()
    assert 'Help ten neighbours code' in body and 'Everyone built a page.' in body
    missing = post(client, path, {'happened': 'yes', 'goal_reached': '4'}, fay)
    assert missing.status_code == 400 and 'Please rate the course' in missing.body.decode()
    response = post(client, path, {'happened': 'yes', 'goal_reached': '4', 'course_rating': '5',
                                   'course_rating_reason': 'Clear videos', 'worked_well': 'Pairs',
                                   f'share_{first.meeting_id}': 'on'}, fay)
    assert response.status_code == 303 and response.headers['Location'] == f'{path}/thanks'
    assert get(client, f'{path}/thanks', fay).status_code == 200
    (answer,) = surveys.facilitator_answers(circle.id)
    assert (answer.user_id, answer.happened, answer.goal, answer.goal_reached, answer.course_rating,
            answer.shared_reflections) == (world.facilitator.user_id, True, 'Help ten neighbours code', 4, 5,
                                           [first.meeting_id])
    assert post(client, path, {'happened': 'yes'}, fay, csrf=False).status_code == 403


def test_did_not_happen_needs_only_a_reason(client, moto):
    from tests.facilitators.test_facilitator_pages import Browser, post
    world = World(weeks=2)
    open_surveys(world)
    path = f'/facilitate/circles/{world.circle.id}/survey'
    cody = Browser(world.co_facilitator)
    assert post(client, path, {'happened': 'no'}, cody).status_code == 400
    assert post(client, path, {'happened': 'no', 'not_happened_reason': 'Nobody came', 'goal_reached': '9'},
                cody).status_code == 303
    answer = FacilitatorSurvey.get(*FacilitatorSurvey.key(world.circle.id, world.co_facilitator.user_id))
    assert (answer.happened, answer.not_happened_reason, answer.goal_reached) == (False, 'Nobody came', None)


def test_an_organizer_of_the_team_gets_no_facilitator_survey(client, moto):
    from tests.facilitators.test_facilitator_pages import Browser, get, organizer_of
    world = World(weeks=2, team_id='t-ending')
    organizer = organizer_of('t-ending')
    open_surveys(world)
    response = get(client, f'/facilitate/circles/{world.circle.id}/survey', Browser(organizer))
    assert response.status_code == 404
