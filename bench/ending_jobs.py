"""The end-of-circle jobs with nothing due: DynamoDB calls and app CPU per run as the table grows.

Every circle of the table is published with six weekly meetings from tomorrow, so each has six
wrap-up prompts on the `WRAPUP` queue and its closing on the `SURVEY` queue, all due later;
a tenth of the circles ended long ago and wait on `SURVEY_REMINDER` or `INSIGHTS` instead (a
reminder not due yet, a report for the insights job). One run of each job five minutes from now
finds nothing due:

- `send-meeting-wrapups`: goal ≤ 3 DynamoDB calls (one Query of `by_due` `WRAPUP`);
- `send-end-of-circle-surveys`: goal ≤ 3 (one Query each of `SURVEY` and `SURVEY_REMINDER`).

The same at both sizes: the jobs read the sparse `by_due` index up to now, never the circles.
App CPU is `time.process_time()` of this process around the run (moto answers in another
process). Seeding writes the items as `chalicelib.ending.schedule` builds them, in batch writes.

    python -m bench.ending_jobs                     # 1,000 and 5,000 circles, writes BENCHMARKS.md
    python -m bench.ending_jobs --sizes 100 500     # a small run, printed only
"""
import argparse
import random
import time
from collections import Counter
from datetime import datetime, time as clock, timedelta, timezone
from zoneinfo import ZoneInfo

from bench import dynamodb_calls
from tests.support import aws_calls

START = '<!-- ending jobs bench results start -->'
END = '<!-- ending jobs bench results end -->'
SIZES = (1000, 5000)        # seeding 5,000 circles (35,000 items) takes moto ~45 s
WEEKS = 6
GOAL_CALLS = 3


def _items(circle, now, rng):
    """The circle's six wrap-ups and its closing, as `schedule.sync_ending` writes them; one
    circle in ten ended long ago and waits for its reminder (3 days on) or its report."""
    from chalicelib.ending import schedule
    from chalicelib.models.ending import INSIGHTS_QUEUE, SURVEY_QUEUE, SURVEY_REMINDER_QUEUE, CircleEnding, MeetingWrapUp
    items = []
    for meeting in circle.meetings:
        due = schedule.meeting_end(meeting)
        items.append(MeetingWrapUp(*MeetingWrapUp.key(circle.id, meeting.meeting_id), circle_id=circle.id,
                                   meeting_id=meeting.meeting_id, state='scheduled', due_at=due, due_pk='WRAPUP',
                                   due_sk=MeetingWrapUp.due_key(due, circle.id, meeting.meeting_id),
                                   created_at=now, updated_at=now))
    last = schedule.last_meeting_end(circle)
    stage, queue, due = 'SURVEY', SURVEY_QUEUE, last
    if rng.random() < 0.1:
        stage, queue = rng.choice([('SURVEY_REMINDER', SURVEY_REMINDER_QUEUE), ('INSIGHTS', INSIGHTS_QUEUE)])
        due = now + timedelta(days=rng.randint(1, 6))
    items.append(CircleEnding(*CircleEnding.key(circle.id), circle_id=circle.id, stage=stage,
                              last_meeting_ends_at=last, surveys_close_at=schedule.surveys_close(last),
                              due_pk=queue, due_sk=CircleEnding.due_key(due, circle.id), created_at=now,
                              updated_at=now))
    return items


def seed(size, now, seed_value=2026):
    """`size` published circles with their end-of-circle items, none due at `now`; seconds spent."""
    from chalicelib.circles import circles
    from chalicelib.models import TableItem
    started = time.monotonic()
    rng = random.Random(seed_value)
    items = []
    for _ in range(size):
        circle = dynamodb_calls.build_circle(rng, now)
        first = now.astimezone(ZoneInfo(circle.timezone)).date() + timedelta(days=1)
        circle.meetings = circles.weekly_meetings(first, clock(18, 0), WEEKS, 90, circle.timezone)
        circle.published = True
        circles.refresh_derived(circle)
        items += [circle, *_items(circle, now, rng)]
    with TableItem.batch_write() as batch:
        for item in items:
            batch.save(item)
    return time.monotonic() - started


def _measured(job, now):
    aws_calls.reset()
    started = time.process_time()
    summary = job(now)
    cpu_ms = (time.process_time() - started) * 1000
    return {'summary': summary, 'calls': Counter(aws_calls.dynamodb_calls()), 'cpu_ms': cpu_ms}


def count_runs(server, size, now):
    from chalicelib.ending.survey_job import send_end_of_circle_surveys
    from chalicelib.ending.wrapups import send_meeting_wrapups
    dynamodb_calls.fresh_table(server)
    seconds = seed(size, now)
    tick = now + timedelta(minutes=5)
    return {'size': size, 'seed_seconds': seconds,
            'runs': {'send-meeting-wrapups': _measured(send_meeting_wrapups, tick),
                     'send-end-of-circle-surveys': _measured(send_end_of_circle_surveys, tick)}}


def run(server, sizes=SIZES):
    from chalicelib.ending.survey_job import send_end_of_circle_surveys
    from chalicelib.ending.wrapups import send_meeting_wrapups
    now = datetime.now(timezone.utc).replace(microsecond=0)
    dynamodb_calls.fresh_table(server)
    send_meeting_wrapups(now)           # imports and clients made: the runs measured are a warm container's
    send_end_of_circle_surveys(now)
    return [count_runs(server, size, now) for size in sizes]


def met(counts):
    """At most GOAL_CALLS per run, nothing done, and the same calls at every size."""
    same = all(c['runs'][name]['calls'] == counts[0]['runs'][name]['calls'] for c in counts for name in c['runs'])
    return same and all(sum(r['calls'].values()) <= GOAL_CALLS and not r['summary']
                        for c in counts for r in c['runs'].values())


def _ops(calls):
    return ', '.join(f'{op} {n}' for op, n in sorted(calls.items())) or 'none'


def markdown(counts):
    lines = ['### End-of-circle jobs with nothing due: DynamoDB calls and app CPU per run', '',
             f'Every circle has {WEEKS} wrap-up prompts and its closing on the `by_due` queues, all due later '
             '(a tenth wait for their survey reminder or their report). One run of each job five minutes from now. '
             'App CPU is `time.process_time()` of this process around the run.', '',
             '| circles in the table | job | calls by operation | total | app CPU ms |', '|---|---|---|---|---|']
    for c in counts:
        for name, r in c['runs'].items():
            lines.append(f"| {c['size']:,} | `{name}` | {_ops(r['calls'])} | {sum(r['calls'].values())} | "
                         f"{r['cpu_ms']:.1f} |")
    seeding = ' and '.join(f"{c['seed_seconds']:.1f} s" for c in counts)
    lines += ['', f"Goal (≤ {GOAL_CALLS} DynamoDB calls per run with nothing due, the same at every size): "
              f"**{'met' if met(counts) else 'NOT met'}**. Seeding took {seeding}."]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.ending_jobs')
    parser.add_argument('--sizes', type=int, nargs='+', help=f'circles in the table (default {SIZES})')
    args = parser.parse_args(argv)
    if args.sizes is None:
        from bench.report import run_alone
        run_alone(START, END, run, markdown)
        return
    from bench.report import machine
    with dynamodb_calls.moto_server() as server:
        print('\n'.join([machine(), '', markdown(run(server, tuple(args.sizes)))]))


if __name__ == '__main__':
    main()
