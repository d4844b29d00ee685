"""App CPU per public request, at 200 and 2000 published circles.

The issue's goal: every public read costs at most 5 ms of the app's own CPU at p50 on a warm
container. We measure in process with `chalice.test.Client`: `time.process_time()` around each
request is the CPU of this process only (every thread of it); moto answers in another process,
so its work (and its Query cost, which grows with the table) is not counted, while botocore's
parsing of moto's responses and PynamoDB's deserialisation are.

For each size: a fresh table seeded by bench/dynamodb_calls.py, one unmeasured request of each
kind (the warm container: imports done, clients made, templates compiled), then REPEATS
requests of each kind, interleaved kind by kind so a busy moment of the machine hits every kind
alike. p50 and p90 in ms, and the DynamoDB calls of one request (tests/support/aws_calls). The
slowest kinds at the largest size are then profiled once each with cProfile (timer:
`time.process_time`) and their top functions by cumulative time listed.

Signups use distinct emails on a circle without a capacity; the local stage's
`CIRCLES_RATE_LIMITS=off` turns the rate limits off (set here before settings load).

    python -m bench.request_cpu                       # both sizes, writes its own section
    python -m bench.request_cpu --sizes 200           # a quick run, printed only
"""
import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections import Counter

from bench import dynamodb_calls
from tests.support import aws_calls

START = '<!-- request cpu bench results start -->'
END = '<!-- request cpu bench results end -->'
SIZES = (2000, 10000)
REPEATS = 15
DEFAULT_REPEATS = {}
# A new container reads the whole catalog from moto, which takes moto ~40 s at 10,000 circles:
# that kind is measured fewer times.
COLD_REPEATS = {2000: 3, 10000: 1}
PROFILED = 3          # the slowest kinds, profiled once each
TOP = 8               # functions listed per profile
GOAL_MS = 5.0
# The exceptions to GOAL_MS: the whole unpaginated list (serialising it is most of the cost), and
# a new container's first request, which reads the whole catalog (no goal: it happens once).
GOALS = {'browse, no filters': 50.0, 'browse, no filters, answer computed afresh': 50.0,
         'browse, limit=10, new container (whole catalog read)': None}


def goal_of(name):
    return GOALS.get(name, GOAL_MS)
# Frames that only pass the request on (the client, the app's middleware, the handlers): left out of
# the profile lists, which would otherwise start with the same seven wrappers every time.
WRAPPERS = ('/chalice/', '/bench/', '/app.py', '/chalicelib/handlers/')


def _bench_env():
    """Rate limits off, the catalog's deployed refresh interval; settings are read again (under
    `make bench` an earlier bench loaded them)."""
    os.environ['CIRCLES_RATE_LIMITS'] = 'off'
    os.environ.pop('CIRCLES_CATALOG_REFRESH_SECONDS', None)     # the deployed interval (10 s)
    if 'chalicelib.core.settings' in sys.modules:
        sys.modules['chalicelib.core.settings'].get_settings.cache_clear()


def signup_circle(seeded):
    """A circle that accepts every signup of the run: open, published, in person, no capacity."""
    from chalicelib.circles.circles import accepts_signups, utcnow
    now = utcnow()
    return next(c for c in seeded if accepts_signups(c, now) and c.capacity is None and not c.online)


