import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chalicelib.ops import cli
from chalicelib.circles import circles
from chalicelib.learners.signup import sign_up
from scripts.local_scheduler import (invoke_job, next_cron_time, parse_schedule, scheduled_event,
                                     scheduled_jobs)
from tests.support.factories import make_circle
from tests.support.moto_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def app_jobs():
    from app import app
    return {job.name: job for job in scheduled_jobs(app)}


def test_scheduler_finds_every_registered_job_with_its_rate():
    jobs = app_jobs()
    assert 'send-outbox-sweep' in jobs
    job = jobs['send-outbox-sweep']
    assert (job.kind, job.rule, job.expression) == ('rate', 300, 'rate(5 minutes)')


def test_every_scheduled_job_can_be_run_once_from_the_cli():
    assert set(app_jobs()) <= set(cli.JOBS)


def test_cron_schedules_fire_at_the_next_matching_utc_minute():
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)
    _, weekdays_at_nine = parse_schedule('cron(0 9 ? * MON-FRI *)')
    assert next_cron_time(weekdays_at_nine, saturday) == datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    _, sundays = parse_schedule('cron(30 6 ? * 1 *)')       # EventBridge: 1 is Sunday
    assert next_cron_time(sundays, saturday) == datetime(2026, 11, 29, 6, 30, tzinfo=timezone.utc)
    _, every_ten = parse_schedule('cron(0/10 * * * ? *)')
    assert next_cron_time(every_ten, saturday) == datetime(2026, 11, 28, 15, 10, tzinfo=timezone.utc)
    _, new_year = parse_schedule('cron(15 8 1 JAN ? *)')
    assert next_cron_time(new_year, saturday) == datetime(2027, 1, 1, 8, 15, tzinfo=timezone.utc)


def test_schedules_the_local_scheduler_cannot_follow_are_refused():
    for expression in ['cron(0 9 L * ? *)', 'cron(0 9 ? * 2#1 *)', 'rate(0 minutes)', 'every day']:
        with pytest.raises(ValueError):
            parse_schedule(expression)


def undelivered_welcome(signed_up_at):
    """A signup whose welcome the stream never delivered (the sweep's work)."""
    circle = make_circle()
    sign_up(circle.id, {'name': 'Lee', 'email': 'lee@example.org', 'consent': True}, signed_up_at)


def test_a_scheduled_event_reaches_the_job_like_lambda_sends_it(moto):
    from app import app
    undelivered_welcome(circles.utcnow() - timedelta(minutes=10))
    now = circles.utcnow()
    event = scheduled_event('send-outbox-sweep', now)
    assert (event['detail-type'], event['source']) == ('Scheduled Event', 'aws.events')
    invoke_job(app, 'send-outbox-sweep', now)
    assert 'You signed up for Python for Everybody' in [m['Subject'] for m in moto.sent_emails(drain=False)]


def test_cli_runs_a_job_once_at_the_given_instant(moto, capsys):
    signed_up_at = circles.utcnow()
    undelivered_welcome(signed_up_at)
    cli.main(['run-job', 'send-outbox-sweep', '--now', signed_up_at.isoformat()])
    assert moto.sent_emails(drain=False) == []     # the stream's to deliver, not yet the sweep's
    later = (signed_up_at + timedelta(minutes=10)).replace(tzinfo=None).isoformat()   # naive: UTC
    cli.main(['run-job', 'send-outbox-sweep', '--now', later])
    assert len([m for m in moto.sent_emails(drain=False) if m['To'] == 'lee@example.org']) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "send-outbox-sweep: {'sent': 2}"


# --- the whole stack, as `make run` starts it -------------------------------------------

