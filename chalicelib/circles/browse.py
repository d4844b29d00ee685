"""Browsing learning circles: the parameters of `GET /api/learningcircles/` and their answer.

Every request is answered from the container's catalog (`chalicelib.circles.catalog`): the
candidates come from one of its views (near a place, a team, a city, or every circle in the
requested order), then each filter is applied exactly, with "today" in each circle's timezone.
"""
import dataclasses
import json
import math
from dataclasses import dataclass, field

from chalicelib.circles import geo
from chalicelib.circles.catalog import current
from chalicelib.circles.circles import normalise_city, search_words, utcnow
from chalicelib.core import fields as rules
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.i18n import _

SCOPES = ('active', 'upcoming', 'current', 'completed')
ORDERS = ('name', 'start_date', 'created_at', 'first_meeting_date', 'last_meeting_date')
DEFAULT_DISTANCE_KM = 50
MAX_DISTANCE_KM = geo.MAX_RADIUS_KM     # covered by at most geo.MAX_CELLS Queries anywhere
DEFAULT_LIMIT = 100
TEXT_PARAMETERS = ('q', 'city', 'team_id', 'topics')
MAX_LIMIT = 1000


@dataclass
class BrowseQuery:
    q: list = field(default_factory=list)
    latitude: float = None
    longitude: float = None
    distance: float = DEFAULT_DISTANCE_KM
    city: str = None
    team_id: str = None
    topics: list = None
    weekdays: list = None
    online: bool = None
    active: bool = None
    scope: str = None
    signup: str = None
    order: str = None
    limit: int = None
    offset: int = None

    @property
    def has_location(self):
        return self.latitude is not None


def _text(params, name, errors):
    """A text parameter by the field rules (one line, no broken characters, a bounded length:
    a city or team becomes a DynamoDB key); '' when refused."""
    value, error = rules.clean_text(rules.SEARCH_TEXT, params[name])
    if error:
        errors[name] = [error]
        return ''
    return value


def _boolean(value, name, errors):
    if value in ('true', 'True', '1'):
        return True
    if value in ('false', 'False', '0'):
        return False
    errors[name] = [_('Must be true or false.')]


def _number(value, name, errors, low, high, kind=float):
    try:
        number = kind(value)
        if kind is float and not math.isfinite(number):
            raise ValueError
    except (TypeError, ValueError):
        errors[name] = [_('Must be a whole number.') if kind is int else _('Must be a number.')]
        return None
    if not low <= number <= high:
        errors[name] = [_('Must be between %(low)s and %(high)s.') % {'low': low, 'high': high}]
        return None
    return number


def parse_browse_query(params):
    """Validate query-string parameters into a BrowseQuery, or raise ValidationFailed."""
    params = {k: v for k, v in (params or {}).items() if v is not None}
    errors = {}
    query = BrowseQuery()
    params = {name: _text(params, name, errors) if name in TEXT_PARAMETERS else value
              for name, value in params.items()}
    query.q = search_words(params.get('q', ''))
    if 'latitude' in params or 'longitude' in params:
        if 'latitude' not in params or 'longitude' not in params:
            missing = 'longitude' if 'latitude' in params else 'latitude'
            errors[missing] = [_('Required with latitude and longitude.')]
        query.latitude = _number(params.get('latitude'), 'latitude', errors, -90, 90)
        query.longitude = _number(params.get('longitude'), 'longitude', errors, -180, 180)
    if params.get('distance'):
        query.distance = _number(params['distance'], 'distance', errors, 0.001, MAX_DISTANCE_KM)
    elif 'distance' in params and not query.has_location:
        pass
    if params.get('city', '').strip():
        query.city = normalise_city(params['city'])
    if params.get('team_id', '').strip():
        query.team_id = params['team_id'].strip()
    if params.get('topics', '').strip():
        query.topics = [t.strip().lower() for t in params['topics'].split(',') if t.strip()]
    if params.get('weekdays', '').strip():
        try:
            query.weekdays = {int(d) for d in params['weekdays'].split(',')}
            if not query.weekdays <= set(range(7)):
                raise ValueError
        except ValueError:
            errors['weekdays'] = [_('Must be a comma-separated list of numbers from 0 (Monday) to 6 (Sunday).')]
    if 'online' in params:
        query.online = _boolean(params['online'], 'online', errors)
    if 'active' in params:
        query.active = _boolean(params['active'], 'active', errors)
    if 'scope' in params:
        if params['scope'] not in SCOPES:
            errors['scope'] = [_('Must be one of: %(values)s.') % {'values': ', '.join(SCOPES)}]
        query.scope = params['scope']
    if 'signup' in params:
        if params['signup'] not in ('open', 'closed'):
            errors['signup'] = [_('Must be open or closed.')]
        query.signup = params['signup']
    if 'order' in params:
        if params['order'] not in ORDERS:
            errors['order'] = [_('Must be one of: %(values)s.') % {'values': ', '.join(ORDERS)}]
        query.order = params['order']
    if 'limit' in params or 'offset' in params:
        query.limit = _number(params.get('limit', DEFAULT_LIMIT), 'limit', errors, 1, MAX_LIMIT, int)
        query.offset = _number(params.get('offset', 0), 'offset', errors, 0, 10**9, int)
    if errors:
        raise ValidationFailed(errors)
    return query


