"""The reminder job on the outbox: it claims each due reminder and writes the meeting's outbox
items once; the one sender (chalicelib.messaging.sender) renders and sends them. Exactly once
through concurrent runs, crashes after the claim or halfway through the writes, and provider
faults retried by the sweep; consent checked again at send time; DynamoDB calls flat in the
number of circles; the deadline.

Everything talks to real servers on 127.0.0.1: moto (DynamoDB, its stream, SES), the Twilio
fake, and for SES faults `tests/support/ses_fault_proxy.py` in front of moto. Reading what was
sent (`moto.sent_emails()`, `twilio.sent()`) first drains the stream through the real sender.
"""
import os
import re
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.circles import circles
from chalicelib.core import links
from chalicelib.core.settings import get_settings
from chalicelib.facilitators import circle_admin
from chalicelib.learners import rsvp
from chalicelib.learners.signup import sign_up, withdraw
from chalicelib.messaging import email, outbox, outcomes, sender
from chalicelib.models import Delivery, MeetingReminder, Signup, TableItem
from chalicelib.models.reminder import DUE_QUEUE, SCHEDULED, SENDING, SENT, SKIPPED
from chalicelib.models.rsvp import ShortLink
from chalicelib.ops.outbox_templates import templates
from chalicelib.reminders import job as reminder_job
from chalicelib.reminders import schedule as reminders
from chalicelib.reminders.sync import sync_reminders
from tests.support import aws_calls
from tests.support import outbox as stream
from tests.support.factories import make_circle
from tests.support.ses_fault_proxy import SesFaultProxy

NO_MOBILE = ''


# --- small worlds ------------------------------------------------------------------------

def learners_for(index, count, with_mobile=True):
    """(name, email, mobile) of `count` learners; every other one (n even) has a mobile."""
    return [(f'Learner {index}-{n}', f'learner{index}-{n}@example.org',
             f'+1312555{index:02d}{n:02d}' if with_mobile and n % 2 == 0 else NO_MOBILE)
            for n in range(count)]


def circle_with_learners(index=0, count=3, with_mobile=True, **fields):
    """A published circle whose first meeting is 7 days out, with `count` learners signed up
    the way the app signs them up, and its reminders scheduled as the app schedules them."""
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


def several_circles(count, learners=3, **fields):
    """`count` circles whose first reminders fall due at the same instant, and an instant after it."""
    world = [circle_with_learners(index, learners, **fields) for index in range(count)]
    return world, max(first_due(c) for c, _ in world) + timedelta(minutes=1)


def emails_before(moto):
    """How many emails SES holds now (the welcomes and new-signup notices, delivered first)."""
    return len(moto.sent_emails())


def sent_to(moto, since):
    """How many emails SES accepted per address, after the first `since`."""
    return Counter(str(m['To']) for m in moto.sent_emails()[since:])


def sms_to(twilio):
    return Counter(m['To'] for m in twilio.sent())


def expected_emails(world):
    """Every current learner's email once, and each facilitator's copy once."""
    return Counter([s.email for _, signups in world for s in signups]
                   + [address for c, _ in world for address in c.facilitator_emails])


def expected_sms(world):
    return Counter(s.mobile for _, signups in world for s in signups if s.mobile)


def reminder_items_of(circle_id):
    """The circle's reminder outbox items by sort key, read consistently."""
    return {d.sk: d for d in Delivery.query(f'CIRCLE#{circle_id}', Delivery.sk.startswith('DELIVERY#reminder#'),
                                            consistent_read=True)}


def reminder_item(circle, meeting_index=0):
    return MeetingReminder.get(*MeetingReminder.key(circle.id, circle.meetings[meeting_index].meeting_id),
                               consistent_read=True)


def body(message):
    return message.get_body(('plain',)).get_content()


def path(url):
    return url.removeprefix(get_settings().public_base_url)


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


# --- how it runs ------------------------------------------------------------------------

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
    assert reminder_item(circle).state == SENT
    assert sent_to(moto, before) == expected_emails([(circle, signups)])
    assert sms_to(twilio) == expected_sms([(circle, signups)])