def kinds(seeded):
    """(name, method, path, body maker or None) for every request kind measured."""
    chicago = next(c for c in dynamodb_calls.CITIES if c[0] == 'Chicago')
    lat, lon = chicago[3], chicago[4]
    target = signup_circle(seeded)
    listing = '/api/learningcircles'
    counter = iter(range(10 ** 9))

    def signup_body():
        return {'learning_circle': target.id, 'name': 'Bench Learner',
                'email': f'learner-{next(counter)}-{time.time_ns()}@example.org', 'consent': True,
                'signup_questions': {'goals': 'Learn', 'support': 'None', 'custom_question': 'To learn'}}

    from chalicelib.circles import catalog
    return [
        ('browse near Chicago, 50 km', 'GET', f'{listing}?latitude={lat}&longitude={lon}&distance=50', None),
        ('browse near Chicago, 10 km', 'GET', f'{listing}?latitude={lat}&longitude={lon}&distance=10', None),
        ('browse by city (Chicago)', 'GET', f'{listing}?city=Chicago', None),
        ('browse by text (q=python)', 'GET', f'{listing}?q=python', None),
        ('browse, no filters', 'GET', listing, None),
        ('browse, limit=10', 'GET', f'{listing}?limit=10', None),
        # The same requests with the catalog's kept answer dropped first: computed afresh, as
        # the first request after any change (a signup, an edit) is.
        *[(f'{name}, answer computed afresh', 'GET', path, None, catalog.forget_answers)
          for name, path in [('browse near Chicago, 50 km', f'{listing}?latitude={lat}&longitude={lon}&distance=50'),
                             ('browse by text (q=python)', f'{listing}?q=python'),
                             ('browse, no filters', listing), ('browse, limit=10', f'{listing}?limit=10')]],
        ('browse, limit=10, refresh due (1 Query of what changed)', 'GET', f'{listing}?limit=10', None,
         catalog.expire),
        ('browse, limit=10, new container (whole catalog read)', 'GET', f'{listing}?limit=10', None,
         catalog.forget),
        ('browse page GET /', 'GET', '/', None),
        ('circle JSON', 'GET', f'{listing}/{target.id}', None),
        ('circle page', 'GET', f'/circles/{target.id}', None),
        ('circle calendar .ics', 'GET', f'/circles/{target.id}/calendar.ics', None),
        ('POST /api/signup', 'POST', '/api/signup', signup_body),
    ]


def _send(client, method, path, body):
    if method == 'GET':
        return client.http.get(path)
    return client.http.post(path, headers={'Content-Type': 'application/json'}, body=json.dumps(body()))


def _request_cpu(client, kind):
    _, method, path, body, *prepare = kind
    for step in prepare:
        step()
    started = time.process_time()
    response = _send(client, method, path, body)
    return (time.process_time() - started) * 1000, response.status_code


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def profile_one(client, kind, top=TOP):
    """One profiled request: its top functions by cumulative CPU time, skipping chalice's wrappers."""
    profiler = cProfile.Profile(time.process_time)
    _, method, path, body, *prepare = kind
    for step in prepare:
        step()
    profiler.enable()
    _send(client, method, path, body)
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_, calls, _tottime, cumtime, _) in stats.stats.items():
        if any(part in filename for part in WRAPPERS) or filename == '~' and 'exec' in name:
            continue
        short = filename.split('site-packages/')[-1].split('/work/main/')[-1]
        rows.append((cumtime * 1000, calls, f'{short}:{line}({name})'))
    rows.sort(reverse=True)
    own = sorted(((tottime * 1000, calls, where) for (where_file, line, name), (_, calls, tottime, _, _)
                  in stats.stats.items()
                  for where in [f"{where_file.split('site-packages/')[-1].split('/work/main/')[-1]}:{line}({name})"]),
                 reverse=True)
    return rows[:top], own[:5]


def measure_size(server, size, repeats=REPEATS):
    from chalice.test import Client

    from app import app
    dynamodb_calls.fresh_table(server)
    seeded = dynamodb_calls.seed_circles(size)
    requests = kinds(seeded)
    out = {'size': size, 'repeats': repeats, 'kinds': {}, 'profiles': {}}
    started = time.monotonic()
    with Client(app) as client:
        client.http.get('/api/learningcircles?limit=1')     # the container reads its catalog
        statuses = {}
        for kind in sorted(requests, key=lambda k: len(k) > 4 and k[4].__name__ == 'forget'):    # warm-up, calls
            aws_calls.reset()
            _, statuses[kind[0]] = _request_cpu(client, kind)
            out['kinds'][kind[0]] = {'calls': Counter(aws_calls.dynamodb_calls()), 'cpu': []}
        def cold(kind):
            return len(kind) > 4 and kind[4].__name__ == 'forget'
        # A new container's request drops every cached item: measured after the others, so that
        # it does not make the warm kinds re-encode their items.
        for kind_repeats, chosen in ((repeats, [k for k in requests if not cold(k)]),
                                     (COLD_REPEATS.get(size, 1), [k for k in requests if cold(k)])):
            for _ in range(kind_repeats):
                for kind in chosen:
                    cpu, status = _request_cpu(client, kind)
                    out['kinds'][kind[0]]['cpu'].append(cpu)
                    statuses[kind[0]] = status if status != 200 else statuses[kind[0]]
        for name, found in out['kinds'].items():
            found['status'] = statuses[name]
            found['p50'] = statistics.median(found['cpu'])
            found['p90'] = _percentile(found['cpu'], 0.9)
        slowest = sorted(requests, key=lambda k: out['kinds'][k[0]]['p50'], reverse=True)[:PROFILED]
        slowest.sort(key=lambda k: len(k) > 4 and k[4].__name__ == 'forget')      # a new container last
        for kind in slowest:
            out['profiles'][kind[0]] = profile_one(client, kind)
    out['seconds'] = time.monotonic() - started
    return out


