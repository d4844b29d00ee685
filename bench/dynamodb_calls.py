"""How many DynamoDB calls each request costs, at 200 and 2000 active circles.

We count calls rather than time them: moto's Query cost grows with the table
(it sorts every item per Query), so its timings say nothing about DynamoDB,
while the number and kind of calls are what DynamoDB bills and waits on.

moto does cut Query pages at 1 MB, but it measures the whole table item even
when the index projects only some attributes, and it leaves out DynamoDB's
per-element overhead. So for every Query page we also measure the items it
returned with DynamoDB's own size rules and estimate how many 1 MB pages the
same Query would take on DynamoDB; both numbers are reported.

chalicelib is imported inside functions: settings (table name, endpoint) are
read once per process, so the environment must be set first (`use_bench_environment`).

Run alone with `python -m bench.dynamodb_calls`.
"""
import base64
import contextlib
import json
import math
import os
import random
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from tests.support import aws_calls
from tests.support.environment import AWS_TEST_ENV

# The same environment tests/conftest.py gives the test session.
BENCH_ENV = dict(AWS_TEST_ENV)
SIZES = (200, 2000)
# DynamoDB's Query page limit. AWS documents it as "1 MB"; we take 1,000,000 bytes
# (the smaller reading, and moto's), so page estimates err on the high side.
PAGE_BYTES = 1_000_000
START, END = '<!-- bench results start -->', '<!-- bench results end -->'
LISTING_KEYS = ['pk', 'sk', 'cg', 'cu']   # every index entry also carries the keys (stored names)
CATALOG_ATTRIBUTES = ['cd', 'sc']         # what the `catalog` index projects

# (city, region, country, latitude, longitude, timezone, weight): several continents,
# weighted the way P2PU's circles cluster (many in a few US cities, fewer elsewhere).
CITIES = [
    ('Chicago', 'Illinois', 'United States', 41.8781, -87.6298, 'America/Chicago', 6),
    ('Kansas City', 'Missouri', 'United States', 39.0997, -94.5786, 'America/Chicago', 4),
    ('New York', 'New York', 'United States', 40.7128, -74.0060, 'America/New_York', 3),
    ('Toronto', 'Ontario', 'Canada', 43.6532, -79.3832, 'America/Toronto', 2),
    ('Ciudad de México', 'CDMX', 'Mexico', 19.4326, -99.1332, 'America/Mexico_City', 2),
    ('São Paulo', 'São Paulo', 'Brazil', -23.5505, -46.6333, 'America/Sao_Paulo', 2),
    ('London', 'England', 'United Kingdom', 51.5074, -0.1278, 'Europe/London', 2),
    ('Berlin', 'Berlin', 'Germany', 52.5200, 13.4050, 'Europe/Berlin', 2),
    ('Nairobi', 'Nairobi', 'Kenya', -1.2921, 36.8219, 'Africa/Nairobi', 3),
    ('Lagos', 'Lagos', 'Nigeria', 6.5244, 3.3792, 'Africa/Lagos', 2),
    ('Cape Town', 'Western Cape', 'South Africa', -33.9249, 18.4241, 'Africa/Johannesburg', 1),
    ('New Delhi', 'Delhi', 'India', 28.6139, 77.2090, 'Asia/Kolkata', 2),
    ('Tokyo', 'Tokyo', 'Japan', 35.6762, 139.6503, 'Asia/Tokyo', 1),
    ('Sydney', 'New South Wales', 'Australia', -33.8688, 151.2093, 'Australia/Sydney', 1),
    ('Auckland', 'Auckland', 'New Zealand', -36.8485, 174.7633, 'Pacific/Auckland', 1),
]
COURSES = [
    ('Python for Everybody', 'Coursera', ['programming', 'python']),
    ('Learning How to Learn', 'Coursera', ['study skills', 'learning']),
    ('Introduction to Public Speaking', 'edX', ['communication', 'public speaking']),
    ('Web Development for Beginners', 'freeCodeCamp', ['programming', 'web development', 'html']),
    ('Personal Finance Essentials', 'Khan Academy', ['finance', 'money']),
    ('Writing in the Sciences', 'Stanford Online', ['writing', 'science']),
    ('Spanish for Beginners', 'Duolingo', ['languages', 'spanish']),
    ('Data Analysis with Spreadsheets', 'Google', ['data', 'spreadsheets']),
    ('The Science of Well-Being', 'Coursera', ['psychology', 'wellbeing']),
    ('Small Business Marketing', 'SBA Learning Center', ['business', 'marketing']),
    ('Introduction to Philosophy', 'University of Edinburgh', ['philosophy', 'humanities']),
    ('Digital Photography', 'OpenLearn', ['photography', 'art']),
]
FACILITATORS = ['Ada', 'Grace', 'Kwame', 'Amara', 'Mei', 'Luis', 'Priya', 'Tom', 'Fatima',
                'Kenji', 'Olga', 'Sipho', 'Carmen', 'Noah', 'Aisha', 'Lars']
