"""POST /api/signup/ and the signup form: rules, refusals, duplicates, the welcome email, withdraw."""
import re
from datetime import timedelta

import pytest

from chalicelib.circles import circles
from chalicelib.learners.signup import left_key
from chalicelib.models import Circle, Signup
from tests.support import aws_calls
from tests.support.factories import make_circle

ALICE = {'name': 'Alice Learner', 'email': 'Alice@Example.ORG', 'mobile': '(312) 555-0142',
         'consent': True, 'communications_opt_in': True,
         'signup_questions': {'goals': 'Learn to automate my spreadsheets', 'support': 'Childcare'}}


def signup_items(circle_id):
    return list(Signup.query(f'CIRCLE#{circle_id}', Signup.sk.startswith('SIGNUP#')))


def post_signup(client, circle, **overrides):
    body = {**ALICE, 'learning_circle': circle.id, **overrides}
    import json
    return client.http.post('/api/signup/', headers={'Content-Type': 'application/json'}, body=json.dumps(body))


def test_signup_creates_one_signup_and_counts_it(client):
    circle = make_circle()
    response = post_signup(client, circle)
    assert response.status_code == 200, response.body
    assert response.json_body == {'status': 'created'}
    [signup] = signup_items(circle.id)
    assert signup.email == 'alice@example.org'
    assert signup.mobile == '+13125550142'
    assert signup.goals == 'Learn to automate my spreadsheets' and signup.support == 'Childcare'
    assert signup.consent_at is not None and signup.consent_version
    assert signup.communications_opt_in is True
    assert circles.get_circle(circle.id).signup_count == 1
    # Written with the signup, in its transaction: the learner's welcome and the facilitator's notice.
    assert sorted((d.template, d.state) for d in outbox_items(circle.id)) == [
        ('new_signup', 'pending'), ('welcome', 'pending')]


def outbox_items(circle_id):
    from chalicelib.models import Delivery
    return list(Delivery.query(f'CIRCLE#{circle_id}', Delivery.sk.startswith('DELIVERY#')))


def test_a_second_signup_with_the_same_email_changes_nothing_stored(client, moto):
    circle = make_circle()
    assert post_signup(client, circle).status_code == 200
    before = signup_items(circle.id)[0].attribute_values
    second = post_signup(client, circle, email='alice@example.org ', name='Mallory', mobile='+1 312 555 0199',
                         communications_opt_in=False, signup_questions={'goals': 'Spam', 'support': 'Spam'})
    assert second.status_code == 200 and second.json_body == {'status': 'created'}
    [signup] = signup_items(circle.id)
    assert signup.attribute_values == before
    assert signup.mobile == '+13125550142' and signup.phone_pk == 'PHONE#+13125550142'
    assert list(Signup.by_phone.query('PHONE#+13125550199')) == []
    assert circles.get_circle(circle.id).signup_count == 1
    to_alice = [m['Subject'] for m in moto.sent_emails() if m['To'] == 'alice@example.org']
    assert sorted(to_alice) == [f'You are already signed up for {circle.name}', f'You signed up for {circle.name}']


def test_signup_costs_two_dynamodb_calls_and_a_repeated_one_three(client):
    """The circle's GetItem and the transaction, which spends the rate limits (client, circle)
    too; a repeat: the same (its condition refuses it, nothing is written), then one more
    transaction with its "already signed up" email and the rate limits."""
    circle = make_circle()
    aws_calls.reset()
    post_signup(client, circle)
    assert aws_calls.dynamodb_calls() == {'GetItem': 1, 'TransactWriteItems': 1}
    aws_calls.reset()
    post_signup(client, circle)
    assert aws_calls.dynamodb_calls() == {'GetItem': 1, 'TransactWriteItems': 2}