def test_the_cli_runs_the_job_once_for_a_given_instant(moto, twilio, capsys):
    from chalicelib import cli      # what `python -m chalicelib.cli` runs
    circle, signups = circle_with_learners(count=1)
    before = emails_before(moto)
    cli.main(['run-job', 'send-due-reminders', '--now', (first_due(circle) + timedelta(minutes=1)).isoformat()])
    out = capsys.readouterr().out
    assert out.startswith('send-due-reminders: ')
    assert "'reminders_sent': 1" in out and "'messages_queued': 3" in out     # email, SMS, facilitator
    assert sent_to(moto, before) == expected_emails([(circle, signups)])
    assert sms_to(twilio) == expected_sms([(circle, signups)])


# --- what a due reminder sends ------------------------------------------------------------

def test_a_due_reminder_goes_to_every_learner_by_email_and_sms_and_to_the_facilitator(client, moto, twilio):
    circle, signups = circle_with_learners(count=3)        # learners 0 and 2 have a mobile
    meeting = circle.meetings[0]
    before = emails_before(moto)
    now = first_due(circle) + timedelta(minutes=1)

    summary = reminder_job.send_due_reminders(now)

    assert {k: v for k, v in summary.items() if k != 'seconds'} == {
        'due': 1, 'reminders_sent': 1, 'messages_queued': 3 + 2 + 1}
    item = reminder_item(circle)
    assert (item.state, item.due_pk, item.due_sk, item.claimed_until, item.sent_at) == (SENT, None, None, None, now)
    queued = reminder_items_of(circle.id)
    assert sorted(d.template for d in queued.values()) == (
        ['reminder'] * 3 + ['reminder_facilitator'] + ['reminder_sms'] * 2)
    assert all(d.purpose == f'reminder#{meeting.meeting_id}' and d.state == outbox.PENDING for d in queued.values())

    emails, base = moto.sent_emails()[before:], get_settings().public_base_url
    assert sent_to(moto, before) == expected_emails([(circle, signups)])
    for signup in signups:
        mine = {'c': circle.id, 's': signup.signup_id}
        [learner] = [m for m in emails if str(m['To']) == signup.email]
        unsubscribe = re.fullmatch(rf'<{re.escape(base)}/unsubscribe/(\S+)>', learner['List-Unsubscribe']).group(1)
        assert links.unsign(links.UNSUBSCRIBE, unsubscribe) == mine
        assert learner['List-Unsubscribe-Post'] == 'List-Unsubscribe=One-Click'
        [ics] = list(learner.iter_attachments())
        assert ics.get_content_type() == 'text/calendar' and ics.get_param('method') == 'PUBLISH'
        calendar = ics.get_content()
        calendar = calendar if isinstance(calendar, str) else calendar.decode()
        assert f'UID:{meeting.meeting_id}@circles' in calendar
        text = body(learner)
        rsvps = [links.unsign(links.RSVP, token) for token in re.findall(rf'{re.escape(base)}/rsvp/(\S+)', text)]
        assert {r.get('a') for r in rsvps} >= {'yes', 'no'}
        assert all(r == {**mine, 'm': meeting.meeting_id, **({'a': r['a']} if 'a' in r else {})} for r in rsvps)
        [withdraw_token] = set(re.findall(rf'{re.escape(base)}/withdraw/(\S+)', text))
        assert links.unsign(links.WITHDRAW, withdraw_token) == mine
    [facilitator] = [m for m in emails if str(m['To']) == 'fac0@example.org']
    assert '/rsvp/' not in body(facilitator) and 'List-Unsubscribe' not in facilitator
    assert [a.get_content_type() for a in facilitator.iter_attachments()] == ['text/calendar']

    texts = twilio.sent()
    assert sorted(t['To'] for t in texts) == sorted(s.mobile for s in signups if s.mobile)
    for sms in texts:
        signup = next(s for s in signups if s.mobile == sms['To'])
        assert len(sms['Body']) <= 160
        short = re.search(r'\S+/r/[a-z2-7]+', sms['Body']).group(0)
        assert short == rsvp.short_link(signup, meeting)[0]
        link = ShortLink.get(*ShortLink.key(short.rsplit('/', 1)[1]))     # written by the job with the items
        assert (link.signup_id, link.meeting_id) == (signup.signup_id, meeting.meeting_id)
        page = client.http.get(path(short))
        assert page.status_code == 200 and 'You have not answered yet' in page.body.decode()
    assert {d.state for d in reminder_items_of(circle.id).values()} == {outbox.SENT}