VENUES = ['Public Library', 'Community Center', 'Makerspace', 'Neighborhood Library Branch',
          'Community College', 'Coworking Hub']
TEAMS = [f'team-{n}' for n in range(1, 9)]
WORDS = ('we meet every week to work through the course together share what we found hard '
         'and help each other no experience needed bring a laptop if you have one').split()


def use_bench_environment():
    """Point settings at a bench table; must run before anything imports chalicelib."""
    os.environ.update(BENCH_ENV)
    os.environ.pop('AWS_PROFILE', None)


@contextlib.contextmanager
def moto_server():
    """A moto server the environment points at, stopped on exit.

    One server per process: PynamoDB and boto3 cache their clients, and with them the endpoint.
    """
    from tests.support.moto_server import MotoServer, point_environment_at
    use_bench_environment()
    server = MotoServer()
    try:
        point_environment_at(server)
        aws_calls.install()
        yield server
    finally:
        server.stop()


def fresh_table(server):
    """Wipe moto and create the empty table and the verified sender, as the test fixture does."""
    from chalicelib.circles import catalog
    from chalicelib.ops import admin
    server.reset()
    catalog.forget()       # a new table: the bench's container starts its catalog again
    admin.create_table()
    admin.verify_local_sender()


# --- seeding ---------------------------------------------------------------------

def _description(rng):
    return ' '.join(rng.choice(WORDS) for _ in range(rng.randint(40, 140))).capitalize() + '.'


def _place(rng):
    name, region, country, lat, lon, tz_name, _ = rng.choices(CITIES, weights=[c[-1] for c in CITIES])[0]
    spread = 0.25   # degrees: circles spread over a metro area, up to ~30 km from the centre
    return dict(city=name, region=region, country=country, timezone_name=tz_name,
                latitude=round(lat + rng.uniform(-spread, spread), 5),
                longitude=round(lon + rng.uniform(-spread, spread) / math.cos(math.radians(lat)), 5))


def build_circle(rng, now):
    """One active, published circle with realistic fields, built by the app's own functions."""
    from chalicelib.circles import circles
    from chalicelib.models import Course
    title, provider, topics = rng.choice(COURSES)
    online = rng.random() < 0.25
    place = _place(rng)
    tz_name = place.pop('timezone_name')
    if online:
        place = dict(city=None, region=None, country=None, latitude=None, longitude=None)
    weeks = rng.randint(4, 12)
    today = now.astimezone(ZoneInfo(tz_name)).date()
    # Upcoming or in progress, never finished: the last meeting is today or later.
    first = today + timedelta(days=rng.randint(-7 * (weeks - 1), 60))
    meeting_time = time(rng.choice([10, 12, 17, 18, 19]), rng.choice([0, 30]))
    meetings = circles.weekly_meetings(first, meeting_time, weeks, rng.choice([60, 90, 120]), tz_name)
    facilitators = rng.sample(FACILITATORS, rng.choice([1, 1, 2]))
    city_part = place['city'] or 'Online'
    fields = dict(
        venue_name=None if online else f'{city_part} {rng.choice(VENUES)}',
        venue_address=None if online else f'{rng.randint(1, 999)} Main Street',
        venue_website=None if online else 'https://library.example.org',
        venue_details=None if online else 'Meeting room 2, second floor',
        online=online, online_link='https://meet.example.org/room' if online else None,
        facilitator_names=facilitators, facilitator_ids=[f'u-{f.lower()}' for f in facilitators],
        facilitator_emails=[f'{f.lower()}@example.org' for f in facilitators],
        description=_description(rng), published=True,
        signup_open=rng.random() < 0.9,
        capacity=rng.randint(10, 25) if rng.random() < 0.3 else None,
        signup_question='What do you hope to get out of this?' if rng.random() < 0.3 else None,
        image_url='https://images.example.org/circle.jpg' if rng.random() < 0.2 else None,
        team_id=rng.choice(TEAMS) if rng.random() < 0.5 else None,
        welcome_message='Welcome! See you at the first meeting.',
        **place,
    )
    course = Course(title=title, provider=provider, link='https://example.org/course', topics=list(topics))
    return circles.new_circle(name=f'{title} in {city_part}', course=course, timezone_name=tz_name,
                              meetings=meetings, **fields)