def _filters(query):
    """One test per filter the query sets, on catalog entries (the candidates' own filter,
    city, team or location, is applied by choosing them)."""
    tests = []
    if query.has_location and query.team_id:
        tests.append(lambda e: e.card['tm'] == query.team_id)
    if (query.has_location or query.team_id) and query.city:
        tests.append(lambda e: e.card['cn'] == query.city)
    if query.topics:
        tests.append(lambda e: any(topic in e.card['tp'] for topic in query.topics))
    if query.weekdays is not None:
        tests.append(lambda e: e.weekday in query.weekdays)
    if query.online is not None:
        tests.append(lambda e: e.card['item']['online'] == query.online)
    if query.active is not None and not _from_active_view(query):
        tests.append(lambda e: e.finished != query.active)
    scope = {
        'active': lambda e: not e.finished,
        'upcoming': lambda e: e.card['item']['start_date'] > e.today_iso,
        'current': lambda e: e.card['item']['start_date'] <= e.today_iso <= e.card['item']['last_meeting_date'],
        'completed': lambda e: e.finished,
    }.get(query.scope)
    if scope and not (query.scope == 'active' and _from_active_view(query)):
        tests.append(scope)
    return tests


def _whole_catalog(query):
    """The candidates are every circle (no place, team or city narrows them)."""
    return not (query.has_location or query.team_id or query.city)


def _from_active_view(query):
    """The candidates come from the catalog's view of active circles, in the requested order."""
    return _whole_catalog(query) and not query.q and (query.scope == 'active' or query.active is True)


def _select(catalog, query):
    """(matching entries in the response's order, distances by id when searching near a place,
    whether they are a whole view of the catalog). Never change the list returned: it may be
    the catalog's own view."""
    distances = {}
    if query.has_location:
        found = catalog.near(query.latitude, query.longitude, query.distance)
        distances = {entry.id: distance for entry, distance in found}
        candidates = [entry for entry, _distance in found]
    elif query.team_id:
        candidates = catalog.grouped('tm').get(query.team_id, [])
    elif query.city:
        candidates = catalog.grouped('cn').get(query.city, [])
    elif query.q:
        candidates = catalog.text_matches(query.q)           # in default order
    elif _from_active_view(query):
        candidates = catalog.active(query.order)
    else:
        candidates = catalog.ordered(query.order)
    if query.q and not _whole_catalog(query):
        matching_ids = {e.id for e in catalog.text_matches(query.q)}
        candidates = [e for e in candidates if e.id in matching_ids]
    tests = _filters(query)
    matching = [e for e in candidates if all(test(e) for test in tests)] if tests else candidates
    in_order = _whole_catalog(query) and not query.q        # a view already in the requested order
    if query.order and not in_order:
        catalog.ordered(query.order)            # gives every entry its rank in that order
        matching = sorted(matching, key=lambda e: e.ranks[query.order])
    elif query.has_location and not query.order:
        matching = sorted(matching, key=lambda e: (distances[e.id], e.id))
    return matching, distances, in_order and not tests


def _page(catalog, query):
    """The counts and the selected entries of a response; hold `catalog.lock`."""
    matching, distances, unfiltered = _select(catalog, query)
    if unfiltered and not query.signup:     # a whole view: its count is kept with it
        opened = catalog.open_count((query.scope, query.active, query.order), matching)
    else:
        opened = sum(1 for e in matching if e.accepts_signups)
    counts = {'count': None, 'signup_open_count': opened, 'signup_closed_count': len(matching) - opened}
    if query.signup == 'open':
        selected = [e for e in matching if e.accepts_signups]
    elif query.signup == 'closed':
        selected = [e for e in matching if not e.accepts_signups]
    else:
        selected = matching
    counts['count'] = len(selected)
    if query.limit is not None:
        counts['offset'], counts['limit'] = query.offset, query.limit
        selected = selected[query.offset:query.offset + query.limit]
    return counts, selected, distances


def browse(query, now=None):
    """The response body of `GET /api/learningcircles/` for a parsed query, as a dict."""
    catalog = current(now or utcnow())
    with catalog.lock:
        body, selected, distances = _page(catalog, query)
        items = [e.item() for e in selected]
    if query.has_location:
        for item in items:
            item['distance_km'] = round(distances[item['id']], 2)
    body['items'] = items
    return body


def browse_json(query, now=None):
    """`browse` as JSON text, assembled from each entry's cached JSON (no per-request encoding
    of items that have not changed), and kept by the catalog until anything in it changes."""
    catalog = current(now or utcnow())
    with catalog.lock:
        return catalog.answer(_answer_key(query), lambda: _json_text(catalog, query))


def _answer_key(query):
    return json.dumps(dataclasses.asdict(query), sort_keys=True, default=sorted)


def _json_text(catalog, query):
    body, selected, distances = _page(catalog, query)
    if query.has_location:
        items = [f'{e.item_json()[:-1]}, "distance_km": {json.dumps(round(distances[e.id], 2))}}}'
                 for e in selected]
    else:
        items = [e.item_json() for e in selected]
    head = json.dumps(body)[:-1]
    return f'{head}, "items": [{", ".join(items)}]}}'
