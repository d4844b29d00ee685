"""The Monday digest: its content on a seeded week, who sees what, exactly once, the opt-out,
the quiet team, and a fixed number of DynamoDB calls per team."""
import threading
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from chalicelib.core.clock import zone_info
from chalicelib.core.settings import get_settings
from chalicelib.facilitators import feedback
from chalicelib.learners.signup import sign_up
from chalicelib.models import Team, TeamMember
from chalicelib.models.digest import TeamDigest
from chalicelib.reminders.sync import sync_reminders
from chalicelib.teams import digest, digest_job
from tests.facilitators.test_facilitator_pages import Browser, account, get
from tests.support import aws_calls
from tests.support.factories import make_circle

SHARED = 'Two learners paired up to debug each other and it worked.'
KEPT = 'I talked too much; the group went quiet.'
FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


def this_monday():
    today = datetime.now(timezone.utc).astimezone(zone_info('America/Chicago')).date()
    return today - timedelta(days=today.weekday())


def monday_run(weeks_later=1):
    """10:00 UTC on the Monday after this week (or later): its digest covers this week."""
    monday = this_monday() + timedelta(weeks=weeks_later)
    return datetime(monday.year, monday.month, monday.day, 10, tzinfo=timezone.utc)


class TeamWorld:
    """A team with an organizer and two facilitators, and circles meeting this week."""

    def __init__(self, team_id='t-digest', circles=0):
        self.team_id = team_id
        now = datetime.now(timezone.utc)
        Team(*Team.key(team_id), team_id=team_id, name='Riverside Libraries', created_at=now).save()
        self.organizer = self.member(f'Olu Organizer {team_id}', 'organizer')
        self.ada = self.member(f'Ada Facilitator {team_id}', 'facilitator')
        self.bo = self.member(f'Bo Facilitator {team_id}', 'facilitator')
        for n in range(circles):
            self.circle(f'Circle {n}', self.ada, week=0, weeks=4)

    def member(self, name, role, created_at=None):
        user = account(name)
        TeamMember(f'TEAM#{self.team_id}', f'MEMBER#{user.user_id}', team_id=self.team_id, user_id=user.user_id,
                   role=role, user_pk=f'USER#{user.user_id}', user_sk=f'TEAM#{self.team_id}',
                   created_at=created_at or datetime.now(timezone.utc)).save()
        return user

    def circle(self, name, facilitator, week, weeks, weekday=1):
        circle = make_circle(name=name, team_id=self.team_id, first_date=this_monday() + timedelta(weeks=week,
                                                                                                  days=weekday),
                             weeks=weeks, facilitator_ids=[facilitator.user_id],
                             facilitator_names=[facilitator.first_name], facilitator_emails=[facilitator.email])
        sync_reminders(circle, existing=[], entries=[])
        return circle

    def feedback(self, circle, facilitator, reflection, shared, meeting=0):
        met = circle.meetings[meeting]
        form = feedback.validate({'attendance': '7', 'rating': '4', 'reflection': reflection,
                                  'share_with_organizers': 'yes' if shared else ''})
        session = SimpleNamespace(user_id=facilitator.user_id, name=facilitator.first_name)
        ws = SimpleNamespace(circle=circle, of_kind=lambda kind: [])
        feedback.record(ws, session, met.meeting_id, form, now=met.starts_at + timedelta(hours=2))


def seeded_week():
    """This week: Ada's circle starts (shared feedback), Bo's continues (feedback kept from
    organizers), Ada's workshop ends without feedback; Bo's next circle starts next week; two
    learners sign up, one with goals."""
    world = TeamWorld()
    world.started = world.circle('Python Basics', world.ada, week=0, weeks=6)
    world.running = world.circle('Data Literacy', world.bo, week=-2, weeks=6, weekday=2)
    world.ending = world.circle('Resume Workshop', world.ada, week=-3, weeks=4, weekday=3)
    world.starting = world.circle('Public Speaking', world.bo, week=1, weeks=6, weekday=4)
    world.feedback(world.started, world.ada, SHARED, shared=True)
    world.feedback(world.running, world.bo, KEPT, shared=False, meeting=2)
    sign_up(world.started.id, {'name': 'Marisol Vega', 'email': 'marisol@example.org', 'consent': True,
                               'goals': 'Automate my weekly spreadsheets.'})
    sign_up(world.starting.id, {'name': 'Tom Kowalski', 'email': 'tom@example.org', 'consent': True,
                                'goals': 'Speak at my block club.'})
    return world


def digests(moto):
    return {m['To']: m for m in moto.sent_emails() if 'the week of' in str(m['Subject'])}


def text_of(message):
    return message.get_body(preferencelist=('plain',)).get_content()


