"""Cold start: a fresh process to its first answer, per Lambda entry point.

Each sample is a fresh `.venv/bin/python` process that does what Lambda's runtime does on a cold
start: import the function's handler module (the init phase), then call the handler once with a
Lambda-shaped event and context (the first invocation). The entry points are the ones
`chalice package` deploys:

- API (`app.app`): three kinds of first request, each in its own processes, sent as API
  Gateway REST proxy events: the 50 km browse, a circle page, and `POST /api/signup`;
- jobs (`chalicelib.handlers.jobs.send_due_reminders_job`): one run of the reminder job with
  nothing due, on an EventBridge scheduled event;
- sender (`chalicelib.handlers.sender.send_outbox`): one DynamoDB stream batch holding one
  Delivery insert (the welcome email of the signup sample just before it, read from moto's
  stream), which it claims, renders and sends to moto's SES;
- the baseline: a bare Chalice app whose one route makes one DynamoDB GetItem through a boto3
  client created on the first request (like ours), sent the same way.

What is measured is the process's own CPU time (`time.process_time()`, every thread), so moto's
work in its own process is not counted while botocore's parsing of its answers is:
- start-up: CPU spent before the first line of the child runs (interpreter, `site`, the venv);
- import: the handler module's import (start-up + import is the init phase);
- first: the handler's first call.
"Start to first answer" is their sum. DynamoDB's own latency (a few ms per call) is not in it.

The Lambda model: Lambda runs the init phase with a full core, but a 512 MB function's
invocation gets about a third of one (CPU is allocated in proportion to memory; 1,769 MB is one
full vCPU). So we also report init + 3 x first, the first answer's latency on such a function
if the CPU work is all there is. Work moved from the first call into the import (an eager import)
costs a third as much there; that is how the lazy/eager choice per entry point is made.

Samples are interleaved (browse, page, signup, jobs, sender, bare, browse, ...) so a busy moment
of the machine hits every target alike; one unmeasured round first warms the bytecode caches,
as they are for everything in a Lambda package. Each process gets only the environment a Lambda
of the prod stage would have (.chalice/config.json's prod variables, the secret key, dummy AWS
credentials, the function's name), pointed at moto. X-Ray is off for the judged figures (the
bare app has none); the row "X-Ray on" runs the signup with the SDK on in Lambda mode, as
prod deploys it, for information (5 processes).

The deployment zip is built with `chalice package --stage prod` into a temporary directory and
its size split into our code, our data files, templates and the dependencies.

This module imports only the standard library at the top level; chalicelib is imported inside
functions, after `bench.dynamodb_calls.moto_server()` has set the environment.

    python -m bench.cold_start          # writes its own section of BENCHMARKS.md
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START = '<!-- cold start bench results start -->'
END = '<!-- cold start bench results end -->'
SAMPLES = 15
XRAY_SAMPLES = 5            # the X-Ray row is for information: fewer, to keep the run within 3 minutes
CIRCLES = 200
GOAL_RATIO = 1.5
GOAL_MS = 260               # a third of the original system's 781 ms from process start to first answer
ORIGINAL_MS = 781
INVOCATION_SLOWDOWN = 3     # a 512 MB Lambda invocation gets about a third of a core
BROWSE_QUERY = {'latitude': '41.88', 'longitude': '-87.63', 'distance': '50'}

# The child process: the standard library only until the handler's import, which is timed.
CHILD = r'''
import time
startup = time.process_time()
import importlib, json, sys

class Context:
    """What Lambda passes as the context (the attributes our handlers and Chalice read)."""
    memory_limit_in_mb = 512
    log_group_name = log_stream_name = 'bench'

    def __init__(self, function_name, timeout_seconds):
        self.function_name = function_name
        self.invoked_function_arn = f'arn:aws:lambda:us-east-1:000000000000:function:{function_name}'
        self.aws_request_id = 'bench-request'
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

request = json.loads(sys.stdin.read())
module_name, attribute = request['handler'].rsplit('.', 1)
before_import = time.process_time()
handler = getattr(importlib.import_module(module_name), attribute)
imported = time.process_time()
answer = handler(request['event'], Context(request['function'], request['timeout']))
answered = time.process_time()
if isinstance(answer, dict) and 'body' in answer:
    answer = {'statusCode': answer.get('statusCode'), 'body': (answer.get('body') or '')[:300]}
print(json.dumps({'startup_ms': startup * 1000, 'import_ms': (imported - before_import) * 1000,
                  'first_ms': (answered - imported) * 1000, 'answer': answer}, default=str))
'''

BARE_APP = '''import os

from chalice import Chalice

app = Chalice(app_name='bare')
_dynamodb = None


def dynamodb():
    global _dynamodb
    if _dynamodb is None:
        import boto3
        _dynamodb = boto3.client('dynamodb')
    return _dynamodb


@app.route('/circles/{circle_id}')
def circle(circle_id):
    item = dynamodb().get_item(TableName=os.environ['CIRCLES_TABLE'],
                               Key={'pk': {'S': f'CIRCLE#{circle_id}'}, 'sk': {'S': 'CIRCLE'}}).get('Item')
    return {'found': item is not None}
'''


def venv_python():
    candidate = REPO / '.venv' / 'bin' / 'python'
    return str(candidate) if candidate.exists() else sys.executable


def prod_variables():
    """The environment variables .chalice/config.json gives the prod stage's functions."""
    config = json.loads((REPO / '.chalice' / 'config.json').read_text())
    return {**config.get('environment_variables', {}),
            **config['stages']['prod'].get('environment_variables', {})}


