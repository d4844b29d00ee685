"""A bounded load run against the local server: browse and signup mixed, USERS users, SECONDS s.

The server is the app as `make run` serves it: `scripts/local_stack.py` in a temporary
folder (moto with DynamoDB serialised, the demo data, `chalice local --stage local` and the
stream poller sending welcomes), with the local stage's `CIRCLES_RATE_LIMITS=off` so that
the run's signups are not refused as coming from one address. CIRCLES published circles are
seeded into it with `bench.dynamodb_calls.seed_circles` (batch writes) before the run.

The load comes from a second process on 127.0.0.1: locust (headless, used as a library,
`FastHttpUser`, a new connection per request) with USERS users that never wait, so the server is saturated. Every user
picks its next request by the weights in MIX: the 50 km browse near Chicago, the first page of
10, the browse page `GET /` or a circle's page, and `POST /api/signup` with a distinct email
to one of SIGNUP_CIRCLES open circles without a capacity. A signup succeeds when it answers
200 with `{"status": "created"}`; every other answer, and every failed request, is an error.
One unmeasured request of each kind goes first (the warm container). Before the mixed run,
ALONE_SECONDS of the 50 km browse alone and of the first page alone, the way the original's
throughput was measured. Between runs, and before counting, the bench waits until the server
and moto are idle (requests cut off at the end of a run are still being served).

Reported: requests/s, p50/p95/p99 (wall time seen by the client, moto included) and errors per
kind and in total; then the stored signups of each signup circle, counted with one Query per
circle (`CIRCLE#<id>`, sort key `SIGNUP#`) in a separate process, must be exactly the addresses
whose signup succeeded (none lost, none duplicated, none stored that was refused), and each
circle's signup counter must have grown by as many. Also the server process's peak RSS
(`VmHWM` in /proc) and CPU seconds (utime + stime of the `chalice local` process, before and
after the run) per request, beside moto's.

Not like for like with the original's "24 req/s geo browse, 60 req/s paged" on 2 cores: here
the load generator, moto (an emulator far slower than DynamoDB, serialised by one lock) and
the server share this machine's 2 CPUs, and `chalice local` is a development server (one
process, threads). moto is the bottleneck of the mixed run (its TransactWriteItems deep-copies
the whole table once per item of the transaction, and keeps the copies), so its requests/s
measure moto more than the app; the server's own CPU seconds per request is the like-for-like
number. Every request opens a new connection: kept alive, `chalice local`'s separate writes of
headers and body meet Nagle's algorithm and the client's delayed ACK (40 ms per answer).

    python -m bench.load                      # 60 s, writes its own section of BENCHMARKS.md
    python -m bench.load --seconds 10 --alone-seconds 0 --users 5 --circles 50   # quick, printed only
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = '<!-- load bench results start -->'
END = '<!-- load bench results end -->'
ROOT = Path(__file__).resolve().parent.parent
SECONDS = 60
USERS = 20
CIRCLES = 200
ALONE_SECONDS = 10      # the geo browse alone, then the first page alone
STOP_SECONDS = 15       # at the end of a run, how long requests in flight may take to finish
REQUEST_TIMEOUT = 60.0   # locust's default
SIGNUP_CIRCLES = 10
CHICAGO = (41.88, -87.63)
# (kind, weight): the shape of the original's load (geo browse and paged browse) plus pages and signups.
MIX = (('browse 50 km', 50), ('browse first page of 10', 25), ('GET /', 7.5), ('circle page', 7.5),
       ('POST /api/signup', 10))
ORIGINAL = {'memory_mb': 104, 'geo_rps': 24, 'paged_rps': 60}
CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


# --- the processes -------------------------------------------------------------------

def _proc_stat(pid):
    """(CPU seconds, parent pid) of a live process, from /proc/<pid>/stat."""
    text = Path(f'/proc/{pid}/stat').read_text()
    fields = text[text.rindex(')') + 2:].split()    # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, int(fields[1])


def cpu_seconds(pid):
    return _proc_stat(pid)[0]


def memory_mb(pid):
    """(peak RSS, current RSS) in MB, from /proc/<pid>/status."""
    status = dict(line.split(':', 1) for line in Path(f'/proc/{pid}/status').read_text().splitlines() if ':' in line)
    return round(int(status['VmHWM'].split()[0]) / 1024, 1), round(int(status['VmRSS'].split()[0]) / 1024, 1)


def child_pid(parent, marker):
    """The child of `parent` whose command line contains `marker` (bytes)."""
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if _proc_stat(entry.name)[1] == parent and marker in (entry / 'cmdline').read_bytes():
                return int(entry.name)
        except (OSError, ValueError, IndexError):
            continue
    raise RuntimeError(f'no child of {parent} runs {marker!r}')


class LocalStack:
    """`make run`'s stack in a temporary folder, on free ports; its output goes to a file
    (a pipe nobody reads would fill with chalice's request log and stall the server)."""

    def __init__(self):
        from tests.support.moto_server import free_port
        self.port, self.moto_port = free_port(), free_port()
        self.folder = Path(tempfile.mkdtemp(prefix='circles-load-'))
        self.site, self.moto = f'http://127.0.0.1:{self.port}', f'http://127.0.0.1:{self.moto_port}'
        env = {k: v for k, v in os.environ.items() if not k.startswith(('AWS_', 'CIRCLES_'))}
        env.update(CIRCLES_LOCAL_DIR=str(self.folder), CIRCLES_LOCAL_PORT=str(self.port),
                   CIRCLES_MOTO_PORT=str(self.moto_port), CIRCLES_LOCAL_AUTORELOAD='0', PYTHONUNBUFFERED='1',
                   CIRCLES_RATE_LIMITS='off')
        self.log_path = self.folder / 'stack.log'
        self.log = open(self.log_path, 'w')
        self.process = subprocess.Popen([sys.executable, '-m', 'scripts.local_stack'], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_for_banner()
        self.server_pid = child_pid(self.process.pid, b'chalice')
        self.moto_pid = child_pid(self.process.pid, b'moto_launcher')

    def _wait_for_banner(self, timeout=90):
        deadline = time.monotonic() + timeout
        while 'Demo logins' not in self.log_path.read_text(errors='replace'):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f'the local stack did not start:\n{self.log_path.read_text(errors="replace")[-3000:]}')
            time.sleep(0.2)

    def wait_until_quiet(self, timeout=30):
        """Until the server and moto use (almost) no CPU for half a second: nothing in flight."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = cpu_seconds(self.server_pid) + cpu_seconds(self.moto_pid)
            time.sleep(0.5)
            if cpu_seconds(self.server_pid) + cpu_seconds(self.moto_pid) - before < 0.05:
                return

    def environment(self):
        """What a process needs to use the stack's table (as the CLI does against `make run`)."""
        from scripts.local_stack import local_environment
        env = {k: v for k, v in os.environ.items() if not k.startswith(('AWS_', 'CIRCLES_'))}
        env.update(local_environment(self.moto, self.site), PYTHONUNBUFFERED='1')
        return env

    def stop(self):
        """Kill the stack, then its server and moto (each leads its own process group). Not
        SIGTERM: the stack would first save the table (a Scan of everything) into a folder that
        is deleted anyway."""
        self.process.kill()
        self.process.wait()
        for pid in (self.server_pid, self.moto_pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _in_process(env, *args, timeout=300):
    """`python -m bench.load <args>` in a fresh process; its last stdout line, as JSON."""
    done = subprocess.run([sys.executable, '-m', 'bench.load', *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f'bench.load {args[0]} failed:\n{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- inside the stack's environment (a separate process) --------------------------------

def seed(count):
    """Seed `count` circles; the ids of all of them and of the signup circles (open, no capacity)."""
    from bench.dynamodb_calls import seed_circles
    from chalicelib.circles.circles import accepts_signups, utcnow
    seeded = seed_circles(count)
    now = utcnow()
    open_ = [c.id for c in seeded if accepts_signups(c, now) and c.capacity is None]
    return {'circles': [c.id for c in seeded], 'signup_circles': open_[:SIGNUP_CIRCLES],
            'counters': {c.id: int(c.signup_count or 0) for c in seeded}}


def stored_signups(circle_ids):
    """Per circle: the addresses of its Signup items (one Query of its partition, strongly
    consistent, every page) and its signup counter (one GetItem)."""
    from chalicelib.models import Circle, Signup
    result = {}
    for circle_id in circle_ids:
        emails = [s.email for s in Signup.query(f'CIRCLE#{circle_id}', Signup.sk.startswith('SIGNUP#'),
                                                consistent_read=True)]
        circle = Circle.get(*Circle.key(circle_id), consistent_read=True)
        result[circle_id] = {'emails': emails, 'counter': int(circle.signup_count or 0)}
    return result


# --- the load generator (a separate process: locust patches the standard library) --------

def drive(config):
    """Run locust with `config` (site, seconds, users, circle ids); per-request records and
    the emails whose signup succeeded."""
    import random
    from itertools import count

    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    circles_, signup_circles = config['circles'], config['signup_circles']
    lat, lon = CHICAGO
    addresses = count()
    run_tag = f'{os.getpid()}-{time.time_ns()}'
    records = []          # (kind, seconds, ok)
    errors = {}
    succeeded, refused, attempted = [], [], []

    def signup(client):
        email = f'load-{run_tag}-{next(addresses)}@example.org'
        body = {'learning_circle': random.choice(signup_circles), 'name': 'Load Learner', 'email': email,
                'consent': True, 'signup_questions': {'goals': 'Learn', 'support': '', 'custom_question': 'x'}}
        attempted.append(email)
        with client.post('/api/signup', json=body, name='POST /api/signup', catch_response=True) as response:
            text = response.text or ''      # None when the request failed (a timeout, a reset)
            if response.status_code == 200 and '"created"' in text:
                succeeded.append(email)
            else:
                refused.append(email)
                response.failure(f'{response.status_code} {text[:200]} {response.error or ""}')

    requests = {
        'browse 50 km': lambda c: c.get(f'/api/learningcircles?latitude={lat}&longitude={lon}&distance=50',
                                        name='browse 50 km'),
        'browse first page of 10': lambda c: c.get('/api/learningcircles?limit=10', name='browse first page of 10'),
        'GET /': lambda c: c.get('/', name='GET /'),
        'circle page': lambda c: c.get(f'/circles/{random.choice(circles_)}', name='circle page'),
        'POST /api/signup': signup,
    }
    kinds, weights = zip(*config.get('mix', MIX))

    class Learner(FastHttpUser):
        wait_time = constant(0)
        network_timeout = connection_timeout = REQUEST_TIMEOUT
        # A new connection per request: on a kept-alive connection `chalice local` writes headers
        # and body separately and Nagle's algorithm meets the client's delayed ACK, adding 40 ms
        # to every answer (measured: 0.5 ms per answer with `close`, 44 ms kept alive).
        default_headers = {'Connection': 'close'}

        @task
        def one_request(self):
            try:
                requests[random.choices(kinds, weights)[0]](self.client)
            finally:
                # The server closes after answering but does not say so in its headers, so the
                # pool would send the next request on a closed socket (a POST is not retried).
                self.client.client.close()

    def on_request(name, response_time, exception, **_):
        records.append((name, response_time / 1000, exception is None))
        if exception is not None:
            key = f'{name}: {exception}'[:300]
            errors[key] = errors.get(key, 0) + 1

    # stop_timeout: at the end every user finishes the request it is in (for at most
    # STOP_SECONDS), so the signups the server handled have their answers recorded here.
    environment = Environment(user_classes=[Learner], host=config['site'], stop_timeout=STOP_SECONDS)
    environment.events.request.add_listener(on_request)
    runner = environment.create_local_runner()
    cpu, started = time.process_time(), time.monotonic()
    runner.start(config['users'], spawn_rate=config['users'])
    gevent.spawn_later(config['seconds'], runner.quit)
    runner.greenlet.join()
    for failure in runner.exceptions.values():     # a task that raised made no request record: an error too
        errors[f"task exception: {failure['msg']}"[:300]] = failure['count']
    return {'seconds': time.monotonic() - started, 'records': records, 'errors': errors,
            'task_exceptions': sum(f['count'] for f in runner.exceptions.values()),
            'succeeded': succeeded, 'refused': refused, 'attempted': attempted, 'client_cpu': time.process_time() - cpu}


# --- the run -----------------------------------------------------------------------

def _warm(site, seeded):
    import urllib.request      # not at the top: the load generator's process imports this module before locust
    lat, lon = CHICAGO
    for path in (f'/api/learningcircles?latitude={lat}&longitude={lon}&distance=50', '/api/learningcircles?limit=10',
                 '/', f'/circles/{seeded["circles"][0]}'):
        urllib.request.urlopen(site + path, timeout=60).read()
    body = json.dumps({'learning_circle': seeded['signup_circles'][0], 'name': 'Warm', 'consent': True,
                       'email': f'warm-{time.time_ns()}@example.org',
                       'signup_questions': {'goals': 'Learn', 'support': '', 'custom_question': 'x'}}).encode()
    request = urllib.request.Request(f'{site}/api/signup', data=body, method='POST',
                                     headers={'Content-Type': 'application/json'})
    urllib.request.urlopen(request, timeout=60).read()


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * (len(ordered) - 1) + 0.5))] if ordered else 0.0


def _summary(records, seconds):
    times = [t for _, t, _ in records]
    return {'requests': len(records), 'errors': sum(1 for *_, ok in records if not ok),
            'rps': round(len(records) / seconds, 1),
            'p50_ms': round(_percentile(times, 0.5) * 1000), 'p95_ms': round(_percentile(times, 0.95) * 1000),
            'p99_ms': round(_percentile(times, 0.99) * 1000),
            'mean_ms': round(statistics.mean(times) * 1000) if times else 0}


def _phase(stack, env, seeded, name, mix, seconds, users):
    """One locust run of `mix`; the server's and moto's CPU seconds across it."""
    before = {'server': cpu_seconds(stack.server_pid), 'moto': cpu_seconds(stack.moto_pid),
              'stack': cpu_seconds(stack.process.pid)}
    config = {'site': stack.site, 'seconds': seconds, 'users': users, 'mix': mix, **seeded}
    driven = _in_process(env, '--drive', json.dumps(config), timeout=seconds + 240)
    cpu = {part: round(cpu_seconds(pid) - before[part], 2) for part, pid in
           (('server', stack.server_pid), ('moto', stack.moto_pid), ('stack', stack.process.pid))}
    records, elapsed = driven['records'], driven['seconds']
    total = _summary(records, elapsed)
    total['errors'] += driven['task_exceptions']
    requests = max(total['requests'], 1)
    return {'name': name, 'seconds': round(elapsed, 1), 'users': users, 'mix': mix,
            'kinds': {kind: _summary([r for r in records if r[0] == kind], elapsed) for kind, _ in mix},
            'total': total, 'errors': driven['errors'],
            'signups': {part: driven[part] for part in ('attempted', 'succeeded', 'refused')}, 'cpu_seconds': cpu, 'client_cpu': round(driven['client_cpu'], 2),
            'server_cpu_ms_per_request': round(cpu['server'] / requests * 1000, 1),
            'moto_cpu_ms_per_request': round(cpu['moto'] / requests * 1000, 1)}


def run(server=None, seconds=SECONDS, users=USERS, circles=CIRCLES, alone_seconds=ALONE_SECONDS, mix=MIX):
    """`server` is not used: the load goes to a `make run` stack of its own. The mixed run, then
    (if `alone_seconds`) the geo browse alone and the first page alone, as the original measured them."""
    phases = [('mixed', mix, seconds)]
    if alone_seconds:       # first: they write nothing, so they leave no work behind for the mixed run
        phases[:0] = [('50 km browse alone', (('browse 50 km', 1),), alone_seconds),
                      ('first page of 10 alone', (('browse first page of 10', 1),), alone_seconds)]
    steps, clock = {}, time.monotonic()

    def step(name):
        nonlocal clock
        steps[name] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()

    stack = LocalStack()
    try:
        step('stack start')
        env = stack.environment()
        seeded = _in_process(env, '--seed', str(circles))
        step('seeding')
        _warm(stack.site, seeded)
        step('warm-up')
        results = []
        for name, phase_mix, phase_seconds in phases:
            results.append(_phase(stack, env, seeded, name, phase_mix, phase_seconds, users))
            stack.wait_until_quiet()    # requests cut off at the end are still being served
        step('load')
        peak, rss = memory_mb(stack.server_pid)
        moto_peak, _ = memory_mb(stack.moto_pid)
        stored = _in_process(env, '--count', json.dumps(seeded['signup_circles']))
        step('counting')
    finally:
        stack.stop()
    step('stack stop')
    return {'phases': results, 'circles': circles, 'signup_circles': len(stored),
            'signups': signup_check(results, stored, seeded['counters']),
            'server_peak_rss_mb': peak, 'server_rss_mb': rss, 'moto_peak_rss_mb': moto_peak,
            'steps': steps, 'wall_seconds': round(sum(steps.values()), 1)}


def signup_check(phases, stored, counters_before):
    """The run's signups as answered against those stored: none lost (answered `created`, not
    stored), none stored twice, none stored that was answered with an error; a signup still in
    flight when the run was cut off may be either. The counters must grow by what was stored."""
    sent = [e for p in phases for e in p['signups']['attempted']]
    succeeded = {e for p in phases for e in p['signups']['succeeded']}
    refused = {e for p in phases for e in p['signups']['refused']}
    unanswered = set(sent) - succeeded - refused
    ours = [e for c in stored.values() for e in c['emails'] if e.startswith('load-')]
    warm = sum(1 for c in stored.values() for e in c['emails'] if e.startswith('warm-'))
    grown = sum(c['counter'] - counters_before[circle_id] for circle_id, c in stored.items()) - warm
    for phase in phases:
        phase['signups'] = {part: len(emails) for part, emails in phase['signups'].items()}
    return {'attempted': len(sent), 'succeeded': len(succeeded), 'refused': len(refused),
            'unanswered': len(unanswered), 'stored': len(ours), 'distinct_stored': len(set(ours)),
            'lost': len(succeeded - set(ours)), 'stored_although_refused': len(refused & set(ours)),
            'stored_unknown': len(set(ours) - succeeded - refused - unanswered),
            'stored_of_unanswered': len(unanswered & set(ours)), 'counter_growth': grown}


def errors(result):
    return sum(p['total']['errors'] for p in result['phases'])


def signups_consistent(result):
    s = result['signups']
    return (s['lost'] == s['stored_although_refused'] == s['stored_unknown'] == 0
            and s['stored'] == s['distinct_stored'] == s['counter_growth']
            == s['succeeded'] + s['stored_of_unanswered'])


def _phase_rows(phase):
    rows = []
    for kind, weight in phase['mix']:
        k = phase['kinds'][kind]
        share = f'{weight / sum(w for _, w in phase["mix"]) * 100:g} %'
        rows.append(f"| {phase['name']} | {kind} | {share} | {k['requests']} | {k['rps']} | {k['p50_ms']} ms | "
                    f"{k['p95_ms']} ms | {k['p99_ms']} ms | {k['errors']} |")
    if len(phase['mix']) > 1:
        t = phase['total']
        rows.append(f"| {phase['name']} | **all** | 100 % | {t['requests']} | **{t['rps']}** | {t['p50_ms']} ms | "
                    f"{t['p95_ms']} ms | {t['p99_ms']} ms | **{t['errors']}** |")
    return rows


def markdown(result):
    s, phases = result['signups'], result['phases']
    mixed = next(p for p in phases if p['name'] == 'mixed')
    rows = ['| run | request | share | requests | requests/s | p50 | p95 | p99 | errors |',
            '|---|---|---|---|---|---|---|---|---|']
    for phase in phases:
        rows += _phase_rows(phase)
    cpu_rows = ['| run | seconds | server CPU | server CPU per request | moto CPU | moto CPU per request | '
                'stack process CPU | load generator CPU |', '|---|---|---|---|---|---|---|---|']
    for p in phases:
        c = p['cpu_seconds']
        cpu_rows.append(f"| {p['name']} | {p['seconds']} | {c['server']} s | **{p['server_cpu_ms_per_request']} ms** | "
                        f"{c['moto']} s | {p['moto_cpu_ms_per_request']} ms | {c['stack']} s | {p['client_cpu']} s |")
    texts = {}
    for p in phases:
        for text, n in p['errors'].items():
            texts[text] = texts.get(text, 0) + n
    listed = '; '.join(f'{n}x {text}' for text, n in sorted(texts.items(), key=lambda e: -e[1])[:5])
    total_errors = errors(result)
    alone = {p['name']: p for p in phases if p is not mixed}
    mixed_moto_per_signup = round(mixed['cpu_seconds']['moto'] / max(mixed['signups']['attempted'], 1) * 1000)
    geo = alone.get('50 km browse alone', mixed)['kinds']['browse 50 km']['rps']
    paged = alone.get('first page of 10 alone', mixed)['kinds']['browse first page of 10']['rps']
    return '\n'.join([
        f"Load runs: {mixed['users']} locust users (headless, a second process on 127.0.0.1, no wait between "
        f"requests) against `make run`'s stack (`chalice local --stage local` on moto) with {result['circles']} "
        f"seeded circles; signups go to {result['signup_circles']} open circles, each with a new address. "
        f"Each run's seconds run from its start until its last request was answered (or cut off after "
        f"{STOP_SECONDS:g} s). The whole bench took {result['wall_seconds']} s ("
        + ', '.join(f'{name} {secs} s' for name, secs in result['steps'].items()) + ').', '',
        *rows, '',
        f"Errors: {total_errors} (goal 0: {'met' if total_errors == 0 else 'NOT MET'})"
        + (f' ({listed})' if listed else '') + '.', '',
        f"Signups: {s['attempted']} sent, {s['succeeded']} answered `created`, {s['refused']} answered otherwise, "
        f"{s['unanswered']} cut off by the end of a run; stored afterwards (one Query per circle): {s['stored']} "
        f"({s['distinct_stored']} distinct), {s['lost']} lost, {s['stored_although_refused']} stored although "
        f"answered with an error, {s['stored_of_unanswered']} of the cut-off ones; the circles' signup counters "
        f"grew by {s['counter_growth']} (goal: stored = answered `created`, none lost or duplicated: "
        f"{'met' if signups_consistent(result) else 'NOT MET'}).", '',
        'CPU seconds of each process across each run (utime + stime from /proc; the server is the '
        '`chalice local` process, the stack process runs the stream poller that sends the welcomes):', '',
        *cpu_rows, '',
        f"Memory: the server process peaked at **{result['server_peak_rss_mb']} MB RSS** "
        f"({result['server_rss_mb']} MB at the end), against the original's {ORIGINAL['memory_mb']} MB per worker. "
        f"moto reached {result['moto_peak_rss_mb']} MB.", '',
        f"Throughput: {geo} req/s of 50 km browse and {paged} req/s of first pages, each alone, against the "
        f"original's {ORIGINAL['geo_rps']} req/s geo browse and {ORIGINAL['paged_rps']} req/s paged on 2 cores. "
        f"Not like for like: the server is one `chalice local` process (threads, one core at most), and it, the "
        f"load generator and moto share this machine's {os.cpu_count()} CPUs. Browsing alone reads no DynamoDB "
        f"(the container's catalog answers), so those runs are bound by the CPU of the server and the load "
        f"generator. The mixed run is bound by moto, which answers DynamoDB one request at a time "
        f"({mixed_moto_per_signup} ms of moto CPU per signup sent; scripts/moto_launcher.py already stops moto "
        f"copying the whole table for each transaction). The server's CPU per request is the comparable figure."
        + (' A p99 near 1 s in a run that reads no DynamoDB is the dev server, not the app: a new connection per '
           "request meets `chalice local`'s listen backlog of 5, and a refused connection is retried after TCP's "
           '1 s SYN timeout.' if any(p['total']['p99_ms'] >= 900 for p in alone.values()) else ''), ''])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seconds', type=float, default=SECONDS)
    parser.add_argument('--users', type=int, default=USERS)
    parser.add_argument('--circles', type=int, default=CIRCLES)
    parser.add_argument('--alone-seconds', type=float, default=ALONE_SECONDS)
    parser.add_argument('--seed', type=int, help=argparse.SUPPRESS)        # inside the stack's environment
    parser.add_argument('--count', help=argparse.SUPPRESS)
    parser.add_argument('--drive', help=argparse.SUPPRESS)                 # the load generator
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(drive(json.loads(args.drive))))
    elif args.seed is not None:
        print(json.dumps(seed(args.seed)))
    elif args.count:
        print(json.dumps(stored_signups(json.loads(args.count))))
    elif (args.seconds, args.users, args.circles, args.alone_seconds) == (SECONDS, USERS, CIRCLES, ALONE_SECONDS):
        from bench.report import run_alone
        run_alone(START, END, run, markdown)
    else:
        from bench.report import machine
        print('\n'.join([machine(), '', markdown(run(seconds=args.seconds, users=args.users, circles=args.circles,
                                                     alone_seconds=args.alone_seconds))]))


if __name__ == '__main__':
    main()