def run(server, sizes=SIZES, repeats=None):
    _bench_env()
    return [measure_size(server, size, repeats or DEFAULT_REPEATS.get(size, REPEATS)) for size in sizes]


def markdown(measured):
    sizes = [m['size'] for m in measured]
    lines = ['### App CPU per public request (warm container)', '',
             '`time.process_time()` of the app process per request, '
             + ', '.join(f'{m["repeats"]} requests of each kind at N={m["size"]} ({m["seconds"]:.0f} s wall)'
                         for m in measured)
             + f', after one warm-up each; ms; goal ≤ {GOAL_MS:g} ms at p50, ≤ 50 ms for the whole unpaginated '
             'list ("no filters"), none for a new container\'s first request (over a goal: bold).', '']
    header, rule = '| request |', '|---|'
    for size in sizes:
        header += f' N={size}: p50 ms | N={size}: p90 ms | N={size}: DynamoDB calls |'
        rule += '---|---|---|'
    lines += [header, rule]
    for name in measured[0]['kinds']:
        row = f'| {name} |'
        for m in measured:
            found = m['kinds'][name]
            calls = ', '.join(f'{op} {n}' for op, n in sorted(found['calls'].items())) or 'none'
            if found['status'] != 200:
                calls += f' [HTTP {found["status"]}]'
            p50 = f'{found["p50"]:.1f}'
            p50 = p50 if goal_of(name) is None or found['p50'] <= goal_of(name) else f'**{p50}**'
            row += f' {p50} | {found["p90"]:.1f} | {calls} |'
        lines.append(row)
    over = {m['size']: sum(1 for name, f in m['kinds'].items() if goal_of(name) is not None and f['p50'] > goal_of(name))
            for m in measured}
    lines += ['', 'Kinds over the goal at p50 (bold): '
              + ', '.join(f'{n} of {len(measured[0]["kinds"])} at N={size}' for size, n in over.items()) + '.']
    last = measured[-1]
    lines += ['', f'### Where the time goes (N={last["size"]}, the {PROFILED} slowest kinds, one cProfile run each)',
              '', f'Top {TOP} functions by cumulative CPU time (the client, app.py\'s middleware and the handlers '
              'left out: they only pass the request on); '
              'cProfile adds its own overhead, so compare entries within a list, not with the table.', '']
    for name, (rows, own) in last['profiles'].items():
        lines.append(f'- **{name}**:')
        lines += [f'  - {ms:.1f} ms, {calls} calls: `{where}`' for ms, calls, where in rows]
        lines.append('  - own time, top 5: ' + '; '.join(f'`{where}` {ms:.0f} ms ({calls} calls)'
                                                        for ms, calls, where in own))
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.request_cpu')
    parser.add_argument('--sizes', type=int, nargs='+', help=f'circles in the table (default {SIZES})')
    parser.add_argument('--repeats', type=int, help=f'requests of each kind (default {DEFAULT_REPEATS})')
    args = parser.parse_args(argv)
    _bench_env()
    if args.sizes is None and args.repeats is None:
        from bench.report import run_alone
        run_alone(START, END, run, markdown)
        return
    from bench.report import machine
    with dynamodb_calls.moto_server() as server:
        print('\n'.join([machine(), '', markdown(run(server, tuple(args.sizes or SIZES),
                                                     args.repeats))]))


if __name__ == '__main__':
    main()
