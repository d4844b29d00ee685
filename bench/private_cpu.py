"""App CPU of the pages behind a login and of a signup with the rate limits on.

The issue's goals: the facilitator's and organizer's pages cost at most 10 ms of app CPU at p50
for a circle with 50 learners; a signup at most 10 ms and 3 DynamoDB calls, with the rate limits
on as deployed (only the local stage turns them off, with CIRCLES_RATE_LIMITS=off).

Measured as bench/request_cpu.py measures public reads: `time.process_time()` of this process
around each `chalice.test.Client` request (every thread of this process; moto answers in
another process, so only botocore's parsing and PynamoDB's work on its answers count). The
pages go with a real session cookie (a GetItem of the session, or for an organizer a
BatchGetItem with their memberships, is part of every request).

The worlds are bench/facilitator_calls.py's: a facilitator with WORLD_CIRCLES circles, half of
them in one team; the circle opened has 5 or 50 signups, one message emailed to every learner
(the outbox drained: a delivery item per learner) and feedback on its first meeting; an
organizer of the team. Each page once unmeasured (the warm container), then REPEATS times,
interleaved page by page; p50, p90 and the DynamoDB calls of one request. The pages over the
goal (or the slowest, if none is) are profiled once each with cProfile (timer
`time.process_time`).

Signups: a fresh open circle without a capacity; each request from another client address
(the test client's source IP, so the per-client limit of 10 an hour is never reached) and
with another email, through the API (`POST /api/signup`) and through the circle page's form
(`POST /circles/{id}/signup`, answered with a redirect).

    python -m bench.private_cpu                 # writes its own section of BENCHMARKS.md
    python -m bench.private_cpu --repeats 5     # a quick run, printed only
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
from dataclasses import dataclass
from urllib.parse import urlencode

from bench import dynamodb_calls, facilitator_calls
from tests.support import aws_calls

START = '<!-- private cpu bench results start -->'
END = '<!-- private cpu bench results end -->'
WORLD_CIRCLES = 30
SIGNUPS = (5, 50)
REPEATS = 15
SIGNUP_REPEATS = 20
PAGE_GOAL_MS = 10.0
SIGNUP_GOAL_MS, SIGNUP_GOAL_CALLS = 10.0, 3
PROFILED = 3
TOP = 10
WRAPPERS = ('/chalice/', '/bench/', '/app.py')


@dataclass
class Page:
    name: str
    path: str            # with {circle_id}, {next_meeting} (the reminder shown) and {first_meeting}
    cookie: str          # the World attribute naming the cookie


PAGES = [
    Page("facilitator's circle page", '/facilitate/circles/{circle_id}', 'facilitator_cookie'),
    Page('circle page, team organizer', '/facilitate/circles/{circle_id}', 'organizer_cookie'),
    Page('signups CSV export', '/facilitate/circles/{circle_id}/signups.csv', 'facilitator_cookie'),
    Page("facilitator's dashboard", '/dashboard', 'facilitator_cookie'),
    Page('dashboard, organizer of 1 team', '/dashboard', 'organizer_cookie'),
    Page('meetings page', '/facilitate/circles/{circle_id}/meetings', 'facilitator_cookie'),
    Page('reminder edit page', '/facilitate/circles/{circle_id}/meetings/{next_meeting}/reminder',
         'facilitator_cookie'),
    Page('feedback page (first meeting)', '/facilitate/circles/{circle_id}/meetings/{first_meeting}/feedback',
         'facilitator_cookie'),
    Page('message form', '/facilitate/circles/{circle_id}/messages/new', 'facilitator_cookie'),
]


def _rate_limits_on():
    """The deployed configuration: limits on (an earlier bench in `make bench` may have turned them off)."""
    os.environ.pop('CIRCLES_RATE_LIMITS', None)
    if 'chalicelib.core.settings' in sys.modules:
        sys.modules['chalicelib.core.settings'].get_settings.cache_clear()


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summary(cpu):
    return {'p50': statistics.median(cpu), 'p90': _percentile(cpu, 0.9), 'cpu': cpu}


def _meeting_ids(circle_id):
    from chalicelib.circles import circles
    circle = circles.get_circle(circle_id)
    now = circles.utcnow()
    return {'first_meeting': circle.meetings[0].meeting_id,
            'next_meeting': circles.next_meeting(circle, now).meeting_id}


def _get(client, world, ids, page):
    return client.http.get(page.path.format(circle_id=world.circle_id, **ids),
                           headers={'Cookie': getattr(world, page.cookie)})


def _timed(send):
    started = time.process_time()
    response = send()
    return (time.process_time() - started) * 1000, response


def profile(send, top=TOP):
    """One profiled request: its top functions by cumulative CPU (chalice's and the bench's
    frames left out) and by own time."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    send()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows, own = [], []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():
        short = filename.split('site-packages/')[-1].split('/work/main/')[-1]
        where = f'{short}:{line}({name})'
        own.append((tottime * 1000, calls, where))
        if any(part in filename for part in WRAPPERS) or filename == '~':
            continue
        rows.append((cumtime * 1000, calls, where))
    return sorted(rows, reverse=True)[:top], sorted(own, reverse=True)[:6]


