"""The outbox sender: the original's busiest run drained under the global rate, CPU and
DynamoDB calls per message, and how soon a welcome email leaves after a signup on the
`make run` stack.

1. **Drain.** A backlog the size of the original system's busiest reminder run, 2,246
   emails and 595 SMS, waits in the outbox: welcome emails (the real `welcome` template:
   read, rendered, MIME-built) and texts (a bench template: the learner's name in a fixed
   sentence; no reminder world is seeded), mixed in the order they were written. Two
   senders work at once, as two Lambda invocations would: two threads taking stream-sized
   batches of 100 items from one queue and calling `sender.send_items`. SES is a stand-in
   that answers every SendEmail after 50 ms (`tests.support.ses_fault_proxy`), Twilio the
   tests' fake (`tests.support.twilio_fake`) answering after 50 ms, each in a process of
   its own so that their CPU is not counted. Both channels get the same limit, 14/s (an
   SES account's starting rate) and 100/s (`CIRCLES_MAX_SMS_PER_SECOND` defaults to 1/s,
   one Twilio long code: that drain is computed, 595 s). At 100/s the whole backlog is
   drained; at 14/s (about 170 s) a steady-state window of DRAIN_WINDOW_SECONDS worth is
   sent and the drain time computed from the rate achieved, unless
   `CIRCLES_BENCH_FULL_DRAIN=1`. Reported per channel: the rate achieved (sends after the
   first over the time from first to last arrival), the busiest one-second window of
   arrivals (goal: never above the limit), and the drain time; for the process: CPU per
   message (`time.process_time()`, every thread of this process; moto and the fakes run
   elsewhere) and DynamoDB calls per message.
2. **Welcome latency.** `make run`'s stack (scripts/local_stack.py, with its stream poller)
   starts in a temporary folder; 20 signups are POSTed one after the other, and for each we
   time how long until moto records the welcome email to that learner (polled every 20 ms).
   Goal: p95 within 5 s.

Run alone with `python -m bench.sender` (writes only its own part of BENCHMARKS.md).
"""
import bisect
import json
import math
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
BACKLOG = {'email': 2246, 'sms': 595}       # the original's busiest run (208 reminders due)
LIMITS = (14, 100)                          # messages per second allowed, each channel
TWILIO_DEFAULT = 1                          # settings.max_sms_per_second unless configured
DRAIN_WINDOW_SECONDS = 30                   # at 14/s, unless CIRCLES_BENCH_FULL_DRAIN=1
SENDERS = 2
BATCH = 100
SIGNUPS = 20
TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM = 'AC' + '0123456789abcdef' * 2, 'bench-twilio-token', '+13125550000'


def _serve_ses(moto_url, connection):
    """Child process: the SES stand-in; sends back the arrival times when told to stop."""
    from tests.support.ses_fault_proxy import SesFaultProxy
    proxy = SesFaultProxy(moto_url)
    proxy.reset(delay_seconds=PROVIDER_DELAY, answer_sends=True)
    connection.send(proxy.url)
    connection.recv()
    connection.send(proxy.send_times())
    proxy.stop()


def _serve_twilio(connection):
    """Child process: the Twilio fake answering after 50 ms; sends back the accepted arrivals."""
    from tests.support.twilio_fake import TwilioFake
    fake = TwilioFake(TWILIO_SID, TWILIO_TOKEN)
    fake.delay_seconds = PROVIDER_DELAY
    connection.send(fake.url)
    connection.recv()
    connection.send([r['at'] for r in fake.received if r['status'] == 201])
    fake.stop()


class StandIn:
    """A provider in its own process (its CPU is not ours); `arrivals()` stops it."""

    def __init__(self, target, *args):
        self.connection, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context('spawn').Process(target=target, args=(*args, child))
        self.process.start()
        self.url = self.connection.recv()

    def arrivals(self):
        self.connection.send('stop')
        times = self.connection.recv()
        self.process.join(10)
        return sorted(times)