def html_of(message):
    return message.get_body(preferencelist=('html',)).get_content()


# --- content -------------------------------------------------------------------------------

def test_the_organizers_digest_tells_the_week_of_the_team(moto):
    world = seeded_week()
    summary = digest_job.send_weekly_digests(monday_run())
    assert summary['digests'] == 1 and summary['messages_queued'] == 3
    sent = digests(moto)
    assert set(sent) == {world.organizer.email, world.ada.email, world.bo.email}
    text = text_of(sent[world.organizer.email])
    held, rest = text.split('MEETINGS WITHOUT FEEDBACK')
    assert 'Python Basics, meeting 1 of 6' in held and '7 came, rated 4 of 5' in held and SHARED in held
    assert 'Data Literacy, meeting 3 of 6' in held and 'Feedback given, not shared with organizers.' in held
    assert 'Resume Workshop, meeting 4 of 4' in held and 'No feedback yet.' in held
    missing, rest = rest.split('NEW SIGNUPS (2)')
    assert 'Resume Workshop' in missing and 'Python Basics' not in missing and 'Data Literacy' not in missing
    assert 'Marisol Vega: "Automate my weekly spreadsheets."' in rest
    assert 'Tom Kowalski: "Speak at my block club."' in rest
    assert 'CIRCLES THAT STARTED (1)\n- Python Basics' in rest and 'Python Basics, ' in rest.split('STARTED')[1]
    started = rest.split('CIRCLES THAT STARTED (1)\n')[1].split('\n')[0]
    assert started.startswith('- Python Basics') and started.endswith('1 signed up')
    assert 'CIRCLES THAT FINISHED (1)\n- Resume Workshop' in rest
    assert 'STARTING THIS WEEK (1)\n- Public Speaking' in rest and '1 signed up' in rest.split('STARTING THIS WEEK')[1]
    coming = rest.split("THIS WEEK'S MEETINGS (3)")[1]
    assert all(name in coming for name in ('Python Basics, meeting 2 of 6', 'Data Literacy, meeting 4 of 6',
                                           'Public Speaking, meeting 1 of 6'))
    assert 'NEW IN THE TEAM (3)' in text and 'Bo Facilitator t-digest, facilitator' in text
    assert f'/organize/{world.team_id}/digest/{this_monday().isoformat()}' in text
    html = html_of(sent[world.organizer.email])
    assert SHARED in html and KEPT not in html and 'id="digest-held">Meetings last week (3)</h2>' in html


def test_reflections_kept_from_organizers_are_never_copied_and_facilitators_see_only_their_own_circles(moto):
    world = seeded_week()
    digest_job.send_weekly_digests(monday_run())
    stored = TeamDigest.get(*TeamDigest.key(world.team_id, this_monday().isoformat()))
    assert SHARED in str(stored.data) and KEPT not in str(stored.data)
    sent = digests(moto)
    for message in sent.values():
        assert KEPT not in text_of(message) and KEPT not in html_of(message)
    bo = text_of(sent[world.bo.email])      # Bo runs Data Literacy and Public Speaking
    assert SHARED not in bo and 'Automate my weekly spreadsheets.' not in bo
    assert 'Tom Kowalski: "Speak at my block club."' in bo
    assert 'MEETINGS WITHOUT FEEDBACK' not in bo        # the workshop without feedback is Ada's
    ada = text_of(sent[world.ada.email])
    assert SHARED in ada and 'MEETINGS WITHOUT FEEDBACK (1)\n- Resume Workshop' in ada and 'Tom Kowalski' not in ada


def test_a_team_with_no_activity_gets_nothing_for_four_queries(moto):
    world = TeamWorld(team_id='t-quiet')
    world.circle('Later', world.ada, week=3, weeks=4)         # meets in three weeks: no activity yet
    member_created = monday_run() - timedelta(days=30)
    TeamMember(f'TEAM#{world.team_id}', 'MEMBER#u-old', team_id=world.team_id, user_id='u-old', role='facilitator',
               created_at=member_created).save()
    for member in TeamMember.query(f'TEAM#{world.team_id}', TeamMember.sk.startswith('MEMBER#')):
        member.update(actions=[TeamMember.created_at.set(member_created)])
    aws_calls.reset()
    assert digest_job.queue_team_digest(world.team_id, this_monday(), monday_run()) == 0
    assert aws_calls.dynamodb_calls() == {'Query': 4}
    assert digest_job.send_weekly_digests(monday_run())['digests'] == 0
    assert digests(moto) == {}
    assert list(TeamDigest.query(TeamDigest.partition(world.team_id))) == []


# --- exactly once ------------------------------------------------------------------------------