def test_nothing_is_queued_before_the_reminder_is_due(moto, twilio):
    circle, signups = circle_with_learners(count=2)
    before = emails_before(moto)
    summary = reminder_job.send_due_reminders(first_due(circle) - timedelta(seconds=1))
    assert summary.get('due', 0) == 0 and reminder_items_of(circle.id) == {}
    assert len(moto.sent_emails()) == before and twilio.sent() == []
    assert reminder_item(circle).state == SCHEDULED
    assert reminder_job.send_due_reminders(first_due(circle))['reminders_sent'] == 1      # due at the instant
    assert sent_to(moto, before) == expected_emails([(circle, signups)])


@pytest.mark.parametrize('change', ['meeting cancelled', 'circle unpublished'])
def test_no_reminder_for_a_cancelled_meeting_or_an_unpublished_circle(moto, twilio, change):
    """The reminder is still on the due queue (the edit was saved, its sync has not run yet):
    the job reads the circle after claiming, finds the reminder no longer applies, skips it."""
    circle, _ = circle_with_learners(count=2)
    now = first_due(circle) + timedelta(minutes=1)
    before = emails_before(moto)
    if change == 'meeting cancelled':
        circle_admin.cancel_meeting(circle, circle.meetings[0].meeting_id)
    else:
        circle_admin.unpublish(circle)
    circles.save(circle)                                    # the circle alone, without sync_reminders
    assert reminder_item(circle).due_pk == DUE_QUEUE

    summary = reminder_job.send_due_reminders(now)
    assert summary['skipped'] == 1 and summary.get('reminders_sent', 0) == 0
    item = reminder_item(circle)
    assert (item.state, item.due_pk, item.due_sk, item.claimed_until) == (SKIPPED, None, None, None)
    assert reminder_items_of(circle.id) == {}
    assert len(moto.sent_emails()) == before and twilio.sent() == []


# --- consent: decided when queued, checked again when sent ------------------------------------

def test_unsubscribed_learners_get_no_reminder_email_and_opted_out_numbers_no_sms(moto, twilio):
    circle, [ada, bob, cy] = circle_with_learners(count=3)     # ada and cy have a mobile
    before = emails_before(moto)
    rsvp.stop_reminders(rsvp.unsubscribe_url(ada).rsplit('/', 1)[1])   # the one-click unsubscribe
    outcomes.mark_sms_opted_out(cy.mobile)                              # Twilio said 21610 before
    summary = reminder_job.send_due_reminders(first_due(circle) + timedelta(minutes=1))
    assert summary['messages_queued'] == 3 + 2 + 1           # the sender is the one place for consent
    assert sent_to(moto, before) == Counter([bob.email, cy.email, 'fac0@example.org'])
    assert sms_to(twilio) == Counter([ada.mobile])
    states = {(d.recipient_id, d.channel): (d.state, d.error) for d in reminder_items_of(circle.id).values()}
    assert states[(ada.signup_id, 'email')] == ('skipped', 'The learner unsubscribed from reminder emails.')
    assert states[(cy.signup_id, 'sms')] == ('skipped', 'The learner has opted out of text messages (replied STOP).')


