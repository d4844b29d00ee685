"""The local scheduler: fires the app's `@schedule` jobs on their schedules, since
`chalice local` never does.

The jobs are found on the Chalice app (`app.event_sources`), their EventBridge
schedule expressions (`rate(...)`, `cron(...)`) are evaluated here in UTC, and
each firing calls the job's Lambda handler with a scheduled-event payload, in a
fresh process (`python -m scripts.local_scheduler invoke-job NAME`), as Lambda would.
"""
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger('local_stack')

RATE_SECONDS = {'minute': 60, 'minutes': 60, 'hour': 3600, 'hours': 3600, 'day': 86400, 'days': 86400}
MONTHS = {name: n for n, name in enumerate(
    ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], start=1)}
WEEKDAYS = {name: n for n, name in enumerate(['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], start=1)}
CRON_RANGES = [(0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (1, 7, WEEKDAYS), (1970, 2199, {})]


def schedule_text(expression):
    """`rate(5 minutes)` / `cron(...)`, from a Chalice Rate/Cron object or the string form."""
    return expression if isinstance(expression, str) else expression.to_string()


def _cron_values(field, low, high, names):
    """The set of values an EventBridge cron field allows; None for `?` (no constraint)."""
    if field == '?':
        return None
    values = set()
    numbered = re.sub(r'[A-Z]{3}', lambda m: str(names.get(m.group(), m.group())), field.upper())
    if not re.fullmatch(r'[0-9*,/-]+', numbered):   # L, W and # are not supported here
        raise ValueError(f'cron field not supported by the local scheduler: {field}')
    for part in numbered.split(','):
        span, _, step = part.partition('/')
        if span == '*':
            start, end = low, high
        else:
            first, _, last = span.partition('-')
            start = int(first)
            end = int(last) if last else (high if step else start)
        values.update(range(start, end + 1, int(step or 1)))
    return values


def parse_schedule(expression):
    """('rate', seconds) or ('cron', [six value sets]) for an EventBridge schedule expression."""
    text = schedule_text(expression).strip()
    rate = re.fullmatch(r'rate\((\d+)\s+(\w+)\)', text)
    if rate and rate.group(2).lower() in RATE_SECONDS and int(rate.group(1)) > 0:
        return 'rate', int(rate.group(1)) * RATE_SECONDS[rate.group(2).lower()]
    cron = re.fullmatch(r'cron\((.+)\)', text)
    if cron and len(cron.group(1).split()) == 6:
        return 'cron', [_cron_values(f, low, high, names)
                        for f, (low, high, names) in zip(cron.group(1).split(), CRON_RANGES)]
    raise ValueError(f'not a schedule expression: {text}')


def _day_matches(fields, instant):
    day_of_month, day_of_week = fields[2], fields[4]
    aws_weekday = (instant.weekday() + 1) % 7 + 1    # EventBridge: 1 = Sunday
    return ((day_of_month is None or instant.day in day_of_month)
            and (day_of_week is None or aws_weekday in day_of_week))


def next_cron_time(fields, after):
    """The first whole minute after `after` (UTC, as EventBridge evaluates cron) that matches."""
    minutes, hours, _, months, _, years = fields
    instant = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    limit = instant + timedelta(days=366 * 5)
    while instant < limit:
        if instant.year not in years or instant.month not in months or not _day_matches(fields, instant):
            instant = (instant + timedelta(days=1)).replace(hour=0, minute=0)
        elif instant.hour not in hours:
            instant = (instant + timedelta(hours=1)).replace(minute=0)
        elif instant.minute not in minutes:
            instant += timedelta(minutes=1)
        else:
            return instant
    raise ValueError('this cron expression never fires')


@dataclass
class ScheduledJob:
    name: str
    expression: str
    kind: str
    rule: object     # seconds for a rate, the cron value sets for a cron
    next_run: datetime = None

    def schedule_next(self, now, first=False):
        if self.kind == 'rate':
            # EventBridge first fires a new rate rule within one period; we fire at once so
            # work left from the last session goes out, then every period.
            self.next_run = now if first else now + timedelta(seconds=self.rule)
        else:
            self.next_run = next_cron_time(self.rule, now)


def scheduled_jobs(app):
    """Every `@schedule` job registered on the Chalice app, with its parsed schedule."""
    from chalice.app import ScheduledEventConfig
    jobs = []
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        expression = schedule_text(source.schedule_expression)
        try:
            kind, rule = parse_schedule(expression)
        except ValueError as error:
            log.warning('scheduler: not scheduling %s (%s); run it by hand with '
                        '`python -m chalicelib.ops.cli run-job %s`', source.name, error, source.name)
            continue
        jobs.append(ScheduledJob(source.name, expression, kind, rule))
    return jobs


def scheduled_event(job_name, now, region='us-east-1'):
    """The event EventBridge sends a scheduled Lambda (the shape `chalice.app.CloudWatchEvent` reads)."""
    return {
        'version': '0', 'id': str(uuid.uuid4()), 'detail-type': 'Scheduled Event',
        'source': 'aws.events', 'account': '123456789012',
        'time': now.strftime('%Y-%m-%dT%H:%M:%SZ'), 'region': region,
        'resources': [f'arn:aws:events:{region}:123456789012:rule/circles-dev-{job_name}'],
        'detail': {},
    }


def invoke_job(app, job_name, now):
    """Call the job's Lambda handler as Lambda would: (event, context)."""
    from chalice.local import LambdaContext
    return app.handler_map[job_name](scheduled_event(job_name, now), LambdaContext(job_name, memory_size=128))


def chalice_stage_environment(stage='local'):
    """The environment variables Lambda (and `chalice local`) give the app in this stage."""
    config = json.loads((ROOT / '.chalice' / 'config.json').read_text())
    env = dict(config.get('environment_variables', {}))
    env.update(config.get('stages', {}).get(stage, {}).get('environment_variables', {}))
    return env


class LocalScheduler(threading.Thread):
    """Fires each scheduled job at its times, one at a time.

    Each firing runs in a fresh process, like a Lambda invocation: it uses the code
    as it is now, and a crashing job cannot take the stack down. A failed run is
    logged and the job scheduled again, as EventBridge would invoke it again.
    """
    JOB_TIMEOUT = 300

    def __init__(self, jobs):
        super().__init__(name='local-scheduler', daemon=True)
        self.jobs = jobs
        self.stopping = threading.Event()
        self.running = None   # the job process, while one runs

    def run(self):
        now = datetime.now(timezone.utc)
        for job in self.jobs:
            job.schedule_next(now, first=True)
        while not self.stopping.is_set():
            for job in sorted(self.jobs, key=lambda j: j.next_run):
                if job.next_run <= datetime.now(timezone.utc) and not self.stopping.is_set():
                    outcome, seconds = self.run_job(job)
                    job.schedule_next(datetime.now(timezone.utc))
                    log.info('scheduler: %s %s (%s) in %.1f s; next at %s', outcome, job.name,
                             job.expression, seconds, job.next_run.astimezone().strftime('%H:%M:%S'))
            wait = min(job.next_run for job in self.jobs) - datetime.now(timezone.utc)
            self.stopping.wait(max(0.1, min(wait.total_seconds(), 30)))

    def run_job(self, job):
        """Its own session, so a Ctrl-C in the terminal lets the run finish instead of killing it."""
        started = time.monotonic()
        self.running = subprocess.Popen(
            [sys.executable, '-m', 'scripts.local_scheduler', 'invoke-job', job.name],
            cwd=ROOT, env={**os.environ, **chalice_stage_environment()}, start_new_session=True)
        try:
            code = self.running.wait(self.JOB_TIMEOUT)
            outcome = 'ran' if code == 0 else f'FAILED (exit code {code})'
        except subprocess.TimeoutExpired:
            self.running.kill()
            self.running.wait()
            outcome = f'TIMED OUT after {self.JOB_TIMEOUT} s'
        self.running = None
        return outcome, time.monotonic() - started

    def stop(self, timeout=30):
        """Let a running job finish, but not forever."""
        self.stopping.set()
        self.join(timeout)
        job = self.running
        if job is not None and job.poll() is None:
            job.kill()
            job.wait()


def invoke_job_once(job_name):
    """`python -m scripts.local_scheduler invoke-job NAME`: what the scheduler runs for each firing."""
    from app import app
    result = invoke_job(app, job_name, datetime.now(timezone.utc))
    if result is not None:
        print(f'{job_name} returned {result!r}')


if __name__ == '__main__':
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s', datefmt='%H:%M:%S')
    for noisy in ('botocore', 'pynamodb'):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if sys.argv[1:2] != ['invoke-job'] or len(sys.argv) != 3:
        sys.exit('usage: python -m scripts.local_scheduler invoke-job NAME')
    invoke_job_once(sys.argv[2])