def lambda_environment(server_url, function_name, handler, xray=False):
    """A clean environment: the prod stage's variables as Lambda sets them, pointed at moto.

    The table and the sender are the bench's (the sender address is verified in moto's SES);
    nothing from the developer's shell leaks in.
    """
    from bench.dynamodb_calls import BENCH_ENV
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'LANG': 'C.UTF-8', 'HOME': tempfile.gettempdir()}
    env.update(prod_variables())
    env.update({key: value for key, value in BENCH_ENV.items() if key.startswith('AWS_')})
    env.update({
        # In prod the three secrets come from SSM in one GetParameters call at init
        # (core/settings.py); set here, they keep that call (to moto, not SSM's cost) out.
        'CIRCLES_SECRET_KEY': 'bench-secret-key-of-at-least-32-characters',
        'TWILIO_ACCOUNT_SID': 'AC' + '0' * 32, 'TWILIO_AUTH_TOKEN': 'bench-token',
        'CIRCLES_TABLE': BENCH_ENV['CIRCLES_TABLE'],
        'CIRCLES_SENDER': BENCH_ENV['CIRCLES_SENDER'],
        'CIRCLES_SES_CONFIGURATION_SET': '',     # moto has no configuration sets
        'AWS_ENDPOINT_URL': server_url,
        'AWS_REGION': env.get('AWS_DEFAULT_REGION', 'us-east-1'),
        'AWS_LAMBDA_FUNCTION_NAME': function_name,
        '_HANDLER': handler,         # Lambda names the function's handler; our handler modules read it
        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE': '512',
        'AWS_EXECUTION_ENV': 'AWS_Lambda_python3.11',
        'AWS_XRAY_SDK_ENABLED': 'true' if xray else 'false',
    })
    if xray:    # what the X-Ray SDK reads inside Lambda; segments go to a daemon address nobody reads
        env.update({'LAMBDA_TASK_ROOT': str(REPO), 'AWS_XRAY_DAEMON_ADDRESS': '127.0.0.1:2000',
                    '_X_AMZN_TRACE_ID': f'Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};'
                                        f'Parent={uuid.uuid4().hex[:16]};Sampled=1'})
    return env


# --- events ------------------------------------------------------------------------------

def api_event(method, resource, path, path_parameters=None, query=None, body=None, source_ip='203.0.113.10'):
    """An API Gateway REST proxy event, as the prod stage's API sends it (stage `api`)."""
    headers = {'Host': 'circles.example.org', 'User-Agent': 'Mozilla/5.0 (bench)', 'Accept': '*/*',
               'X-Forwarded-For': source_ip, 'X-Forwarded-Proto': 'https'}
    if body is not None:
        headers['Content-Type'] = 'application/json'
    return {
        'resource': resource, 'path': path, 'httpMethod': method,
        'headers': headers, 'multiValueHeaders': {k: [v] for k, v in headers.items()},
        'queryStringParameters': query or None,
        'multiValueQueryStringParameters': {k: [v] for k, v in query.items()} if query else None,
        'pathParameters': path_parameters or None, 'stageVariables': None,
        'requestContext': {'resourcePath': resource, 'httpMethod': method, 'path': f'/api{path}',
                           'stage': 'api', 'accountId': '000000000000', 'apiId': 'bench',
                           'protocol': 'HTTP/1.1', 'requestId': str(uuid.uuid4()),
                           'requestTimeEpoch': int(time.time() * 1000), 'domainName': 'circles.example.org',
                           'identity': {'sourceIp': source_ip, 'userAgent': headers['User-Agent']}},
        'body': body, 'isBase64Encoded': False,
    }


