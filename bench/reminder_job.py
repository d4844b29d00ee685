"""The reminder job: DynamoDB calls and app CPU per run as the table grows.

300 circles have a reminder due now, among 1,000 and then among 10,000 circles (every circle
has a reminder; the others are due later). Per table, three runs of `send_due_reminders`:

- a tick with nothing due (five minutes before the 300 fall due): goal ≤ 3 DynamoDB calls
  and < 100 ms;
- the run at `now`: it claims each due reminder, reads its circle's partition, batch-writes
  the meeting's outbox items (each learner's email and SMS with its short link, each
  facilitator's copy) and marks it sent; goal: the same calls at both table sizes (the job
  Queries the `by_due` index for what is due and reads only those circles);
- the next tick, everything sent: nothing due again.

We count each run's DynamoDB calls by operation and its app CPU: `time.process_time()` of this
process around the run (all its threads; moto answers in another process, so its work is not
counted, botocore's and PynamoDB's on its answers are).

Sending is not measured here: the job only writes outbox items, and the sender delivers them
from the table's stream (its throughput and global rate are `bench/sender.py`'s). No stream
poller runs in this bench, so the items stay pending and no SES or Twilio request is made.

Seeding writes items with PynamoDB batch writes: circles built by `bench.dynamodb_calls`,
learners and reminders built the way the app builds them.

    python -m bench.reminder_job                        # 300 due among 1,000 and 10,000 circles
    python -m bench.reminder_job --sizes 100 1000 --due 30   # a small run, printed only

Run with the default sizes it writes only its own part of BENCHMARKS.md; a run with other
sizes is printed and written nowhere.
"""
import argparse
import random
import time
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bench import dynamodb_calls
from tests.support import aws_calls

START = '<!-- reminder job bench results start -->'
END = '<!-- reminder job bench results end -->'
DUE = 300
SIZES = (1000, 10000)
LEARNERS = 4                 # per circle with a due reminder; every other one has a mobile


def _tomorrow_evening(circle, now):
    from chalicelib.circles import circles
    local = now.astimezone(ZoneInfo(circle.timezone)).date() + timedelta(days=1)
    return circles.weekly_meetings(local, datetime.strptime('18:00', '%H:%M').time(), 6, 90, circle.timezone)


def _learners(circle, now, count):
    """`count` signups as `signup.sign_up` stores them; every other one (n even) with a mobile."""
    from chalicelib.learners.signup import CONSENT_VERSION, signup_id_for
    from chalicelib.models import Signup
    result = []
    for n in range(count):
        address = f'learner{n}.{circle.id}@example.org'
        signup_id = signup_id_for(circle.id, address)
        mobile = f'+1312{zlib.crc32(address.encode()) % 10**7:07d}' if n % 2 == 0 else None
        result.append(Signup(*Signup.key(circle.id, signup_id), signup_id=signup_id, circle_id=circle.id,
                             name=f'Learner {n}', email=address, mobile=mobile, created_at=now, updated_at=now,
                             consent_at=now, consent_version=CONSENT_VERSION,
                             email_pk=f'EMAIL#{address}', email_sk=f'SIGNUP#{circle.id}',
                             phone_pk=f'PHONE#{mobile}' if mobile else None,
                             phone_sk=f'SIGNUP#{circle.id}' if mobile else None))
    return result


def _reminder(circle, now, due_at):
    from chalicelib.models.reminder import DUE_QUEUE, SCHEDULED, MeetingReminder
    from chalicelib.reminders import schedule as reminders
    meeting = next((m for m in circle.meetings if m.starts_at > due_at), circle.meetings[-1])
    reminder = reminders.new_reminder(circle, meeting, now)
    reminder.state, reminder.due_at = SCHEDULED, due_at
    reminder.due_pk, reminder.due_sk = DUE_QUEUE, MeetingReminder.due_key(due_at, circle.id, meeting.meeting_id)
    return reminder


def seed(size, due, now, learners=LEARNERS, seed_value=2026):
    """`size` published circles, each with a reminder; `due` of them due at `now`, with learners.
    Returns (seconds spent seeding, outbox items the run should write). The due circles come
    first from the same random sequence, so they are the same whatever `size` is."""
    from chalicelib.circles import circles
    from chalicelib.models import TableItem
    started = time.monotonic()
    rng = random.Random(seed_value)
    items, messages = [], 0
    for index in range(size):
        circle = dynamodb_calls.build_circle(rng, now)
        if index < due:
            circle.meetings = _tomorrow_evening(circle, now)
            circles.refresh_derived(circle)
            signups = _learners(circle, now, learners)
            items += [*signups, _reminder(circle, now, now - timedelta(minutes=1))]
            messages += len(signups) + sum(1 for s in signups if s.mobile) + len(circle.facilitator_emails)
        else:
            items.append(_reminder(circle, now, now + timedelta(days=rng.randint(1, 60))))
        items.append(circle)
    with TableItem.batch_write() as batch:
        for item in items:
            batch.save(item)
    return time.monotonic() - started, messages


