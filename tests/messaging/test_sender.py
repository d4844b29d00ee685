"""The outbox sender: exactly once from the stream, the sweep, retries, the one place for checks,
and one global send rate across senders running at once."""
import os
import threading
from datetime import timedelta

import pytest

from chalicelib.circles import circles
from chalicelib.learners.signup import sign_up, withdraw
from chalicelib.messaging import outbox, outcomes, sender
from chalicelib.models import Delivery
from chalicelib.ops.outbox_templates import templates
from tests.support import outbox as stream
from tests.support.factories import make_circle


def items_of(circle_id, template=None):
    found = Delivery.query(f'CIRCLE#{circle_id}', Delivery.sk.startswith('DELIVERY#'), consistent_read=True)
    return [d for d in found if template is None or d.template == template]


def welcomes_to(moto, address):
    return [m for m in moto.sent_emails(drain=False) if m['To'] == address]


def learner(circle, email='lee@example.org', **fields):
    signup, _, _ = sign_up(circle.id, {'name': 'Lee', 'email': email, 'consent': True, **fields})
    return signup


def stream_records():
    """What the stream holds now, Lambda-shaped (without invoking the sender)."""
    records = []
    poller = stream.poller()
    with poller.lock:
        records = [r for r in poller._read()]
    return [r for r in records if r['dynamodb'].get('NewImage', {}).get('kind', {}).get('S') == 'Delivery']


def test_the_sender_lambdas_are_a_stream_handler_and_a_five_minute_sweep():
    from app import app
    sources = {s.name: s for s in app.event_sources}
    assert sources['send-outbox-sweep'].schedule_expression.to_string() == 'rate(5 minutes)'
    assert sources['send-outbox'].batch_size == 100


def test_duplicate_stream_records_and_a_retried_batch_send_once(moto):
    circle = make_circle()
    learner(circle)
    records = stream_records()
    assert len(records) == 2                                    # the welcome and the facilitator's notice
    handler = stream.poller().handler
    event = {'Records': records + records}                      # a duplicate record in the batch
    handler(event, None)
    handler(event, None)                                        # Lambda retrying the whole batch
    assert len(welcomes_to(moto, 'lee@example.org')) == 1
    assert len(welcomes_to(moto, 'ada@example.org')) == 1
    assert sorted(d.state for d in items_of(circle.id)) == ['sent', 'sent']


