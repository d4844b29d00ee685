"""A second signup with a known address: nothing stored changes, the answer is the same as for
a new signup, and the address's owner is told by email, with a link to change their details."""
import json
import re
from datetime import timedelta
from urllib.parse import urlencode

from chalicelib.circles import circles
from chalicelib.models import Signup
from tests.support.factories import make_circle

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}
ALICE = {'name': 'Alice Learner', 'email': 'alice@example.org', 'mobile': '+1 312 555 0142', 'consent': True,
         'communications_opt_in': True, 'signup_questions': {'goals': 'Learn Python', 'support': 'Childcare'}}
MALLORY = {**ALICE, 'name': 'Mallory', 'mobile': '+1 312 555 0199', 'communications_opt_in': False,
           'signup_questions': {'goals': 'Buy cheap watches at spam.example', 'support': ''}}


def post_signup(client, circle, body):
    return client.http.post('/api/signup/', headers={'Content-Type': 'application/json'},
                            body=json.dumps({**body, 'learning_circle': circle.id}))


def the_signup(circle):
    [signup] = Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#'))
    return signup


def already_signed_up_emails(moto, address='alice@example.org'):
    return [m for m in moto.sent_emails() if m['To'] == address and m['Subject'].startswith('You are already')]


def details_path(message):
    text = message.get_body(preferencelist=('plain',)).get_content()
    return re.search(r'http://circles\.test(/my-details/\S+)', text).group(1)


def test_a_repeated_signup_gets_the_same_answer_as_a_new_one(client):
    circle = make_circle()
    new = post_signup(client, circle, ALICE)
    repeat = post_signup(client, circle, MALLORY)
    other = post_signup(client, circle, {**MALLORY, 'email': 'bob@example.org'})
    assert (new.status_code, new.body) == (repeat.status_code, repeat.body) == (other.status_code, other.body)
    assert sorted(new.headers) == sorted(repeat.headers)
    form = {'name': 'Mallory', 'email': 'alice@example.org', 'consent': 'true'}
    known = client.http.post(f'/circles/{circle.id}/signup', headers=FORM, body=urlencode(form))
    unknown = client.http.post(f'/circles/{circle.id}/signup', headers=FORM,
                               body=urlencode({**form, 'email': 'carol@example.org'}))
    assert (known.status_code, known.headers['Location']) == (unknown.status_code, unknown.headers['Location'])
    assert known.status_code == 303


def test_a_repeated_signup_changes_no_stored_contact_data_so_reminders_reach_the_learner(client, moto):
    circle = make_circle()
    post_signup(client, circle, ALICE)
    before = the_signup(circle).attribute_values
    post_signup(client, circle, MALLORY)
    client.http.post(f'/circles/{circle.id}/signup', headers=FORM,
                     body=urlencode({'name': 'Mallory', 'email': 'ALICE@example.org', 'mobile': '+13125550199',
                                     'consent': 'true'}))
    assert the_signup(circle).attribute_values == before
    assert [s.signup_id for s in Signup.by_phone.query('PHONE#+13125550142')] == [before['signup_id']]
    assert list(Signup.by_phone.query('PHONE#+13125550199')) == []


def test_the_learner_is_told_once_with_a_link_to_their_details_and_none_of_the_repeat_text(client, moto):
    circle = make_circle(name='Python at the Library', facilitator_emails=['ada@example.org'])
    post_signup(client, circle, ALICE)
    post_signup(client, circle, MALLORY)
    [message] = already_signed_up_emails(moto)
    assert message['Subject'] == 'You are already signed up for Python at the Library'
    assert message['Reply-To'] == 'ada@example.org'
    for part in ('plain', 'html'):
        body = message.get_body(preferencelist=(part,)).get_content()
        assert 'Alice Learner' in body and 'nothing changed' in body
        assert 'http://circles.test/my-details/' in body and 'http://circles.test/withdraw/' in body
        assert 'Mallory' not in body and 'spam.example' not in body
    # The facilitators hear about new signups only.
    assert [m['To'] for m in moto.sent_emails()].count('ada@example.org') == 1


def test_repeats_within_an_hour_send_one_email_and_a_repeat_in_the_next_hour_another(client, moto, time_machine):
    circle = make_circle()
    start = circles.utcnow().replace(minute=5, second=0, microsecond=0)
    time_machine.move_to(start)
    post_signup(client, circle, ALICE)
    for minutes in (1, 20, 50):
        time_machine.move_to(start + timedelta(minutes=minutes))
        assert post_signup(client, circle, MALLORY).status_code == 200
    assert len(already_signed_up_emails(moto)) == 1
    time_machine.move_to(start + timedelta(minutes=60))
    post_signup(client, circle, MALLORY)
    assert len(already_signed_up_emails(moto)) == 2


def test_a_repeat_to_a_full_circle_is_refused_like_a_new_signup_and_still_tells_the_learner(client, moto):
    circle = make_circle(capacity=1)
    post_signup(client, circle, ALICE)
    repeat = post_signup(client, circle, MALLORY)
    new = post_signup(client, circle, {**MALLORY, 'email': 'bob@example.org'})
    assert (repeat.status_code, repeat.json_body) == (new.status_code, new.json_body)
    assert 'full' in repeat.json_body['errors']['learning_circle'][0]
    assert len(already_signed_up_emails(moto)) == 1
    assert the_signup(circle).name == 'Alice Learner'


