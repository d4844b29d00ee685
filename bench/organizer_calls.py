"""How many DynamoDB calls the organizer's pages cost, for a team with 5 and with 50 circles.

Goal (issue 11): the week page makes a fixed number of Queries whatever the team's size: the
same calls for 5 and for 50 circles. The feedback page and the circles page are measured too:
the feedback page's calls are bounded per page (team_feedback.MAX_QUERIES), the circles page's
are fixed.

Each world is a fresh table on one moto server holding a team (created with
`teams.create_team`) with one organizer and five facilitators (members through the join link),
and N published circles of the team, each run by one of them, meeting weekly for four weeks from
last week on (`circles.create` and `reminders.sync_reminders`, which write the meeting entries
of the team's days), each with two learners and one RSVP; every circle has feedback on last
week's meeting, every other one shared with organizers (`facilitators.feedback.record`). Each
request goes once through `chalice.test.Client` with the organizer's session cookie; we count
its DynamoDB calls by operation and the bytes its Query pages returned (DynamoDB's item-size
rules, as in bench/dynamodb_calls.py).

Run alone with `python -m bench.organizer_calls` (writes only its own part of BENCHMARKS.md);
`make bench` runs it too.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import time, timedelta

from bench import dynamodb_calls
from bench.facilitator_calls import seed_account
from tests.support import aws_calls

SIZES = (5, 50)
FACILITATORS = 5
PASSWORD = 'a long enough password'
START = '<!-- organizer bench results start -->'
END = '<!-- organizer bench results end -->'


@dataclass
class World:
    circles: int
    team_id: str
    cookie: str
    last_week: str
    seed_seconds: float = 0.0


# --- seeding -----------------------------------------------------------------------

def _team_circle(team_id, facilitator, n, first, rng, now):
    from chalicelib.circles import circles
    from chalicelib.facilitators import access
    from chalicelib.reminders.sync import sync_reminders
    circle = dynamodb_calls.build_circle(rng, now)
    circle.name = f'Team circle {n}'
    circle.facilitator_ids, circle.facilitator_names = [facilitator.user_id], [facilitator.first_name]
    circle.facilitator_emails = [facilitator.email]
    circle.team_id, circle.signup_open, circle.capacity, circle.signup_question = team_id, True, None, None
    local_first = first + timedelta(days=n % 7)     # spread over the week's days
    circle.meetings = circles.weekly_meetings(local_first, time(18), 4, 90, circle.timezone)
    circles.create(circle)
    sync_reminders(circle, existing=[], now=now, entries=[])
    access.facilitator_link(circle, facilitator, 'facilitator', now).save()
    return circle


def _activity(circle, facilitator, shared):
    """Two learners, one RSVP to the next meeting, feedback on last week's."""
    from chalicelib.accounts import sessions
    from chalicelib.facilitators import access, feedback
    from chalicelib.learners import rsvp
    from chalicelib.learners.signup import sign_up
    signups = [sign_up(circle.id, {'name': f'Learner {k}', 'email': f'l{k}-{circle.id}@example.org',
                                   'consent': 'true', 'goals': 'Learn with others'})[0] for k in range(2)]
    from chalicelib.circles import circles
    token = rsvp.rsvp_url(signups[0], circles.next_meeting(circle, circles.utcnow())).rsplit('/', 1)[1]
    rsvp.record_answer(rsvp.open_rsvp(token), 'yes')
    session, _ = sessions.start(facilitator)
    feedback.record(access.workspace(session, circle.id), session, circle.meetings[0].meeting_id,
                    feedback.FeedbackForm(attendance=6, rating=4, reflection='A good first meeting.',
                                          share_with_learners=False, share_with_organizers=shared))


def seed_world(size, seed=2026):
    import random
    import time as clock

    from chalicelib.accounts import accounts, sessions
    from chalicelib.circles import circles
    from chalicelib.teams import invitations, teams
    started = clock.perf_counter()
    rng = random.Random(seed)
    now = circles.utcnow()
    password_hash = accounts.hash_password(PASSWORD)
    organizer = seed_account('Olu Organizer', password_hash)
    team = teams.create_team('Bench Libraries', organizer.email).team
    team = invitations.set_join_link(team.team_id, organizer.user_id, on=True)
    token = invitations.join_path(team).rsplit('/', 1)[1]
    people = [seed_account(f'Facilitator {k}', password_hash) for k in range(FACILITATORS)]
    for person in people:
        invitations.join_with_link(token, person)
    today = now.date()
    last_monday = today - timedelta(days=today.weekday() + 7)
    for n in range(size):
        facilitator = people[n % FACILITATORS]
        circle = _team_circle(team.team_id, facilitator, n, last_monday, rng, now)
        _activity(circle, facilitator, shared=n % 2 == 0)
    from tests.support.outbox import drain
    drain()
    _, set_cookie = sessions.start(organizer)
    return World(size, team.team_id, set_cookie.split(';')[0], last_monday.isoformat(),
                 clock.perf_counter() - started)