def seed_circles(count, now=None, seed=2026):
    """Write `count` active published circles with PynamoDB batch writes; returns them."""
    from chalicelib.models import Circle
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    built = [build_circle(rng, now) for _ in range(count)]
    for circle in built:
        # Last changed over the days before, as in a table in use (not all in the last second,
        # which would make every container's next refresh a whole read).
        circle.changed_millis -= rng.randint(60_000, 7 * 86_400_000)
    with Circle.batch_write() as batch:
        for circle in built:
            batch.save(circle)
    return built


def open_circle(circles_):
    """A circle that accepts a signup now (published, open, room left), for the signup scenario."""
    from chalicelib.circles.circles import accepts_signups, is_full, utcnow
    now = utcnow()
    return next(c for c in circles_ if accepts_signups(c, now) and not is_full(c) and not c.online)


# --- DynamoDB item sizes -----------------------------------------------------------

def _number_size(text):
    digits = text.lstrip('-').split('e')[0].split('E')[0].replace('.', '').strip('0') or '0'
    return math.ceil(len(digits) / 2) + 1


def attribute_value_size(value):
    """Bytes of one DynamoDB AttributeValue, by AWS's documented rules ("Item sizes and formats")."""
    (kind, inner), = value.items()
    if kind == 'S':
        return len(inner.encode())
    if kind == 'N':
        return _number_size(inner)
    if kind == 'B':
        return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
    if kind in ('BOOL', 'NULL'):
        return 1
    if kind == 'SS':
        return sum(len(s.encode()) for s in inner)
    if kind == 'NS':
        return sum(_number_size(n) for n in inner)
    if kind == 'L':
        return 3 + sum(1 + attribute_value_size(v) for v in inner)
    if kind == 'M':
        return 3 + sum(1 + len(k.encode()) + attribute_value_size(v) for k, v in inner.items())
    raise ValueError(f'unknown attribute type {kind}')


def item_size(item):
    """Bytes of a DynamoDB item (attribute names count too)."""
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in item.items())


def listing_projection(circle):
    """The attributes of `circle` that the `catalog` index stores (INCLUDE projection plus keys)."""
    serialized = circle.serialize()
    return {name: value for name, value in serialized.items() if name in CATALOG_ATTRIBUTES + LISTING_KEYS}