def test_signing_up_again_after_withdrawing_is_welcomed_as_new(client, moto):
    from chalicelib.learners.signup import withdraw
    circle = make_circle()
    post_signup(client, circle, ALICE)
    withdraw(the_signup(circle))
    assert post_signup(client, circle, MALLORY).status_code == 200
    assert the_signup(circle).name == 'Mallory' and the_signup(circle).active
    assert already_signed_up_emails(moto) == []
    welcomes = [m for m in moto.sent_emails() if m['Subject'].startswith('You signed up')]
    assert len(welcomes) == 2


def test_the_thanks_page_claims_no_welcome_email(client):
    circle = make_circle()
    page = client.http.get(f'/circles/{circle.id}/thanks').body.decode()
    assert 'Check your email' in page
    assert 'welcome email' not in page.lower() and 'sent you' not in page.lower()


# --- the details page ---------------------------------------------------------------------

def _details_link(client, moto, circle, **fields):
    post_signup(client, circle, {**ALICE, **fields})
    assert post_signup(client, circle, {**ALICE, **fields}).status_code == 200
    return details_path(already_signed_up_emails(moto)[-1])


def test_the_details_page_shows_what_is_stored_and_a_get_changes_nothing(client, moto):
    circle = make_circle(signup_question='Which laptop do you have?')
    path = _details_link(client, moto, circle, signup_questions={'goals': 'Learn Python', 'custom_question': 'None'})
    before = the_signup(circle).attribute_values
    response = client.http.get(path)
    page = response.body.decode()
    assert response.status_code == 200
    assert 'value="Alice Learner"' in page and 'value="+13125550142"' in page and 'Learn Python</textarea>' in page
    assert 'Which laptop do you have?' in page and 'None</textarea>' in page
    assert 'id="communications_opt_in" name="communications_opt_in" type="checkbox" value="true" checked' in page
    assert f'action="{path}"' in page
    assert the_signup(circle).attribute_values == before


def test_the_learner_changes_name_mobile_answers_and_opt_in_on_the_details_page(client, moto):
    circle = make_circle()
    path = _details_link(client, moto, circle)
    response = client.http.post(path, headers=FORM, body=urlencode({
        'name': 'Alice B. Learner', 'mobile': '+49 30 901820', 'goals': 'Build a website', 'support': ''}))
    assert response.status_code == 200 and 'Your details are saved.' in response.body.decode()
    signup = the_signup(circle)
    assert (signup.name, signup.mobile, signup.goals, signup.support) == (
        'Alice B. Learner', '+4930901820', 'Build a website', None)
    assert signup.communications_opt_in is False and signup.email == 'alice@example.org'
    assert [s.signup_id for s in Signup.by_phone.query('PHONE#+4930901820')] == [signup.signup_id]
    assert list(Signup.by_phone.query('PHONE#+13125550142')) == []
    client.http.post(path, headers=FORM, body=urlencode({'name': 'Alice', 'mobile': '', 'communications_opt_in': 'true'}))
    signup = the_signup(circle)
    assert signup.mobile is None and signup.phone_pk is None and signup.communications_opt_in is True


def test_invalid_details_show_the_form_with_messages_and_change_nothing(client, moto):
    circle = make_circle(signup_question='Which laptop do you have?')
    path = _details_link(client, moto, circle, signup_questions={'custom_question': 'A ThinkPad'})
    before = the_signup(circle).attribute_values
    response = client.http.post(path, headers=FORM, body=urlencode({'name': ' ', 'mobile': '12', 'goals': 'g' * 2001}))
    page = response.body.decode()
    assert response.status_code == 400
    for field in ('name', 'mobile', 'goals', 'custom_answer'):
        assert f'id="{field}-error"' in page
    assert 'value="12"' in page
    assert the_signup(circle).attribute_values == before


def test_tampered_foreign_and_expired_details_links_are_refused(client, moto, time_machine):
    from chalicelib.core import links
    circle = make_circle()
    path = _details_link(client, moto, circle)
    signup = the_signup(circle)
    withdraw_token = links.sign(links.WITHDRAW, {'c': circle.id, 's': signup.signup_id})
    for bad in (path[:-3] + 'abc', '/my-details/garbage', f'/my-details/{withdraw_token}'):
        response = client.http.get(bad)
        assert response.status_code == 400 and 'This link does not work' in response.body.decode()
        assert client.http.post(bad, headers=FORM, body=urlencode({'name': 'X'})).status_code == 400
    time_machine.move_to(circles.utcnow() + timedelta(days=8))
    assert client.http.get(path).status_code == 400
    assert client.http.post(path, headers=FORM, body=urlencode({'name': 'X'})).status_code == 400
    assert the_signup(circle).name == 'Alice Learner'


def test_the_details_link_stops_working_when_the_learner_withdraws(client, moto):
    from chalicelib.learners.signup import withdraw
    circle = make_circle()
    path = _details_link(client, moto, circle)
    withdraw(the_signup(circle))
    assert client.http.get(path).status_code == 400
    assert client.http.post(path, headers=FORM, body=urlencode({'name': 'Back'})).status_code == 400
    assert the_signup(circle).name is None