@pytest.mark.parametrize('overrides, field', [
    ({'name': ''}, 'name'),
    ({'name': '   '}, 'name'),
    ({'email': ''}, 'email'),
    ({'email': 'not-an-email'}, 'email'),
    ({'email': 'a@b'}, 'email'),
    ({'mobile': '12'}, 'mobile'),
    ({'mobile': '+1 555 000'}, 'mobile'),
    ({'consent': False}, 'consent'),
    ({'consent': None}, 'consent'),
    ({'name': 'x' * 201}, 'name'),
    ({'signup_questions': {'goals': 'g' * 2001}}, 'goals'),
])
def test_invalid_input_gets_400_with_field_errors_and_writes_nothing(client, moto, overrides, field):
    circle = make_circle()
    response = post_signup(client, circle, **overrides)
    assert response.status_code == 400
    assert response.json_body['status'] == 'error'
    assert field in response.json_body['errors']
    assert signup_items(circle.id) == []
    assert circles.get_circle(circle.id).signup_count == 0
    assert moto.sent_emails() == []


def test_custom_question_is_required_when_the_circle_has_one(client):
    circle = make_circle(signup_question='Which operating system do you use?')
    response = post_signup(client, circle)
    assert response.status_code == 400
    assert 'custom_answer' in response.json_body['errors']
    response = post_signup(client, circle, signup_questions={'custom_question': 'Linux'})
    assert response.status_code == 200
    assert signup_items(circle.id)[0].custom_answer == 'Linux'


def test_mobile_is_optional_and_uses_the_default_region(client):
    circle = make_circle()
    assert post_signup(client, circle, mobile='').status_code == 200
    assert signup_items(circle.id)[0].mobile is None
    assert post_signup(client, circle, email='bob@example.org', mobile='+49 30 901820').status_code == 200
    bob = [s for s in signup_items(circle.id) if s.email == 'bob@example.org'][0]
    assert bob.mobile == '+4930901820' and bob.phone_pk == 'PHONE#+4930901820'


@pytest.mark.parametrize('circle_fields, message', [
    ({'signup_open': False}, 'closed'),
    ({'starts_in_days': -90}, 'finished'),
])
def test_closed_or_finished_circles_refuse_signups(client, moto, circle_fields, message):
    circle = make_circle(**circle_fields)
    response = post_signup(client, circle)
    assert response.status_code == 400
    assert message in response.json_body['errors']['learning_circle'][0]
    assert signup_items(circle.id) == [] and moto.sent_emails() == []


def test_a_running_circle_still_takes_signups(client):
    circle = make_circle(starts_in_days=-8)
    assert post_signup(client, circle).status_code == 200


def test_draft_and_unknown_circles_are_not_found(client):
    draft = make_circle(published=False)
    assert post_signup(client, draft).status_code == 404
    assert signup_items(draft.id) == []
    response = post_signup(client, draft, learning_circle='does-not-exist')
    assert response.status_code == 404
    response = post_signup(client, draft, learning_circle='')
    assert response.status_code == 400 and 'learning_circle' in response.json_body['errors']


def test_a_full_circle_refuses_and_capacity_is_exact(client, moto):
    circle = make_circle(capacity=2)
    assert post_signup(client, circle, email='one@example.org').status_code == 200
    assert post_signup(client, circle, email='two@example.org').status_code == 200
    response = post_signup(client, circle, email='three@example.org')
    assert response.status_code == 400
    assert 'full' in response.json_body['errors']['learning_circle'][0]
    assert len(signup_items(circle.id)) == 2
    # A repeated signup gets the same answer as a new one: full. Nothing tells it was known.
    again = post_signup(client, circle, email='one@example.org', name='One again')
    assert (again.status_code, again.json_body) == (response.status_code, response.json_body)
    assert {s.name for s in signup_items(circle.id)} == {'Alice Learner'}


def test_capacity_holds_when_the_count_read_was_stale(client):
    """Two requests read the circle with one seat left; the conditional transaction lets one in."""
    from chalicelib.core.errors import SignupRefused
    from chalicelib.learners.signup import sign_up_for
    circle = make_circle(capacity=1)
    first_read, second_read = circles.get_circle(circle.id), circles.get_circle(circle.id)
    sign_up_for(first_read, {**ALICE, 'email': 'first@example.org'})
    with pytest.raises(SignupRefused, match='full'):
        sign_up_for(second_read, {**ALICE, 'email': 'second@example.org'})
    assert circles.get_circle(circle.id).signup_count == 1
    assert [s.email for s in signup_items(circle.id)] == ['first@example.org']