# --- counting ------------------------------------------------------------------------

@dataclass
class Scenario:
    name: str
    goal: str
    path: str                 # with {team_id} and {last_week}


@dataclass
class Measured:
    scenario: Scenario
    status: int
    calls: Counter
    query_bytes: int
    listed: int               # meetings or feedback rows on the page


SCENARIOS = [
    Scenario('the week, this week', 'same calls for 5 and 50', '/organize/{team_id}'),
    Scenario('the week, last week (feedback)', 'same calls for 5 and 50', '/organize/{team_id}?week={last_week}'),
    Scenario('feedback, first page', '≤ 4 Query (MAX_QUERIES 3 + by_team), 3 BatchGetItem',
             '/organize/{team_id}/feedback'),
    Scenario('circles and facilitators', 'same calls for 5 and 50', '/organize/{team_id}/circles'),
]


def count_calls(client, world, scenario):
    pages = dynamodb_calls.QueryPages()
    pages.attach()
    aws_calls.reset()
    try:
        response = client.http.get(scenario.path.format(team_id=world.team_id, last_week=world.last_week),
                                   headers={'Cookie': world.cookie})
    finally:
        pages.detach()
    body = response.body.decode()
    listed = body.count('<li class="card')
    return Measured(scenario, response.status_code, Counter(aws_calls.dynamodb_calls()), pages.bytes_read(), listed)


def run(server, sizes=SIZES):
    """Seed each world into a fresh table on `server` and count; returns [(World, [Measured])]."""
    from chalice.test import Client

    from app import app
    out = []
    for size in sizes:
        dynamodb_calls.fresh_table(server)
        world = seed_world(size)
        with Client(app) as client:
            out.append((world, [count_calls(client, world, scenario) for scenario in SCENARIOS]))
    return out


def same_calls(results, index):
    return len({tuple(sorted(measured[index].calls.items())) for _, measured in results}) == 1


def feedback_bounded(results):
    from chalicelib.teams import team_feedback
    index = [s.name for s in SCENARIOS].index('feedback, first page')
    return all(m[index].calls.get('Query', 0) <= team_feedback.MAX_QUERIES + 1 for _, m in results)


def met(results):
    week = [i for i, s in enumerate(SCENARIOS) if 'same calls' in s.goal]
    return all(same_calls(results, i) for i in week) and feedback_bounded(results) \
        and all(m.status == 200 for _, measured in results for m in measured)


# --- reporting -------------------------------------------------------------------------

def _calls_text(r):
    text = ', '.join(f'{op} {n}' for op, n in sorted(r.calls.items())) or 'none'
    if r.status != 200:
        text += f' [HTTP {r.status}]'
    return text


def markdown(results):
    lines = ['### Organizer pages: DynamoDB calls per request', '',
             'A team whose circles each meet weekly from last week on, with two learners, one RSVP and '
             'feedback on last week\'s meeting (every other one shared with organizers). Calls by operation '
             'as moto served them, the session read included (a BatchGetItem with the organizer\'s '
             'memberships); "KB" is what the request\'s Query pages returned (DynamoDB item sizes); '
             '"listed" is the meetings, rows or cards on the page.', '']
    header, rule = '| request | goal |', '|---|---|'
    for world, _ in results:
        header += f' {world.circles} circles | KB | listed |'
        rule += '---|---|---|'
    lines += [header, rule]
    for index, scenario in enumerate(SCENARIOS):
        row = f'| {scenario.name} | {scenario.goal} |'
        for _, measured in results:
            r = measured[index]
            row += f' {_calls_text(r)} | {r.query_bytes / 1000:.1f} | {r.listed} |'
        lines.append(row)
    seeding = ' and '.join(f'{w.seed_seconds:.0f} s' for w, _ in results)
    differ = [s.name for i, s in enumerate(SCENARIOS) if not same_calls(results, i)]
    lines += ['', f'Calls that differ between {results[0][0].circles} and {results[-1][0].circles} circles: '
              + (', '.join(differ) if differ else 'none') + f'. Goal: **{"met" if met(results) else "NOT met"}**. '
              f'Seeding took {seeding}.']
    return '\n'.join(lines) + '\n'


def main():
    from bench.report import run_alone
    run_alone(START, END, run, markdown)


if __name__ == '__main__':
    main()
