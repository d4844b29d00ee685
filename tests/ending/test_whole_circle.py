"""A whole circle in simulated time, from the first meeting to the last and past the reminder:
every job runs every 5 minutes of each interesting stretch, twice, and twice more at once; each
facilitator gets one wrap-up per meeting, each learner and facilitator one survey and (not having
answered) one reminder; when the surveys close, the report's job (`publish-insights`, run the
same way) publishes the report and everyone gets it once."""
import threading
from datetime import timedelta

from chalicelib.ending import schedule
from chalicelib.ending.survey_job import send_end_of_circle_surveys
from chalicelib.ending.wrapups import send_meeting_wrapups
from chalicelib.insights.publish import publish_due_insights
from chalicelib.models.ending import INSIGHTS_QUEUE, CircleEnding
from tests.ending.world import World, emails_to

STEP = timedelta(minutes=5)


def every_job_twice_and_concurrently(now):
    for job in (send_meeting_wrapups, send_end_of_circle_surveys, publish_due_insights):
        job(now)
        job(now)
        threads = [threading.Thread(target=job, args=(now,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)


def run_through(start, end):
    now = start
    while now <= end:
        every_job_twice_and_concurrently(now)
        now += STEP


def publish_due(now):
    """What the insights report's job (`publish-insights`) finds due at `now`."""
    return [e.circle_id for e in CircleEnding.by_due.query(INSIGHTS_QUEUE, CircleEnding.due_sk <= schedule.until(now))]


def test_a_whole_circle_from_the_first_meeting_to_the_close_of_its_surveys(moto):
    world = World(weeks=3)
    for number in range(3):
        end = world.end_of(number)
        run_through(end - 2 * STEP, end + 2 * STEP)
        for address in ('fay@example.org', 'cody@example.org'):
            assert len(emails_to(moto, address, f'How did meeting {number + 1} ')) == 1, (number, address)
    for address in ('lea@example.org', 'ben@example.org'):
        assert len(emails_to(moto, address, 'has ended')) == 1
    for address in ('fay@example.org', 'cody@example.org'):
        assert len(emails_to(moto, address, 'your facilitator survey')) == 1
    ending = schedule.ending_of(world.circle.id)
    reminder_at = ending.surveys_sent_at + timedelta(days=3)
    run_through(reminder_at - STEP, reminder_at + 2 * STEP)
    for address in ('lea@example.org', 'ben@example.org', 'fay@example.org', 'cody@example.org'):
        assert len(emails_to(moto, address, 'Reminder')) == 1, address
    close = schedule.ending_of(world.circle.id).surveys_close_at
    assert close == world.last_end() + timedelta(days=7)
    run_through(close - 2 * STEP, close - STEP)
    assert publish_due(close - timedelta(seconds=1)) == []
    assert emails_to(moto, 'lea@example.org', 'insights report') == []
    run_through(close, close + 2 * STEP)
    assert publish_due(close + 2 * STEP) == []            # published, off the queue
    for address in ('lea@example.org', 'ben@example.org', 'fay@example.org', 'cody@example.org'):
        assert len(emails_to(moto, address, 'The insights report of')) == 1, address
    # Nothing else was sent along the way: 3 wrap-ups x 2 facilitators, 4 surveys, 4 reminders,
    # 4 reports (beside the signups' welcomes and the facilitators' new-signup notices).
    ours = [m for m in moto.sent_emails()
            if any(w in m['Subject'] for w in ('How did meeting', 'has ended', 'Reminder', 'insights report'))]
    assert len(ours) == 6 + 4 + 4 + 4
