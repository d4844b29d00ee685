"""The reminder job: DynamoDB calls per run as the table grows, and messages per second.

1. **Calls.** 300 circles have a reminder due now, among 1,000 and then among 10,000
   circles (every circle has a reminder; the others are due later). One run of
   `send_due_reminders` sends everything; we count its DynamoDB calls by operation. The
   job Queries the `by_due` index for what is due and reads only those circles, so the
   count must not grow with the table (goal: the same within 5 %).
2. **Throughput.** SES (the fault proxy in front of moto) and the Twilio fake both answer
   each send after 50 ms, like real providers. Runs with the rate limit set high (goal
   ≥ 200 messages/s; among 1,000 circles, and with the due circles alone), and one with it
   set low (goal: never above the limit in any one-second window, judged on when requests
   reached the fakes). Each reports the CPU per message of the run's process and of moto.

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
    from chalicelib.core.settings import get_settings
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
    from chalicelib.core.settings import get_settings
    for name in [*TWILIO_ENV, 'TWILIO_API_BASE', 'AWS_ENDPOINT_URL_SESV2']:
        os.environ.pop(name, None)
    get_settings.cache_clear()
    email.ses_client.cache_clear()
    twilio.stop()
    proxy.stop()


def _tomorrow_evening(circle, now):
    from chalicelib.circles import circles
    local = now.astimezone(ZoneInfo(circle.timezone)).date() + timedelta(days=1)
    return circles.weekly_meetings(local, datetime.strptime('18:00', '%H:%M').time(), 6, 90, circle.timezone)


def _learners(circle, now, count):
    from chalicelib.models import Signup
    from chalicelib.learners.signup import CONSENT_VERSION
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
    from chalicelib.reminders import schedule as reminders
    from chalicelib.models.reminder import DUE_QUEUE, SCHEDULED, MeetingReminder
    meeting = next((m for m in circle.meetings if m.starts_at > due_at), circle.meetings[-1])
    reminder = reminders.new_reminder(circle, meeting, now)
    reminder.state, reminder.due_at = SCHEDULED, due_at
    reminder.due_pk, reminder.due_sk = DUE_QUEUE, MeetingReminder.due_key(due_at, circle.id, meeting.meeting_id)
    return reminder


def seed(size, due, now, learners=LEARNERS, seed_value=2026):
    """`size` published circles, each with a reminder; `due` of them due at `now`, with learners.
    Returns (seconds spent seeding, messages the run should send)."""
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


def count_run(server, size, now):
    """One run over `size` circles (DUE due); DynamoDB calls by operation and what it sent."""
    from chalicelib.reminders.job import send_due_reminders
    dynamodb_calls.fresh_table(server)
    seconds, expected = seed(size, DUE, now)
    aws_calls.reset()
    summary = send_due_reminders(now, max_rate=HIGH_RATE, workers=16)
    calls = Counter(aws_calls.dynamodb_calls())
    return {'size': size, 'seed_seconds': seconds, 'expected': expected, 'summary': summary, 'calls': calls}


def cpu_seconds(pid=None):
    """CPU time (user + system) a process has used so far: this one by default."""
    if pid is None:
        return time.process_time()
    with open(f'/proc/{pid}/stat') as stat:
        fields = stat.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def max_in_any_second(times):
    times, most, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def throughput_run(server, twilio, proxy, due, rate, workers, now, size=None):
    """One run against providers answering after PROVIDER_DELAY, `due` reminders among `size`
    circles (only the due ones by default); messages/s, the busiest second, and the CPU each
    message cost the run's process (with the in-process fakes) and moto."""
    from chalicelib.reminders.job import send_due_reminders
    dynamodb_calls.fresh_table(server)
    size = size or due
    _, expected = seed(size, due, now, seed_value=7)
    twilio.reset()
    twilio.delay_seconds = PROVIDER_DELAY
    proxy.reset(delay_seconds=PROVIDER_DELAY, answer_sends=True)
    aws_calls.reset()
    moto_cpu, job_cpu, started = cpu_seconds(server.process.pid), cpu_seconds(), time.monotonic()
    summary = send_due_reminders(now, max_rate=rate, workers=workers)
    seconds = time.monotonic() - started
    moto_cpu, job_cpu = cpu_seconds(server.process.pid) - moto_cpu, cpu_seconds() - job_cpu
    sent = max(summary['messages_sent'], 1)
    requests = sum(aws_calls.dynamodb_calls().values())
    times = proxy.send_times() + [r['at'] for r in twilio.requests]
    return {'due': due, 'size': size, 'rate': rate, 'workers': workers, 'expected': expected,
            'sent': summary['messages_sent'], 'requests': len(times), 'seconds': seconds,
            'per_second': summary['messages_sent'] / seconds, 'busiest_second': max_in_any_second(times),
            'summary': summary, 'dynamodb_per_message': requests / sent,
            'job_ms': job_cpu * 1000 / sent, 'moto_ms': moto_cpu * 1000 / sent}


def run(server):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    twilio, proxy = use_fakes(server)
    try:
        counts = [count_run(server, size, now) for size in SIZES]
        speeds = [throughput_run(server, twilio, proxy, 100, HIGH_RATE, THROUGHPUT_WORKERS, now, size=1000),
                  throughput_run(server, twilio, proxy, 100, HIGH_RATE, THROUGHPUT_WORKERS, now),
                  throughput_run(server, twilio, proxy, 20, LOW_RATE, THROUGHPUT_WORKERS, now)]
    finally:
        stop_fakes(twilio, proxy)
    return counts, speeds


def markdown(measured):
    counts, speeds = measured
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
              'one second. CPU per message: the run\'s process (job, botocore, the in-process fakes) '
              'and the moto server, from /proc.', '',
              '| reminders due | circles in the table | rate limit (/s) | workers | messages sent | seconds '
              '| messages/s | busiest second | DynamoDB requests per message | CPU per message: job / moto '
              '| goal |',
              '|---|---|---|---|---|---|---|---|---|---|---|']
    for s in speeds:
        if s['rate'] >= HIGH_RATE:
            goal = f"≥ 200/s: **{'met' if s['per_second'] >= 200 else 'NOT met'}**"
        else:
            goal = f"≤ {s['rate']} in any second: **{'met' if s['busiest_second'] <= s['rate'] else 'NOT met'}**"
        lines.append(f"| {s['due']} | {s['size']:,} | {s['rate']:,} | {s['workers']} | {s['sent']} of "
                     f"{s['expected']} | {s['seconds']:.1f} | {s['per_second']:.0f} | {s['busiest_second']} | "
                     f"{s['dynamodb_per_message']:.2f} | {s['job_ms']:.1f} ms / {s['moto_ms']:.1f} ms | {goal} |")
    fast = speeds[1]
    lines += ['', f"On {os.cpu_count()} CPUs shared by the run and moto, the CPU alone allows about "
              f"{os.cpu_count() * 1000 / (fast['job_ms'] + fast['moto_ms']):.0f} messages/s "
              f"({os.cpu_count()} × 1000 ms / {fast['job_ms'] + fast['moto_ms']:.1f} ms), and the run's "
              f"own process, one core under the GIL, about {1000 / fast['job_ms']:.0f}/s."]
    return '\n'.join(lines) + '\n'


def main():
    from bench.report import run_alone
    run_alone(START, END, run, markdown)


if __name__ == '__main__':
    main()
