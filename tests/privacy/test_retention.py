"""anonymize-expired-signups on a time-controlled world: a finished circle's learners are
anonymised `retention_days` (90) after its last meeting, not a day before, unless they opted in
to further communication; counts and the published insights report stay."""
from datetime import timedelta

from chalicelib.circles import circles
from chalicelib.ending.schedule import meeting_end, retention_due
from chalicelib.insights import publish
from chalicelib.models import Circle, Delivery, InsightsReport, LearnerSurvey, Signup
from chalicelib.models.retention import RetentionDue
from chalicelib.ops.cli import job_function
from chalicelib.privacy.retention import anonymize_expired_signups
from chalicelib.reminders.sync import sync_reminders
from tests.insights.world import build
from tests.support import aws_calls


def finished_world():
    world = build(learners=4)
    # Learner 1 ticked "further communication" (the details page stores it so).
    world.signups[1].update(actions=[Signup.communications_opt_in.set(True)])
    sync_reminders(circles.get_circle(world.circle.id))       # what publishing and every edit run
    assert publish.publish_due_insights(world.closes_at + timedelta(minutes=1)) == {publish.PUBLISHED: 1}
    return world


def signups_of(world):
    return [Signup.get(*Signup.key(world.circle.id, s.signup_id)) for s in world.signups]


def test_learners_are_anonymised_at_day_90_not_at_day_89_and_kept_with_opt_in(client):
    world = finished_world()
    last_end = max(meeting_end(m) for m in circles.get_circle(world.circle.id).meetings)
    assert retention_due(circles.get_circle(world.circle.id)) == last_end + timedelta(days=90)
    figures = InsightsReport.get(*InsightsReport.key(world.circle.id)).figures
    count = Circle.get(*Circle.key(world.circle.id)).signup_count

    assert anonymize_expired_signups(last_end + timedelta(days=89, hours=23)) == {'circles': 0, 'signups': 0}
    assert all(s.email and s.name for s in signups_of(world))

    assert job_function('anonymize-expired-signups')(last_end + timedelta(days=90)) == {'circles': 1, 'signups': 3}
    after = signups_of(world)
    for n, signup in enumerate(after):
        if n == 1:
            assert signup.email == world.people[1]['email'] and signup.name == world.people[1]['name']
            continue
        assert (signup.name, signup.email, signup.mobile, signup.goals, signup.email_pk, signup.phone_pk) == (None,) * 6
        assert signup.active            # anonymised, not withdrawn: the counts stay true
        survey = LearnerSurvey.get(*LearnerSurvey.key(world.circle.id, signup.signup_id))
        assert survey.worked_well is None and survey.improve is None and survey.goal_reached is not None
    assert list(Signup.by_email.query(f'EMAIL#{world.people[0]["email"]}')) == []
    assert len(list(Signup.by_email.query(f'EMAIL#{world.people[1]["email"]}'))) == 1
    kept = {after[1].signup_id}
    for item in Delivery.query(f'CIRCLE#{world.circle.id}', Delivery.sk.startswith('DELIVERY#')):
        if item.signup_id and item.signup_id not in kept and item.state == 'sent':
            assert item.body is None and item.to is None
    # Aggregates stay: the circle's count, the report's figures, its public page.
    assert Circle.get(*Circle.key(world.circle.id)).signup_count == count
    assert InsightsReport.get(*InsightsReport.key(world.circle.id)).figures == figures
    page = client.http.get(f'/circles/{world.circle.id}/insights')
    assert page.status_code == 200 and world.circle.name in page.body.decode()
    # Done: off the queue, a second run finds nothing.
    assert RetentionDue.get(*RetentionDue.key(world.circle.id)).due_pk is None
    assert anonymize_expired_signups(last_end + timedelta(days=91)) == {'circles': 0, 'signups': 0}


def test_the_due_time_follows_the_meetings(client):
    world = finished_world()
    circle = circles.get_circle(world.circle.id)
    last = max(circle.meetings, key=lambda m: m.starts_at)
    old_due = retention_due(circle)
    last.starts_at = last.starts_at + timedelta(days=7)        # the last meeting moved a week later
    circles.save(circle)
    sync_reminders(circles.get_circle(world.circle.id))
    assert RetentionDue.get(*RetentionDue.key(world.circle.id)).due_at == old_due + timedelta(days=7)
    assert anonymize_expired_signups(old_due) == {'circles': 0, 'signups': 0}
    assert anonymize_expired_signups(old_due + timedelta(days=7))['signups'] == 3


def test_nothing_due_is_one_query_and_no_scan():
    finished_world()
    aws_calls.reset()
    assert anonymize_expired_signups(circles.utcnow()) == {'circles': 0, 'signups': 0}
    assert aws_calls.dynamodb_calls() == {'Query': 1}


def test_the_job_runs_daily_through_its_lambda_entry_point(client):
    from app import app
    [config] = [s for s in app.event_sources if s.name == 'anonymize-expired-signups']
    assert config.schedule_expression.to_string() == 'cron(15 3 * * ? *)'
    event = client.events.generate_cw_event(source='aws.events', detail_type='Scheduled Event', detail={},
                                            resources=[])
    assert client.lambda_.invoke('anonymize-expired-signups', event).payload == {'circles': 0, 'signups': 0}
