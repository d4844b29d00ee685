"""Cold start: how long a fresh Python process takes to load our Lambda entry points.

Compared with a bare Chalice hello-world measured in the same run, interleaved
(circles, hello, jobs, circles, hello, jobs, ...) so that a busy moment of the
machine hits every target alike. Each sample is a fresh process started with
the venv's python and the environment a Lambda would have for the app.

We report two numbers per target, both medians over the samples:
- process: wall time of `python -c "import app"`, interpreter start-up included
  (what the brief's goal is judged on);
- import: time spent in the import statement alone, measured inside the process
  (the part our code controls; interpreter start-up is the same for everyone).

Bytecode caches are warm (one unmeasured run of each target first), as they are
for the installed libraries in a Lambda package.

This module imports only the standard library at the top: `python -m
bench.cold_start --first-request ...` is also the child process that times a
route's first request, and must not preload anything.

Run alone with `python -m bench.cold_start`.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = 15
FIRST_REQUEST_SAMPLES = 5
GOAL_RATIO = 1.5
HELLO_APP = '''from chalice import Chalice

app = Chalice(app_name='hello')


@app.route('/')
def index():
    return {'hello': 'world'}
'''
# What the prod stage's Lambda sees, minus X-Ray (patched only inside Lambda, see chalicelib/tracing.py).
LAMBDA_ENV = {      # complete prod settings: a deployed stage refuses to start without them
    'CIRCLES_STAGE': 'prod',
    'CIRCLES_SECRET_KEY': 'bench-secret-key-of-at-least-32-characters',
    'CIRCLES_TABLE': 'circles-bench',
    'CIRCLES_BASE_URL': 'https://circles.example.org',
    'CIRCLES_SENDER': 'Learning Circles <circles@example.org>',
    'AWS_XRAY_SDK_ENABLED': 'false',
    'AWS_DEFAULT_REGION': 'us-east-1',
}
# The prod stage as .chalice/config.json deploys it: inside Lambda with the X-Ray SDK on,
# app.py patches botocore at import. Measured for information; the goal uses LAMBDA_ENV.
XRAY_IN_LAMBDA = {'AWS_XRAY_SDK_ENABLED': 'true', 'AWS_LAMBDA_FUNCTION_NAME': 'circles-prod'}
XRAY_TARGET = 'app.py, X-Ray on as in prod (information)'
IMPORT_TIMER = ('import time; t = time.perf_counter(); import {module}; '
                'print((time.perf_counter() - t) * 1000)')


def venv_python():
    candidate = REPO / '.venv' / 'bin' / 'python'
    return str(candidate) if candidate.exists() else sys.executable


def lambda_environment(extra=None):
    """A clean environment: nothing from the developer's shell leaks into the measurement."""
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'LANG': 'C.UTF-8', 'HOME': tempfile.gettempdir()}
    env.update(LAMBDA_ENV)
    env.update(extra or {})
    return env


def _run(code, cwd, env):
    started = time.perf_counter()
    completed = subprocess.run([venv_python(), '-c', code], cwd=cwd, env=env,
                               capture_output=True, text=True, check=True)
    return (time.perf_counter() - started) * 1000, completed.stdout


def measure_imports(samples=SAMPLES):
    """Median process and import times (ms) for our app, the jobs module and a hello-world app."""
    with tempfile.TemporaryDirectory() as hello_dir:
        Path(hello_dir, 'app.py').write_text(HELLO_APP)
        env = lambda_environment()
        targets = {
            'app.py': (str(REPO), 'app', env),
            'chalicelib.handlers.jobs': (str(REPO), 'chalicelib.handlers.jobs', env),
            'hello-world Chalice app': (hello_dir, 'app', env),
            XRAY_TARGET: (str(REPO), 'app', lambda_environment(XRAY_IN_LAMBDA)),
        }
        for cwd, module, target_env in targets.values():   # warm the bytecode caches
            _run(f'import {module}', cwd, target_env)
        process = {name: [] for name in targets}
        imports = {name: [] for name in targets}
        for _ in range(samples):
            for name, (cwd, module, target_env) in targets.items():
                process[name].append(_run(f'import {module}', cwd, target_env)[0])
                imports[name].append(float(_run(IMPORT_TIMER.format(module=module), cwd, target_env)[1]))
    return {name: {'process_ms': statistics.median(process[name]),
                   'import_ms': statistics.median(imports[name]),
                   'samples': samples} for name in targets}