def scheduled_event(rule):
    """An EventBridge scheduled event."""
    return {'version': '0', 'id': str(uuid.uuid4()), 'detail-type': 'Scheduled Event', 'source': 'aws.events',
            'account': '000000000000', 'time': f'{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}',
            'region': 'us-east-1', 'resources': [f'arn:aws:events:us-east-1:000000000000:rule/{rule}'],
            'detail': {}}


class Outbox:
    """The Delivery inserts on moto's stream, in the shape Lambda's event source delivers them."""

    def __init__(self):
        from scripts.stream_poller import StreamPoller
        self.records = []
        self.poller = StreamPoller(lambda event, context: self.records.extend(event['Records']))

    def next_batch(self):
        """One stream batch with the oldest Delivery insert not handed out yet."""
        self.poller.drain()
        if not self.records:
            raise RuntimeError('no Delivery insert on the stream (the signup sample wrote no welcome?)')
        return {'Records': [self.records.pop(0)]}


# --- targets -----------------------------------------------------------------------------

class Target:
    """One kind of cold start: a handler, the function it is deployed as, and its event."""

    def __init__(self, name, entry_point, handler, function, event, cwd=REPO, xray=False, timeout=30,
                 check=None, samples=SAMPLES):
        self.name, self.entry_point, self.handler, self.function = name, entry_point, handler, function
        self.event, self.cwd, self.xray, self.timeout, self.samples = event, cwd, xray, timeout, samples
        self.check = check or (lambda answer: True)


def _http_ok(answer):
    return isinstance(answer, dict) and answer.get('statusCode') == 200


def targets(circle, signup_circles, outbox, bare_dir):
    """The targets of one run. `event(sample)` builds each sample's event (signups differ)."""
    def signup(sample):
        target = signup_circles[sample % len(signup_circles)]
        body = json.dumps({'learning_circle': target.id, 'name': 'Bench Learner',
                           'email': f'cold-{sample}-{uuid.uuid4().hex[:8]}@example.org', 'consent': True,
                           'signup_questions': {'goals': 'Learn', 'support': 'None', 'custom_question': 'To learn'}})
        return api_event('POST', '/api/signup', '/api/signup', body=body, source_ip=f'198.51.100.{sample % 250 + 1}')

    def browse(sample):
        return api_event('GET', '/api/learningcircles', '/api/learningcircles', query=BROWSE_QUERY)

    def circle_page(sample):
        return api_event('GET', '/circles/{circle_id}', f'/circles/{circle.id}', {'circle_id': circle.id})

    def sent_one(answer):
        return answer == {'sent': 1}

    return [
        Target('API: browse 50 km', 'API', 'app.app', 'circles-prod', browse, check=_http_ok),
        Target('API: circle page', 'API', 'app.app', 'circles-prod', circle_page, check=_http_ok),
        Target('API: POST /api/signup', 'API', 'app.app', 'circles-prod', signup, check=_http_ok),
        Target('jobs: reminder job, nothing due', 'jobs', 'chalicelib.handlers.jobs.send_due_reminders_job',
               'circles-prod-send-due-reminders',
               lambda sample: scheduled_event('circles-prod-send-due-reminders'), timeout=240,
               check=lambda answer: answer is None),
        Target('sender: one Delivery record', 'sender', 'chalicelib.handlers.sender.send_outbox',
               'circles-prod-send-outbox', lambda sample: outbox.next_batch(), timeout=120, check=sent_one),
        Target('bare Chalice app: one GetItem', 'bare', 'app.app', 'bare-dev', circle_page, cwd=bare_dir,
               check=lambda answer: _http_ok(answer) and json.loads(answer['body']) == {'found': True}),
        Target('API: POST /api/signup, X-Ray on', 'API', 'app.app', 'circles-prod', signup, xray=True,
               check=_http_ok, samples=XRAY_SAMPLES),
    ]


