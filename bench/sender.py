"""The outbox sender: throughput under the global rate, CPU and DynamoDB calls per message,
and how soon a welcome email leaves after a signup on the `make run` stack.

1. **Throughput.** MESSAGES welcome emails (the real `welcome` template: read, rendered,
   MIME-built) wait in the outbox. Two senders work at once, as two Lambda invocations
   would: two threads taking stream-sized batches of 100 items from one queue and calling
   `sender.send_items`. SES is a stand-in that answers every SendEmail after 50 ms
   (`tests.support.ses_fault_proxy`, in a separate process, so its CPU is not counted), at a
   configured rate of 14/s (an SES account's starting rate) and of 100/s. Reported: the rate
   achieved, the busiest one-second window of arrivals at the stand-in (goal: never above the
   limit), the app process's CPU per message (`time.process_time()`: every thread of this
   process; moto and the stand-in run elsewhere) and DynamoDB calls per message.
2. **Welcome latency.** `make run`'s stack (scripts/local_stack.py, with its stream poller)
   starts in a temporary folder; 20 signups are POSTed one after the other, and for each we
   time how long until moto records the welcome email to that learner (polled every 20 ms).
   Goal: p95 within 5 s.

Run alone with `python -m bench.sender` (writes only its own part of BENCHMARKS.md).
"""
import json
import multiprocessing
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from tests.support import aws_calls

START = '<!-- sender bench results start -->'
END = '<!-- sender bench results end -->'
ROOT = Path(__file__).resolve().parent.parent
PROVIDER_DELAY = 0.05
RUNS = ((14, 140), (100, 1000))      # (messages per second allowed, messages)
SENDERS = 2
BATCH = 100
SIGNUPS = 20


def _serve_ses(moto_url, connection):
    """Child process: the SES stand-in; sends back the arrival times when told to stop."""
    from tests.support.ses_fault_proxy import SesFaultProxy
    proxy = SesFaultProxy(moto_url)
    proxy.reset(delay_seconds=PROVIDER_DELAY, answer_sends=True)
    connection.send(proxy.url)
    connection.recv()
    connection.send(proxy.send_times())
    proxy.stop()


class SesStandIn:
    def __init__(self, moto_url):
        self.connection, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context('spawn').Process(target=_serve_ses, args=(moto_url, child))
        self.process.start()
        self.url = self.connection.recv()

    def arrivals(self):
        self.connection.send('stop')
        times = self.connection.recv()
        self.process.join(10)
        return times


def seed_welcomes(count):
    """A circle with `count` learners and their welcome items in the outbox (batch writes)."""
    from chalicelib.circles import circles
    from chalicelib.learners.signup import CONSENT_VERSION, signup_id_for
    from chalicelib.learners.welcome import welcome_items
    from chalicelib.messaging import outbox
    from chalicelib.models import Signup, TableItem
    from tests.support.factories import make_circle
    circle = make_circle(capacity=None)
    now = circles.utcnow()
    items = []
    with TableItem.batch_write() as batch:
        for n in range(count):
            email = f'learner{n}@example.org'
            signup_id = signup_id_for(circle.id, email)
            signup = Signup(*Signup.key(circle.id, signup_id), signup_id=signup_id, circle_id=circle.id,
                            name=f'Learner {n}', email=email, consent_at=now, consent_version=CONSENT_VERSION,
                            created_at=now)
            batch.save(signup)
            welcome = welcome_items(signup, circle, now)[0]
            batch.save(welcome)
            items.append(welcome)
    return items