def _measured_run(now, due):
    from chalicelib.reminders.job import send_due_reminders
    aws_calls.reset()
    started = time.process_time()
    summary = send_due_reminders(now)
    cpu_ms = (time.process_time() - started) * 1000
    return {'summary': summary, 'calls': Counter(aws_calls.dynamodb_calls()), 'cpu_ms': cpu_ms, 'due': due}


def count_run(server, size, now, due=DUE):
    """The three runs over `size` circles (`due` of them due at `now`): each one's DynamoDB
    calls by operation, app CPU and summary, and the outbox items the due run should write."""
    dynamodb_calls.fresh_table(server)
    seconds, expected = seed(size, due, now)
    before = _measured_run(now - timedelta(minutes=5), 0)
    run_now = _measured_run(now, due)
    after = _measured_run(now + timedelta(minutes=5), 0)
    return {'size': size, 'due': due, 'seed_seconds': seconds, 'expected': expected, 'summary': run_now['summary'],
            'calls': run_now['calls'], 'cpu_ms': run_now['cpu_ms'], 'nothing_due': [before, after]}


def run(server, sizes=SIZES, due=DUE):
    from chalicelib.reminders.job import send_due_reminders
    now = datetime.now(timezone.utc).replace(microsecond=0)
    dynamodb_calls.fresh_table(server)
    send_due_reminders(now)         # imports and clients made: the runs measured are a warm container's
    return [count_run(server, size, now, due) for size in sizes]


def identical(counts):
    return all(c['calls'] == counts[0]['calls'] for c in counts)


NOTHING_DUE_CALLS, NOTHING_DUE_MS = 3, 100


def nothing_due_met(counts):
    return all(sum(r['calls'].values()) <= NOTHING_DUE_CALLS and r['cpu_ms'] < NOTHING_DUE_MS
               and not r['summary'].get('due') for c in counts for r in c['nothing_due'])


def _ops(calls):
    return ', '.join(f'{op} {n}' for op, n in sorted(calls.items())) or 'none'


def markdown(counts):
    due = counts[0]['due']
    lines = ['### Reminder job: DynamoDB calls and app CPU per run', '',
             f'{due} reminders due, {LEARNERS} learners each (every other one with a mobile), one run of '
             '`send_due_reminders`: it writes the outbox items, the sender sends them (not measured here). '
             'App CPU is `time.process_time()` of this process around the run (all its threads).', '',
             '| circles in the table | calls by operation | total | outbox items written | reminders sent | '
             'app CPU ms | run seconds |',
             '|---|---|---|---|---|---|---|']
    for c in counts:
        summary = c['summary']
        lines.append(f"| {c['size']:,} | {_ops(c['calls'])} | {sum(c['calls'].values())} | "
                     f"{summary.get('messages_queued', 0)} of {c['expected']} | "
                     f"{summary.get('reminders_sent', 0)} of {due} | {c['cpu_ms']:.0f} | "
                     f"{summary.get('seconds', 0):.1f} |")
    seeding = ' and '.join(f"{c['seed_seconds']:.1f} s" for c in counts)
    lines += ['', f"From {counts[0]['size']:,} to {counts[-1]['size']:,} circles the counts are "
              f"{'identical' if identical(counts) else 'NOT identical'} (goal: identical: "
              f"**{'met' if identical(counts) else 'NOT met'}**). Seeding took {seeding}. "
              "Run seconds are moto's (its Query cost grows with the table; DynamoDB's does not)."]
    lines += ['', f'A tick with nothing due (goal ≤ {NOTHING_DUE_CALLS} DynamoDB calls and < {NOTHING_DUE_MS} ms): '
              'five minutes before the reminders fall due, and five minutes after the run above sent them.', '',
              '| circles in the table | tick | calls by operation | app CPU ms |', '|---|---|---|---|']
    for c in counts:
        for label, r in zip(('before the due ones', 'after they were sent'), c['nothing_due']):
            lines.append(f"| {c['size']:,} | {label} | {_ops(r['calls'])} | {r['cpu_ms']:.1f} |")
    lines += ['', f"Goal with nothing due: **{'met' if nothing_due_met(counts) else 'NOT met'}**."]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.reminder_job')
    parser.add_argument('--sizes', type=int, nargs='+', help=f'circles in the table (default {SIZES})')
    parser.add_argument('--due', type=int, help=f'reminders due among them (default {DUE})')
    args = parser.parse_args(argv)
    if args.sizes is None and args.due is None:
        from bench.report import run_alone
        run_alone(START, END, run, markdown)
        return
    from bench.report import machine
    sizes, due = tuple(args.sizes or SIZES), args.due or DUE
    if due > min(sizes):
        parser.error('--due cannot exceed the smallest of --sizes')
    with dynamodb_calls.moto_server() as server:
        print('\n'.join([machine(), '', markdown(run(server, sizes, due))]))


if __name__ == '__main__':
    main()
