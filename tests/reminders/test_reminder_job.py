"""The reminder job and the delivery engine under it: exactly once through concurrent runs,
crashes and injected provider failures; the send rate limit; the deadline; no Scan.

Everything talks to real servers on 127.0.0.1: moto (DynamoDB, SES), the Twilio fake, and
for SES failures `tests/support/ses_fault_proxy.py` in front of moto.
"""
import os
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.circles import circles
from chalicelib.messaging import delivery
from chalicelib.reminders import job as reminder_job
from chalicelib.reminders import schedule as reminders
from chalicelib.reminders.sync import sync_reminders
from chalicelib.messaging import email
from chalicelib.messaging.sms import SmsFailed
from chalicelib.models import Delivery, MeetingReminder, Signup
from chalicelib.models.reminder import DUE_QUEUE, SENT
from chalicelib.models.rsvp import ShortLink
from chalicelib.learners.signup import sign_up, withdraw
from tests.support import aws_calls
from tests.support.factories import make_circle
from tests.support.ses_fault_proxy import SesFaultProxy

NO_MOBILE = ''


# --- small worlds ------------------------------------------------------------------------

def learners_for(index, count, with_mobile=True):
    return [(f'Learner {index}-{n}', f'learner{index}-{n}@example.org',
             f'+1312555{index:02d}{n:02d}' if with_mobile and n % 2 == 0 else NO_MOBILE)
            for n in range(count)]


def circle_with_learners(index=0, count=3, with_mobile=True, **fields):
    """A published circle whose first meeting is 7 days out, with `count` learners (every other
    one with a mobile), and its reminders made as the app makes them."""
    circle = make_circle(name=f'Circle {index}', facilitator_ids=[f'u-f{index}'],
                         facilitator_names=[f'Fac {index}'], facilitator_emails=[f'fac{index}@example.org'],
                         **fields)
    signups = []
    for name, address, mobile in learners_for(index, count, with_mobile):
        signup, _, _ = sign_up(circle.id, {'name': name, 'email': address, 'mobile': mobile, 'consent': 'true'})
        signups.append(signup)
    circle = circles.get_circle(circle.id)
    sync_reminders(circle)
    return circle, signups


def first_due(circle):
    return reminders.send_time(circle, circle.meetings[0])


def sent_to(moto, since):
    """How many emails SES accepted per address, after the first `since` (the welcome emails)."""
    return Counter(str(m['To']) for m in moto.sent_emails()[since:])


def expected_emails(world):
    return Counter([s.email for _, signups in world for s in signups] + [c.facilitator_emails[0] for c, _ in world])


def expected_sms(world):
    return Counter(s.mobile for _, signups in world for s in signups if s.mobile)


def several_circles(count, learners=3, **fields):
    """`count` circles whose first reminders fall due at the same instant, and that instant."""
    world = [circle_with_learners(index, learners, **fields) for index in range(count)]
    return world, max(first_due(c) for c, _ in world) + timedelta(minutes=1)


def deliveries(circle_id):
    return {d.sk: d for d in Delivery.query(f'CIRCLE#{circle_id}', Delivery.sk.startswith('DELIVERY#reminder#'))}


def reminder_item(circle, meeting_index=0):
    return MeetingReminder.get(*MeetingReminder.key(circle.id, circle.meetings[meeting_index].meeting_id))


@pytest.fixture
def ses_proxy(moto):
    """SES v2 through the fault proxy: only the sesv2 client's endpoint changes."""
    proxy = SesFaultProxy(moto.url)
    os.environ['AWS_ENDPOINT_URL_SESV2'] = proxy.url
    email.ses_client.cache_clear()
    yield proxy
    del os.environ['AWS_ENDPOINT_URL_SESV2']
    email.ses_client.cache_clear()
    proxy.stop()


def emails_before(moto):
    return len(moto.sent_emails())


# --- the delivery engine ----------------------------------------------------------------

