"""How many DynamoDB calls the facilitator's pages cost, and whether that grows with their circles.

Goals (issue 3): a circle's page for its facilitator is 1 Query plus one read of the session
(a GetItem; for an organizer a BatchGetItem with their current memberships); the dashboard makes at most 2 Queries. Measured for a facilitator with 3 and with
30 circles, whose circle has 5 and 50 signups: the counts must be the same in all four worlds.

Each world is a fresh table on one moto server holding: the facilitator's account and a
session; their circles (built like bench/dynamodb_calls.py, linked to them, half of them in
one team); on the circle we open, the signups (through `signup.sign_up`), one message emailed
to every learner (the outbox drained, so the partition holds each welcome, each facilitator
notice, the message's fan-out and one email item per learner) and feedback on its first meeting, so the one Query
of that circle's partition reads every kind of item the page shows; and an organizer of the
team, and one of two teams. Each request goes once through `chalice.test.Client` with the
session cookie; we count its DynamoDB calls by operation and the bytes its Query pages
returned (DynamoDB's item-size rules, as in bench/dynamodb_calls.py).

Run alone with `python -m bench.facilitator_calls` (writes only its own part of BENCHMARKS.md);
`make bench` runs it too.
"""
import random
from collections import Counter
from dataclasses import dataclass
from datetime import time, timedelta

from bench import dynamodb_calls
from tests.support import aws_calls

WORLDS = [(3, 5), (3, 50), (30, 5), (30, 50)]      # (circles the facilitator runs, signups on the circle)
TEAM, OTHER_TEAM = 'team-bench', 'team-other'
PASSWORD = 'a long enough password'
START = '<!-- facilitator bench results start -->'
END = '<!-- facilitator bench results end -->'


@dataclass
class World:
    circles: int
    signups: int
    circle_id: str = None
    facilitator_cookie: str = None
    organizer_cookie: str = None
    two_team_organizer_cookie: str = None


# --- seeding -----------------------------------------------------------------------

def seed_account(name, password_hash):
    """A confirmed account with its email claim (also bench/organizer_calls.py's people)."""
    from chalicelib.circles import circles
    from chalicelib.core.ids import new_id
    from chalicelib.models import EmailClaim, User
    user_id = new_id()
    email = f'{user_id}@example.org'
    now = circles.utcnow()
    user = User(*User.key(user_id), user_id=user_id, name=name, first_name=name.split()[0], email=email,
                password_hash=password_hash, email_confirmed=True, created_at=now, updated_at=now)
    user.save()
    EmailClaim(*EmailClaim.key(email), user_id=user_id, created_at=now).save()
    return user


def _organizer(name, team_ids, password_hash):
    from chalicelib.models import TeamMember
    user = seed_account(name, password_hash)
    for team_id in team_ids:
        TeamMember(f'TEAM#{team_id}', f'MEMBER#{user.user_id}', team_id=team_id, user_id=user.user_id,
                   role='organizer', user_pk=f'USER#{user.user_id}', user_sk=f'TEAM#{team_id}').save()
    return user


def _cookie(user):
    from chalicelib.accounts import sessions
    _, set_cookie = sessions.start(user)
    return set_cookie.split(';')[0]


def _facilitated_circles(user, count, rng, now):
    """`count` published circles run by `user`, half in TEAM; the first started a week ago
    (so its first meeting can have feedback) and takes signups without limit."""
    from chalicelib.circles import circles
    from chalicelib.facilitators import access as facilitation
    from chalicelib.models import Circle, Team
    Team(*Team.key(TEAM), team_id=TEAM, name='Bench Library').save()
    Team(*Team.key(OTHER_TEAM), team_id=OTHER_TEAM, name='Other Library').save()
    built = []
    for n in range(count):
        circle = dynamodb_calls.build_circle(rng, now)
        circle.facilitator_ids, circle.facilitator_names = [user.user_id], [user.first_name]
        circle.facilitator_emails = [user.email]
        circle.team_id = TEAM if n % 2 == 0 else None
        built.append(circle)
    opened = built[0]
    opened.capacity, opened.signup_open = None, True
    opened.meetings = circles.weekly_meetings(circles.local_today(opened, now) - timedelta(days=7), time(18),
                                              8, 90, opened.timezone)
    for circle in built:
        circles.refresh_derived(circle)
    with Circle.batch_write() as batch:
        for circle in built:
            batch.save(circle)
            batch.save(facilitation.facilitator_link(circle, user, 'facilitator', now))
    return opened


