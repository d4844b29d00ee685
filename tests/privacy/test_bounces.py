"""What a bounce or a complaint does, and the sender's suppression check (real sender, moto SES,
the Twilio fake)."""
import pytest

from chalicelib.circles import circles
from chalicelib.messaging import outbox, sender, suppression
from chalicelib.models import ConsentRecord, Delivery, Signup, TeamMember
from chalicelib.privacy import bounces
from chalicelib.privacy.sns import BOUNCE, COMPLAINT, Feedback
from chalicelib.reminders.job import send_due_reminders
from chalicelib.teams.teams import new_membership
from chalicelib.ops.outbox_templates import templates
from tests.ending.world import World, deliveries, emails_to
from tests.facilitators.test_facilitator_pages import learner
from tests.support import aws_calls


def hard_bounce(address):
    return Feedback(BOUNCE, (address,), True, 'Permanent/General')


def test_after_a_hard_bounce_no_further_email_goes_to_that_address(moto, drain):
    world = World(weeks=1, starts_in_days=1)
    drain()
    lea, ben = world.signups
    assert bounces.record(hard_bounce('lea@example.org')) == {'lea@example.org': 'suppressed'}
    send_due_reminders(circles.utcnow())
    drain()
    reminders = {d.signup_id: d for d in deliveries(world.circle.id, 'reminder#') if d.channel == outbox.EMAIL}
    assert reminders[ben.signup_id].state == outbox.SENT
    assert reminders[lea.signup_id].state == outbox.SKIPPED
    assert 'suppression list' in reminders[lea.signup_id].error
    # A message of any kind to the address, also one that names it directly, is skipped too.
    world.signups.append(learner(world.fresh(), 'Lea Again', 'Lea@Example.org'))
    drain()
    assert len(emails_to(moto, 'lea@example.org')) == 1       # the welcome, before the bounce


def test_a_soft_bounce_is_counted_and_suppresses_nothing(moto, drain):
    soft = Feedback(BOUNCE, ('lea@example.org',), False, 'Transient/MailboxFull')
    assert bounces.record(soft) == {'lea@example.org': 'soft bounce counted'}
    bounces.record(soft)
    assert bounces.soft_bounces('lea@example.org') == 2
    assert not suppression.is_suppressed('lea@example.org')
    World(weeks=1, learners=('Lea Learner',))
    drain()
    assert len(emails_to(moto, 'lea@example.org')) == 1        # the welcome


def test_a_complaint_suppresses_and_ends_reminders_and_digests_with_consent_records(moto, drain):
    world = World(weeks=2, learners=('Lea Learner', 'Ben Learner'))
    other = World(weeks=2, learners=('Lea Learner',))
    fay = other.facilitator         # the account the address now belongs to (each World makes one)
    team_member = new_membership('t-1', fay, 'facilitator', circles.utcnow())
    team_member.save()
    complaint = Feedback(COMPLAINT, ('lea@example.org', 'fay@example.org'), True, 'abuse')
    assert bounces.record(complaint) == {'lea@example.org': 'complained', 'fay@example.org': 'complained'}
    assert suppression.suppressed(['lea@example.org', 'fay@example.org', 'ben@example.org']) == {
        'lea@example.org', 'fay@example.org'}
    leas = [Signup.get(*Signup.key(w.circle.id, w.signups[0].signup_id)) for w in (world, other)]
    assert all(s.reminders_stopped for s in leas)
    assert not Signup.get(*Signup.key(world.circle.id, world.signups[1].signup_id)).reminders_stopped
    member = TeamMember.get(team_member.pk, team_member.sk)
    assert member.digest_opted_out_at is not None
    records = [r for s in leas for r in ConsentRecord.query(f'CONSENT#SIGNUP#{s.circle_id}#{s.signup_id}')
               if r.topic == 'reminders']
    assert [(r.given, r.channel) for r in records] == [('withdrawn', 'ses-complaint')] * 2
    [digest] = [r for r in ConsentRecord.query(f'CONSENT#USER#{fay.user_id}') if r.topic == 'digest']
    assert (digest.given, digest.channel, digest.scope) == ('withdrawn', 'ses-complaint', 'TEAM#t-1')
    # The same complaint again (SNS delivers at least once) changes nothing more.
    bounces.record(complaint)
    assert len([r for r in ConsentRecord.query(f'CONSENT#USER#{fay.user_id}')
                if r.topic == 'digest']) == 1


