"""Publishing: the hourly job finds due closings on the INSIGHTS queue, publishes once and sends
once per person even when it runs twice or concurrently; the facilitator's "publish now" (who may,
when, what a second click does); the page is 404 before and public after, linked from the API
and the circle page; what the job does with an early report, an unpublished circle, a circle that
did not happen; and what an empty run costs."""
import threading
from datetime import timedelta

from chalicelib.circles import circles
from chalicelib.insights import publish
from chalicelib.models import CircleEnding, Delivery, FacilitatorSurvey, InsightsReport, LearnerSurvey
from chalicelib.ops import outbox_templates
from tests.facilitators.test_facilitator_pages import Browser, account, organizer_of, post
from tests.insights.delivery import INSIGHTS_TEMPLATES, deliver, report_items
from tests.insights.world import TEAM, build
from tests.support import aws_calls


def report_of(world):
    try:
        return InsightsReport.get(*InsightsReport.key(world.circle.id), consistent_read=True)
    except InsightsReport.DoesNotExist:
        return None


def ending_of(world):
    return CircleEnding.get(*CircleEnding.key(world.circle.id), consistent_read=True)


def after_close(world):
    return world.closes_at + timedelta(minutes=1)


def recipients(items):
    return sorted((item.recipient_id, item.channel) for item in items if item.channel != 'fan-out')


def test_the_job_waits_for_the_surveys_to_close_then_publishes_once(client):
    world = build(learners=3)
    assert publish.publish_due_insights(world.closes_at - timedelta(minutes=1)) == {}
    assert report_of(world) is None
    assert client.http.get(f'/circles/{world.circle.id}/insights').status_code == 404
    assert publish.publish_due_insights(after_close(world)) == {publish.PUBLISHED: 1}
    assert publish.publish_due_insights(after_close(world)) == {}       # off the queue: nothing due
    ending = ending_of(world)
    assert ending.stage == 'done' and ending.due_pk is None and ending.due_sk is None
    assert report_of(world).generated_by is None


def test_the_page_is_public_once_published_and_linked_from_the_api_and_the_circle_page(client):
    world = build(learners=3)
    path, url = f'/circles/{world.circle.id}/insights', publish.insights_url(world.circle.id)
    assert client.http.get(path).status_code == 404
    assert client.http.get(f'/api/learningcircles/{world.circle.id}').json_body['report_url'] is None
    publish.publish_due_insights(after_close(world))
    page = client.http.get(path)
    assert page.status_code == 200 and 'Insights from The Quillmoor circle' in page.body.decode()
    assert client.http.get(f'/api/learningcircles/{world.circle.id}').json_body['report_url'] == url
    listed = client.http.get('/api/learningcircles?scope=completed').json_body['items']
    assert [item['report_url'] for item in listed if item['id'] == world.circle.id] == [url]
    assert f'href="{path}"' in client.http.get(f'/circles/{world.circle.id}').body.decode()
    css = client.http.get('/insights/report.css')
    assert css.status_code == 200 and 'break-inside: avoid' in css.body.decode()


def test_an_unpublished_circle_has_no_public_report(client):
    world = build(learners=3)
    publish.publish_due_insights(after_close(world))
    circle = circles.get_circle(world.circle.id)
    circle.published = False
    circles.save(circle)
    assert client.http.get(f'/circles/{world.circle.id}/insights').status_code == 404


