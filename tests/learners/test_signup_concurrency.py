"""Concurrent signups over real HTTP-to-moto requests: capacity stays exact, each stored
signup gets exactly one welcome, and repeats of one signup send its owner at most one
"already signed up" email. moto alone is not atomic here (scripts/moto_launcher.py
serialises its DynamoDB requests, as DynamoDB's own per-transaction atomicity would)."""
import json
import threading

import pytest

from chalicelib.circles import circles
from chalicelib.models import Delivery, Signup
from tests.support.factories import make_circle


@pytest.fixture(autouse=True, scope='module')
def one_request_per_thread():
    """The Chalice app keeps `current_request` in one attribute: fine in Lambda (one request
    per process), not for 20 threads of one test process, which would read each other's
    requests. Give each thread its own, as `chalice local` does (tests/support/live_server.py)."""
    from chalice.local import CustomLocalChalice, LocalChalice

    from app import app
    if not isinstance(app, CustomLocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice


def concurrently(count, request):
    """Run `request(n)` on `count` threads released at the same instant; their results."""
    start, results = threading.Barrier(count), [None] * count

    def run(n):
        start.wait()
        results[n] = request(n)
    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class Answer:
    def __init__(self, response):
        self.status_code = response['statusCode']
        self.json_body = json.loads(response['body'])


def post_signup(circle, email, client_address):
    """Through Chalice's local gateway, from its own client address, so that the per-client
    rate limit does not decide. Not `chalice.test.Client`: it swaps `os.environ` for the
    stage's variables around each request, which threads undo in the wrong order."""
    from chalice.config import Config
    from chalice.local import LocalGateway

    from app import app
    gateway = LocalGateway(app, Config.create())
    gateway.event_converter.LOCAL_SOURCE_IP = client_address
    body = {'learning_circle': circle.id, 'name': 'Sam', 'email': email, 'consent': True}
    return Answer(gateway.handle_request(method='POST', path='/api/signup/', body=json.dumps(body).encode(),
                                         headers={'Content-Type': 'application/json'}))


def welcomes(circle_id):
    return [d for d in Delivery.query(f'CIRCLE#{circle_id}', Delivery.sk.startswith('DELIVERY#welcome#'))]


def test_twenty_concurrent_signups_to_a_circle_of_five_store_five_and_welcome_five(moto):
    circle = make_circle(capacity=5)
    responses = concurrently(20, lambda n: post_signup(circle, f'learner{n}@example.org', f'198.51.100.{n}'))
    created = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 400]
    assert len(created) == 5 and len(refused) == 15, [r.status_code for r in responses]
    assert all('full' in r.json_body['errors']['learning_circle'][0] for r in refused)
    signups = list(Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#')))
    assert len(signups) == 5 and circles.get_circle(circle.id).signup_count == 5
    assert len(welcomes(circle.id)) == 5
    learners = sorted(m['To'] for m in moto.sent_emails() if m['To'] != 'ada@example.org')
    assert learners == sorted(s.email for s in signups)


def test_twenty_identical_concurrent_signups_store_one_count_one_and_welcome_once(moto):
    """The other 19 find the signup: each is answered 200 and none changes it."""
    circle = make_circle(capacity=5)
    responses = concurrently(20, lambda n: post_signup(circle, 'same@example.org', f'198.51.100.{n}'))
    assert {r.status_code for r in responses} == {200}
    assert len(list(Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#')))) == 1
    assert circles.get_circle(circle.id).signup_count == 1
    assert len(welcomes(circle.id)) == 1
    to_learner = [m['Subject'] for m in moto.sent_emails() if m['To'] == 'same@example.org']
    assert to_learner.count(f'You signed up for {circle.name}') == 1
    assert to_learner.count(f'You are already signed up for {circle.name}') <= 1
    assert len(to_learner) <= 2