def test_malformed_json_gets_400(client):
    response = client.http.post('/api/signup/', headers={'Content-Type': 'application/json'}, body='{nope')
    assert response.status_code == 400
    response = client.http.post('/api/signup/', headers={'Content-Type': 'application/json'}, body='[1, 2]')
    assert response.status_code == 400


def _welcome(moto, address='alice@example.org'):
    [message] = [m for m in moto.sent_emails() if m['To'] == address]
    return message


def test_welcome_email_has_everything_a_learner_needs(client, moto):
    circle = make_circle(name='Python at the Library', facilitator_names=['Ada'],
                         facilitator_emails=['ada@example.org'], welcome_message='Bring a laptop if you have one!',
                         venue_details='Room 3, second floor')
    post_signup(client, circle)
    message = _welcome(moto)
    assert message['Subject'] == 'You signed up for Python at the Library'
    assert message['Reply-To'] == 'ada@example.org'
    assert 'circles@example.org' in message['From']
    text = message.get_body(preferencelist=('plain',)).get_content()
    html = message.get_body(preferencelist=('html',)).get_content()
    first = circles.active_meetings(circle)[0]
    from chalicelib.core.formatting import long_date
    for body in (text, html):
        assert long_date(first.local_date) in body
        assert '18:00' in body and 'America/Chicago' in body
        assert 'Harold Washington Library' in body and 'Room 3, second floor' in body
        assert 'Ada' in body and 'Bring a laptop' in body
        assert 'Learn to automate my spreadsheets' in body and 'Childcare' in body
        assert 'http://circles.test/withdraw/' in body
    assert re.search(r'\bC[SD]T\b', text)


def test_welcome_names_the_next_meeting_once_the_circle_has_started(client, moto):
    circle = make_circle(starts_in_days=-8, weeks=4)
    post_signup(client, circle)
    text = _welcome(moto).get_body(preferencelist=('plain',)).get_content()
    from chalicelib.core.formatting import long_date
    meetings = circles.active_meetings(circle)
    assert long_date(meetings[2].local_date) in text
    assert long_date(meetings[0].local_date) not in text


def test_welcome_for_an_online_circle_gives_the_link(client, moto):
    circle = make_circle(place=dict(city=None, region=None, country=None, latitude=None, longitude=None,
                                    timezone_name='Europe/Berlin'),
                         online=True, online_link='https://meet.example.org/python', venue_name=None)
    post_signup(client, circle)
    text = _welcome(moto).get_body(preferencelist=('plain',)).get_content()
    assert 'https://meet.example.org/python' in text and 'Europe/Berlin' in text


def test_html_email_escapes_what_learners_typed(client, moto):
    circle = make_circle()
    post_signup(client, circle, name='<script>alert(1)</script>')
    html = _welcome(moto).get_body(preferencelist=('html',)).get_content()
    assert '<script>alert(1)</script>' not in html and '&lt;script&gt;' in html


def test_facilitators_are_told_about_each_new_signup(client, moto):
    circle = make_circle(facilitator_emails=['ada@example.org', 'grace@example.org'])
    post_signup(client, circle)
    post_signup(client, circle, name='Someone else')    # a repeat is not a new signup
    notices = [m for m in moto.sent_emails() if m['To'] in ('ada@example.org', 'grace@example.org')]
    assert sorted(m['To'] for m in notices) == ['ada@example.org', 'grace@example.org']
    assert 'Alice Learner' in notices[0]['Subject']
    assert notices[0]['Reply-To'] == 'alice@example.org'


def _withdraw_url(moto):
    text = _welcome(moto).get_body(preferencelist=('plain',)).get_content()
    return re.search(r'http://circles\.test(/withdraw/\S+)', text).group(1)