def _activity(circle, facilitator, signups):
    """Learners, one message to all of them and feedback on the first meeting: the items the page reads."""
    from chalicelib.facilitators import feedback
    from chalicelib.facilitators import access as facilitation
    from chalicelib.facilitators import messages
    from chalicelib.accounts import sessions
    from chalicelib.learners.signup import sign_up
    for n in range(signups):
        sign_up(circle.id, {'name': f'Learner {n}', 'email': f'learner{n}@example.org', 'consent': 'true',
                            'goals': 'Finish the course with others', 'support': 'None'})
    session, _ = sessions.start(facilitator)
    workspace = facilitation.workspace(session, circle.id)
    draft = messages.validate({'message_key': messages.new_message_key(), 'subject': 'Room change',
                               'body': 'We meet in room 4 this week.'})
    messages.send_message(workspace, session, draft)
    from tests.support.outbox import drain
    drain()     # the stream sender: welcomes, notices and the message's per-learner items are sent
    first = feedback.schedule(workspace.circle)[0]
    feedback.record(facilitation.workspace(session, circle.id), session, first.meeting_id,
                    feedback.FeedbackForm(attendance=7, rating=5, reflection='Everyone got set up.',
                                          share_with_learners=False, share_with_organizers=True))


def seed_world(circle_count, signup_count, seed=2026):
    from chalicelib.accounts import accounts
    from chalicelib.circles import circles
    rng = random.Random(seed)
    now = circles.utcnow()
    password_hash = accounts.hash_password(PASSWORD)
    facilitator = seed_account('Dee Facilitator', password_hash)
    opened = _facilitated_circles(facilitator, circle_count, rng, now)
    _activity(opened, facilitator, signup_count)
    return World(circle_count, signup_count, opened.id, _cookie(facilitator),
                 _cookie(_organizer('Olu Organizer', [TEAM], password_hash)),
                 _cookie(_organizer('Tam Organizer', [TEAM, OTHER_TEAM], password_hash)))


# --- counting ------------------------------------------------------------------------

class AllQueryPages(dynamodb_calls.QueryPages):
    """QueryPages on every PynamoDB client that serves these pages: each model class keeps its
    own connection, so the circle partition (TableItem) and the dashboard's index (CircleFacilitator)
    are read through other clients than Circle's."""

    def _clients(self):
        from chalicelib.models import Circle, CircleFacilitator, TableItem
        clients = {}
        for model in (TableItem, Circle, CircleFacilitator):
            client = model._get_connection().connection.client
            clients[id(client)] = client
        return clients.values()

    def attach(self):
        for client in self._clients():
            client.meta.events.register('before-parameter-build.dynamodb.Query', self._remember,
                                        unique_id=self.HOOK_ID + '-params')
            client.meta.events.register('after-call.dynamodb.Query', self._record, unique_id=self.HOOK_ID + '-result')

    def detach(self):
        for client in self._clients():
            client.meta.events.unregister('before-parameter-build.dynamodb.Query', unique_id=self.HOOK_ID + '-params')
            client.meta.events.unregister('after-call.dynamodb.Query', unique_id=self.HOOK_ID + '-result')


@dataclass
class Scenario:
    name: str
    goal: str
    path: str                 # with {circle_id}
    cookie: str               # World attribute naming the cookie
    check: object = None      # function(Measured) -> bool; None: for information, no goal


@dataclass
class Measured:
    scenario: Scenario
    status: int
    calls: Counter
    query_bytes: int

    @property
    def met(self):
        return self.status == 200 and (self.scenario.check is None or bool(self.scenario.check(self)))


def _circle_page_goal(r):
    """1 Query of the circle's partition and one read of the session: a GetItem, or for an
    organizer one BatchGetItem of the session with their current memberships; nothing else."""
    session_reads = r.calls.get('GetItem', 0) + r.calls.get('BatchGetItem', 0)
    return (r.calls.get('Query') == 1 and session_reads <= 1
            and set(r.calls) <= {'Query', 'GetItem', 'BatchGetItem'})


def _dashboard_goal(r):
    return r.calls.get('Query', 0) <= 2