def test_two_concurrent_runs_and_a_later_retry_send_each_recipient_one_digest(moto):
    world = seeded_week()
    start, results = threading.Barrier(2), []

    def run():
        start.wait()
        results.append(digest_job.send_weekly_digests(monday_run()))
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r['messages_queued'] for r in results) == [0, 3]
    assert digest_job.send_weekly_digests(monday_run() + timedelta(hours=3))['messages_queued'] == 0
    sent = [m['To'] for m in moto.sent_emails() if 'the week of' in str(m['Subject'])]
    assert sorted(sent) == sorted([world.organizer.email, world.ada.email, world.bo.email])


def test_a_run_after_a_partial_write_writes_only_the_missing_items():
    world = seeded_week()
    week, now = this_monday(), monday_run()
    digest_job.queue_team_digest(world.team_id, week, now)
    first = TeamDigest.get(*TeamDigest.key(world.team_id, week.isoformat()))
    from chalicelib.models import Delivery
    lost = Delivery.get(TeamDigest.partition(world.team_id),
                        f'DELIVERY#{digest_job.purpose(week)}#{digest_job.recipient_id(world.bo.user_id)}#email')
    lost.delete()
    assert digest_job.queue_team_digest(world.team_id, week, now + timedelta(hours=1)) == 1
    again = TeamDigest.get(*TeamDigest.key(world.team_id, week.isoformat()))
    assert again.created_at == first.created_at        # the digest the first run stored stays


# --- the opt-out -------------------------------------------------------------------------------

def test_one_click_unsubscribe_stops_the_next_digest_and_the_page_only_asks(client, moto):
    world = seeded_week()
    digest_job.send_weekly_digests(monday_run())
    message = digests(moto)[world.ada.email]
    assert message['List-Unsubscribe-Post'] == 'List-Unsubscribe=One-Click'
    url = str(message['List-Unsubscribe']).strip('<>')
    assert f'<{url}>' == str(message['List-Unsubscribe']) and url in text_of(message)
    path = url.removeprefix(get_settings().public_base_url)
    page = client.http.get(path)
    assert page.status_code == 200 and b'Stop the digest' in page.body
    member_key = (f'TEAM#{world.team_id}', f'MEMBER#{world.ada.user_id}')
    assert TeamMember.get(*member_key).digest_opted_out_at is None      # a GET changes nothing
    done = client.http.post(path, headers=FORM, body='List-Unsubscribe=One-Click')
    assert done.status_code == 200 and b'No more weekly digests' in done.body
    assert TeamMember.get(*member_key).digest_opted_out_at is not None
    before = len(moto.sent_emails())
    assert digest_job.send_weekly_digests(monday_run(weeks_later=2))['messages_queued'] == 2
    later = [m['To'] for m in moto.sent_emails()[before:]]
    assert sorted(later) == sorted([world.organizer.email, world.bo.email])


def test_an_opt_out_between_the_job_and_the_send_skips_the_message_and_can_be_undone(client, moto):
    world = seeded_week()
    token_path = digest_job.unsubscribe_path(world.team_id, world.bo.user_id)
    assert client.http.post(token_path, headers=FORM, body='List-Unsubscribe=One-Click').status_code == 200
    digest_job.send_weekly_digests(monday_run())       # Bo opted out: no item for Bo
    assert world.bo.email not in digests(moto)
    assert client.http.post(token_path, headers=FORM, body=urlencode({'digest': 'on'})).status_code == 200
    assert TeamMember.get(f'TEAM#{world.team_id}', f'MEMBER#{world.bo.user_id}').digest_opted_out_at is None
    from chalicelib.messaging import sender
    from chalicelib.models import Delivery
    from chalicelib.ops.outbox_templates import templates
    week = this_monday() + timedelta(weeks=1)
    digest_job.queue_team_digest(world.team_id, week, monday_run(weeks_later=2))
    client.http.post(token_path, headers=FORM, body='List-Unsubscribe=One-Click')
    item = Delivery.get(TeamDigest.partition(world.team_id),
                        f'DELIVERY#{digest_job.purpose(week)}#{digest_job.recipient_id(world.bo.user_id)}#email')
    assert item.state == 'pending'
    sender.send_items([item], templates())
    item.refresh()
    assert item.state == 'skipped' and 'unsubscribed' in item.error