def test_withdraw_link_confirms_then_erases_personal_data(client, moto):
    circle = make_circle()
    post_signup(client, circle)
    path = _withdraw_url(moto)
    page = client.http.get(path)
    assert page.status_code == 200 and 'Yes, remove me' in page.body.decode()
    assert signup_items(circle.id)[0].email == 'alice@example.org'    # a GET changes nothing
    done = client.http.post(path, headers={'Content-Type': 'application/x-www-form-urlencoded'}, body='')
    assert done.status_code == 200 and 'You have left' in done.body.decode()
    [signup] = signup_items(circle.id)
    assert signup.withdrawn_at is not None
    assert (signup.name, signup.email, signup.mobile, signup.goals, signup.support) == (None,) * 5
    # Only keyed hashes stay on by_email/by_phone, so that its owner can still find and erase it.
    assert signup.email_pk == left_key('alice@example.org') and signup.phone_pk == left_key('+13125550142')
    assert circles.get_circle(circle.id).signup_count == 0
    assert list(Signup.by_email.query('EMAIL#alice@example.org')) == []
    again = client.http.post(path, headers={'Content-Type': 'application/x-www-form-urlencoded'}, body='')
    assert again.status_code == 200 and 'You have left' in again.body.decode()
    assert circles.get_circle(circle.id).signup_count == 0


def test_tampered_or_foreign_withdraw_links_get_a_clear_page(client, moto):
    circle = make_circle()
    post_signup(client, circle)
    path = _withdraw_url(moto)
    for bad in [path[:-3] + 'abc', '/withdraw/garbage']:
        page = client.http.get(bad)
        assert page.status_code == 400 and 'This link does not work' in page.body.decode()
    from chalicelib.core import links
    other_purpose = links.URLSafeTimedSerializer('test-secret-key', salt='circles.rsvp').dumps({'c': circle.id, 's': 'x'})
    assert client.http.get(f'/withdraw/{other_purpose}').status_code == 400


def test_expired_withdraw_link_is_refused(client, moto, time_machine):
    circle = make_circle()
    post_signup(client, circle)
    path = _withdraw_url(moto)
    time_machine.move_to(circles.utcnow() + timedelta(days=401))
    assert client.http.get(path).status_code == 400


def test_signing_up_again_after_withdrawing_is_a_new_signup(client, moto):
    circle = make_circle()
    post_signup(client, circle)
    client.http.post(_withdraw_url(moto), headers={'Content-Type': 'application/x-www-form-urlencoded'}, body='')
    assert post_signup(client, circle).status_code == 200
    [signup] = signup_items(circle.id)
    assert signup.active and signup.email == 'alice@example.org'
    assert circles.get_circle(circle.id).signup_count == 1
    assert len([m for m in moto.sent_emails() if m['To'] == 'alice@example.org']) == 2


def test_the_welcome_is_sent_by_the_stream_sender_once(client, moto, drain):
    circle = make_circle()
    post_signup(client, circle)
    assert drain() == 2 and drain() == 0           # the welcome and the notice, each handled once
    assert sorted(d.state for d in outbox_items(circle.id)) == ['sent', 'sent']
    assert len([m for m in moto.sent_emails() if m['To'] == 'alice@example.org']) == 1


def test_a_refused_signup_writes_no_message(client, moto):
    circle = make_circle(capacity=1)
    post_signup(client, circle, email='first@example.org')
    response = post_signup(client, circle, email='second@example.org')
    assert response.status_code == 400
    assert [d.signup_id for d in outbox_items(circle.id) if d.template == 'welcome'] == [
        s.signup_id for s in signup_items(circle.id)]
    assert [m['To'] for m in moto.sent_emails() if m['To'] != 'ada@example.org'] == ['first@example.org']


def test_signup_form_page_shows_errors_next_to_fields_and_keeps_input(client):
    circle = make_circle(signup_question='What do you want to build?')
    response = client.http.post(f'/circles/{circle.id}/signup',
                                headers={'Content-Type': 'application/x-www-form-urlencoded'},
                                body='name=Bea&email=bea%40nowhere&goals=Make+games&consent=')
    assert response.status_code == 400
    page = response.body.decode()
    assert 'id="email-error"' in page and 'id="consent-error"' in page and 'id="custom_answer-error"' in page
    assert 'value="Bea"' in page and 'value="bea@nowhere"' in page and 'Make games</textarea>' in page
    assert signup_items(circle.id) == []