SCENARIOS = [
    Scenario("facilitator's circle page", '1 Query + 1 session read', '/facilitate/circles/{circle_id}',
             'facilitator_cookie', _circle_page_goal),
    Scenario("circle page, team organizer", '1 Query + 1 session read', '/facilitate/circles/{circle_id}',
             'organizer_cookie', _circle_page_goal),
    Scenario('signups CSV export', '1 Query + 1 session read', '/facilitate/circles/{circle_id}/signups.csv',
             'facilitator_cookie', _circle_page_goal),
    Scenario("facilitator's dashboard", '≤ 2 Query', '/dashboard', 'facilitator_cookie', _dashboard_goal),
    Scenario('dashboard, organizer of 1 team', '≤ 2 Query', '/dashboard', 'organizer_cookie', _dashboard_goal),
    Scenario('dashboard, organizer of 2 teams', '– (information: 1 Query per team)', '/dashboard',
             'two_team_organizer_cookie'),
]


def count_calls(client, world, scenario):
    pages = AllQueryPages()
    pages.attach()
    aws_calls.reset()
    try:
        response = client.http.get(scenario.path.format(circle_id=world.circle_id),
                                   headers={'Cookie': getattr(world, scenario.cookie)})
    finally:
        pages.detach()
    return Measured(scenario, response.status_code, Counter(aws_calls.dynamodb_calls()), pages.bytes_read())


def measure(client, world):
    return [count_calls(client, world, scenario) for scenario in SCENARIOS]


def partition_sizes(circle_id):
    """{kind: (items, mean bytes)} of the circle's partition, by DynamoDB's item-size rules:
    what decides how long its one Query stays one 1 MB page."""
    from chalicelib.models import TableItem
    sizes = {}
    for item in TableItem.query(f'CIRCLE#{circle_id}'):
        sizes.setdefault(type(item).__name__, []).append(dynamodb_calls.item_size(item.serialize()))
    return {kind: (len(found), round(sum(found) / len(found))) for kind, found in sorted(sizes.items())}


def run(server, worlds=WORLDS):
    """Seed each world into a fresh table on `server` and count; returns [(World, [Measured], sizes)]."""
    from chalice.test import Client

    from app import app
    out = []
    for circle_count, signup_count in worlds:
        dynamodb_calls.fresh_table(server)
        world = seed_world(circle_count, signup_count)
        with Client(app) as client:
            out.append((world, measure(client, world), partition_sizes(world.circle_id)))
    return out


# --- reporting -------------------------------------------------------------------------

def _calls_text(r):
    text = ', '.join(f'{op} {n}' for op, n in sorted(r.calls.items())) or 'none'
    if r.status != 200:
        text += f' [HTTP {r.status}]'
    return text


def grew(results):
    """Scenarios whose calls differ between worlds (they must not)."""
    by_scenario = {}
    for _, measured, _ in results:
        for r in measured:
            by_scenario.setdefault(r.scenario.name, set()).add(tuple(sorted(r.calls.items())))
    return [name for name, seen in by_scenario.items() if len(seen) > 1]


def markdown(results):
    lines = ['### Facilitator pages: DynamoDB calls per request', '',
             'Calls by operation as moto served them; "KB" is what the request\'s Query pages returned, '
             'sized by DynamoDB\'s item-size rules (1 MB per Query page). The circle opened holds its '
             'signups, one message emailed to every learner (one delivery item each) and feedback on '
             'its first meeting.', '']
    header, rule = '| request | goal |', '|---|---|'
    for world, _, _ in results:
        header += f' {world.circles} circles, {world.signups} signups | KB | met |'
        rule += '---|---|---|'
    lines += [header, rule]
    for index, scenario in enumerate(SCENARIOS):
        row = f'| {scenario.name} | {scenario.goal} |'
        for _, measured, _ in results:
            r = measured[index]
            met = 'yes' if r.met else '**NO**'
            if scenario.check is None:
                met = '–'
            row += f' {_calls_text(r)} | {r.query_bytes / 1000:.1f} | {met} |'
        lines.append(row)
    changed = grew(results)
    lines += ['', 'Calls that differ between the four worlds: ' + (', '.join(changed) if changed else 'none') + '.']
    world, _, sizes = max(results, key=lambda found: found[0].signups)
    lines += ['', f'The opened circle\'s partition with {world.signups} signups (DynamoDB item sizes):', '',
              '| item kind | items | mean bytes |', '|---|---|---|']
    lines += [f'| {kind} | {count} | {mean} |' for kind, (count, mean) in sizes.items()]
    return '\n'.join(lines) + '\n'


def main():
    from bench.report import run_alone
    run_alone(START, END, run, markdown)


if __name__ == '__main__':
    main()