def test_a_learner_who_withdraws_or_opts_out_after_the_job_queued_gets_nothing(moto, twilio):
    circle, [ada, bob, cy] = circle_with_learners(count=3)     # ada and cy have a mobile
    before = emails_before(moto)
    summary = reminder_job.send_due_reminders(first_due(circle) + timedelta(minutes=1))
    assert summary['messages_queued'] == 3 + 2 + 1
    # Between the job's write and the sender's send:
    withdraw(Signup.get(*Signup.key(circle.id, ada.signup_id)))
    rsvp.stop_reminders(rsvp.unsubscribe_url(bob).rsplit('/', 1)[1])
    outcomes.mark_sms_opted_out(cy.mobile)

    assert sent_to(moto, before) == Counter([cy.email, 'fac0@example.org'])
    assert twilio.requests == []
    states = {(d.recipient_id, d.channel): (d.state, d.error) for d in reminder_items_of(circle.id).values()}
    assert states == {
        (ada.signup_id, 'email'): ('skipped', 'The learner has left the circle.'),
        (ada.signup_id, 'sms'): ('skipped', 'The learner has left the circle.'),
        (bob.signup_id, 'email'): ('skipped', 'The learner unsubscribed from reminder emails.'),
        (cy.signup_id, 'email'): ('sent', None),
        (cy.signup_id, 'sms'): ('skipped', 'The learner has opted out of text messages (replied STOP).'),
        ('facilitator-u-f0', 'email'): ('sent', None),
    }
    assert all(d.due_pk is None for d in reminder_items_of(circle.id).values())


# --- exactly once ---------------------------------------------------------------------------

def test_two_runs_at_once_queue_every_item_once_and_everyone_gets_one_message(moto, twilio):
    world, now = several_circles(4, learners=4)
    before = emails_before(moto)
    barrier, summaries = threading.Barrier(2), []

    def run():
        barrier.wait()
        summaries.append(reminder_job.send_due_reminders(now))
    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    per_circle = 4 + 2 + 1
    assert sum(s.get('reminders_sent', 0) for s in summaries) == 4
    assert sum(s.get('reminders_sent', 0) + s.get('held_by_another_run', 0) for s in summaries) == 8
    assert sum(s.get('messages_queued', 0) for s in summaries) == 4 * per_circle
    assert all(len(reminder_items_of(c.id)) == per_circle for c, _ in world)
    assert all(reminder_item(c).state == SENT and reminder_item(c).run_attempts == 1 for c, _ in world)
    assert sent_to(moto, before) == expected_emails(world)
    assert sms_to(twilio) == expected_sms(world)
    # and a third run later finds nothing left to do
    assert reminder_job.send_due_reminders(now + timedelta(minutes=5)).get('due', 0) == 0
    assert sender.sweep(templates(), circles.utcnow() + timedelta(hours=1)) == {}
    assert sent_to(moto, before) == expected_emails(world) and sms_to(twilio) == expected_sms(world)


def test_a_run_that_crashed_after_claiming_holds_the_reminder_until_its_lease_ends(moto, twilio):
    circle, signups = circle_with_learners(count=4)
    now = first_due(circle) + timedelta(minutes=1)
    before = emails_before(moto)
    [reminder] = reminder_job.due_reminders(now)
    assert reminder_job.claim_reminder(reminder, now)       # ... and then the run died
    assert reminder_item(circle).state == SENDING

    for later in (timedelta(minutes=5), reminder_job.REMINDER_LEASE - timedelta(seconds=1)):
        summary = reminder_job.send_due_reminders(now + later)
        assert summary['held_by_another_run'] == 1 and summary.get('messages_queued', 0) == 0
    assert reminder_items_of(circle.id) == {}
    assert len(moto.sent_emails()) == before and twilio.sent() == []

    after_lease = now + reminder_job.REMINDER_LEASE + timedelta(seconds=1)
    summary = reminder_job.send_due_reminders(after_lease)
    assert summary['reminders_sent'] == 1 and summary['messages_queued'] == 4 + 2 + 1
    item = reminder_item(circle)
    assert (item.state, item.run_attempts, item.claimed_until) == (SENT, 2, None)
    assert sent_to(moto, before) == expected_emails([(circle, signups)])
    assert sms_to(twilio) == expected_sms([(circle, signups)])
    assert reminder_job.send_due_reminders(after_lease + timedelta(hours=1)).get('due', 0) == 0
    assert sent_to(moto, before) == expected_emails([(circle, signups)])


