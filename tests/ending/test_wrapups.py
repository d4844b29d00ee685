"""The wrap-up prompt: one email per facilitator when a meeting has ended, within a day, once,
not when feedback was recorded; found through the `WRAPUP` queue; never twice, even when the job
runs twice or concurrently (threads against the real moto server)."""
import re
import threading
from datetime import timedelta

from chalicelib.ending.schedule import meeting_end
from chalicelib.ending.wrapups import send_meeting_wrapups
from chalicelib.models import MeetingFeedback
from chalicelib.models.ending import MeetingWrapUp
from tests.ending.world import FIVE_MINUTES, World, deliveries, emails_to, text_of
from tests.support import aws_calls


def wrapup_emails(moto, world):
    return [m for m in moto.sent_emails() if m['Subject'].startswith('How did meeting')]


def test_each_facilitator_gets_one_wrapup_with_rating_links_once_the_meeting_has_ended(moto):
    world = World(weeks=2)
    first = world.fresh().meetings[0]
    assert send_meeting_wrapups(world.end_of(0) - timedelta(seconds=1)) == {}    # not before the end
    summary = send_meeting_wrapups(world.end_of(0) + FIVE_MINUTES)
    assert summary['wrapups_sent'] == 1 and summary['messages_queued'] == 2, summary
    (fay,) = emails_to(moto, 'fay@example.org', 'How did meeting 1')
    (cody,) = emails_to(moto, 'cody@example.org', 'How did meeting 1')
    text = text_of(fay)
    links = re.findall(r'http\S+/feedback\?rating=(\d)', text)
    assert links == ['1', '2', '3', '4', '5']
    assert f'/facilitate/circles/{world.circle.id}/meetings/{first.meeting_id}/feedback?rating=4' in text
    assert MeetingWrapUp.get(*MeetingWrapUp.key(world.circle.id, first.meeting_id)).state == 'sent'
    # again, later: nothing more (the wrap-up left the queue)
    assert send_meeting_wrapups(world.end_of(0) + timedelta(hours=2)) == {}
    assert len(wrapup_emails(moto, world)) == 2


def test_a_rating_link_opens_the_feedback_form_with_that_rating_chosen(client):
    from tests.facilitators.test_facilitator_pages import Browser, get
    world = World(weeks=2, starts_in_days=-1)        # the first meeting was yesterday: feedback is open
    first = world.fresh().meetings[0]
    path = f'/facilitate/circles/{world.circle.id}/meetings/{first.meeting_id}/feedback'
    body = get(client, f'{path}?rating=4', Browser(world.facilitator)).body.decode()
    assert re.search(r'id="rating-4"[^>]*checked', body)
    assert not re.search(r'id="rating-[1235]"[^>]*checked', body)
    plain = get(client, path, Browser(world.facilitator)).body.decode()
    assert not re.search(r'id="rating-\d"[^>]*checked', plain)
    bad = get(client, f'{path}?rating=9', Browser(world.facilitator)).body.decode()
    assert not re.search(r'id="rating-\d"[^>]*checked', bad)


def test_no_wrapup_more_than_a_day_after_the_meeting_ended(moto):
    world = World(weeks=2)
    summary = send_meeting_wrapups(world.end_of(0) + timedelta(days=1, minutes=1))
    assert summary == {'due': 1, 'skipped_too_late': 1}, summary
    assert deliveries(world.circle.id, 'wrapup#') == []
    assert send_meeting_wrapups(world.end_of(0) + timedelta(days=2)) == {}      # off the queue for good


def test_no_wrapup_when_feedback_was_already_recorded(moto):
    world = World(weeks=2)
    first = world.fresh().meetings[0]
    MeetingFeedback(*MeetingFeedback.key(world.circle.id, first.meeting_id), circle_id=world.circle.id,
                    meeting_id=first.meeting_id, author_id=world.facilitator.user_id, author_name='Fay',
                    attendance=5, rating=4, prompt='How?', reflection='Good.').save()
    summary = send_meeting_wrapups(world.end_of(0) + FIVE_MINUTES)
    assert summary == {'due': 1, 'skipped_feedback_recorded': 1}, summary
    assert deliveries(world.circle.id, 'wrapup#') == []


def test_feedback_recorded_after_the_job_but_before_the_send_stops_the_email(moto):
    world = World(weeks=2)
    first = world.fresh().meetings[0]
    summary = send_meeting_wrapups(world.end_of(0) + FIVE_MINUTES)     # the outbox items, not sent yet
    assert summary['messages_queued'] == 2
    MeetingFeedback(*MeetingFeedback.key(world.circle.id, first.meeting_id), circle_id=world.circle.id,
                    meeting_id=first.meeting_id, author_id=world.facilitator.user_id, author_name='Fay',
                    attendance=5, rating=4, prompt='How?', reflection='Good.').save()
    assert wrapup_emails(moto, world) == []         # reading SES delivers the outbox first
    assert {d.state for d in deliveries(world.circle.id, 'wrapup#')} == {'skipped'}


def test_a_cancelled_meeting_gets_no_wrapup(moto):
    from chalicelib.facilitators import circle_admin
    world = World(weeks=2)
    circle = world.fresh()
    cancelled = circle.meetings[0]
    circle_admin.cancel_meeting(circle, cancelled.meeting_id)
    circle_admin.save(circle)
    assert send_meeting_wrapups(meeting_end(cancelled) + FIVE_MINUTES) == {}
    assert deliveries(world.circle.id, 'wrapup#') == []


def test_two_runs_at_once_send_each_wrapup_once(moto):
    world = World(weeks=2)
    now = world.end_of(0) + FIVE_MINUTES
    start, summaries = threading.Barrier(4), []

    def run():
        start.wait()
        summaries.append(send_meeting_wrapups(now))
    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(s.get('wrapups_sent', 0) for s in summaries) == 1, summaries
    assert len(deliveries(world.circle.id, 'wrapup#')) == 2
    assert sorted(m['To'] for m in wrapup_emails(moto, world)) == ['cody@example.org', 'fay@example.org']


def test_the_job_with_nothing_due_makes_one_dynamodb_call():
    before_the_first_end = World(weeks=2).end_of(0) - FIVE_MINUTES
    aws_calls.reset()
    assert send_meeting_wrapups(before_the_first_end) == {}
    assert aws_calls.dynamodb_calls() == {'Query': 1}