def throughput(server, rate, count):
    from chalicelib.core.settings import get_settings
    from chalicelib.messaging import email, sender
    from chalicelib.ops.outbox_templates import templates
    from bench import dynamodb_calls
    dynamodb_calls.fresh_table(server)
    stand_in = SesStandIn(server.url)
    os.environ.update(AWS_ENDPOINT_URL_SESV2=stand_in.url, CIRCLES_MAX_SENDS_PER_SECOND=str(rate),
                      CIRCLES_SEND_WORKERS='8')
    get_settings.cache_clear()
    email.ses_client.cache_clear()
    try:
        items = seed_welcomes(count)
        work = queue.Queue()
        for start in range(0, len(items), BATCH):
            work.put(items[start:start + BATCH])
        states = []

        def one_sender():
            while True:
                try:
                    batch = work.get_nowait()
                except queue.Empty:
                    return
                states.append(sender.send_items(batch, templates()))
        templates()
        aws_calls.reset()
        cpu, started = time.process_time(), time.monotonic()
        threads = [threading.Thread(target=one_sender) for _ in range(SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
        calls = aws_calls.dynamodb_calls()
    finally:
        arrivals = sorted(stand_in.arrivals())
        for name in ('AWS_ENDPOINT_URL_SESV2', 'CIRCLES_MAX_SENDS_PER_SECOND', 'CIRCLES_SEND_WORKERS'):
            os.environ.pop(name, None)
        get_settings.cache_clear()
        email.ses_client.cache_clear()
    sent = sum(s.get('sent', 0) for s in states)
    busiest = max((sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals), default=0)
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0
    return {'rate': rate, 'messages': count, 'sent': sent, 'seconds': round(seconds, 2),
            'achieved': round((len(arrivals) - 1) / span, 1) if span else 0.0, 'busiest': busiest,
            'cpu_ms': round(cpu / max(sent, 1) * 1000, 2),
            'calls': round(sum(calls.values()) / max(sent, 1), 2), 'by_operation': calls}


def welcome_latency():
    """Seconds from each signup's response to its welcome in moto, on a real `make run` stack."""
    from tests.support.moto_server import free_port
    port, moto_port = free_port(), free_port()
    local = Path(tempfile.mkdtemp(prefix='circles-bench-'))
    env = {k: v for k, v in os.environ.items() if not k.startswith(('AWS_', 'CIRCLES_'))}
    env.update(CIRCLES_LOCAL_DIR=str(local), CIRCLES_LOCAL_PORT=str(port), CIRCLES_MOTO_PORT=str(moto_port),
               CIRCLES_LOCAL_AUTORELOAD='0', PYTHONUNBUFFERED='1',
               CIRCLES_RATE_LIMITS='off')      # 20 signups from one address: the limits would refuse them
    stack = subprocess.Popen([sys.executable, '-m', 'scripts.local_stack'], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    site, moto = f'http://127.0.0.1:{port}', f'http://127.0.0.1:{moto_port}'
    try:
        for line in stack.stdout:
            if 'Demo logins' in line:
                break
        with urllib.request.urlopen(f'{site}/api/learningcircles/', timeout=30) as response:
            items = json.load(response)['items']
        circle = next(i for i in items if i['status'] == 'upcoming' and not i.get('signup_limit'))
        latencies = []
        for n in range(SIGNUPS):
            address = f'latency{n}@example.org'
            body = json.dumps({'learning_circle': circle['id'], 'name': 'Lat', 'email': address, 'consent': True,
                               'signup_questions': {'goals': 'Learn', 'support': '', 'custom_question': 'x'}})
            request = urllib.request.Request(f'{site}/api/signup', data=body.encode(), method='POST',
                                             headers={'Content-Type': 'application/json'})
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
            answered = time.monotonic()
            while f'To: {address}' not in _raw_emails(moto):
                if time.monotonic() - answered > 30:
                    raise RuntimeError(f'no welcome to {address} within 30 s')
                time.sleep(0.02)
            latencies.append(time.monotonic() - answered)
    finally:
        stack.terminate()
        stack.wait(30)
    latencies.sort()
    return {'p50': round(statistics.median(latencies), 2),
            'p95': round(latencies[int(0.95 * (len(latencies) - 1) + 0.5)], 2), 'max': round(latencies[-1], 2)}


def _raw_emails(moto):
    with urllib.request.urlopen(f'{moto}/moto-api/data.json', timeout=10) as response:
        data = json.load(response)
    return '\n'.join(m['raw_data'][:2000] for m in data.get('ses', {}).get('RawMessage', []))


def run(server):
    return {'throughput': [throughput(server, rate, count) for rate, count in RUNS], 'latency': welcome_latency()}


def markdown(result):
    rows = ['| limit (emails/s) | messages | sent | seconds | achieved rate | busiest 1 s window | '
            'app CPU per message | DynamoDB calls per message |', '|---|---|---|---|---|---|---|---|']
    for r in result['throughput']:
        verdict = 'met' if r['busiest'] <= r['rate'] else 'NOT MET'
        rows.append(f"| {r['rate']} | {r['messages']} | {r['sent']} | {r['seconds']} | {r['achieved']}/s | "
                    f"{r['busiest']} ({verdict}) | {r['cpu_ms']} ms | {r['calls']} |")
    operations = '; '.join(f"limit {r['rate']}: " + ', '.join(f'{k} {v}' for k, v in sorted(r['by_operation'].items()))
                           for r in result['throughput'])
    latency = result['latency']
    return '\n'.join([
        f'Sender throughput ({SENDERS} senders at once, batches of {BATCH}, SES stand-in answering after '
        f'{int(PROVIDER_DELAY * 1000)} ms):', '', *rows, '', f'DynamoDB calls by operation: {operations}.', '',
        f'Welcome latency on the `make run` stack ({SIGNUPS} signups, response to email in moto): '
        f"p50 {latency['p50']} s, p95 {latency['p95']} s, max {latency['max']} s "
        f"(goal p95 ≤ 5 s: {'met' if latency['p95'] <= 5 else 'NOT MET'}).", ''])


def main():
    from bench.report import run_alone
    run_alone(START, END, run, markdown)


if __name__ == '__main__':
    main()