def _bench_sms(item, reads, to, now):
    from chalicelib.models import Signup
    signup = reads[Signup.key(item.circle_id, item.signup_id)]
    return f'Hi {signup.name}, your learning circle meets Tuesday at 6pm. Reply STOP to stop texts'


def seed_backlog(emails, texts):
    """A circle with `emails` learners, their welcome items, and a text to the first `texts` of
    them, interleaved as a reminder run writes them (batch writes)."""
    from chalicelib.circles import circles
    from chalicelib.learners.signup import CONSENT_VERSION, signup_id_for
    from chalicelib.learners.welcome import welcome_items
    from chalicelib.messaging import outbox
    from chalicelib.models import Signup, TableItem
    from tests.support.factories import make_circle
    circle = make_circle(capacity=None)
    now = circles.utcnow()
    items, every = [], max(1, emails // max(texts, 1))
    with TableItem.batch_write() as batch:
        for n in range(emails):
            email = f'learner{n}@example.org'
            signup_id = signup_id_for(circle.id, email)
            text = n % every == 0 and n // every < texts
            signup = Signup(*Signup.key(circle.id, signup_id), signup_id=signup_id, circle_id=circle.id,
                            name=f'Learner {n}', email=email, consent_at=now, consent_version=CONSENT_VERSION,
                            created_at=now, mobile=f'+1312{n:07d}' if text else None)
            batch.save(signup)
            welcome = welcome_items(signup, circle, now)[0]
            batch.save(welcome)
            items.append(welcome)
            if text:
                sms = outbox.for_signup(signup, 'bench', outbox.SMS, 'bench_sms', now)
                batch.save(sms)
                items.append(sms)
    return items


def backlog_at(rate):
    """(emails, texts) to send at `rate`: all of the backlog, or a steady-state window of it."""
    if rate >= 100 or os.environ.get('CIRCLES_BENCH_FULL_DRAIN') == '1':
        return BACKLOG['email'], BACKLOG['sms']
    emails = int(rate * DRAIN_WINDOW_SECONDS)
    return emails, round(emails * BACKLOG['sms'] / BACKLOG['email'])


def channel_figures(arrivals, rate, backlog, started):
    """Achieved rate, busiest 1 s window of arrivals, and the drain time (measured when the whole
    backlog was sent, else the backlog over the achieved rate)."""
    busiest = max((bisect.bisect_left(arrivals, start + 1.0) - i for i, start in enumerate(arrivals)), default=0)
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0
    achieved = (len(arrivals) - 1) / span if span else 0.0
    whole = len(arrivals) >= backlog
    drain = arrivals[-1] - started if whole and arrivals else (backlog / achieved if achieved else None)
    return {'sent': len(arrivals), 'achieved': round(achieved, 2), 'share': round(achieved / rate * 100, 1),
            'busiest': busiest, 'drain_s': round(drain, 1) if drain else None, 'measured': whole}


def throughput(server, rate):
    from chalicelib.core.settings import get_settings
    from chalicelib.messaging import email, sender
    from chalicelib.ops.outbox_templates import templates
    from bench import dynamodb_calls
    dynamodb_calls.fresh_table(server)
    ses, twilio = StandIn(_serve_ses, server.url), StandIn(_serve_twilio)
    settings = dict(AWS_ENDPOINT_URL_SESV2=ses.url, CIRCLES_MAX_SENDS_PER_SECOND=str(rate),
                    CIRCLES_MAX_SMS_PER_SECOND=str(rate), CIRCLES_SEND_WORKERS='8', TWILIO_API_BASE=twilio.url,
                    TWILIO_ACCOUNT_SID=TWILIO_SID, TWILIO_AUTH_TOKEN=TWILIO_TOKEN, TWILIO_FROM_NUMBER=TWILIO_FROM)
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    get_settings.cache_clear()
    email.ses_client.cache_clear()
    emails, texts = backlog_at(rate)
    try:
        items = seed_backlog(emails, texts)
        work = queue.Queue()
        for start in range(0, len(items), BATCH):
            work.put(items[start:start + BATCH])
        states = []
        table = {**templates(), 'bench_sms': sender.Template(keys=lambda item: [], render=_bench_sms)}

        def one_sender():
            while True:
                try:
                    batch = work.get_nowait()
                except queue.Empty:
                    return
                states.append(sender.send_items(batch, table))
        aws_calls.reset()
        cpu, started, clock = time.process_time(), time.monotonic(), time.monotonic()
        threads = [threading.Thread(target=one_sender) for _ in range(SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
        calls = aws_calls.dynamodb_calls()
    finally:
        email_arrivals, sms_arrivals = ses.arrivals(), twilio.arrivals()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        email.ses_client.cache_clear()
    sent = sum(s.get('sent', 0) for s in states)
    return {'rate': rate, 'messages': len(items), 'sent': sent, 'seconds': round(seconds, 2),
            'email': channel_figures(email_arrivals, rate, BACKLOG['email'], clock),
            'sms': channel_figures(sms_arrivals, rate, BACKLOG['sms'], clock),
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
    return {'throughput': [throughput(server, rate) for rate in LIMITS], 'latency': welcome_latency()}


def markdown(result):
    rows = ['| limit (each channel, /s) | channel | sent | achieved rate | share of the limit | busiest 1 s window | '
            'drain of the backlog |', '|---|---|---|---|---|---|---|']
    for r in result['throughput']:
        for channel in ('email', 'sms'):
            c = r[channel]
            verdict = 'met' if c['busiest'] <= r['rate'] else 'NOT MET'
            share = 'met' if c['share'] >= 95 else 'below 95 %'
            drain = f"{c['drain_s']} s" + (' (measured)' if c['measured'] else ' (computed from the rate)')
            rows.append(f"| {r['rate']} | {channel} ({BACKLOG[channel]:,} in the backlog) | {c['sent']} | "
                        f"{c['achieved']}/s | {c['share']} % ({share}) | {c['busiest']} ({verdict}) | {drain} |")
    cpu_rows = ['| limit | messages sent | seconds | app CPU per message (goal ≤ 3 ms) | DynamoDB calls per message |',
                '|---|---|---|---|---|']
    for r in result['throughput']:
        cpu_rows.append(f"| {r['rate']}/s | {r['sent']} | {r['seconds']} | {r['cpu_ms']} ms "
                        f"({'met' if r['cpu_ms'] <= 3 else 'NOT MET'}) | {r['calls']} |")
    operations = '; '.join(f"limit {r['rate']}: " + ', '.join(f'{k} {v}' for k, v in sorted(r['by_operation'].items()))
                           for r in result['throughput'])
    latency = result['latency']
    return '\n'.join([
        f'Drain of the original\'s busiest run ({BACKLOG["email"]:,} emails, {BACKLOG["sms"]} SMS; {SENDERS} senders '
        f'at once, batches of {BATCH}, SES stand-in and Twilio fake answering after {int(PROVIDER_DELAY * 1000)} ms; '
        f'at 14/s a {DRAIN_WINDOW_SECONDS} s window):', '', *rows, '',
        f'At Twilio\'s default of {TWILIO_DEFAULT}/s (`CIRCLES_MAX_SMS_PER_SECOND` unset) the texts would take '
        f'{math.ceil(BACKLOG["sms"] / TWILIO_DEFAULT)} s.', '', *cpu_rows, '',
        f'DynamoDB calls by operation: {operations}.', '',
        f'Welcome latency on the `make run` stack ({SIGNUPS} signups, response to email in moto): '
        f"p50 {latency['p50']} s, p95 {latency['p95']} s, max {latency['max']} s "
        f"(goal p95 ≤ 5 s: {'met' if latency['p95'] <= 5 else 'NOT MET'}).", ''])


def main():
    from bench.report import run_alone
    run_alone(START, END, run, markdown)


if __name__ == '__main__':
    main()