def cold_start(server_url, target, sample):
    """One fresh process: its start-up, import and first-call CPU (ms)."""
    request = {'handler': target.handler, 'function': target.function, 'timeout': target.timeout,
               'event': target.event(sample)}
    completed = subprocess.run([venv_python(), '-c', CHILD], cwd=target.cwd, input=json.dumps(request),
                               env=lambda_environment(server_url, target.function, target.handler, target.xray),
                               capture_output=True, text=True)
    if completed.returncode:
        raise RuntimeError(f'{target.name}: the process failed:\n{completed.stderr[-3000:]}')
    timing = json.loads(completed.stdout.strip().splitlines()[-1])
    if not target.check(timing['answer']):
        raise RuntimeError(f'{target.name}: unexpected answer {timing["answer"]!r}\n{completed.stderr[-2000:]}')
    return timing


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summary(timings):
    def stats(values):
        return {'p50': statistics.median(values), 'p90': _percentile(values, 0.9)}
    init = [t['startup_ms'] + t['import_ms'] for t in timings]
    return {
        'samples': len(timings),
        'startup': stats([t['startup_ms'] for t in timings]),
        'import': stats([t['import_ms'] for t in timings]),
        'init': stats(init),
        'first': stats([t['first_ms'] for t in timings]),
        'total': stats([i + t['first_ms'] for i, t in zip(init, timings)]),
        'lambda': stats([i + INVOCATION_SLOWDOWN * t['first_ms'] for i, t in zip(init, timings)]),
    }


def measure(server, samples=SAMPLES, circles_count=CIRCLES):
    """Seed a fresh table, then `samples` interleaved rounds (after one warm-up round)."""
    from bench.dynamodb_calls import fresh_table, open_circle, seed_circles
    from chalicelib.circles.circles import accepts_signups, is_full, utcnow
    fresh_table(server)
    seeded = seed_circles(circles_count)
    now = utcnow()
    circle = open_circle(seeded)
    # One signup per circle: no per-circle rate limit or capacity is reached (prod has limits on).
    signup_circles = [c for c in seeded if accepts_signups(c, now) and not is_full(c) and not c.online]
    outbox = Outbox()
    outbox.poller.drain()       # the seeding's inserts hold no Delivery
    timings = {}
    with tempfile.TemporaryDirectory() as bare_dir:
        Path(bare_dir, 'app.py').write_text(BARE_APP)
        kinds = targets(circle, signup_circles, outbox, bare_dir)
        started = time.monotonic()
        for sample in range(-1, samples):       # round -1 warms the bytecode caches
            for target in kinds:
                if sample >= min(target.samples, samples):
                    continue
                timing = cold_start(server.url, target, sample + 1)
                if sample >= 0:
                    timings.setdefault(target.name, []).append(timing)
        seconds = time.monotonic() - started
    return {'targets': [(t.name, t.entry_point, t.xray) for t in kinds],
            'summary': {name: _summary(found) for name, found in timings.items()},
            'seconds': seconds}


# --- the deployment zip ------------------------------------------------------------------

def _zip_part(name):
    """Which part of the package a zip entry belongs to."""
    top = name.split('/', 1)[0]
    if name == 'app.py' or (top == 'chalicelib' and name.endswith('.py')):
        return 'our code (app.py, chalicelib/**.py)'
    if top == 'chalicelib':
        return 'our data files (chalicelib, e.g. the gazetteer)'
    if top == 'templates':
        return 'templates (vendor/templates)'
    return 'dependencies'


def _distribution(name):
    top = name.split('/', 1)[0]
    if '.dist-info' in top:
        return top.split('-', 1)[0].lower()
    return top.split('.', 1)[0].lower()


def package_zip(top=8):
    """`chalice package --stage prod` into a temporary directory: the zip's size by part."""
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        completed = subprocess.run([str(REPO / '.venv' / 'bin' / 'chalice'), 'package', '--stage', 'prod', out],
                                   cwd=REPO, capture_output=True, text=True,
                                   env={'PATH': os.environ.get('PATH', '/usr/bin:/bin'),       # as `make package`
                                        'HOME': os.environ.get('HOME', tempfile.gettempdir()),
                                        'LANG': 'C.UTF-8', 'AWS_DEFAULT_REGION': 'us-east-1'})
        seconds = time.monotonic() - started
        if completed.returncode:
            return {'error': (completed.stderr or completed.stdout)[-1500:], 'seconds': seconds}
        path = Path(out, 'deployment.zip')
        from scripts.trim_package import trim
        trim(path)      # as `make package` does
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
        size = path.stat().st_size
    parts, unzipped, dependencies = Counter(), Counter(), Counter()
    for entry in entries:
        part = _zip_part(entry.filename)
        parts[part] += entry.compress_size
        unzipped[part] += entry.file_size
        if part == 'dependencies':
            dependencies[_distribution(entry.filename)] += entry.compress_size
    return {'bytes': size, 'unzipped': sum(unzipped.values()), 'compressed': sum(parts.values()),
            'parts': dict(parts), 'parts_unzipped': dict(unzipped), 'largest': dependencies.most_common(top),
            'seconds': seconds}


