"""The listing in memory: every listed circle's card, held by the container and kept fresh.

Browsing used to read whole circles from a DynamoDB index on every request, so its cost grew
with every published circle. Now a container reads the `catalog` index (each circle's
compressed card and its signup count, `chalicelib.circles.circles.card_of`) once, and after
that at most every `catalog_refresh_seconds` asks only for what changed since: the index is
ordered by each circle's change time, which every save and every signup moves forward. A
request between two refreshes makes no DynamoDB call at all.

Freshness: a circle unpublished, cancelled or filled is seen by every container at its next
refresh, so at most `catalog_refresh_seconds` (10 s) plus the index's propagation delay (the
Query starts `OVERLAP_MS` before the newest change seen, so a late index entry is still picked
up); the issue allows 60 s. A whole reload every `FULL_RELOAD_SECONDS` is the safety net for
anything missed. Circles taken off the listing keep an empty card in the index, so a refresh
learns that they are gone.

Dates: what an item says about "today" (status, open for signups, next meeting) is computed per
time zone and recomputed when local midnight passes in that zone, not per request.

Views (the cards in each order, by city, by team, by geohash) are built on first use and
dropped when a card changes; a signup changes only that circle's count and cached item. The
API's answers are kept by query until anything changes (a card, a count, a local date).
"""
import bisect
import json
import math
import threading
import time
from datetime import datetime, timedelta, timezone

from chalicelib.circles import geo
from chalicelib.circles.circles import CATALOG, day_facts, decode_card, list_item
from chalicelib.core.clock import utcnow, zone_info
from chalicelib.core.settings import get_settings
from chalicelib.models import raw

OVERLAP_MS = 30_000
MAX_ANSWERS = 256
MAX_ANSWER_CHARACTERS = 32_000_000     # a 512 MB Lambda keeps at most ~32 MB of answers
FULL_RELOAD_SECONDS = 900


class Entry:
    """One listed circle: its card, its signup count, and the facts of its local today."""
    __slots__ = ('id', 'card', 'data', 'count', 'changed', 'zone', 'facts', 'weekday', 'finished',
                 'today', 'today_iso', 'json', 'search', 'ranks')

    def __init__(self, data, card, count, changed):
        self.id = card['item']['id']
        self.data, self.card, self.count, self.changed = data, card, count, changed
        self.zone = card['item']['time_zone']
        self.search = ' ' + card['w']
        self.today = self.facts = self.json = None
        self.ranks = {}

    def set_today(self, today):
        if today != self.today:
            self.today, self.today_iso = today, today.isoformat()
            self.facts, self.weekday, self.finished = day_facts(self.card, today)
            self.json = None

    @property
    def accepts_signups(self):
        return self.facts['signup_open']

    def item(self):
        return list_item(self.card, self.count, self.facts)

    def item_json(self):
        if self.json is None:
            self.json = json.dumps(self.item())
        return self.json


def _zone_day(zone, now):
    """(local date, the UTC instants it starts and ends) of `now` in `zone`."""
    tz = zone_info(zone)
    today = now.astimezone(tz).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(timezone.utc)
    return today, min(start, now), max(end, now + timedelta(seconds=1))


