"""The Monday digest: DynamoDB calls and app CPU per team, as teams grow in circles and in number.

1. One team's digest (`queue_team_digest`) for a team of 5 circles and one of 50: every circle
   met last week (its first meeting, with feedback shared with organizers, and a new signup) and
   meets this week. Goal: the same calls for both (the team's week is read by team and date on
   `by_team_day`, never per circle).
2. The whole run (`send_weekly_digests`) with 1 team and with 500 teams (2 circles and 3 members
   each). Goal: linear: the run's calls are the registry's Queries (one per 100 teams) plus 500
   times one team's.

Calls are counted by operation with the botocore hook of tests/support/aws_calls; app CPU is
`time.process_time()` of this process around the measured call (all its threads; moto answers
in another process, so its work is not counted, botocore's and PynamoDB's on its answers are).
No stream poller runs: the outbox items stay pending, no email is rendered or sent here.

Seeding writes the items the digest reads (teams, members, accounts, circles, meeting entries,
feedback, signups), built through the models with BatchWriteItem; its time is reported.

    python -m bench.digest                      # the sizes above; writes its section of BENCHMARKS.md
    python -m bench.digest --teams 1 50         # a smaller run, printed only
"""
import argparse
import time
from datetime import datetime, timedelta, timezone

from bench import dynamodb_calls
from tests.support import aws_calls

START = '<!-- digest bench results start -->'
END = '<!-- digest bench results end -->'
CIRCLE_SIZES = (5, 50)
TEAM_COUNTS = (1, 500)
CIRCLES_PER_TEAM, MEMBERS_PER_TEAM = 2, 3


def _run_at():
    """10:00 UTC next Monday: the week measured is this one."""
    today = datetime.now(timezone.utc).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    return datetime(monday.year, monday.month, monday.day, 10, tzinfo=timezone.utc)


def team_items(team_id, circles, week, created):
    """Every item of one team the digest reads: the team, its members and their accounts, and per
    circle its item, a meeting entry last week (its first, with shared feedback) and this week,
    and one signup last week."""
    from chalicelib.models import Circle, Course, MeetingEntry, MeetingFeedback, Signup, Team, TeamMember, User
    from chalicelib.models.meeting_entry import FEEDBACK, SIGNUP, team_day_pk
    items = [Team(*Team.key(team_id), team_id=team_id, name=f'Team {team_id}', created_at=created,
                  due_sk=created.isoformat())]
    facilitators = []
    for n in range(MEMBERS_PER_TEAM):
        user_id = f'{team_id}-u{n}'
        items.append(User(*User.key(user_id), user_id=user_id, name=f'Member {n}', first_name=f'Member{n}',
                          email=f'{user_id}@example.org', password_hash='-'))
        items.append(TeamMember(f'TEAM#{team_id}', f'MEMBER#{user_id}', team_id=team_id, user_id=user_id,
                                role='organizer' if n == 0 else 'facilitator', created_at=created))
        if n:
            facilitators.append(user_id)
    pk = team_day_pk(team_id)
    for c in range(circles):
        circle_id = f'{team_id}-c{c}'
        facilitator = facilitators[c % len(facilitators)]
        items.append(Circle(*Circle.key(circle_id), id=circle_id, name=f'Circle {c}', timezone='America/Chicago',
                            signup_count=1, team_id=team_id, facilitator_ids=[facilitator],
                            course=Course(title='A course')))
        for number, day in ((1, week + timedelta(days=1)), (2, week + timedelta(days=8))):
            meeting_id = f'm{number}'
            starts = datetime(day.year, day.month, day.day, 23, tzinfo=timezone.utc)
            items.append(MeetingEntry(
                *MeetingEntry.key(circle_id, meeting_id), circle_id=circle_id, meeting_id=meeting_id, team_id=team_id,
                circle_name=f'Circle {c}', facilitator_names=['Member'], facilitator_ids=[facilitator],
                timezone='America/Chicago', local_date=day.isoformat(), local_time='18:00', duration_minutes=90,
                starts_at=starts, number=number, of=6, yes={'s1'}, td_pk=pk,
                td_sk=MeetingEntry.day_key(day.isoformat(), '18:00', circle_id, meeting_id)))
        day = week + timedelta(days=1)
        items.append(MeetingFeedback(
            *MeetingFeedback.key(circle_id, 'm1'), circle_id=circle_id, meeting_id='m1', author_id=facilitator,
            author_name='Member', attendance=6, rating=4, prompt='How did it go?',
            reflection='We worked through the first chapter together; everyone left with a plan.',
            share_with_organizers=True, td_pk=pk, td_sk=f'{FEEDBACK}{day.isoformat()}#{circle_id}#m1'))
        signed = created + timedelta(hours=c % 24)
        items.append(Signup(*Signup.key(circle_id, 's1'), signup_id='s1', circle_id=circle_id, name='Learner One',
                            email='learner@example.org', goals='Learn together.', created_at=signed, td_pk=pk,
                            td_sk=f'{SIGNUP}{signed.isoformat()}#{circle_id}#s1'))
    return items


def seed(teams, now):
    """`teams` (team id, circles) with their items; returns the seconds it took."""
    from chalicelib.models import TableItem
    from chalicelib.teams import digest
    week = digest.week_of(now)
    created = datetime(week.year, week.month, week.day, 12, tzinfo=timezone.utc)
    started = time.monotonic()
    with TableItem.batch_write() as batch:
        for team_id, circles in teams:
            for item in team_items(team_id, circles, week, created):
                batch.save(item)
    return time.monotonic() - started


