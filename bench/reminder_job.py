"""The reminder job: DynamoDB calls per run as the table grows, and messages per second.

1. **Calls.** 300 circles have a reminder due now, among 1,000 and then among 10,000
   circles (every circle has a reminder; the others are due later). One run of
   `send_due_reminders` sends everything; we count its DynamoDB calls by operation. The
   job Queries the `by_due` index for what is due and reads only those circles, so the
   count must not grow with the table (goal: the same within 5 %).
2. **Throughput.** SES (the fault proxy in front of moto) and the Twilio fake both answer
   each send after 50 ms, like real providers. One run with the rate limit set high
   (goal ≥ 200 messages/s), and one with it set low (goal: never above the limit in any
   one-second window, judged on when requests reached the fakes).

Seeding writes items with PynamoDB batch writes: circles built by `bench.dynamodb_calls`,
learners and reminders built the way the app builds them.

Run alone with `python -m bench.reminder_job` (writes only its own part of BENCHMARKS.md).
"""
import os
import random
import time
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
PROVIDER_DELAY = 0.05        # seconds each fake provider takes to answer a send
HIGH_RATE, LOW_RATE = 10_000, 20
THROUGHPUT_WORKERS = 32
TWILIO_ENV = {'TWILIO_ACCOUNT_SID': 'AC' + '0123456789abcdef' * 2, 'TWILIO_AUTH_TOKEN': 'bench-twilio-token',
              'TWILIO_FROM_NUMBER': '+13125550000'}


def use_fakes(server):
    """Twilio fake and SES fault proxy started and the environment pointed at them; settings
    and the cached clients are made again from it."""
    from chalicelib.messaging import email
    from chalicelib.settings import get_settings
    from tests.support.ses_fault_proxy import SesFaultProxy
    from tests.support.twilio_fake import TwilioFake
    twilio = TwilioFake(TWILIO_ENV['TWILIO_ACCOUNT_SID'], TWILIO_ENV['TWILIO_AUTH_TOKEN'])
    proxy = SesFaultProxy(server.url)
    os.environ.update(TWILIO_ENV, TWILIO_API_BASE=twilio.url, AWS_ENDPOINT_URL_SESV2=proxy.url)
    get_settings.cache_clear()
    email.ses_client.cache_clear()
    return twilio, proxy


def stop_fakes(twilio, proxy):
    from chalicelib.messaging import email
    from chalicelib.settings import get_settings
    for name in [*TWILIO_ENV, 'TWILIO_API_BASE', 'AWS_ENDPOINT_URL_SESV2']:
        os.environ.pop(name, None)
    get_settings.cache_clear()
    email.ses_client.cache_clear()
    twilio.stop()
    proxy.stop()


def _tomorrow_evening(circle, now):
    from chalicelib import circles
    local = now.astimezone(ZoneInfo(circle.timezone)).date() + timedelta(days=1)
    return circles.weekly_meetings(local, datetime.strptime('18:00', '%H:%M').time(), 6, 90, circle.timezone)


def _learners(circle, now, count):
    from chalicelib.models import Signup
    from chalicelib.signup import CONSENT_VERSION
    result = []
    for n in range(count):
        signup_id = f'{circle.id}l{n}'
        mobile = f'+1312{abs(hash(signup_id)) % 10**7:07d}' if n % 2 == 0 else None
        address = f'learner{n}.{circle.id}@example.org'
        result.append(Signup(*Signup.key(circle.id, signup_id), signup_id=signup_id, circle_id=circle.id,
                             name=f'Learner {n}', email=address, mobile=mobile, created_at=now, consent_at=now,
                             consent_version=CONSENT_VERSION, welcome_status='sent',
                             email_pk=f'EMAIL#{address}', email_sk=f'SIGNUP#{circle.id}',
                             phone_pk=f'PHONE#{mobile}' if mobile else None,
                             phone_sk=f'SIGNUP#{circle.id}' if mobile else None))
    return result


def _reminder(circle, now, due_at):
    from chalicelib import reminders
    from chalicelib.models.reminder import DUE_QUEUE, SCHEDULED, MeetingReminder
    meeting = next((m for m in circle.meetings if m.starts_at > due_at), circle.meetings[-1])
    reminder = reminders.new_reminder(circle, meeting, now)
    reminder.state, reminder.due_at = SCHEDULED, due_at
    reminder.due_pk, reminder.due_sk = DUE_QUEUE, MeetingReminder.due_key(due_at, circle.id, meeting.meeting_id)
    return reminder


def seed(size, due, now, learners=LEARNERS, seed_value=2026):
    """`size` published circles, each with a reminder; `due` of them due at `now`, with learners.
    Returns (seconds spent seeding, messages the run should send)."""
    from chalicelib import circles
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


def count_run(server, size, now):
    """One run over `size` circles (DUE due); DynamoDB calls by operation and what it sent."""
    from chalicelib.reminder_job import send_due_reminders
    dynamodb_calls.fresh_table(server)
    seconds, expected = seed(size, DUE, now)
    aws_calls.reset()
    summary = send_due_reminders(now, max_rate=HIGH_RATE, workers=16)
    calls = Counter(aws_calls.dynamodb_calls())
    return {'size': size, 'seed_seconds': seconds, 'expected': expected, 'summary': summary, 'calls': calls}


