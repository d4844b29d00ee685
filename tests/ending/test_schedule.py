"""The wrap-up prompts and the circle's closing follow the meetings: publishing puts them on their
`by_due` queues, moving a meeting moves them, cancelling or unpublishing takes them off."""
from datetime import date, timedelta

from chalicelib.ending import schedule
from chalicelib.facilitators import circle_admin
from chalicelib.models.ending import SURVEY_QUEUE, WRAPUP_QUEUE, CircleEnding, MeetingWrapUp
from tests.ending.world import World


def queue(name, cls, until='9999'):
    return {item.sk: item.due_sk for item in cls.by_due.query(name, cls.due_sk <= until)}


def test_a_published_circle_has_a_wrapup_per_meeting_due_at_its_end_and_its_closing_at_the_last_end():
    world = World(weeks=3)
    circle = world.fresh()
    wrapups = queue(WRAPUP_QUEUE, MeetingWrapUp)
    assert wrapups == {f'WRAPUP#{m.meeting_id}': MeetingWrapUp.due_key(schedule.meeting_end(m), circle.id, m.meeting_id)
                       for m in circle.meetings}
    assert queue(SURVEY_QUEUE, CircleEnding) == {'ENDING': CircleEnding.due_key(world.last_end(), circle.id)}
    ending = schedule.ending_of(circle.id)
    assert ending.stage == 'SURVEY'
    assert ending.surveys_close_at == world.last_end() + timedelta(days=7)


def test_moving_the_last_meeting_moves_its_wrapup_and_the_closing():
    world = World(weeks=3)
    circle = world.fresh()
    last = circle.meetings[-1]
    later = date.fromisoformat(last.local_date) + timedelta(days=2)
    circle_admin.move_meeting(circle, last.meeting_id, {'date': later.isoformat(), 'time': '19:30'})
    circle_admin.save(circle)       # saves, then the due items follow (reminders.sync_reminders)
    new_end = schedule.meeting_end(last)
    assert queue(WRAPUP_QUEUE, MeetingWrapUp)[f'WRAPUP#{last.meeting_id}'].startswith(new_end.isoformat())
    assert queue(SURVEY_QUEUE, CircleEnding)['ENDING'].startswith(new_end.isoformat())
    assert schedule.ending_of(circle.id).surveys_close_at == new_end + timedelta(days=7)


def test_cancelling_a_meeting_takes_its_wrapup_off_the_queue_and_the_closing_moves_to_the_meeting_before():
    world = World(weeks=3)
    circle = world.fresh()
    last = circle.meetings[-1]
    circle_admin.cancel_meeting(circle, last.meeting_id)
    circle_admin.save(circle)
    assert f'WRAPUP#{last.meeting_id}' not in queue(WRAPUP_QUEUE, MeetingWrapUp)
    assert MeetingWrapUp.get(*MeetingWrapUp.key(circle.id, last.meeting_id)).state == 'skipped'
    assert queue(SURVEY_QUEUE, CircleEnding)['ENDING'].startswith(schedule.meeting_end(circle.meetings[1]).isoformat())


def test_unpublishing_takes_everything_off_the_queues_and_publishing_again_puts_it_back():
    world = World(weeks=2)
    circle = world.fresh()
    circle_admin.save(circle, messages=circle_admin.unpublish(circle))
    assert queue(WRAPUP_QUEUE, MeetingWrapUp) == {} and queue(SURVEY_QUEUE, CircleEnding) == {}
    circle = world.fresh()
    circle.published = True
    circle_admin.save(circle)
    assert len(queue(WRAPUP_QUEUE, MeetingWrapUp)) == 2 and len(queue(SURVEY_QUEUE, CircleEnding)) == 1


def test_a_sync_with_nothing_changed_writes_nothing(aws):
    from tests.support import aws_calls
    circle = World(weeks=2).fresh()
    aws_calls.reset()
    schedule.sync_ending(circle)
    calls = aws_calls.dynamodb_calls()
    assert calls == {'Query': 1, 'GetItem': 1}, calls


def test_the_closing_stays_put_once_the_surveys_have_gone_out():
    from chalicelib.ending.survey_job import send_end_of_circle_surveys
    world = World(weeks=2)
    send_end_of_circle_surveys(world.last_end() + timedelta(minutes=5))
    before = schedule.ending_of(world.circle.id)
    circle = world.fresh()
    circle_admin.cancel_meeting(circle, circle.meetings[-1].meeting_id, now=world.end_of(0))
    circle_admin.save(circle)
    after = schedule.ending_of(world.circle.id)
    assert (after.stage, after.due_sk) == (before.stage, before.due_sk) == ('SURVEY_REMINDER', before.due_sk)