def measure(call):
    aws_calls.reset()
    cpu = time.process_time()
    result = call()
    return {'calls': aws_calls.dynamodb_calls(), 'cpu_ms': (time.process_time() - cpu) * 1000, 'result': result}


def run(server, circle_sizes=CIRCLE_SIZES, team_counts=TEAM_COUNTS):
    from chalicelib.teams import digest, digest_job
    now = _run_at()
    week = digest.week_of(now)
    dynamodb_calls.fresh_table(server)
    seed([('warm', 3)], now)
    digest_job.queue_team_digest('warm', week, now)        # imports and clients made: a warm container
    per_team = []
    for circles in circle_sizes:
        team_id = f'size-{circles}'
        seconds = seed([(team_id, circles)], now)
        per_team.append({'circles': circles, 'seed_seconds': seconds,
                         **measure(lambda: digest_job.queue_team_digest(team_id, week, now))})
    runs = []
    for count in team_counts:
        dynamodb_calls.fresh_table(server)
        seconds = seed([(f'team-{n:04d}', CIRCLES_PER_TEAM) for n in range(count)], now)
        runs.append({'teams': count, 'seed_seconds': seconds,
                     **measure(lambda: digest_job.send_weekly_digests(now))})
    return {'per_team': per_team, 'runs': runs}


def _ops(calls):
    return ', '.join(f'{op} {n}' for op, n in sorted(calls.items())) or 'none'


def equal_per_team(result):
    return all(r['calls'] == result['per_team'][0]['calls'] for r in result['per_team'])


def linear(result):
    """Every run's calls are `teams` times one team's, plus the registry's Queries: one per page of
    100 teams (DynamoDB may answer one more, empty, page when the last one is full; moto does not)."""
    import math
    from chalicelib.teams.digest_job import TEAMS_PAGE
    first = result['runs'][0]
    one = {op: (n - 1 if op == 'Query' else n) / first['teams'] for op, n in first['calls'].items()}
    for r in result['runs']:
        teams, calls = r['teams'], dict(r['calls'])
        pages = calls.get('Query', 0) - round(one.get('Query', 0) * teams)
        if not math.ceil(teams / TEAMS_PAGE) <= pages <= teams // TEAMS_PAGE + 1:
            return False
        if any(calls.get(op, 0) != round(n * teams) for op, n in one.items() if op != 'Query'):
            return False
        if set(calls) != set(one):
            return False
    return True


def markdown(result):
    lines = ['### Monday digest: DynamoDB calls per team and per run', '',
             'One team\'s digest (`queue_team_digest`): every circle met last week (its first meeting, feedback '
             'shared with organizers, a new signup) and meets this week; 3 members (1 organizer, 2 facilitators). '
             'App CPU is `time.process_time()` of this process (all its threads).', '',
             '| circles in the team | calls by operation | total | outbox items written | app CPU ms |',
             '|---|---|---|---|---|']
    for r in result['per_team']:
        lines.append(f"| {r['circles']} | {_ops(r['calls'])} | {sum(r['calls'].values())} | {r['result']} | "
                     f"{r['cpu_ms']:.1f} |")
    sizes = ' and '.join(str(r['circles']) for r in result['per_team'])
    lines += ['', f"From {sizes} circles the calls are {'equal' if equal_per_team(result) else 'NOT equal'} "
              f"(goal: equal: **{'met' if equal_per_team(result) else 'NOT met'}**).", '',
              f'The whole run (`send_weekly_digests`), teams of {CIRCLES_PER_TEAM} circles and {MEMBERS_PER_TEAM} '
              'members:', '',
              '| teams | calls by operation | total | calls per team | digests | outbox items | app CPU ms | '
              'CPU ms per team | run seconds | seeding seconds |', '|---|---|---|---|---|---|---|---|---|---|']
    for r in result['runs']:
        total = sum(r['calls'].values())
        summary = r['result']
        lines.append(f"| {r['teams']} | {_ops(r['calls'])} | {total} | {total / r['teams']:.2f} | "
                     f"{summary['digests']} | {summary['messages_queued']} | {r['cpu_ms']:.0f} | "
                     f"{r['cpu_ms'] / r['teams']:.1f} | {summary['seconds']:.1f} | {r['seed_seconds']:.1f} |")
    lines += ['', f"Calls are the registry's Queries (one per page of 100 teams) plus the teams times one team's: "
              f"{'linear' if linear(result) else 'NOT linear'} (goal: linear: "
              f"**{'met' if linear(result) else 'NOT met'}**). Run seconds are moto's, on this machine."]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.digest')
    parser.add_argument('--teams', type=int, nargs='+', help=f'teams in the runs (default {TEAM_COUNTS})')
    parser.add_argument('--circles', type=int, nargs='+', help=f'circles of the one team (default {CIRCLE_SIZES})')
    args = parser.parse_args(argv)
    if args.teams is None and args.circles is None:
        from bench.report import run_alone
        run_alone(START, END, run, markdown)
        return
    from bench.report import machine
    with dynamodb_calls.moto_server() as server:
        print('\n'.join([machine(), '', markdown(run(server, tuple(args.circles or CIRCLE_SIZES),
                                                      tuple(args.teams or TEAM_COUNTS)))]))


if __name__ == '__main__':
    main()