def measure_pages(server, signups, repeats=REPEATS):
    from chalice.test import Client

    from app import app
    dynamodb_calls.fresh_table(server)
    world = facilitator_calls.seed_world(WORLD_CIRCLES, signups)
    ids = _meeting_ids(world.circle_id)
    out = {'signups': signups, 'circles': WORLD_CIRCLES, 'pages': {}, 'profiles': {}}
    with Client(app) as client:
        for page in PAGES:                       # warm-up, and the calls of one request
            aws_calls.reset()
            _, response = _timed(lambda: _get(client, world, ids, page))
            out['pages'][page.name] = {'calls': Counter(aws_calls.dynamodb_calls()), 'status': response.status_code,
                                       'cpu': []}
        for _ in range(repeats):
            for page in PAGES:
                cpu, response = _timed(lambda: _get(client, world, ids, page))
                out['pages'][page.name]['cpu'].append(cpu)
                if response.status_code != 200:
                    out['pages'][page.name]['status'] = response.status_code
        for found in out['pages'].values():
            found.update(_summary(found['cpu']))
        ranked = sorted(PAGES, key=lambda p: out['pages'][p.name]['p50'], reverse=True)
        over = [p for p in ranked if out['pages'][p.name]['p50'] > PAGE_GOAL_MS]
        for page in (over or ranked)[:PROFILED]:
            out['profiles'][page.name] = profile(lambda: _get(client, world, ids, page))
    return out


# --- signups -------------------------------------------------------------------------------

def _signup_circle():
    """An open, published, in-person circle without a capacity, and no signups yet."""
    import random

    from chalicelib.circles import circles
    rng = random.Random(7)
    now = circles.utcnow()
    while True:
        circle = dynamodb_calls.build_circle(rng, now)
        if circles.accepts_signups(circle, now) and not circle.online:
            break
    circle.capacity, circle.signup_question = None, None
    circles.refresh_derived(circle)
    circle.save()
    return circle


class _Clients:
    """A new source address per request: the test client always sends 127.0.0.1, and the
    per-client limit (10 an hour) would refuse the 11th signup of the run. Set on the client's
    own event converter, as tests/learners/client_address.py does."""

    def __init__(self, client):
        self.converter = client.http._local_gateway.event_converter
        self.count = 0

    def next(self):
        self.count += 1
        self.converter.LOCAL_SOURCE_IP = f'10.{self.count // 65536 % 256}.{self.count // 256 % 256}.{self.count % 256}'

    def restore(self):
        self.converter.__dict__.pop('LOCAL_SOURCE_IP', None)


def signup_kinds(circle):
    counter = iter(range(10 ** 9))

    def email():
        return f'learner-{next(counter)}-{time.time_ns()}@example.org'

    def api(client):
        body = {'learning_circle': circle.id, 'name': 'Bench Learner', 'email': email(), 'consent': True,
                'signup_questions': {'goals': 'Learn', 'support': 'None'}}
        return client.http.post('/api/signup', headers={'Content-Type': 'application/json'}, body=json.dumps(body))

    def form(client):
        body = urlencode({'name': 'Bench Learner', 'email': email(), 'consent': 'true', 'goals': 'Learn',
                          'support': 'None'})
        return client.http.post(f'/circles/{circle.id}/signup',
                                headers={'Content-Type': 'application/x-www-form-urlencoded'}, body=body)

    return [('POST /api/signup', api, 200), ('POST /circles/{id}/signup (form)', form, 303)]


def measure_signups(server, repeats=SIGNUP_REPEATS):
    from chalice.test import Client

    from app import app
    from chalicelib.core.settings import get_settings
    dynamodb_calls.fresh_table(server)
    circle = _signup_circle()
    out = {'rate_limits': get_settings().rate_limits, 'kinds': {}, 'profiles': {}}
    with Client(app) as client:
        clients = _Clients(client)
        try:
            kinds = signup_kinds(circle)
            for name, send, expected in kinds:
                clients.next()
                aws_calls.reset()
                _, response = _timed(lambda: send(client))
                out['kinds'][name] = {'calls': Counter(aws_calls.dynamodb_calls()), 'cpu': [],
                                      'status': response.status_code, 'expected': expected}
            for _ in range(repeats):
                for name, send, expected in kinds:
                    clients.next()
                    cpu, response = _timed(lambda: send(client))
                    out['kinds'][name]['cpu'].append(cpu)
                    if response.status_code != expected:
                        out['kinds'][name]['status'] = response.status_code
            for name, send, _ in kinds:
                clients.next()
                out['profiles'][name] = profile(lambda: send(client))
        finally:
            clients.restore()
    for found in out['kinds'].values():
        found.update(_summary(found['cpu']))
    return out