def wait_until(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f'not within {timeout} s'
        time.sleep(0.1)


def developer_environment(local_dir, port, moto_port):
    """A shell without the test session's AWS and CIRCLES settings: the stack sets its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('AWS_', 'CIRCLES_'))}
    env.update(CIRCLES_LOCAL_DIR=str(local_dir), CIRCLES_LOCAL_PORT=str(port),
               CIRCLES_MOTO_PORT=str(moto_port), CIRCLES_LOCAL_AUTORELOAD='0', PYTHONUNBUFFERED='1')
    return env


class RunningStack:
    def __init__(self, env):
        self.output = []
        self.process = subprocess.Popen([sys.executable, '-m', 'scripts.local_stack'], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for('Circles is running', timeout=45)

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)

    @property
    def text(self):
        return ''.join(self.output)

    def wait_for(self, words, timeout):
        deadline = time.monotonic() + timeout
        while words not in self.text:
            assert self.process.poll() is None, f'local stack exited:\n{self.text}'
            assert time.monotonic() < deadline, f'no "{words}" within {timeout} s:\n{self.text}'
            time.sleep(0.1)

    def interrupt(self):
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(30)
        self._reader.join(5)
        return code


def descendants(pid):
    """(pid, command line) of every process below `pid`, read from /proc."""
    children = {}
    for entry in Path('/proc').iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / 'stat').read_text().rsplit(')', 1)[1].split()[1])
                command = (entry / 'cmdline').read_bytes().replace(b'\0', b' ').decode()
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append((int(entry.name), command))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def still_running(process):
    pid, command = process
    try:
        return (Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode() == command
                and 'Z' not in Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0])
    except OSError:
        return False


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method='POST',
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.load(response)


def run_briefly(env):
    return subprocess.run([sys.executable, '-m', 'scripts.local_stack'], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.slow
@pytest.mark.skipif(not Path('/proc/self/stat').exists(), reason='reads child processes from /proc')
def test_local_stack_serves_refuses_a_second_copy_and_keeps_data_across_restarts(tmp_path):
    started = time.monotonic()
    port, moto_port = free_port(), free_port()
    site = f'http://127.0.0.1:{port}'
    env = developer_environment(tmp_path / 'local', port, moto_port)
    stack = RunningStack(env)
    ready_after = time.monotonic() - started

    assert get(f'{site}/')[0] == 200
    assert get(f'{site}/local/outbox')[0] == 200
    status, body = get(f'{site}/api/learningcircles/')
    items = json.loads(body)['items']
    assert status == 200 and len(items) >= 12
    assert f'http://127.0.0.1:{moto_port}/moto-api/' in stack.text
    assert 'facilitator@example.org' in stack.text and 'password:' in stack.text

    second = run_briefly(env)
    assert second.returncode == 1
    assert f'already running (pid {stack.process.pid}) at {site}/' in second.stderr
    elsewhere = run_briefly({**env, 'CIRCLES_LOCAL_DIR': str(tmp_path / 'elsewhere')})
    assert elsewhere.returncode == 1
    assert f'Something is already serving {site}/' in elsewhere.stderr

    circle = next(item for item in items if item['status'] == 'upcoming' and not item.get('signup_limit'))
    assert post_json(f'{site}/api/signup', {
        'learning_circle': circle['id'], 'name': 'Rosa Díaz', 'email': 'rosa@example.org', 'consent': True,
        'signup_questions': {'goals': 'Learn', 'support': 'None', 'custom_question': 'An answer'},
    }) == (200, {'status': 'created'})
    wait_until(lambda: 'You signed up for' in get(f'{site}/local/outbox')[1], timeout=5)   # the stream sender

    children = descendants(stack.process.pid)
    assert any('moto_launcher' in command for _, command in children)
    assert any('chalice local' in command for _, command in children)
    assert stack.interrupt() == 0
    assert 'Saved' in stack.text
    assert [child for child in children if still_running(child)] == []
    data_file = tmp_path / 'local' / 'data.json'
    assert data_file.exists() and not (tmp_path / 'local' / 'local_stack.json').exists()

    restarted = RunningStack(env)
    assert 'Restored' in restarted.text
    again = json.loads(get(f'{site}/api/learningcircles/{circle["id"]}')[1])
    assert again['signup_count'] == circle['signup_count'] + 1
    assert restarted.interrupt() == 0
    assert time.monotonic() - started < 50, f'took {time.monotonic() - started:.1f} s (ready after {ready_after:.1f} s)'


@pytest.mark.slow
@pytest.mark.skipif(not Path('/proc/self/stat').exists(), reason='reads child processes from /proc')
def test_local_stack_says_so_and_fails_when_moto_dies(tmp_path):
    stack = RunningStack(developer_environment(tmp_path, free_port(), free_port()))
    children = descendants(stack.process.pid)
    moto_pid = next(pid for pid, command in children if 'moto_launcher' in command)
    os.kill(moto_pid, signal.SIGKILL)
    assert stack.process.wait(20) == 1
    stack._reader.join(5)
    assert 'moto_server exited unexpectedly' in stack.text
    assert [child for child in children if still_running(child)] == []
    assert not (tmp_path / 'data.json').exists()