def test_everyone_gets_the_report_once_facilitator_organizer_and_learners_still_signed_up(moto, twilio):
    from chalicelib.learners.signup import withdraw
    world = build(learners=4, mobile_only=(3,))
    withdraw(world.signups[2])
    publish.publish_due_insights(after_close(world))
    items = deliver(world.circle.id)
    assert recipients(items) == sorted([
        (f'facilitator-{world.facilitator.user_id}', 'email'), (f'organizer-{world.organizer.user_id}', 'email'),
        (world.signups[0].signup_id, 'email'), (world.signups[1].signup_id, 'email'),
        (world.signups[3].signup_id, 'sms')])
    assert {item.state for item in items} == {'sent'}
    sent = [m for m in moto.sent_emails() if m['Subject'] == 'The insights report of The Quillmoor circle']
    assert sorted(m['To'] for m in sent) == sorted(['fay.facilitator@example.org', world.organizer.email,
                                                     'zorabel.0@example.org', 'quentin.1@example.org'])
    learner_mail = next(m for m in sent if m['To'] == 'zorabel.0@example.org').get_body(('plain',)).get_content()
    assert publish.insights_url(world.circle.id) in learner_mail and '/withdraw/' in learner_mail
    texts = [t for t in twilio.sent() if '/insights' in t['Body']]
    assert len(texts) == 1 and texts[0]['Body'].endswith('Reply STOP to stop texts')
    # Delivering again, or the job again, sends nothing more.
    assert publish.publish_due_insights(after_close(world) + timedelta(hours=1)) == {}
    assert len(deliver(world.circle.id)) == len(items)
    assert len([m for m in moto.sent_emails() if m['Subject'].startswith('The insights report')]) == 4


def test_an_organizer_who_facilitates_the_circle_gets_one_email():
    ora = organizer_of(TEAM, name='Ora Organizer')
    circle = build(learners=0).circle
    circle.facilitator_ids, circle.facilitator_emails = [ora.user_id], [ora.email]
    rows = [{'user_id': ora.user_id, 'role': 'organizer', 'name': 'Ora', 'email': ora.email}]
    assert [(i.recipient_id, i.to) for i in publish.recipients(circle, [], rows)] == [
        (f'facilitator-{ora.user_id}', ora.email)]