class Catalog:
    def __init__(self):
        self.lock = threading.RLock()
        self.forget()

    def forget(self):
        """Drop everything (a new container would start so): the next request reads it all."""
        self.entries = {}
        self.newest = None          # the newest change time seen, epoch ms
        self.checked_at = None      # monotonic time of the last read of the index
        self.loaded_at = None       # monotonic time of the last whole read
        self.zones = {}             # zone -> (today, valid from, valid until)
        self.undated = []           # entries whose zone has no day yet
        self.views = {}
        self.answers = {}           # the API's recent answers (JSON text) by query, until anything changes

    # --- reading the index ---------------------------------------------------------

    def _read(self, since):
        """Every catalog entry changed after `since` (epoch ms; None: all): one Query of the
        `catalog` index per 1 MB page, read as JSON (`chalicelib.models.raw`, no model objects)."""
        return raw.query('cg', CATALOG, index_name='catalog',
                         range_after=('cu', since) if since is not None else None)

    def _apply(self, raw):
        changed = int(raw['cu']['N'])
        self.newest = max(self.newest or 0, changed)
        data = raw.get('cd', {}).get('B', b'')
        count = int(raw.get('sc', {}).get('N', 0))
        circle_id = raw['pk']['S'].split('#', 1)[1]
        entry = self.entries.get(circle_id)
        if entry is not None and entry.changed > changed:
            return                      # an older copy than the one held
        if not data:
            if self.entries.pop(circle_id, None) is not None:
                self.views, self.answers = {}, {}
            return
        if entry is not None and entry.data == data:
            if entry.count != count:
                entry.count, entry.json = count, None
                self.answers = {}
            entry.changed = changed
            return
        entry = Entry(data, decode_card(data), count, changed)
        self.entries[circle_id] = entry
        self.views, self.answers = {}, {}
        day = self.zones.get(entry.zone)
        if day:
            entry.set_today(day[0])
        else:
            self.undated.append(entry)

    def refresh(self, now=None):
        """Bring the cards up to date if the last read is older than the refresh interval."""
        clock = time.monotonic()
        interval = get_settings().catalog_refresh_seconds
        if self.loaded_at is None or clock - self.loaded_at >= FULL_RELOAD_SECONDS:
            zones = self.zones
            self.forget()
            self.zones = zones
            for raw in self._read(None):
                self._apply(raw)
            self.loaded_at = self.checked_at = clock
        elif clock - self.checked_at >= interval:
            since = (self.newest - OVERLAP_MS) if self.newest is not None else None
            for raw in self._read(since):
                self._apply(raw)
            self.checked_at = clock
        self._set_days(now or utcnow())

    def _set_days(self, now):
        """Give every entry the local date of `now` in its zone: per zone, once per local day."""
        stale = {zone for zone, (_, start, end) in self.zones.items() if not start <= now < end}
        for zone in stale:
            self.zones[zone] = _zone_day(zone, now)
        if stale:
            self.views, self.answers = {}, {}       # which circles are active changed with the date
            for entry in self.entries.values():
                if entry.zone in stale:
                    entry.set_today(self.zones[entry.zone][0])
        for entry in self.undated:
            if entry.zone not in self.zones:
                self.zones[entry.zone] = _zone_day(entry.zone, now)
            entry.set_today(self.zones[entry.zone][0])
        self.undated = []

    # --- views ---------------------------------------------------------------------

    def answer(self, key, compute):
        """The API's answer to a query (`key`), computed once until anything in the catalog
        changes: popular queries (a city, the first page) cost a lookup between two changes."""
        if key not in self.answers:
            text = compute()
            held = sum(len(kept) for kept in self.answers.values())
            if len(self.answers) >= MAX_ANSWERS or held + len(text) > MAX_ANSWER_CHARACTERS:
                self.answers = {}
            self.answers[key] = text
        return self.answers[key]

    def view(self, name, build):
        """The view `name`, built by `build()` on first use after the last change."""
        if name not in self.views:
            self.views[name] = build()
        return self.views[name]

    def ordered(self, order):
        """Every entry in `order` (see ORDERS), ties by id; each entry learns its rank."""
        def build():
            key, reverse = ORDERS[order]
            entries = list(self.entries.values())
            entries.sort(key=lambda e: e.id)
            entries.sort(key=key, reverse=reverse)
            for rank, entry in enumerate(entries):
                entry.ranks[order] = rank
            return entries
        return self.view(('order', order), build)

    def active(self, order):
        """`ordered(order)` without the finished circles (the browse page's default)."""
        return self.view(('active', order), lambda: [e for e in self.ordered(order) if not e.finished])

    def open_count(self, name, entries):
        """How many of a view's entries accept signups, counted once per view."""
        return self.view(('open', name), lambda: sum(1 for e in entries if e.accepts_signups))

    def text_matches(self, words):
        """The entries whose search words start with every one of `words`, in default order.

        One string holds every entry's words, a line per entry, so each word is found by
        `str.find` (C speed) instead of a test per entry."""
        def build():
            ordered = self.ordered(None)
            starts, position = [], 0
            for entry in ordered:
                starts.append(position)
                position += len(entry.search) + 1
            return '\n'.join(e.search for e in ordered), starts, ordered
        text, starts, ordered = self.view('text', build)
        found = None
        for word in words:
            needle, lines, position = ' ' + word, set(), 0
            while (position := text.find(needle, position)) != -1:
                line = bisect.bisect_right(starts, position) - 1
                lines.add(line)
                position = starts[line + 1] if line + 1 < len(starts) else len(text)
            found = lines if found is None else found & lines
            if not found:
                return []
        return [ordered[line] for line in sorted(found)]

    def grouped(self, field):
        """Entries by a card field (`cn` the city, `tm` the team), each group in default order."""
        def build():
            groups = {}
            for entry in self.ordered(None):
                groups.setdefault(entry.card[field], []).append(entry)
            return groups
        return self.view(('group', field), build)

    def near(self, latitude, longitude, distance_km):
        """(entry, distance) of the entries within the distance, in no particular order."""
        def build():
            located = sorted(((e.card['gh'], e) for e in self.entries.values() if e.card['gh']), key=lambda pair: pair[0])
            return [pair[0] for pair in located], [pair[1] for pair in located]
        hashes, located = self.view('geo', build)
        # A box around the circle (a little wider than it) skips the exact distance for most
        # of the cells' entries; near a pole or the antimeridian every entry is measured.
        margin = distance_km / geo.KM_PER_DEGREE * 1.01
        lat_low, lat_high = latitude - margin, latitude + margin
        lon_margin = margin / max(math.cos(math.radians(min(abs(latitude) + margin, 89.9))), 1e-6)
        boxed = lat_high < 90 and lat_low > -90 and lon_margin < 170 and -180 < longitude - lon_margin \
            and longitude + lon_margin < 180
        found = {}
        for cell in geo.covering_cells(latitude, longitude, distance_km):
            low = bisect.bisect_left(hashes, cell)
            high = bisect.bisect_left(hashes, cell + '~', low)
            for entry in located[low:high]:
                item = entry.card['item']
                lat, lon = item['latitude'], item['longitude']
                if boxed and not (lat_low <= lat <= lat_high and abs(lon - longitude) <= lon_margin):
                    continue
                distance = geo.distance_km(latitude, longitude, lat, lon)
                if distance <= distance_km:
                    found[entry.id] = (entry, distance)
        return list(found.values())


ORDERS = {
    None: (lambda e: e.card['ct'] or 0, False),
    'name': (lambda e: e.card['item']['name'].lower(), False),
    'start_date': (lambda e: e.card['fs'] or 0, True),
    'created_at': (lambda e: e.card['ct'] or 0, True),
    'first_meeting_date': (lambda e: e.card['fs'] or 0, False),
    'last_meeting_date': (lambda e: e.card['item']['last_meeting_date'] or '', True),
}

_catalog = Catalog()


def current(now=None):
    """The container's catalog, refreshed if due; hold `current().lock` while reading it."""
    with _catalog.lock:
        _catalog.refresh(now)
    return _catalog


def forget():
    """Start again from nothing, as a new container would (tests reset the table between tests)."""
    with _catalog.lock:
        _catalog.forget()


def forget_answers():
    """Drop the kept answers (the benchmark measures answers computed afresh)."""
    with _catalog.lock:
        _catalog.answers = {}


def expire():
    """Make the next request ask what changed, as when the refresh interval has passed."""
    with _catalog.lock:
        if _catalog.checked_at is not None:
            _catalog.checked_at = float('-inf')