def run(server, signups=SIGNUPS, repeats=REPEATS, signup_repeats=SIGNUP_REPEATS):
    _rate_limits_on()
    started = time.monotonic()
    pages = [measure_pages(server, count, repeats) for count in signups]
    signup = measure_signups(server, signup_repeats)
    return {'pages': pages, 'signup': signup, 'repeats': repeats, 'signup_repeats': signup_repeats,
            'seconds': time.monotonic() - started}


# --- reporting -------------------------------------------------------------------------------

def _calls_text(found, expected=200):
    text = ', '.join(f'{op} {n}' for op, n in sorted(found['calls'].items())) or 'none'
    if found['status'] != expected:
        text += f' [HTTP {found["status"]}]'
    return text


def _ms(value, goal):
    text = f'{value:.1f}'
    return text if value <= goal else f'**{text}**'


def _profile_lines(profiles):
    lines = []
    for name, (rows, own) in profiles.items():
        lines.append(f'- **{name}**:')
        lines += [f'  - {ms:.1f} ms, {calls} calls: `{where}`' for ms, calls, where in rows]
        lines.append('  - own time, top 6: ' + '; '.join(f'`{where}` {ms:.1f} ms ({calls} calls)'
                                                        for ms, calls, where in own))
    return lines


def markdown(result):
    pages, signup = result['pages'], result['signup']
    lines = ['### App CPU of the facilitator\'s and organizer\'s pages (warm container)', '',
             f'`time.process_time()` of the app process per request with the session cookie, '
             f'{result["repeats"]} requests of each page after one warm-up, interleaved; ms; goal ≤ '
             f'{PAGE_GOAL_MS:g} ms at p50 (over it: bold). The facilitator runs {pages[0]["circles"]} circles '
             '(half in the organizer\'s team); the circle shown has the signups named, one message emailed to '
             f'each learner and feedback on its first meeting. Whole run {result["seconds"]:.0f} s wall.', '']
    header, rule = '| page |', '|---|'
    for m in pages:
        header += f' {m["signups"]} signups: p50 | p90 | DynamoDB calls |'
        rule += '---|---|---|'
    lines += [header, rule]
    for page in PAGES:
        row = f'| {page.name} |'
        for m in pages:
            found = m['pages'][page.name]
            row += f' {_ms(found["p50"], PAGE_GOAL_MS)} | {found["p90"]:.1f} | {_calls_text(found)} |'
        lines.append(row)
    biggest = pages[-1]
    over = [name for name, found in biggest['pages'].items() if found['p50'] > PAGE_GOAL_MS]
    lines += ['', f'With {biggest["signups"]} signups: '
              + (f'**over the goal: {", ".join(over)}**.' if over else 'every page within the goal (met).')]
    lines += ['', f'### App CPU and calls of a signup, rate limits {"on" if signup["rate_limits"] else "OFF"}', '',
              f'{result["signup_repeats"]} signups of each kind after one warm-up, each with a new email and a new '
              f'client address; goal ≤ {SIGNUP_GOAL_MS:g} ms at p50 and ≤ {SIGNUP_GOAL_CALLS} DynamoDB calls.', '',
              '| request | p50 ms | p90 ms | DynamoDB calls | total | met |', '|---|---|---|---|---|---|']
    for name, found in signup['kinds'].items():
        total = sum(found['calls'].values())
        met = (found['p50'] <= SIGNUP_GOAL_MS and total <= SIGNUP_GOAL_CALLS and found['status'] == found['expected']
               and signup['rate_limits'])
        lines.append(f'| {name} | {_ms(found["p50"], SIGNUP_GOAL_MS)} | {found["p90"]:.1f} | '
                     f'{_calls_text(found, found["expected"])} | {total} | {"yes" if met else "**NO**"} |')
    lines += ['', f'### Where the time goes ({biggest["signups"]} signups; one cProfile run each)', '',
              'Top functions by cumulative CPU (chalice\'s and the bench\'s frames left out), then by own time; '
              'cProfile adds its own overhead, so compare within a list.', '']
    lines += _profile_lines(biggest['profiles'])
    lines += _profile_lines(signup['profiles'])
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.private_cpu')
    parser.add_argument('--repeats', type=int, help=f'requests of each page (default {REPEATS})')
    parser.add_argument('--signups', type=int, nargs='+', help=f'signups on the circle shown (default {SIGNUPS})')
    args = parser.parse_args(argv)
    _rate_limits_on()
    if args.repeats is None and args.signups is None:
        from bench.report import run_alone
        run_alone(START, END, run, markdown)
        return
    from bench.report import machine
    with dynamodb_calls.moto_server() as server:
        result = run(server, tuple(args.signups or SIGNUPS), args.repeats or REPEATS,
                     min(args.repeats or SIGNUP_REPEATS, SIGNUP_REPEATS))
        print('\n'.join([machine(), '', markdown(result)]))


if __name__ == '__main__':
    main()