def test_signup_form_success_redirects_to_thanks(client, moto):
    circle = make_circle()
    response = client.http.post(f'/circles/{circle.id}/signup',
                                headers={'Content-Type': 'application/x-www-form-urlencoded'},
                                body='name=Bea&email=bea%40example.org&consent=true')
    assert response.status_code == 303
    assert response.headers['Location'] == f'/circles/{circle.id}/thanks'
    assert client.http.get(response.headers['Location']).status_code == 200
    assert [s.email for s in signup_items(circle.id)] == ['bea@example.org']
    assert len(moto.sent_emails()) == 2   # welcome + facilitator notice


def test_honeypot_submissions_are_silently_dropped(client, moto):
    circle = make_circle()
    response = client.http.post(f'/circles/{circle.id}/signup',
                                headers={'Content-Type': 'application/x-www-form-urlencoded'},
                                body='name=Bot&email=bot%40example.org&consent=true&website=http%3A%2F%2Fspam')
    assert response.status_code == 303
    assert signup_items(circle.id) == [] and moto.sent_emails() == []


@pytest.mark.parametrize('fields, text', [
    ({'signup_open': False}, 'Signup for this learning circle is closed.'),
    ({'starts_in_days': -90}, 'This learning circle has finished.'),
])
def test_circle_page_explains_why_signup_is_not_possible(client, fields, text):
    circle = make_circle(**fields)
    page = client.http.get(f'/circles/{circle.id}').body.decode()
    assert text in page and 'name="email"' not in page


def test_full_circle_page_says_so(client):
    circle = make_circle(capacity=1)
    post_signup(client, circle)
    page = client.http.get(f'/circles/{circle.id}').body.decode()
    assert 'This learning circle is full.' in page


def test_circle_page_lists_meetings_in_local_time(client):
    circle = make_circle(place=dict(city='Nairobi', region='Nairobi', country='Kenya', latitude=-1.28,
                                    longitude=36.82, timezone_name='Africa/Nairobi'), meeting_time='17:30')
    page = client.http.get(f'/circles/{circle.id}').body.decode()
    assert page.count('at 17:30 EAT') == 6 and 'Africa/Nairobi' in page


def test_draft_circle_page_is_not_found(client):
    circle = make_circle(published=False)
    assert client.http.get(f'/circles/{circle.id}').status_code == 404
    assert client.http.get('/circles/nothing-here').status_code == 404


def test_pages_are_autoescaped(client):
    circle = make_circle(name='<img src=x onerror=alert(1)>', description='<b>bold</b>')
    page = client.http.get(f'/circles/{circle.id}').body.decode()
    assert '<img src=x' not in page and '&lt;b&gt;bold' in page
    page = client.http.get('/').body.decode()
    assert '<img src=x' not in page


def test_browse_page_filters(client):
    make_circle(name='Chicago circle')
    make_circle(name='Berlin circle', place=dict(city='Berlin', region='Berlin', country='Germany',
                                                 latitude=52.52, longitude=13.4, timezone_name='Europe/Berlin'))
    page = client.http.get('/?city=Berlin').body.decode()
    assert 'Berlin circle' in page and 'Chicago circle' not in page
    page = client.http.get('/?latitude=41.88&longitude=-87.63&distance=25').body.decode()
    assert 'Chicago circle' in page and 'Berlin circle' not in page and 'near you' in page
    response = client.http.get('/?latitude=999&longitude=0')
    assert response.status_code == 400 and 'latitude' in response.body.decode()


def test_signup_keeps_the_circle_item_consistent(client):
    circle = make_circle()
    post_signup(client, circle)
    stored = Circle.get(*Circle.key(circle.id))
    assert stored.signup_count == 1 and stored.catalog_pk == circles.CATALOG


def test_non_ascii_text_survives_the_trip_through_ses(client, moto):
    circle = make_circle(name='Introdução à programação', facilitator_names=['João'])
    post_signup(client, circle, name='Zoë Ünal')
    for message in moto.sent_emails():
        for part in ('plain', 'html'):
            body = message.get_body(preferencelist=(part,)).get_content()
            assert 'Introdução à programação' in body and '\ufffd' not in body