def test_two_concurrent_runs_publish_once_and_queue_the_emails_once(moto):
    world = build(learners=3)
    now, results, errors = after_close(world), [], []
    start = threading.Barrier(4)

    def run():
        try:
            start.wait()
            results.append(publish.publish_due_insights(now))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(r.get(publish.PUBLISHED, 0) for r in results) == 1
    assert sum(r.get(publish.UPDATED, 0) for r in results) == 0
    fan_outs = [i for i in report_items(world.circle.id) if i.channel == 'fan-out']
    assert len(fan_outs) == 1

    # Two senders expanding and sending at once: still one message per person.
    fan_out = fan_outs[0]
    from chalicelib.messaging import sender
    templates = {**outbox_templates.templates(), **INSIGHTS_TEMPLATES}
    threads = [threading.Thread(target=sender.send_items, args=([Delivery.get(fan_out.pk, fan_out.sk)], templates))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pending = [i for i in report_items(world.circle.id) if i.state == 'pending']
    threads = [threading.Thread(target=sender.send_items, args=([Delivery.get(i.pk, i.sk) for i in pending],
                                                                 templates)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = [m for m in moto.sent_emails() if m['Subject'].startswith('The insights report')]
    assert len(sent) == 5 and len({m['To'] for m in sent}) == 5      # facilitator, organizer, 3 learners


def test_a_run_with_nothing_due_is_one_query():
    build(learners=1)
    aws_calls.reset()
    assert publish.publish_due_insights(circles.utcnow() - timedelta(days=365)) == {}
    calls = aws_calls.dynamodb_calls()
    assert sum(calls.values()) <= 3 and calls.get('Query') == 1, calls


def test_publish_now_who_may_and_when(client):
    world = build(learners=3)
    path = f'/facilitate/circles/{world.circle.id}/insights'
    fay, stranger = Browser(world.facilitator), Browser(account('Sam Stranger'))
    other_organizer = Browser(organizer_of('t-elsewhere', name='Oz Otherteam'))
    # No session (anonymous, or a learner: learners have no account): to the login page.
    answer = post(client, path)
    assert answer.status_code == 303 and answer.headers['Location'].startswith('/login?next=')
    for browser in (stranger, other_organizer):
        assert post(client, path, browser=browser).status_code == 404
    assert post(client, path, browser=fay, csrf=False).status_code == 403
    assert report_of(world) is None and report_items(world.circle.id) == []
    answer = post(client, path, browser=fay)
    assert answer.status_code == 303 and answer.headers['Location'] == f'/circles/{world.circle.id}/insights'
    first = report_of(world)
    assert first.generated_by == world.facilitator.user_id
    assert len([i for i in report_items(world.circle.id) if i.channel == 'fan-out']) == 1
    # Again: the same report, nothing new queued.
    assert post(client, path, browser=fay).status_code == 303
    assert report_of(world).generated_at == first.generated_at
    # The team's organizer may too (it exists now: nothing changes).
    assert post(client, path, browser=Browser(world.organizer)).status_code == 303
    # The facilitator's page now links to the report.
    page = client.http.get(f'/facilitate/circles/{world.circle.id}', headers={'Cookie': fay.cookie}).body.decode()
    assert 'read the insights report' in page and 'Publish the report now' not in page


def test_publish_now_waits_for_the_last_meeting_to_end(client):
    world = build(learners=3, weeks_ago=1, weeks=4, feedback_for=())
    fay = Browser(world.facilitator)
    page = client.http.get(f'/facilitate/circles/{world.circle.id}', headers={'Cookie': fay.cookie}).body.decode()
    assert 'Publish the report now' not in page and 'Once the last meeting has ended' in page
    answer = post(client, f'/facilitate/circles/{world.circle.id}/insights', browser=fay)
    assert answer.status_code == 400 and 'once the last meeting of the circle has ended' in answer.body.decode()
    assert report_of(world) is None


def test_an_early_report_is_updated_when_the_surveys_close_without_a_second_email(client, moto):
    world = build(learners=4, survey=lambda n: n < 3)
    fay = Browser(world.facilitator)
    page = client.http.get(f'/facilitate/circles/{world.circle.id}', headers={'Cookie': fay.cookie}).body.decode()
    assert 'Publish the report now' in page
    assert post(client, f'/facilitate/circles/{world.circle.id}/insights', browser=fay).status_code == 303
    assert report_of(world).figures['learners']['answered'] == 3
    first_items = deliver(world.circle.id)
    # A late answer, then the surveys close.
    LearnerSurvey(*LearnerSurvey.key(world.circle.id, world.signups[3].signup_id), circle_id=world.circle.id,
                  signup_id=world.signups[3].signup_id, goal_reached=5, recommend=10,
                  answered_at=circles.utcnow()).save()
    assert publish.publish_due_insights(after_close(world)) == {publish.UPDATED: 1}
    updated = report_of(world)
    assert updated.figures['learners']['answered'] == 4 and updated.generated_by == world.facilitator.user_id
    assert ending_of(world).stage == 'done'
    assert len(deliver(world.circle.id)) == len(first_items)      # no new message
    assert len([m for m in moto.sent_emails() if m['Subject'].startswith('The insights report')]) == 6  # 4 + 2


def test_the_job_publishes_nothing_for_a_circle_that_did_not_happen_or_is_unpublished():
    happened_not = build(learners=3)
    survey = FacilitatorSurvey.get(*FacilitatorSurvey.key(happened_not.circle.id, happened_not.facilitator.user_id))
    survey.update(actions=[FacilitatorSurvey.happened.set(False)])
    assert publish.publish_due_insights(after_close(happened_not)) == {publish.SKIPPED: 1}
    assert report_of(happened_not) is None and ending_of(happened_not).stage == 'done'
    assert report_items(happened_not.circle.id) == []
    assert circles.get_circle(happened_not.circle.id).report_published_at is None


def test_the_sender_knows_the_report_templates():
    """Fails until chalicelib/ops/outbox_templates.py names the report's three templates."""
    table = outbox_templates.templates()
    assert {name: table.get(name) for name in INSIGHTS_TEMPLATES} == INSIGHTS_TEMPLATES


def test_publish_insights_is_an_hourly_job_and_runs_through_its_lambda_entry_point(client):
    from app import app
    [config] = [s for s in app.event_sources if s.name == 'publish-insights']
    assert config.schedule_expression.to_string() == 'rate(1 hour)'
    world = build(learners=3)       # its surveys closed a few weeks ago
    event = client.events.generate_cw_event(source='aws.events', detail_type='Scheduled Event',
                                            detail={}, resources=[])
    client.lambda_.invoke('publish-insights', event)
    assert report_of(world) is not None and ending_of(world).stage == 'done'