def import_breakdown(top=12, max_depth=2):
    """The slowest imports under `import app` (cumulative), from one `python -X importtime` run.

    Only `app` itself and imports up to `max_depth` levels below it, so the table names
    the packages that cost time rather than their many small submodules.
    """
    completed = subprocess.run([venv_python(), '-X', 'importtime', '-c', 'import app'], cwd=REPO,
                               env=lambda_environment(), capture_output=True, text=True, check=True)
    lines = []
    for line in completed.stderr.splitlines():
        if not line.startswith('import time:') or 'cumulative' in line:
            continue
        own, cumulative, name = line[len('import time:'):].split('|')
        lines.append({'module': name.strip(), 'depth': (len(name) - len(name.lstrip(' ')) - 1) // 2,
                      'cumulative_us': int(cumulative)})
    # importtime lists children before their parent: app's subtree is the run of deeper
    # lines just before the top-level `app` line.
    end = next(i for i, row in enumerate(lines) if row['module'] == 'app' and row['depth'] == 0)
    start = end
    while start > 0 and lines[start - 1]['depth'] > 0:
        start -= 1
    rows = [row for row in lines[start:end + 1] if row['depth'] <= max_depth]
    rows.sort(key=lambda r: r['cumulative_us'], reverse=True)
    return rows[:top]


# --- first request through each route ----------------------------------------------------

def _first_request_child(method, path, body):
    """Child process: import the app, then time its first and second request to one route."""
    started = time.perf_counter()
    from chalice.test import Client

    from app import app
    imported = time.perf_counter()
    timings = []
    # An empty project dir: no .chalice/config.json stage variables (the dev stage would
    # switch the table name mid-request); the process environment is the Lambda's.
    with tempfile.TemporaryDirectory() as no_config, Client(app, project_dir=no_config) as client:
        for attempt in range(2):
            request_body = body.replace('{n}', str(attempt)) if body else None
            started_request = time.perf_counter()
            if method == 'GET':
                response = client.http.get(path)
            else:
                response = client.http.post(path, headers={'Content-Type': 'application/json'}, body=request_body)
            timings.append((time.perf_counter() - started_request) * 1000)
            if response.status_code >= 400:
                raise SystemExit(f'{method} {path} answered {response.status_code}: {response.body[:300]}')
    print(json.dumps({'import_ms': (imported - started) * 1000, 'first_ms': timings[0], 'second_ms': timings[1]}))


def first_request_routes(circle_id):
    """The main routes, with a request each. Signup emails differ per process and attempt."""
    signup = json.dumps({'learning_circle': circle_id, 'name': 'Bench Learner',
                         'email': 'learner-{pid}-{n}@example.org', 'consent': True,
                         'signup_questions': {'goals': 'Learn', 'support': 'None', 'custom_question': 'To learn'}})
    return [
        ('GET /api/learningcircles', 'GET', '/api/learningcircles', None),
        ('GET /api/learningcircles?latitude&longitude', 'GET',
         '/api/learningcircles?latitude=41.8781&longitude=-87.6298&distance=50', None),
        ('GET /api/learningcircles/{id}', 'GET', f'/api/learningcircles/{circle_id}', None),
        ('POST /api/signup', 'POST', '/api/signup', signup),
        ('GET / (browse page)', 'GET', '/', None),
        ('GET /circles/{id} (circle page)', 'GET', f'/circles/{circle_id}', None),
    ]