def test_two_threads_delivering_the_same_key_send_once(twilio):
    circle = make_circle()
    key = delivery.DeliveryKey(circle.id, 'test#1', 'signup-1', delivery.EMAIL)
    now, calls, barrier = circles.utcnow(), [], threading.Barrier(2)

    def send():
        calls.append(threading.current_thread().name)
        time.sleep(0.2)
        return 'provider-id'

    results = []

    def worker():
        barrier.wait()
        results.append(delivery.deliver(key, send, now))
    threads = [threading.Thread(target=worker) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(calls) == 1
    assert sorted(results) == [delivery.PENDING, delivery.SENT]
    item = delivery.read(key)
    assert (item.state, item.provider_id, item.attempts, item.retry_at) == (delivery.SENT, 'provider-id', 1, None)
    assert delivery.deliver(key, send, now + timedelta(days=1)) == delivery.SENT
    assert len(calls) == 1


def test_a_claim_whose_run_crashed_is_taken_again_only_after_its_lease():
    circle = make_circle()
    key = delivery.DeliveryKey(circle.id, 'test#1', 'signup-1', delivery.SMS)
    now = circles.utcnow()
    item, state = delivery.claim(key, now)          # ... and then the run dies
    assert state == delivery.PENDING and item is not None
    calls = []
    assert delivery.deliver(key, lambda: calls.append(1) or 'id', now + timedelta(minutes=10)) == delivery.PENDING
    assert calls == []
    later = now + delivery.LEASE + timedelta(seconds=1)
    assert delivery.deliver(key, lambda: calls.append(1) or 'id', later) == delivery.SENT
    assert delivery.deliver(key, lambda: calls.append(1) or 'id', later) == delivery.SENT
    assert calls == [1]
    assert delivery.read(key).attempts == 2


def test_transient_failures_back_off_and_give_up_after_the_limit():
    circle = make_circle()
    key = delivery.DeliveryKey(circle.id, 'test#1', 'signup-1', delivery.SMS)
    now, calls = circles.utcnow(), []

    def throttled():
        calls.append(1)
        raise SmsFailed('Too Many Requests', code=20429, status=429)

    assert delivery.deliver(key, throttled, now) == delivery.RETRYING
    item = delivery.read(key)
    assert item.retry_at == now + delivery.FIRST_RETRY and 'Too Many Requests' in item.error
    assert delivery.deliver(key, throttled, now + timedelta(minutes=4)) == delivery.RETRYING
    assert len(calls) == 1                              # not before its backoff
    at = now
    for attempt in range(2, delivery.MAX_ATTEMPTS + 1):
        at = delivery.read(key).retry_at
        state = delivery.deliver(key, throttled, at)
    assert state == delivery.FAILED and len(calls) == delivery.MAX_ATTEMPTS
    item = delivery.read(key)
    assert item.error.startswith(f'Gave up after {delivery.MAX_ATTEMPTS} tries') and item.retry_at is None
    assert delivery.deliver(key, throttled, at + timedelta(days=1)) == delivery.FAILED
    assert len(calls) == delivery.MAX_ATTEMPTS


def test_a_number_that_replied_stop_fails_at_once_and_is_marked_opted_out_everywhere(twilio):
    circle, [grace, *_] = circle_with_learners(count=1)
    other = make_circle(name='Other circle')
    sign_up(other.id, {'name': 'Grace', 'email': 'grace@example.org', 'mobile': grace.mobile, 'consent': 'true'})
    twilio.fail_number(grace.mobile, 21610)
    key = delivery.DeliveryKey(circle.id, 'test#1', grace.signup_id, delivery.SMS)
    now = circles.utcnow()
    assert delivery.deliver(key, delivery.sms_send(grace.mobile, 'Hello'), now) == delivery.FAILED
    item = delivery.read(key)
    assert item.error_code == 21610 and 'opted out' in item.error
    assert [s.sms_opted_out for s in Signup.by_phone.query(f'PHONE#{grace.mobile}')] == [True, True]
    assert delivery.deliver(key, delivery.sms_send(grace.mobile, 'Hello'), now + timedelta(days=1)) == delivery.FAILED
    assert len(twilio.requests) == 1


def test_a_twilio_429_in_a_delivery_is_one_request_and_a_retry_later(twilio):
    circle = make_circle()
    now = circles.utcnow()
    key = delivery.DeliveryKey(circle.id, 'test#1', 'signup-1', delivery.SMS)
    twilio.answer_next(429)
    assert delivery.deliver(key, delivery.sms_send('+13125550100', 'Hello'), now) == delivery.RETRYING
    assert [r['status'] for r in twilio.requests] == [429]      # no retry behind the rate limit's back
    assert delivery.deliver(key, delivery.sms_send('+13125550100', 'Hello'), delivery.read(key).retry_at) == delivery.SENT
    assert [r['status'] for r in twilio.requests] == [429, 201]


@pytest.mark.parametrize('code, permanent', [
    ('ThrottlingException', False), ('TooManyRequestsException', False), ('LimitExceededException', False),
    ('MessageRejected', True), ('AccountSuspendedException', True), ('BadRequestException', True)])
def test_ses_errors_are_sorted_into_transient_and_permanent(code, permanent):
    from botocore.exceptions import ClientError
    error = ClientError({'Error': {'Code': code, 'Message': 'words'}, 'ResponseMetadata': {'HTTPStatusCode': 400}},
                        'SendEmail')
    assert delivery.classify(error).permanent is permanent
    server_error = ClientError({'Error': {'Code': 'InternalFailure'}, 'ResponseMetadata': {'HTTPStatusCode': 500}},
                               'SendEmail')
    assert delivery.classify(server_error).permanent is False


def test_twilio_server_errors_and_timeouts_are_transient_bad_numbers_permanent():
    assert delivery.classify(SmsFailed('Internal Server Error', code=20500, status=500)).permanent is False
    assert delivery.classify(SmsFailed('Twilio could not be reached: timed out')).permanent is False
    assert delivery.classify(SmsFailed("The 'To' number is not valid", code=21211, status=400)).permanent is True


def test_the_fault_proxy_answers_throttled_sends_the_way_ses_v2_does(moto, ses_proxy):
    from botocore.exceptions import ClientError
    ses_proxy.reset(throttle_every=2)
    message = email.build_message(to='x@example.org', subject='Hi', text='Hi', html='<p>Hi</p>')
    assert email.send(message, single_attempt=True)
    with pytest.raises(ClientError) as raised:
        email.send(message, single_attempt=True)
    assert raised.value.response['Error']['Code'] == 'ThrottlingException'
    assert delivery.classify(raised.value).permanent is False
    assert [outcome for _, outcome in ses_proxy.sends] == ['sent', 'ThrottlingException']
    assert len(moto.sent_emails()) == 1


# --- the job --------------------------------------------------------------------------------

def test_a_due_reminder_goes_to_every_learner_by_email_and_sms_and_to_the_facilitator(moto, twilio):
    circle, signups = circle_with_learners(count=3)
    withdraw(Signup.get(*Signup.key(circle.id, signups[2].signup_id)))
    stopped = signups[1]
    Signup(*Signup.key(circle.id, stopped.signup_id)).update(actions=[Signup.reminders_stopped.set(True)])
    before = emails_before(moto)
    now = first_due(circle) + timedelta(minutes=1)
    aws_calls.reset()

    summary = reminder_job.send_due_reminders(now)

    assert summary['reminders_sent'] == 1 and summary['messages_sent'] == 3
    emails = moto.sent_emails()[before:]
    assert sorted(str(m['To']) for m in emails) == ['fac0@example.org', 'learner0-0@example.org']
    learner = next(m for m in emails if str(m['To']) == 'learner0-0@example.org')
    assert learner['List-Unsubscribe'].startswith('<http://circles.test/unsubscribe/')
    assert learner['List-Unsubscribe-Post'] == 'List-Unsubscribe=One-Click'
    [ics] = list(learner.iter_attachments())
    assert ics.get_content_type() == 'text/calendar' and ics.get_param('method') == 'PUBLISH'
    assert f'UID:{circle.meetings[0].meeting_id}@circles' in ics.get_content()
    text = learner.get_body(('plain',)).get_content()
    assert '/rsvp/' in text and '/withdraw/' in text
    facilitator = next(m for m in emails if str(m['To']) == 'fac0@example.org')
    assert '/rsvp/' not in facilitator.get_body(('plain',)).get_content()
    [sms] = twilio.sent()
    assert sms['To'] == signups[0].mobile and '/r/' in sms['Body'] and len(sms['Body']) <= 160
    code = sms['Body'].rsplit('/r/', 1)[1]      # its ShortLink went into the claims' batch write
    assert ShortLink.get(*ShortLink.key(code)).signup_id == signups[0].signup_id
    item = reminder_item(circle)
    assert (item.state, item.due_pk, item.due_sk, item.claimed_until) == (SENT, None, None, None)
    calls = aws_calls.dynamodb_calls()
    assert 'Scan' not in calls and calls['Query'] == 2      # the due index, the circle's partition


def test_nothing_is_sent_before_the_reminder_is_due(moto, twilio):
    circle, _ = circle_with_learners(count=2)
    before = emails_before(moto)
    summary = reminder_job.send_due_reminders(first_due(circle) - timedelta(seconds=1))
    assert summary.get('due', 0) == 0 and len(moto.sent_emails()) == before and twilio.sent() == []


def test_two_runs_at_once_send_every_message_exactly_once(moto, twilio):
    world, now = several_circles(4, learners=4)
    before = emails_before(moto)
    barrier, summaries = threading.Barrier(2), []

    def run():
        barrier.wait()
        summaries.append(reminder_job.send_due_reminders(now, max_rate=1000))
    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert sent_to(moto, before) == expected_emails(world)
    assert Counter(m['To'] for m in twilio.sent()) == expected_sms(world)
    assert sum(s.get('reminders_sent', 0) for s in summaries) == 4
    assert all(reminder_item(c).state == SENT for c, _ in world)
    # and a third run later finds nothing left to do
    assert reminder_job.send_due_reminders(now + timedelta(minutes=5)).get('due', 0) == 0


def test_a_run_that_crashed_between_claim_and_send_is_finished_once_after_the_lease(moto, twilio):
    (circle, signups), = [circle_with_learners(count=4)]
    now = first_due(circle) + timedelta(minutes=1)
    before = emails_before(moto)
    # The crashed run: it took the reminder and claimed every delivery, then died.
    [reminder] = reminder_job.due_reminders(now)
    assert reminder_job.claim_reminder(reminder, now)
    purpose = reminder_job.purpose_of(circle.meetings[0])
    keys = [delivery.DeliveryKey(circle.id, purpose, s.signup_id, delivery.EMAIL) for s in signups]
    keys += [delivery.DeliveryKey(circle.id, purpose, s.signup_id, delivery.SMS) for s in signups if s.mobile]
    for key in keys:
        assert delivery.claim(key, now)[1] == delivery.PENDING

    soon = reminder_job.send_due_reminders(now + timedelta(minutes=5))
    assert soon.get('held_by_another_run') == 1 and len(moto.sent_emails()) == before and twilio.sent() == []

    after_lease = now + delivery.LEASE + timedelta(minutes=1)
    summary = reminder_job.send_due_reminders(after_lease)
    assert summary['reminders_sent'] == 1
    assert sent_to(moto, before) == expected_emails([(circle, signups)])
    assert Counter(m['To'] for m in twilio.sent()) == expected_sms([(circle, signups)])
    assert reminder_job.send_due_reminders(after_lease + timedelta(hours=1)).get('due', 0) == 0
    assert sent_to(moto, before) == expected_emails([(circle, signups)])


def test_claims_written_in_one_batch_by_a_run_that_then_died_are_sent_once_after_the_lease(moto, twilio):
    (circle, signups), = [circle_with_learners(count=4)]
    now = first_due(circle) + timedelta(minutes=1)
    before = emails_before(moto)
    # The crashed run got as far as the job's batch write of its claims, and no further.
    [reminder] = reminder_job.due_reminders(now)
    assert reminder_job.claim_reminder(reminder, now)
    items = reminder_job.read_circle(circle.id, reminder.meeting_id)
    purpose = reminder_job.purpose_of(circle.meetings[0])
    keys = [delivery.DeliveryKey(circle.id, purpose, s.signup_id, delivery.EMAIL) for s in signups]
    keys += [delivery.DeliveryKey(circle.id, purpose, s.signup_id, delivery.SMS) for s in signups if s.mobile]
    claims = [delivery.take(key, items.deliveries.get(key.item_key()[1]), now)[0] for key in keys]
    delivery.write(save=claims)
    assert {d.state for d in deliveries(circle.id).values()} == {delivery.PENDING}

    assert reminder_job.send_due_reminders(now + timedelta(minutes=5)).get('held_by_another_run') == 1
    assert len(moto.sent_emails()) == before and twilio.sent() == []
    after_lease = now + delivery.LEASE + timedelta(minutes=1)
    assert reminder_job.send_due_reminders(after_lease)['reminders_sent'] == 1
    assert sent_to(moto, before) == expected_emails([(circle, signups)])
    assert Counter(m['To'] for m in twilio.sent()) == expected_sms([(circle, signups)])
    assert all(d.attempts == 2 for d in deliveries(circle.id).values() if d.signup_id in {s.signup_id for s in signups})


def test_with_injected_failures_every_deliverable_message_arrives_once_and_the_rest_say_why(
        moto, twilio, ses_proxy):
    world, now = several_circles(3, learners=4)
    before = emails_before(moto)
    ses_proxy.reset(throttle_every=3)                       # a third of SES sends are throttled
    stopped_number = world[1][1][0].mobile
    twilio.fail_number(stopped_number, 21610)
    for _ in range(3):
        twilio.answer_next(500)

    at, runs = now, 0
    while runs < 10:
        runs += 1
        summary = reminder_job.send_due_reminders(at, max_rate=1000)
        if all(reminder_item(c).state == SENT for c, _ in world):
            break
        at += timedelta(minutes=30)
    assert runs > 1, 'the failures should have needed a later run'
    assert all(reminder_item(c).state == SENT for c, _ in world), summary

    assert sent_to(moto, before) == expected_emails(world)          # every email once, none twice
    throttled = ses_proxy.send_times('ThrottlingException')
    assert len(throttled) >= len(ses_proxy.send_times()) // 3 > 0
    expected = expected_sms(world)
    del expected[stopped_number]
    assert Counter(m['To'] for m in twilio.sent()) == expected
    assert [r['status'] for r in twilio.requests].count(500) == 3
    failed = [d for c, _ in world for d in deliveries(c.id).values() if d.state == delivery.FAILED]
    assert [(d.channel, d.error_code) for d in failed] == [('sms', 21610)]
    assert 'opted out' in failed[0].error
    assert all(s.sms_opted_out for s in Signup.by_phone.query(f'PHONE#{stopped_number}'))
    retried = [d for c, _ in world for d in deliveries(c.id).values() if d.attempts > 1 and d.state != delivery.FAILED]
    assert retried and all(d.state == delivery.SENT for d in retried)


def test_a_lambda_run_stops_taking_work_well_before_its_timeout():
    assert reminder_job.stop_time(100.0, 100.0 + 240) == 100.0 + 240 - reminder_job.STOP_MARGIN_SECONDS
    assert reminder_job.stop_time(100.0, 103.0) == 102.25
    assert reminder_job.stop_time(100.0, None) is None


def _max_in_any_second(times):
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_the_send_rate_limit_holds_across_workers_and_channels(moto, twilio, ses_proxy):
    world, now = several_circles(3, learners=4)
    twilio.reset()
    started = time.monotonic()
    summary = reminder_job.send_due_reminders(now, max_rate=8, workers=8)
    times = ses_proxy.send_times() + [r['at'] for r in twilio.requests if r['at'] >= started]
    assert summary['messages_sent'] == len(times) == sum(expected_emails(world).values()) + sum(
        expected_sms(world).values())
    # judged where the providers count: when the requests reached them
    assert _max_in_any_second(times) <= 8
    assert time.monotonic() - started >= (len(times) - 1) / (8 * reminder_job.RATE_HEADROOM) - 0.2


def test_the_run_stops_taking_work_before_the_deadline_and_the_next_run_finishes(moto, twilio, ses_proxy):
    world, now = several_circles(4, learners=2, with_mobile=False)
    before = emails_before(moto)
    ses_proxy.reset(delay_seconds=0.3)
    started = time.monotonic()
    deadline = started + 1.2        # a short run stops in its last quarter: after 0.9 s
    first = reminder_job.send_due_reminders(now, deadline=deadline, workers=1, max_rate=1000)
    # At most the send in flight finishes, plus bookkeeping writes (generous: CI machines are
    # loaded); sending everything would take 12 x 0.3 s = 3.6 s.
    assert time.monotonic() < started + 2.5
    assert first['stopped_early'] == 1
    assert 0 < first['messages_sent'] < sum(expected_emails(world).values())
    left = [c for c, _ in world if reminder_item(c).state != SENT]
    assert left and all(reminder_item(c).due_pk == DUE_QUEUE and reminder_item(c).claimed_until is None
                        for c in left)
    ses_proxy.reset()
    second = reminder_job.send_due_reminders(now + timedelta(minutes=5))
    assert second['reminders_sent'] == len(left)
    assert sent_to(moto, before) == expected_emails(world)


def test_the_job_is_scheduled_every_five_minutes_and_runs_through_the_lambda_entry_point(client, moto, twilio,
                                                                                       time_machine):
    from app import app
    [config] = [s for s in app.event_sources if s.name == 'send-due-reminders']
    assert config.schedule_expression.to_string() == 'rate(5 minutes)'
    circle, signups = circle_with_learners(count=2)
    before = emails_before(moto)
    time_machine.move_to(first_due(circle) + timedelta(minutes=1))
    event = client.events.generate_cw_event(source='aws.events', detail_type='Scheduled Event',
                                            detail={}, resources=[])
    client.lambda_.invoke('send-due-reminders', event)
    assert sent_to(moto, before) == expected_emails([(circle, signups)])


def test_the_cli_runs_the_job_once_for_a_given_instant(moto, twilio, capsys):
    from chalicelib.ops import cli
    circle, signups = circle_with_learners(count=1)
    before = emails_before(moto)
    cli.main(['run-job', 'send-due-reminders', '--now', (first_due(circle) + timedelta(minutes=1)).isoformat()])
    assert "'reminders_sent': 1" in capsys.readouterr().out
    assert sent_to(moto, before) == expected_emails([(circle, signups)])