def test_a_run_that_crashed_after_writing_some_items_is_finished_with_only_the_missing_ones(moto, twilio):
    circle, signups = circle_with_learners(count=4)
    now = first_due(circle) + timedelta(minutes=1)
    before = emails_before(moto)
    # The crashed run: it claimed the reminder, read the circle, wrote part of its items, died.
    [reminder] = reminder_job.due_reminders(now)
    assert reminder_job.claim_reminder(reminder, now)
    found, found_signups, written = reminder_job.read_circle(circle.id, reminder.meeting_id)
    assert written == set()
    meeting = reminder_job.find_meeting(found, reminder.meeting_id)
    items, links = reminder_job.reminder_items(found, meeting, found_signups, now)
    assert len(items) == 4 + 2 + 1 and len(links) == 2
    first_part = [i for i in items if i.channel == outbox.EMAIL][:3] + [i for i in items if i.channel == outbox.SMS][:1]
    with TableItem.batch_write() as batch:
        for item in [*links[:1], *first_part]:
            batch.save(item)
    # The stream delivers what was written (it knows nothing of the crash).
    assert sum(sent_to(moto, before).values()) == 3 and len(twilio.sent()) == 1
    early = {sk: (d.state, d.attempts, d.sent_at) for sk, d in reminder_items_of(circle.id).items()}
    assert len(early) == 4 and {state for state, _, _ in early.values()} == {outbox.SENT}

    assert reminder_job.send_due_reminders(now + timedelta(minutes=5))['held_by_another_run'] == 1
    summary = reminder_job.send_due_reminders(now + reminder_job.REMINDER_LEASE + timedelta(minutes=1))
    assert summary['reminders_sent'] == 1 and summary['messages_queued'] == len(items) - len(first_part)

    assert sent_to(moto, before) == expected_emails([(circle, signups)])       # every email once, none twice
    assert sms_to(twilio) == expected_sms([(circle, signups)])
    final = reminder_items_of(circle.id)
    assert len(final) == len(items) and {d.state for d in final.values()} == {outbox.SENT}
    # the items written before the crash were left as they were, not written again
    assert {sk: (final[sk].state, final[sk].attempts, final[sk].sent_at) for sk in early} == early
    assert all(d.due_pk is None for d in final.values())
    assert sender.sweep(templates(), circles.utcnow() + timedelta(hours=2)) == {}
    assert sent_to(moto, before) == expected_emails([(circle, signups)])
    for signup in signups:
        if signup.mobile:
            code = rsvp.short_link(signup, meeting)[0].rsplit('/', 1)[1]
            assert ShortLink.get(*ShortLink.key(code)).signup_id == signup.signup_id


# --- provider faults, through the sender --------------------------------------------------------

def retrying(world):
    return [d for c, _ in world for d in reminder_items_of(c.id).values() if d.state == outbox.RETRYING]


def test_with_provider_faults_every_deliverable_message_goes_once_after_the_sweeps(moto, twilio, ses_proxy):
    world, now = several_circles(3, learners=4)
    before = emails_before(moto)                             # the welcomes went out unharmed
    ses_proxy.reset(throttle_every=3)                        # every third SES send is throttled
    stopped_number = world[1][1][0].mobile
    twilio.fail_number(stopped_number, 21610)
    twilio.answer_next(500)

    summary = reminder_job.send_due_reminders(now)
    assert summary['reminders_sent'] == 3 and summary['messages_queued'] == 3 * (4 + 2 + 1)
    stream.drain()                                          # the stream's sends, with the faults
    assert retrying(world), 'the faults should have left messages to retry'

    sweeps = 0
    while retrying(world) and sweeps < 10:
        sweeps += 1
        at = min(d.retry_at for d in retrying(world))
        assert sender.sweep(templates(), at - timedelta(seconds=1)) == {}     # not before its backoff
        sender.sweep(templates(), at)
    assert not retrying(world) and sweeps >= 1

    assert sent_to(moto, before) == expected_emails(world)          # every email once, none twice
    assert len(ses_proxy.send_times('ThrottlingException')) >= 1
    expected = expected_sms(world)
    del expected[stopped_number]
    assert sms_to(twilio) == expected
    assert [r['status'] for r in twilio.requests].count(500) == 1
    items = [d for c, _ in world for d in reminder_items_of(c.id).values()]
    failed = [d for d in items if d.state == outbox.FAILED]
    assert [(d.channel, d.error_code) for d in failed] == [('sms', 21610)]
    assert 'opted out' in failed[0].error and failed[0].due_pk is None
    assert all(s.sms_opted_out for s in Signup.by_phone.query(f'PHONE#{stopped_number}'))
    assert Counter(d.state for d in items) == Counter({outbox.SENT: len(items) - 1, outbox.FAILED: 1})
    retried = [d for d in items if d.attempts > 1 and d is not failed[0]]
    assert retried and all(d.state == outbox.SENT for d in retried)
    # the stopped number's item ended at its first 21610 (the 500 may have been its first answer)
    to_stopped = [r['status'] for r in twilio.requests if r['form']['To'] == stopped_number]
    assert to_stopped in ([400], [500, 400]) and failed[0].attempts == len(to_stopped)