def measure_first_requests(server, circles_count=200, samples=FIRST_REQUEST_SAMPLES):
    """Median first- and second-request times per route, each sample a fresh process against moto.

    `server` is a running moto server (see bench.dynamodb_calls.moto_server); the table is
    refilled with `circles_count` circles. Times include moto's own latency, which is not
    DynamoDB's: the difference between first and second request is the part that is ours
    (lazy imports, client set-up, template compilation).
    """
    from bench.dynamodb_calls import BENCH_ENV, fresh_table, open_circle, seed_circles
    fresh_table(server)
    target = open_circle(seed_circles(circles_count))
    env = lambda_environment({key: value for key, value in BENCH_ENV.items()
                              if key.startswith('AWS_') or key in ('CIRCLES_TABLE', 'CIRCLES_SENDER')})
    env['AWS_ENDPOINT_URL'] = server.url
    results = {}
    for sample in range(samples):
        for name, method, path, body in first_request_routes(target.id):
            request_body = body.replace('{pid}', str(sample)) if body else ''
            completed = subprocess.run(
                [venv_python(), '-m', 'bench.cold_start', '--first-request', method, path, request_body],
                cwd=REPO, env=env, capture_output=True, text=True)
            if completed.returncode:
                raise RuntimeError(f'{name}: {completed.stderr[-2000:]}')
            timing = json.loads(completed.stdout.strip().splitlines()[-1])
            results.setdefault(name, []).append(timing)
    return {name: {key: statistics.median(t[key] for t in timings) for key in ('import_ms', 'first_ms', 'second_ms')}
            for name, timings in results.items()}


def markdown(imports, breakdown=None, first_requests=None):
    ours, hello = imports['app.py'], imports['hello-world Chalice app']
    ratio = ours['process_ms'] / hello['process_ms']
    lines = ['### Cold start', '',
             f'Medians over {ours["samples"]} fresh processes each, interleaved.', '',
             '| target | process (ms) | import only (ms) | process ratio to hello-world | import ratio |',
             '|---|---|---|---|---|']
    for name, row in imports.items():
        lines.append(f'| `{name}` | {row["process_ms"]:.1f} | {row["import_ms"]:.1f} | '
                     f'{row["process_ms"] / hello["process_ms"]:.2f}x | '
                     f'{row["import_ms"] / hello["import_ms"]:.2f}x |')
    verdict = 'met' if ratio <= GOAL_RATIO else '**NOT met**'
    lines += ['', f'Goal `app.py` ≤ {GOAL_RATIO}x the hello-world process time: **{ratio:.2f}x**, {verdict}.']
    if breakdown:
        lines += ['', 'Largest imports under `import app` (`python -X importtime`, one run, cumulative):', '',
                  '| module | cumulative (ms) |', '|---|---|']
        lines += [f'| `{r["module"]}` | {r["cumulative_us"] / 1000:.1f} |' for r in breakdown]
    if first_requests:
        lines += ['', '### First request through each route', '',
                  f'Fresh process per sample ({FIRST_REQUEST_SAMPLES} samples, medians), `chalice.test.Client` '
                  'against moto with 200 circles. "first" includes the lazy imports (PynamoDB, boto3, jinja2...) '
                  'and client set-up; "second" is the same request again in the same process. Both include '
                  'moto\'s latency, which is not DynamoDB\'s.', '',
                  '| route | first request (ms) | second request (ms) | first − second (ms) |', '|---|---|---|---|']
        for name, row in first_requests.items():
            lines.append(f'| `{name}` | {row["first_ms"]:.0f} | {row["second_ms"]:.0f} | '
                         f'{row["first_ms"] - row["second_ms"]:.0f} |')
    return '\n'.join(lines) + '\n'


def main():
    if sys.argv[1:2] == ['--first-request']:
        _first_request_child(*sys.argv[2:5])
        return
    from bench.dynamodb_calls import moto_server
    imports = measure_imports()
    with moto_server() as server:
        first = measure_first_requests(server)
    print(markdown(imports, import_breakdown(), first))


if __name__ == '__main__':
    main()