def test_an_altered_or_foreign_unsubscribe_link_is_refused(client):
    world = TeamWorld()
    path = digest_job.unsubscribe_path(world.team_id, world.ada.user_id)
    altered = path[:-5] + ('x' if path[-5] != 'x' else 'y') + path[-4:]
    assert client.http.post(altered, headers=FORM, body='List-Unsubscribe=One-Click').status_code == 400
    from chalicelib.learners.signup import withdraw_link
    circle = make_circle()
    signup, _, _ = sign_up(circle.id, {'name': 'Lee', 'email': 'lee@example.org', 'consent': True})
    foreign = withdraw_link(signup).rsplit('/', 1)[1]
    assert client.http.get(f'/digest/unsubscribe/{foreign}').status_code == 400
    assert TeamMember.get(f'TEAM#{world.team_id}', f'MEMBER#{world.ada.user_id}').digest_opted_out_at is None


# --- the web version ---------------------------------------------------------------------------

def test_the_web_version_is_the_sent_digest_for_current_members_only(client, moto):
    world = seeded_week()
    digest_job.send_weekly_digests(monday_run())
    path = f'/organize/{world.team_id}/digest/{this_monday().isoformat()}'
    organizer = get(client, path, Browser(world.organizer))
    assert organizer.status_code == 200 and SHARED.encode() in organizer.body and KEPT.encode() not in organizer.body
    assert b'No digest was sent' not in organizer.body and organizer.headers['Cache-Control'] == 'no-store'
    bo = get(client, path, Browser(world.bo))
    assert bo.status_code == 200 and SHARED.encode() not in bo.body and b'Speak at my block club.' in bo.body
    stranger = get(client, path, Browser(account('Sam Stranger')))
    assert stranger.status_code == 404 and b'Riverside' not in stranger.body
    assert get(client, path).status_code == 303
    assert get(client, f'/organize/{world.team_id}/digest/2026-11-24', Browser(world.organizer)).status_code == 404
    TeamMember.get(f'TEAM#{world.team_id}', f'MEMBER#{world.bo.user_id}').delete()
    assert get(client, path, Browser(world.bo)).status_code == 404


def test_the_web_version_of_a_week_without_a_digest_shows_what_it_holds_now(client):
    world = seeded_week()
    response = get(client, f'/organize/{world.team_id}/digest/{this_monday().isoformat()}', Browser(world.organizer))
    assert response.status_code == 200 and b'No digest was sent' in response.body and SHARED.encode() in response.body


# --- DynamoDB calls ------------------------------------------------------------------------------

def calls_of_one_team(team_id, now):
    aws_calls.reset()
    digest_job.queue_team_digest(team_id, digest.week_of(now), now)
    return aws_calls.dynamodb_calls()


def test_a_teams_digest_costs_the_same_calls_with_5_and_50_circles():
    now = monday_run()
    small, large = TeamWorld('t-small', circles=5), TeamWorld('t-large', circles=50)
    assert small and large
    small_calls, large_calls = calls_of_one_team('t-small', now), calls_of_one_team('t-large', now)
    assert small_calls == large_calls == {'Query': 4, 'BatchGetItem': 2, 'TransactWriteItems': 1}


def test_the_run_costs_one_teams_calls_per_team_plus_the_registry():
    now = monday_run()
    TeamWorld('t-one', circles=2)
    aws_calls.reset()
    digest_job.send_weekly_digests(now)
    one = aws_calls.dynamodb_calls()
    for n in range(3):
        TeamWorld(f't-more-{n}', circles=2)
    TeamDigest.get(*TeamDigest.key('t-one', digest.week_of(now).isoformat())).delete()
    from chalicelib.models import Delivery
    for item in Delivery.query(TeamDigest.partition('t-one')):
        item.delete()
    aws_calls.reset()
    digest_job.send_weekly_digests(now)
    four = aws_calls.dynamodb_calls()
    registry = {'Query': 1}
    per_team = {name: count - registry.get(name, 0) for name, count in one.items()}
    assert four == {name: 4 * count + registry.get(name, 0) for name, count in per_team.items()}


def test_the_digest_job_runs_every_monday_at_ten_utc_by_default():
    from app import app
    [config] = [s for s in app.event_sources if s.name == 'send-weekly-digests']
    assert config.schedule_expression.to_string() == 'cron(0 10 ? * MON *)'


@pytest.mark.parametrize('now, monday', [('2026-11-30T10:00:00+00:00', '2026-11-23'),
                                         ('2026-12-06T23:59:00+00:00', '2026-11-23'),
                                         ('2026-12-07T00:00:00+00:00', '2026-11-30')])
def test_the_week_is_the_monday_to_sunday_before_the_runs_week(now, monday):
    assert digest.week_of(datetime.fromisoformat(now)).isoformat() == monday


def test_the_unsubscribe_route_takes_the_content_types_the_document_names():
    from chalicelib.handlers import digest as digest_pages
    assert digest_pages.ONE_CLICK == list(digest_job.ONE_CLICK)
