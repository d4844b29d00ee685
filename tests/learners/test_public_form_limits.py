"""Rate limits on the public forms (signup, registration, password reset): over a limit the
answer is 429 with `Retry-After` and a sentence saying when to try again, and nothing is
written or sent. The counters are DynamoDB items that expire (chalicelib/models/rate_limits.py)."""
import json
import re
from datetime import timedelta
from urllib.parse import urlencode

from chalicelib.circles import circles
from chalicelib.learners import signup as signups
from chalicelib.models import Delivery, Signup
from chalicelib.models.rate_limits import spend
from tests.learners.client_address import from_address
from tests.support.factories import make_circle

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}
PASSWORD = 'violet mango harbour 1987'


def post_signup(client, circle, email):
    body = {'learning_circle': circle.id, 'name': 'Sam', 'email': email, 'consent': True}
    return client.http.post('/api/signup/', headers={'Content-Type': 'application/json'}, body=json.dumps(body))


def signups_of(circle):
    return list(Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#')))


def outbox_of(circle):
    return list(Delivery.query(f'CIRCLE#{circle.id}', Delivery.sk.startswith('DELIVERY#')))


def assert_retry_after(response, at_most=3600):
    assert response.status_code == 429
    assert 0 < int(response.headers['Retry-After']) <= at_most


# --- signups ------------------------------------------------------------------------------

def test_an_eleventh_signup_from_one_client_within_the_hour_gets_429_and_writes_nothing(client, moto):
    circle = make_circle()
    for n in range(10):
        assert post_signup(client, circle, f'learner{n}@example.org').status_code == 200
    stored, items = len(signups_of(circle)), len(outbox_of(circle))
    response = post_signup(client, circle, 'victim@example.org')
    assert_retry_after(response)
    assert response.json_body['status'] == 'error'
    [message] = response.json_body['errors']['rate_limit']
    assert re.fullmatch(r'Too many requests\. Please try again in \d+ minutes?\.', message)
    # A repeated signup over the limit is refused the same way: nothing tells it was known.
    repeat = post_signup(client, circle, 'learner0@example.org')
    assert (repeat.status_code, repeat.json_body) == (response.status_code, response.json_body)
    assert (len(signups_of(circle)), len(outbox_of(circle))) == (stored, items)
    assert circles.get_circle(circle.id).signup_count == 10
    assert [m for m in moto.sent_emails() if m['To'] == 'victim@example.org'] == []


def test_the_signup_limit_is_per_client_address_and_per_hour(client, time_machine):
    circle = make_circle()
    start = circles.utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    time_machine.move_to(start)
    for n in range(10):
        post_signup(client, circle, f'learner{n}@example.org')
    assert post_signup(client, circle, 'eleven@example.org').status_code == 429
    with from_address(client, '198.51.100.7'):
        assert post_signup(client, circle, 'eleven@example.org').status_code == 200
    time_machine.move_to(start + timedelta(minutes=45))
    late = post_signup(client, circle, 'twelve@example.org')
    assert_retry_after(late, at_most=15 * 60)
    assert '15 minutes' in late.json_body['errors']['rate_limit'][0]
    time_machine.move_to(start + timedelta(hours=1))
    assert post_signup(client, circle, 'twelve@example.org').status_code == 200


def test_a_circle_takes_at_most_200_signups_an_hour_whatever_the_clients(client, moto):
    circle = make_circle()
    now = circles.utcnow()
    for _ in range(signups.SIGNUPS_PER_CIRCLE.allowed - 1):
        spend(now, (signups.SIGNUPS_PER_CIRCLE, circle.id))
    with from_address(client, '198.51.100.1'):
        assert post_signup(client, circle, 'last@example.org').status_code == 200
    with from_address(client, '198.51.100.2'):
        response = post_signup(client, circle, 'one-more@example.org')
    assert_retry_after(response)
    assert [s.email for s in signups_of(circle)] == ['last@example.org']
    other = make_circle(name='Another circle')
    with from_address(client, '198.51.100.2'):
        assert post_signup(client, other, 'one-more@example.org').status_code == 200


def test_the_signup_form_over_the_limit_gets_a_page_saying_when_to_try_again(client, moto):
    circle = make_circle()
    for n in range(10):
        post_signup(client, circle, f'learner{n}@example.org')
    response = client.http.post(f'/circles/{circle.id}/signup', headers=FORM,
                                body=urlencode({'name': 'Bea', 'email': 'bea@example.org', 'consent': 'true'}))
    assert_retry_after(response)
    page = response.body.decode()
    assert 'Too many requests' in page and re.search(r'Please try again in \d+ minutes?\.', page)
    assert 'bea@example.org' not in {s.email for s in signups_of(circle)}
    assert [m for m in moto.sent_emails() if m['To'] == 'bea@example.org'] == []


def test_invalid_signups_spend_no_allowance(client):
    circle = make_circle()
    for _ in range(15):
        assert post_signup(client, circle, 'not-an-address').status_code == 400
    assert post_signup(client, circle, 'real@example.org').status_code == 200


# --- registration and password reset ---------------------------------------------------------

def anonymous_post(client, path, fields):
    """GET the form (its pre-session cookie and CSRF token), then POST it as a browser would."""
    form = client.http.get(path)
    cookie = form.headers['Set-Cookie'].split(';')[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.body.decode()).group(1)
    return client.http.post(path, headers={**FORM, 'Cookie': cookie}, body=urlencode({**fields, 'csrf_token': token}))


def register(client, email):
    return anonymous_post(client, '/register', {'name': 'Dee', 'email': email, 'password': PASSWORD})


def mail_to(moto, address):
    return [m for m in moto.sent_emails() if m['To'] == address]


def test_a_sixth_registration_from_one_client_within_the_hour_gets_429_and_sends_nothing(client, moto):
    from chalicelib.accounts import accounts
    for n in range(5):
        assert register(client, f'dee{n}@example.org').status_code == 200
    response = register(client, 'victim@example.org')
    assert_retry_after(response)
    assert 'Please try again in' in response.body.decode()
    assert accounts.user_for_email('victim@example.org') is None
    assert mail_to(moto, 'victim@example.org') == []
    with from_address(client, '198.51.100.9'):
        assert register(client, 'victim@example.org').status_code == 200


def test_one_address_gets_at_most_three_registration_emails_an_hour(client, moto):
    for n in range(3):
        with from_address(client, f'198.51.100.{n}'):
            assert register(client, 'dee@example.org').status_code == 200
    with from_address(client, '198.51.100.3'):
        assert_retry_after(register(client, 'dee@example.org'))
    assert len(mail_to(moto, 'dee@example.org')) == 3    # the confirmation, then "already registered" twice


def test_one_address_gets_at_most_three_reset_emails_an_hour_known_or_not(client, moto):
    from chalicelib.accounts import accounts
    accounts.register('Dee', 'dee@example.org', PASSWORD)
    moto.sent_emails()
    answers = {}
    for address in ('dee@example.org', 'nobody@example.org'):
        for n in range(3):
            with from_address(client, f'198.51.100.{n}'):
                assert anonymous_post(client, '/password/forgot', {'email': address}).status_code == 200
        with from_address(client, '198.51.100.3'):
            answers[address] = anonymous_post(client, '/password/forgot', {'email': address})
        assert_retry_after(answers[address])
    assert answers['dee@example.org'].body == answers['nobody@example.org'].body
    resets = [m for m in mail_to(moto, 'dee@example.org') if 'password' in m['Subject'].lower()]
    assert len(resets) == 3


def test_one_client_asks_for_at_most_ten_resets_an_hour(client, moto):
    for n in range(10):
        assert anonymous_post(client, '/password/forgot', {'email': f'x{n}@example.org'}).status_code == 200
    assert_retry_after(anonymous_post(client, '/password/forgot', {'email': 'x10@example.org'}))