def listing_projection_report(circles_):
    """Per-circle size of the listing projection, and what it means for Query pages."""
    sizes = [item_size(listing_projection(c)) for c in circles_]
    full = [item_size(c.serialize()) for c in circles_]
    from chalicelib.circles.circles import card_of
    json_sizes = [len(json.dumps(card_of(c), separators=(',', ':')).encode()) for c in circles_]
    mean = statistics.mean(sizes)
    return {
        'circles': len(sizes),
        'projected_mean': round(mean), 'projected_median': round(statistics.median(sizes)),
        'projected_max': max(sizes), 'projected_json_mean': round(statistics.mean(json_sizes)),
        'full_item_mean': round(statistics.mean(full)),
        'circles_per_page': int(PAGE_BYTES // mean),
        'pages_at_2000': math.ceil(2000 * mean / PAGE_BYTES),
        'pages_at_2000_max_size': math.ceil(2000 * max(sizes) / PAGE_BYTES),
        'pages_at_10000': math.ceil(10000 * mean / PAGE_BYTES),
    }


# --- counting one request ------------------------------------------------------------

class QueryPages:
    """Every Query page a request made: which index and key, how many bytes of items came back.

    Hooks the process's botocore client (public botocore events; nothing is replaced). Pages of
    one Query are consecutive calls with the same key condition, the later ones carrying
    ExclusiveStartKey.
    """
    HOOK_ID = 'bench-query-pages'

    def __init__(self):
        self.pages = []

    @staticmethod
    def _events():
        """The events of the process's one DynamoDB client (every model, the catalog and raw reads)."""
        from chalicelib.models.base import connection
        return connection().client.meta.events

    def attach(self):
        events = self._events()
        events.register('before-parameter-build.dynamodb.Query', self._remember, unique_id=self.HOOK_ID + '-params')
        events.register('after-call.dynamodb.Query', self._record, unique_id=self.HOOK_ID + '-result')

    def detach(self):
        events = self._events()
        events.unregister('before-parameter-build.dynamodb.Query', unique_id=self.HOOK_ID + '-params')
        events.unregister('after-call.dynamodb.Query', unique_id=self.HOOK_ID + '-result')

    def _remember(self, params, context, **_):
        context['bench_query'] = {
            'key': json.dumps([params.get('IndexName'), params.get('KeyConditionExpression'),
                               params.get('ExpressionAttributeValues')], sort_keys=True, default=str),
            'continues': 'ExclusiveStartKey' in params,
        }

    def _record(self, parsed, context, **_):
        query = context.get('bench_query', {})
        items = parsed.get('Items', [])
        self.pages.append({**query, 'items': len(items), 'bytes': sum(item_size(i) for i in items)})

    def estimated_dynamodb_queries(self):
        """Query calls DynamoDB would need for the same reads: ceil(bytes / 1 MB) per Query."""
        queries = []
        for page in self.pages:
            if page.get('continues') and queries and queries[-1]['key'] == page['key']:
                queries[-1]['bytes'] += page['bytes']
            else:
                queries.append({'key': page.get('key'), 'bytes': page['bytes']})
        return sum(max(1, math.ceil(q['bytes'] / PAGE_BYTES)) for q in queries)

    def bytes_read(self):
        return sum(p['bytes'] for p in self.pages)


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    goal: str
    check: object          # function(result) -> bool, judged on DynamoDB's count (see Result)
    body: dict = None
    cold: bool = False     # a new container: its catalog is read whole
    refresh_due: bool = True   # the catalog's refresh interval has passed (else: between two refreshes)


@dataclass
class Result:
    scenario: Scenario
    status: int
    calls: Counter                     # DynamoDB operations as moto served them
    ses_calls: int
    dynamodb_queries: int              # Queries DynamoDB itself would make (1 MB pages, real item sizes)
    items: int = 0
    bytes_read: int = 0
    met: bool = field(default=False)

    @property
    def moto_queries(self):
        return self.calls.get('Query', 0)

    @property
    def total_calls(self):
        return sum(self.calls.values())

    @property
    def dynamodb_calls(self):
        """All calls, with Query counted as DynamoDB would page it."""
        return self.total_calls - self.moto_queries + self.dynamodb_queries


def _queries_at_most(limit):
    return lambda r: r.dynamodb_queries <= limit and r.total_calls == r.moto_queries


def _only(operation, count):
    return lambda r: r.calls == Counter({operation: count}) and r.dynamodb_calls == count


def _calls_at_most(limit):
    return lambda r: r.status == 200 and r.dynamodb_calls <= limit


def scenarios(circles_):
    """The requests we count, with their goals."""
    chicago = next(c for c in CITIES if c[0] == 'Chicago')
    lat, lon = chicago[3], chicago[4]
    target = open_circle(circles_)
    team = next(c.team_id for c in circles_ if c.team_id)
    signup = {'learning_circle': target.id, 'name': 'Bench Learner', 'email': 'learner@example.org',
              'consent': True, 'signup_questions': {'goals': 'Learn', 'support': 'None',
                                                    'custom_question': 'To learn'}}
    listing = '/api/learningcircles'
    refresh = '1 Query (what changed)'
    rows = [Scenario(f'browse near Chicago, distance {km} km', 'GET',
                     f'{listing}?latitude={lat}&longitude={lon}&distance={km}', refresh, _only('Query', 1))
            for km in (10, 50, 100)]
    rows += [
        Scenario('browse by city (Chicago)', 'GET', f'{listing}?city=Chicago', refresh, _only('Query', 1)),
        Scenario(f'browse by team_id ({team})', 'GET', f'{listing}?team_id={team}', refresh, _only('Query', 1)),
        Scenario('browse by text q only (python)', 'GET', f'{listing}?q=python', refresh, _only('Query', 1)),
    ]
    for name, params in [('weekdays', 'weekdays=0,2'), ('online', 'online=true'), ('topics', 'topics=python'),
                         ('scope=active', 'scope=active'), ('signup=open', 'signup=open')]:
        rows.append(Scenario(f'browse by {name} only', 'GET', f'{listing}?{params}', refresh, _only('Query', 1)))
    rows += [
        Scenario('browse, no filters', 'GET', listing, refresh, _only('Query', 1)),
        Scenario('browse first page of 10', 'GET', f'{listing}?limit=10', '≤ 2 calls', _queries_at_most(2)),
        Scenario('browse first page of 10, between two refreshes', 'GET', f'{listing}?limit=10', 'none',
                 lambda r: r.total_calls == 0, refresh_due=False),
        Scenario('browse first page of 10, new container (whole catalog)', 'GET', f'{listing}?limit=10',
                 '1 Query per MB of cards (information)', lambda r: r.total_calls == r.moto_queries, cold=True),
        Scenario('circle details JSON', 'GET', f'{listing}/{target.id}', '1 GetItem', _only('GetItem', 1)),
        Scenario('POST /api/signup (new)', 'POST', '/api/signup', '≤ 3 calls', _calls_at_most(3), signup),
        Scenario('POST /api/signup (duplicate)', 'POST', '/api/signup', '≤ 4 calls', _calls_at_most(4), signup),
    ]
    return rows


def count_calls(client, scenario):
    """Make the scenario's request once and count the AWS calls it caused."""
    from chalicelib.circles import catalog
    if scenario.cold:
        catalog.forget()
    elif scenario.method == 'GET':
        client.http.get(scenario.path)           # a warm container: the catalog was read before
    before = os.environ.get('CIRCLES_CATALOG_REFRESH_SECONDS')
    _refresh_interval('0' if scenario.refresh_due else '3600')
    pages = QueryPages()
    pages.attach()
    aws_calls.reset()
    try:
        if scenario.method == 'GET':
            response = client.http.get(scenario.path)
        else:
            response = client.http.post(scenario.path, headers={'Content-Type': 'application/json'},
                                        body=json.dumps(scenario.body))
    finally:
        pages.detach()
        _refresh_interval(before)       # as it was: the next bench measures the deployed interval
    calls = Counter(aws_calls.dynamodb_calls())
    ses = sum(v for k, v in aws_calls.calls.items() if k.startswith('sesv2.') or k.startswith('ses.'))
    body = response.json_body if isinstance(response.json_body, dict) else {}
    result = Result(scenario, response.status_code, calls, ses,
                    dynamodb_queries=pages.estimated_dynamodb_queries() if pages.pages else 0,
                    items=body.get('count', 0), bytes_read=pages.bytes_read())
    result.met = response.status_code == 200 and bool(scenario.check(result))
    return result


def _refresh_interval(seconds):
    """The catalog's refresh interval for the next requests (None: the default; settings are read again)."""
    from chalicelib.core.settings import get_settings
    if seconds is None:
        os.environ.pop('CIRCLES_CATALOG_REFRESH_SECONDS', None)
    else:
        os.environ['CIRCLES_CATALOG_REFRESH_SECONDS'] = seconds
    get_settings.cache_clear()
    get_settings()


def measure(client, circles_):
    """Count every scenario against the circles already in the table."""
    return [count_calls(client, s) for s in scenarios(circles_)]


def run(server, sizes=SIZES):
    """Seed each size into a fresh table on `server` and count; returns {size: (results, projection)}."""
    from chalice.test import Client

    from app import app
    out = {}
    for size in sizes:
        fresh_table(server)
        seeded = seed_circles(size)
        with Client(app) as client:
            out[size] = (measure(client, seeded), listing_projection_report(seeded))
    return out


def markdown(measured):
    """The results as markdown tables."""
    sizes = sorted(measured)
    lines = ['### DynamoDB calls per request', '',
             'Counts by operation as moto served them; "DynamoDB Queries" re-pages the same reads at '
             f'{PAGE_BYTES:,} bytes per Query page using DynamoDB\'s item-size rules (moto pages by '
             'whole-table item size, so it over-counts Queries on the `catalog` index). Each browse '
             'request is made on a warm container whose catalog refresh is due (one Query of what '
             'changed), unless its name says otherwise. Goals are judged on the DynamoDB column.', '']
    header = '| request | goal |'
    rule = '|---|---|'
    for size in sizes:
        header += f' N={size}: calls (moto) | N={size}: DynamoDB Queries | N={size}: circles / KB read | N={size}: met |'
        rule += '---|---|---|---|'
    lines += [header, rule]
    by_name = {size: {r.scenario.name: r for r in measured[size][0]} for size in sizes}
    for scenario_name in by_name[sizes[0]]:
        row = f'| {scenario_name} | {by_name[sizes[0]][scenario_name].scenario.goal} |'
        for size in sizes:
            r = by_name[size][scenario_name]
            calls = ', '.join(f'{op} {n}' for op, n in sorted(r.calls.items())) or 'none'
            if r.ses_calls:
                calls += f' (+ SES {r.ses_calls})'
            if r.status != 200:
                calls += f' [HTTP {r.status}]'
            queries = r.dynamodb_queries if r.moto_queries else '–'
            read = f'{r.items} / {r.bytes_read / 1000:.0f}' if r.moto_queries else '–'
            row += f' {calls} | {queries} | {read} | {"yes" if r.met else "**NO**"} |'
        lines.append(row)
    grew = [name for name in by_name[sizes[0]]
            if by_name[sizes[-1]][name].dynamodb_calls > by_name[sizes[0]][name].dynamodb_calls]
    lines += ['', f'DynamoDB calls that grew from N={sizes[0]} to N={sizes[-1]}: '
              + (', '.join(grew) if grew else 'none') + '.']
    projection = measured[sizes[-1]][1]
    lines += ['', f'### Catalog index entry (N={projection["circles"]} seeded circles)', '',
              '| measure | bytes |', '|---|---|',
              f'| projected item, mean (DynamoDB size rules) | {projection["projected_mean"]} |',
              f'| projected item, median | {projection["projected_median"]} |',
              f'| projected item, largest | {projection["projected_max"]} |',
              f'| the card as plain JSON, before compression, mean (for comparison) | {projection["projected_json_mean"]} |',
              f'| whole table item, mean (what moto pages by) | {projection["full_item_mean"]} |',
              '',
              f'Circles per 1 MB Query page: **{projection["circles_per_page"]}** (mean size). '
              f'A new container reads the whole catalog: for 2,000 circles **{projection["pages_at_2000"]}** '
              f'Query page(s) on DynamoDB ({projection["pages_at_2000_max_size"]} if every circle were as '
              f'large as the largest), for 10,000 **{projection["pages_at_10000"]}**.']
    return '\n'.join(lines) + '\n'


def main():
    with moto_server() as server:
        print(markdown(run(server)))


if __name__ == '__main__':
    main()