def moto_write_ceiling(server, workers=16, count=600):
    """Conditional PutItems per second moto accepts from `workers` threads: the most any
    DynamoDB-bound run can do here (every message costs a claim and a mark)."""
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.models import Delivery
    dynamodb_calls.fresh_table(server)

    def put(n):
        Delivery(*Delivery.key('bench', 'ceiling', str(n), 'email'), circle_id='bench', message_key='ceiling',
                 signup_id=str(n), channel='email', state='pending').save(condition=Delivery.pk.does_not_exist())
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, range(count)))
    return count / (time.monotonic() - started)


def max_in_any_second(times):
    times, most, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def throughput_run(server, twilio, proxy, due, rate, workers, now):
    """One run against providers answering after PROVIDER_DELAY; messages/s and the busiest second."""
    from chalicelib.reminder_job import send_due_reminders
    dynamodb_calls.fresh_table(server)
    _, expected = seed(1000, due, now, seed_value=7)
    twilio.reset()
    twilio.delay_seconds = PROVIDER_DELAY
    proxy.reset(delay_seconds=PROVIDER_DELAY, answer_sends=True)
    aws_calls.reset()
    started = time.monotonic()
    summary = send_due_reminders(now, max_rate=rate, workers=workers)
    seconds = time.monotonic() - started
    writes = sum(n for op, n in aws_calls.dynamodb_calls().items() if op != 'Query')
    times = proxy.send_times() + [r['at'] for r in twilio.requests]
    return {'due': due, 'rate': rate, 'workers': workers, 'expected': expected, 'sent': summary['messages_sent'],
            'requests': len(times), 'seconds': seconds, 'per_second': summary['messages_sent'] / seconds,
            'busiest_second': max_in_any_second(times), 'summary': summary,
            'writes_per_message': writes / max(summary['messages_sent'], 1)}


def run(server):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    twilio, proxy = use_fakes(server)
    try:
        counts = [count_run(server, size, now) for size in SIZES]
        fast = throughput_run(server, twilio, proxy, 100, HIGH_RATE, THROUGHPUT_WORKERS, now)
        slow = throughput_run(server, twilio, proxy, 20, LOW_RATE, THROUGHPUT_WORKERS, now)
        ceiling = moto_write_ceiling(server)
    finally:
        stop_fakes(twilio, proxy)
    return counts, [fast, slow], ceiling


def markdown(measured):
    counts, speeds, ceiling = measured
    lines = ['### Reminder job: DynamoDB calls per run', '',
             f'{DUE} reminders due, {LEARNERS} learners each (every other one with a mobile), one run.', '',
             '| circles in the table | calls by operation | total | messages sent | deliveries |',
             '|---|---|---|---|---|']
    for c in counts:
        ops = ', '.join(f'{op} {n}' for op, n in sorted(c['calls'].items()))
        states = ', '.join(f'{k} {v}' for k, v in sorted(c['summary']['deliveries'].items()))
        lines.append(f"| {c['size']:,} | {ops} | {sum(c['calls'].values())} | "
                     f"{c['summary']['messages_sent']} of {c['expected']} | {states} |")
    small, large = (sum(c['calls'].values()) for c in counts)
    growth = (large - small) / small * 100
    lines += ['', f"Change from {counts[0]['size']:,} to {counts[-1]['size']:,} circles: {growth:+.1f} % "
              f"(goal: within 5 %: **{'met' if abs(growth) <= 5 else 'NOT met'}**). "
              f"Seeding took {counts[0]['seed_seconds']:.1f} s and {counts[-1]['seed_seconds']:.1f} s.", '',
              '### Reminder job: messages per second', '',
              f'SES (fault proxy before moto) and the Twilio fake each answer a send after '
              f'{PROVIDER_DELAY * 1000:.0f} ms (the SES stand-in answers itself: moto is left to '
              'DynamoDB). Busiest second: the most send requests that reached the fakes within any '
              'one second.', '',
              '| reminders due | rate limit (/s) | workers | messages sent | seconds | messages/s '
              '| busiest second | DynamoDB writes per message | goal |',
              '|---|---|---|---|---|---|---|---|---|']
    for s in speeds:
        if s['rate'] >= HIGH_RATE:
            goal = f"≥ 200/s: **{'met' if s['per_second'] >= 200 else 'NOT met'}**"
        else:
            goal = f"≤ {s['rate']} in any second: **{'met' if s['busiest_second'] <= s['rate'] else 'NOT met'}**"
        lines.append(f"| {s['due']} | {s['rate']:,} | {s['workers']} | {s['sent']} of {s['expected']} | "
                     f"{s['seconds']:.1f} | {s['per_second']:.0f} | {s['busiest_second']} | "
                     f"{s['writes_per_message']:.2f} | {goal} |")
    lines += ['', f'moto on this machine accepts **{ceiling:.0f}** conditional PutItems per second from 16 '
              f'threads, so a run bound by DynamoDB writes here tops out near {ceiling:.0f} / '
              f"{speeds[0]['writes_per_message']:.2f} = **{ceiling / speeds[0]['writes_per_message']:.0f}** "
              'messages/s.']
    return '\n'.join(lines) + '\n'


def main():
    from bench.report import run_alone
    run_alone(START, END, run, markdown)


if __name__ == '__main__':
    main()