def test_a_suppressed_mobile_gets_no_text_and_the_batch_reads_the_list_once(moto, twilio, drain):
    world = World(weeks=1, starts_in_days=1, learners=())
    circle = world.fresh()
    grace = learner(circle, 'Grace Hopper', 'grace@example.org', mobile='+1 312 555 0100')
    alan = learner(circle, 'Alan Turing', 'alan@example.org', mobile='+1 312 555 0101')
    drain()
    suppression.suppress('+13125550100', suppression.SMS, 'erased')
    send_due_reminders(circles.utcnow())
    items = [d for d in deliveries(circle.id, 'reminder#')]
    pending = [i for i in items if i.state == outbox.PENDING]
    assert len(pending) == 6            # email and text to each learner, an email to each facilitator
    aws_calls.reset()
    states = sender.send_items(pending, templates())
    calls = aws_calls.dynamodb_calls()
    assert calls['BatchGetItem'] == 2       # what rendering reads, then the batch's recipients on the list
    assert states == {outbox.SENT: 5, outbox.SKIPPED: 1}
    texts = {d.signup_id: d for d in deliveries(circle.id, 'reminder#') if d.channel == outbox.SMS}
    assert texts[grace.signup_id].state == outbox.SKIPPED and 'suppression list' in texts[grace.signup_id].error
    assert texts[alan.signup_id].state == outbox.SENT
    assert [t['To'] for t in twilio.sent()] == ['+13125550101']


def test_a_template_that_ignores_suppression_reaches_a_suppressed_contact(moto):
    from chalicelib.messaging.email import build_message
    suppression.suppress('gone@example.org', suppression.EMAIL, 'erased')

    def render(item, reads, to, now):
        return build_message(to=to, subject='Your data is erased', text='Done.', html='<p>Done.</p>')
    templates = {'erased': sender.Template(keys=lambda item: [], render=render, ignores_suppression=True),
                 'other': sender.Template(keys=lambda item: [], render=render)}
    now = circles.utcnow()
    confirmation = outbox.message('ERASED#x', 'erased', 'person', outbox.EMAIL, 'erased', now, to='gone@example.org')
    other = outbox.message('ERASED#x', 'other', 'person', outbox.EMAIL, 'other', now, to='gone@example.org')
    for item in (confirmation, other):
        item.save()
    assert sender.send_items([confirmation, other], templates) == {outbox.SENT: 1, outbox.SKIPPED: 1}
    assert [m['Subject'] for m in moto.sent_emails(drain=False)] == ['Your data is erased']
    assert Delivery.get(other.pk, other.sk).state == outbox.SKIPPED
    assert Delivery.get(confirmation.pk, confirmation.sk).to == 'gone@example.org'     # not asked to forget it


def test_a_template_that_forgets_its_recipient_keeps_no_trace_once_final(moto, twilio):
    from chalicelib.messaging.email import build_message
    suppression.suppress('gone@example.org', suppression.EMAIL, 'erased')
    suppression.suppress('+13125550199', suppression.SMS, 'erased')

    def render(item, reads, to, now):
        if item.channel == outbox.SMS:
            return 'We erased your data.'
        return build_message(to=to, subject='Your data is erased', text='Done.', html='<p>Done.</p>')
    confirmation = sender.Template(keys=lambda item: [], render=render, ignores_suppression=True,
                                   forgets_recipient=True)
    now = circles.utcnow()
    items = [outbox.message('ERASED#y', 'erased', 'person', outbox.EMAIL, 'erased', now, to='gone@example.org'),
             outbox.message('ERASED#y', 'erased', 'person', outbox.SMS, 'erased', now, to='+13125550199')]
    for item in items:
        item.save()
    assert sender.send_items(items, {'erased': confirmation}) == {outbox.SENT: 2}
    assert [t['To'] for t in twilio.sent()] == ['+13125550199']
    for item in items:
        stored = Delivery.get(item.pk, item.sk)
        assert stored.state == outbox.SENT and stored.to is None and stored.body is None


@pytest.mark.parametrize('address', ['Name <Lea@Example.org>'])
def test_feedback_addresses_are_read_bare_and_lowercased(address):
    from chalicelib.privacy.sns import feedback
    import json
    event = {'eventType': 'Bounce', 'mail': {'messageId': 'm'},
             'bounce': {'bounceType': 'Permanent', 'bouncedRecipients': [{'emailAddress': address}]}}
    assert feedback({'Message': json.dumps(event)}).addresses == ('lea@example.org',)