def run(server, samples=SAMPLES):
    return {'cold': measure(server, samples), 'package': package_zip()}


# --- the report --------------------------------------------------------------------------

def _verdict(ok):
    return 'met' if ok else '**NOT met**'


def _cold_markdown(cold):
    summary = cold['summary']
    bare = summary['bare Chalice app: one GetItem']
    lines = ['### Cold start: a fresh process to its first answer', '',
             f'{next(iter(summary.values()))["samples"]} fresh processes per row, interleaved, against moto with '
             f'{CIRCLES} circles ({XRAY_SAMPLES} for the X-Ray rows); CPU of the process itself (`time.process_time()`), ms, p50 (p90). '
             'Init = interpreter start-up + the handler module\'s import; first = the handler\'s first call. '
             f'Lambda model = init + {INVOCATION_SLOWDOWN} x first (a 512 MB invocation gets about a third of '
             'the core init runs on). Ratios are to the bare Chalice app, p50 over p50.', '',
             '| entry point: first request | start-up | import | init | first call | start to first answer '
             '| ratio | Lambda model | ratio |',
             '|---|---|---|---|---|---|---|---|---|']

    def cell(row, key):
        return f'{row[key]["p50"]:.0f} ({row[key]["p90"]:.0f})'
    for name, entry_point, xray in cold['targets']:
        row = summary[name]
        ratio = row['total']['p50'] / bare['total']['p50']
        model_ratio = row['lambda']['p50'] / bare['lambda']['p50']
        lines.append(f'| {name} | {cell(row, "startup")} | {cell(row, "import")} | {cell(row, "init")} | '
                     f'{cell(row, "first")} | {cell(row, "total")} | {ratio:.2f}x | {cell(row, "lambda")} | '
                     f'{model_ratio:.2f}x |')
    judged = [(name, summary[name]) for name, entry_point, xray in cold['targets'] if entry_point != 'bare' and not xray]
    worst_ratio = max(row['total']['p50'] / bare['total']['p50'] for _, row in judged)
    worst_model_ratio = max(row['lambda']['p50'] / bare['lambda']['p50'] for _, row in judged)
    worst_total = max(row['total']['p50'] for _, row in judged)
    worst_model = max(row['lambda']['p50'] for _, row in judged)
    lines += ['', f'Goals, on the worst row without X-Ray (p50): ≤ {GOAL_RATIO}x the bare app: '
              f'{worst_ratio:.2f}x start to first answer, {_verdict(worst_ratio <= GOAL_RATIO)}; '
              f'{worst_model_ratio:.2f}x in the Lambda model, {_verdict(worst_model_ratio <= GOAL_RATIO)}. '
              f'≤ {GOAL_MS} ms (a third of the original\'s {ORIGINAL_MS} ms): {worst_total:.0f} ms start to '
              f'first answer, {_verdict(worst_total <= GOAL_MS)}; {worst_model:.0f} ms in the Lambda model, '
              f'{_verdict(worst_model <= GOAL_MS)}. DynamoDB\'s latency (a few ms per call) comes on top. '
              f'The run took {cold["seconds"]:.0f} s.']
    return lines


def _package_markdown(package):
    lines = ['### Deployment zip (`chalice package --stage prod`)', '']
    if 'error' in package:
        return lines + [f'`chalice package` failed after {package["seconds"]:.0f} s:', '', '```',
                        package['error'].strip(), '```']
    total = package['compressed']
    lines += [f'`deployment.zip`: **{package["bytes"] / 1e6:.1f} MB** ({package["unzipped"] / 1e6:.1f} MB '
              f'unzipped; Lambda allows 50 MB zipped, 250 MB unzipped). Built in {package["seconds"]:.0f} s.', '',
              '| part | zipped (MB) | share | unzipped (MB) |', '|---|---|---|---|']
    for part, size in sorted(package['parts'].items(), key=lambda item: -item[1]):
        lines.append(f'| {part} | {size / 1e6:.2f} | {size / total:.1%} | '
                     f'{package["parts_unzipped"][part] / 1e6:.2f} |')
    lines += ['', 'Largest dependencies (zipped, with their `.dist-info`): '
              + ', '.join(f'`{name}` {size / 1e6:.1f} MB' for name, size in package['largest']) + '.']
    return lines


def markdown(result):
    return '\n'.join(_cold_markdown(result['cold']) + [''] + _package_markdown(result['package'])) + '\n'


if __name__ == '__main__':
    from bench.report import run_alone
    run_alone(START, END, run, markdown)
