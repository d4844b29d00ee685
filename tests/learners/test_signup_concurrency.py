"""Concurrent signups over real HTTP-to-moto requests: capacity stays exact and each stored
signup gets exactly one welcome. moto alone is not atomic here (scripts/moto_launcher.py
serialises its DynamoDB requests, as DynamoDB's own per-transaction atomicity would)."""
import json
import threading

from chalicelib.circles import circles
from chalicelib.models import Delivery, Signup
from tests.support.factories import make_circle


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


def post_signup(circle, email):
    from chalice.test import Client

    from app import app
    body = {'learning_circle': circle.id, 'name': 'Sam', 'email': email, 'consent': True}
    with Client(app) as client:     # one client per thread: the test client is not thread-safe
        return client.http.post('/api/signup/', headers={'Content-Type': 'application/json'},
                                body=json.dumps(body))


def welcomes(circle_id):
    return [d for d in Delivery.query(f'CIRCLE#{circle_id}', Delivery.sk.startswith('DELIVERY#welcome#'))]


def test_twenty_concurrent_signups_to_a_circle_of_five_store_five_and_welcome_five(moto):
    circle = make_circle(capacity=5)
    responses = concurrently(20, lambda n: post_signup(circle, f'learner{n}@example.org'))
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
    circle = make_circle(capacity=5)
    responses = concurrently(20, lambda n: post_signup(circle, 'same@example.org'))
    assert {r.status_code for r in responses} == {200}
    assert len(list(Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#')))) == 1
    assert circles.get_circle(circle.id).signup_count == 1
    assert len(welcomes(circle.id)) == 1
    assert [m['To'] for m in moto.sent_emails()].count('same@example.org') == 1