# --- cost and time ------------------------------------------------------------------------

def fresh_table(moto):
    """An empty table again, as the `aws` fixture makes it (the stream poller follows the new stream)."""
    from chalicelib.ops import admin
    moto.reset()
    admin.create_table()
    admin.verify_local_sender()


def calls_of_a_run(circle_count, due=3):
    """DynamoDB calls by operation of one run with `due` reminders due among `circle_count` circles
    (the others have learners and reminders too, due weeks later)."""
    world = [circle_with_learners(index, 3) for index in range(due)]
    for index in range(due, circle_count):
        circle_with_learners(index, 1, starts_in_days=30)
    now = max(first_due(c) for c, _ in world) + timedelta(minutes=1)
    stream.drain()
    aws_calls.reset()
    summary = reminder_job.send_due_reminders(now)
    calls = aws_calls.dynamodb_calls()
    assert summary['reminders_sent'] == due and summary['messages_queued'] == due * (3 + 2 + 1)
    return calls


def test_the_dynamodb_calls_of_a_run_do_not_grow_with_the_number_of_circles(moto):
    few = calls_of_a_run(3)
    fresh_table(moto)
    many = calls_of_a_run(30)
    assert few == many
    # the due index once; per reminder: the claim, the circle's partition, one batch write, done
    assert few == {'Query': 1 + 3, 'UpdateItem': 2 * 3, 'BatchWriteItem': 3}


def test_a_run_near_its_deadline_stops_early_and_the_next_run_finishes(moto, twilio):
    world, now = several_circles(3, learners=2)
    before = emails_before(moto)
    # A Lambda out of time: the deadline is now, so the run stops before claiming anything.
    first = reminder_job.send_due_reminders(now, deadline=time.monotonic())
    assert first['stopped_early'] == 1 and first.get('reminders_sent', 0) == 0
    for circle, _ in world:
        item = reminder_item(circle)
        assert (item.state, item.due_pk, item.claimed_until) == (SCHEDULED, DUE_QUEUE, None)
    assert all(reminder_items_of(c.id) == {} for c, _ in world)

    second = reminder_job.send_due_reminders(now + timedelta(minutes=5))
    assert second['reminders_sent'] == 3 and 'stopped_early' not in second
    assert sent_to(moto, before) == expected_emails(world)
    assert sms_to(twilio) == expected_sms(world)


def test_a_run_stops_taking_work_well_before_its_deadline():
    assert reminder_job.stop_time(100.0, 100.0 + 900) == 100.0 + 900 - reminder_job.STOP_MARGIN_SECONDS
    assert reminder_job.stop_time(100.0, 103.0) == 102.25        # a short run: its last quarter
    assert reminder_job.stop_time(100.0, 99.0) == 99.0           # already late: nothing new at all
    assert reminder_job.MAX_RUN_SECONDS < reminder_job.REMINDER_LEASE.total_seconds()