def test_concurrent_senders_on_the_same_records_send_once(moto):
    circle = make_circle()
    for n in range(5):
        learner(circle, email=f'l{n}@example.org')
    records = stream_records()
    threads = [threading.Thread(target=sender.send_records, args=(records, templates())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = moto.sent_emails(drain=False)
    assert sorted(m['To'] for m in sent if m['To'] != 'ada@example.org') == [f'l{n}@example.org' for n in range(5)]
    assert len([m for m in sent if m['To'] == 'ada@example.org']) == 5


def test_what_the_stream_never_delivered_is_sent_by_the_sweep_once(moto):
    circle = make_circle()
    learner(circle)
    now = circles.utcnow()
    assert sender.sweep(templates(), now) == {}                 # not due yet: the stream has it
    later = now + outbox.SWEEP_GRACE + timedelta(seconds=1)
    assert sender.sweep(templates(), later) == {'sent': 2}
    assert sender.sweep(templates(), later + timedelta(minutes=30)) == {}
    assert stream.drain() == 2                                  # the stream's records arrive late: no repeat
    assert len(welcomes_to(moto, 'lee@example.org')) == 1
    assert all(d.due_pk is None for d in items_of(circle.id))


def test_an_item_claimed_by_a_sender_that_crashed_is_sent_after_its_lease(moto):
    circle = make_circle()
    learner(circle)
    now = circles.utcnow()
    [welcome] = items_of(circle.id, 'welcome')
    assert sender.claim(welcome, now)                           # a sender took it, then died
    stream.drain()
    assert welcomes_to(moto, 'lee@example.org') == []           # held by the lease
    assert sender.sweep(templates(), now + timedelta(minutes=4)) == {}
    assert sender.sweep(templates(), now + sender.LEASE + timedelta(seconds=1)) == {'sent': 1}
    assert len(welcomes_to(moto, 'lee@example.org')) == 1
    [welcome] = items_of(circle.id, 'welcome')
    assert welcome.attempts == 2 and welcome.state == 'sent'


def test_a_learner_who_withdrew_before_sending_is_skipped(moto):
    circle = make_circle()
    signup = learner(circle)
    withdraw(signup)
    stream.drain()
    assert welcomes_to(moto, 'lee@example.org') == []
    states = {d.template: (d.state, d.error) for d in items_of(circle.id)}
    assert states['welcome'] == ('skipped', 'The learner has left the circle.')
    assert states['new_signup'][0] == 'skipped'


def test_a_transient_sms_failure_is_retried_with_backoff_and_a_stop_is_final(moto, twilio):
    circle = make_circle()
    first, second = learner(circle, 'a@example.org', mobile='+13125550101'), learner(circle, 'b@example.org',
                                                                                        mobile='+13125550102')
    stream.drain()
    now = circles.utcnow()
    items = [outbox.for_signup(s, 'hello', outbox.SMS, 'test_sms', now) for s in (first, second)]
    outbox.write(items)
    test_templates = {**templates(), 'test_sms': sender.Template(keys=lambda item: [],
                                                                 render=lambda item, reads, to, now: 'Hello!')}
    twilio.answer_next(500)
    assert sender.send_items(items[:1], test_templates, now) == {'retrying': 1}
    twilio.fail_number('+13125550102')
    assert sender.send_items(items[1:], test_templates, now) == {'failed': 1}
    states = {d.recipient_id: d for d in items_of(circle.id, 'test_sms')}
    retry, stop = states[first.signup_id], states[second.signup_id]
    assert retry.state == 'retrying' and retry.retry_at == now + outcomes.FIRST_RETRY
    assert retry.due_sk.startswith((now + outcomes.FIRST_RETRY).isoformat())
    assert stop.state == 'failed' and stop.error_code == 21610 and stop.due_pk is None
    # The STOP's text goes by email instead (it has no email of its own), once; the retry waits.
    [fallback] = items_of(circle.id, 'sms_fallback')
    assert (fallback.purpose, fallback.signup_id, fallback.state) == ('sms-fallback#hello', second.signup_id, 'pending')
    assert sender.sweep(test_templates, now + timedelta(minutes=4)) == {'sent': 1}
    [by_email] = welcomes_to(moto, 'b@example.org')[-1:]
    assert by_email['Subject'] == 'A text message we could not deliver to you' and 'Hello!' in by_email.as_string()
    assert sender.sweep(test_templates, now + outcomes.FIRST_RETRY) == {'sent': 1}
    assert [f['To'] for f in twilio.sent()] == ['+13125550101']
    # The STOP marks the number in every circle; later messages to it are skipped before any request.
    from chalicelib.models import Signup
    assert Signup.get(*Signup.key(circle.id, second.signup_id)).sms_opted_out


@pytest.fixture
def sms_limit():
    os.environ['CIRCLES_MAX_SMS_PER_SECOND'] = '10'
    from chalicelib.core.settings import get_settings
    get_settings.cache_clear()
    yield 10
    os.environ['CIRCLES_MAX_SMS_PER_SECOND'] = '0'
    get_settings.cache_clear()


def test_two_senders_at_once_never_exceed_the_global_rate(moto, twilio, sms_limit):
    circle = make_circle(capacity=None)
    now = circles.utcnow()
    signups = [learner(circle, f'l{n}@example.org', mobile=f'+1312555{n:04d}') for n in range(30)]
    stream.drain()
    items = [outbox.for_signup(s, 'hello', outbox.SMS, 'test_sms', now) for s in signups]
    outbox.write(items)
    test_templates = {'test_sms': sender.Template(keys=lambda item: [], render=lambda item, reads, to, now: 'Hi')}
    halves = [items[:15], items[15:]]
    threads = [threading.Thread(target=sender.send_items, args=(half, test_templates, now)) for half in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    arrivals = sorted(r['at'] for r in twilio.requests if r['status'] == 201)
    assert len(arrivals) == 30
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert busiest <= sms_limit, busiest
    assert arrivals[-1] - arrivals[0] >= 29 / sms_limit * 0.95  # the limit was reached, not undershot by far
