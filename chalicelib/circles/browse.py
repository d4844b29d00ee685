"""Browsing learning circles: the parameters of `GET /api/learningcircles/` and their plan.

Each request reads one index (`by_area` cells for a location, else `by_team`,
`by_city` or the `listing` of published circles), then applies every filter
exactly in memory, in each circle's own timezone.
"""
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from chalicelib.circles import geo
from chalicelib.circles.circles import (LISTED, accepts_signups, circle_weekday, first_start, local_today,
                                normalise_city, search_words, search_words_of, to_api_item, utcnow)
from chalicelib.core import fields as rules
from chalicelib.core.errors import ValidationFailed
from chalicelib.models import Circle

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
    errors[name] = ['Must be true or false.']


def _number(value, name, errors, low, high, kind=float):
    try:
        number = kind(value)
        if kind is float and not math.isfinite(number):
            raise ValueError
    except (TypeError, ValueError):
        errors[name] = ['Must be a whole number.' if kind is int else 'Must be a number.']
        return None
    if not low <= number <= high:
        errors[name] = [f'Must be between {low} and {high}.']
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
            errors[missing] = ['Required with latitude and longitude.']
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
            errors['weekdays'] = ['Must be a comma-separated list of numbers from 0 (Monday) to 6 (Sunday).']
    if 'online' in params:
        query.online = _boolean(params['online'], 'online', errors)
    if 'active' in params:
        query.active = _boolean(params['active'], 'active', errors)
    if 'scope' in params:
        if params['scope'] not in SCOPES:
            errors['scope'] = [f'Must be one of: {", ".join(SCOPES)}.']
        query.scope = params['scope']
    if 'signup' in params:
        if params['signup'] not in ('open', 'closed'):
            errors['signup'] = ['Must be open or closed.']
        query.signup = params['signup']
    if 'order' in params:
        if params['order'] not in ORDERS:
            errors['order'] = [f'Must be one of: {", ".join(ORDERS)}.']
        query.order = params['order']
    if 'limit' in params or 'offset' in params:
        query.limit = _number(params.get('limit', DEFAULT_LIMIT), 'limit', errors, 1, MAX_LIMIT, int)
        query.offset = _number(params.get('offset', 0), 'offset', errors, 0, 10**9, int)
    if errors:
        raise ValidationFailed(errors)
    return query


def _wants_only_active(query):
    # Not `signup=open`: the response counts closed circles too, finished ones included.
    return query.active is True or query.scope in ('active', 'upcoming', 'current')


def _wants_only_finished(query):
    return query.active is False or query.scope == 'completed'


def _end_date_range(sort_key, query, now):
    """A key condition on `end_date#id` that keeps every circle the filters could keep.

    Local dates differ from the UTC date by at most a day, so the range is a day
    wider on each side; the exact test happens in memory.
    """
    today = now.date()
    if _wants_only_active(query):
        return sort_key >= (today - timedelta(days=1)).isoformat()
    if _wants_only_finished(query):
        return sort_key < (today + timedelta(days=2)).isoformat()
    return None


def candidates(query, now):
    """Read the circles that could match from the one index that fits the query best."""
    if query.has_location:
        # At most geo.MAX_CELLS Queries, whatever the latitude and distance (see geo).
        for cell in geo.covering_cells(query.latitude, query.longitude, query.distance):
            partition = f'AREA#{cell[:geo.PARTITION_PRECISION]}'
            condition = Circle.area_sk.startswith(cell) if len(cell) > geo.PARTITION_PRECISION else None
            yield from Circle.by_area.query(partition, condition)
    elif query.team_id:
        yield from Circle.by_team.query(f'TEAM#{query.team_id}', _end_date_range(Circle.team_sk, query, now))
    elif query.city:
        yield from Circle.by_city.query(f'CITY#{query.city}', _end_date_range(Circle.city_sk, query, now))
    else:
        yield from Circle.listing.query(LISTED, _end_date_range(Circle.list_sk, query, now))


def _matches_text(circle, words):
    terms = search_words_of(circle)
    return all(any(term.startswith(word) for term in terms) for word in words)


def _matches(circle, query, now):
    """Every filter but `signup`, exactly."""
    if not circle.published or not circle.start_date:
        return False
    today = local_today(circle, now)
    start, end = date.fromisoformat(circle.start_date), date.fromisoformat(circle.end_date)
    if query.has_location:
        if circle.latitude is None or circle.online:
            return False
        circle.distance_km = geo.distance_km(query.latitude, query.longitude,
                                             float(circle.latitude), float(circle.longitude))
        if circle.distance_km > query.distance:
            return False
    if query.team_id and circle.team_id != query.team_id:
        return False
    if query.city and normalise_city(circle.city) != query.city:
        return False
    if query.q and not _matches_text(circle, query.q):
        return False
    if query.topics:
        topics = ' | '.join(t.lower() for t in circle.course.topics)
        if not any(t in topics for t in query.topics):
            return False
    if query.weekdays is not None and circle_weekday(circle, now) not in query.weekdays:
        return False
    if query.online is not None and bool(circle.online) != query.online:
        return False
    if query.active is not None and (end >= today) != query.active:
        return False
    if query.scope == 'active' and not end >= today:
        return False
    if query.scope == 'upcoming' and not start > today:
        return False
    if query.scope == 'current' and not start <= today <= end:
        return False
    if query.scope == 'completed' and not end < today:
        return False
    return True


_ORDER_KEYS = {
    'name': (lambda c: c.name.lower(), False),
    'start_date': (first_start, True),
    'created_at': (lambda c: c.created_millis, True),
    'first_meeting_date': (first_start, False),
    'last_meeting_date': (lambda c: c.end_date, True),
}


def _ordered(circles, query):
    circles.sort(key=lambda c: c.id)
    if query.order:
        key, reverse = _ORDER_KEYS[query.order]
        circles.sort(key=key, reverse=reverse)
    elif query.has_location:
        circles.sort(key=lambda c: c.distance_km)
    else:
        circles.sort(key=lambda c: c.created_millis)
    return circles


def browse(query, now=None):
    """The response body of `GET /api/learningcircles/` for a parsed query."""
    now = now or utcnow()
    matching = [c for c in candidates(query, now) if _matches(c, query, now)]
    open_ = [c for c in matching if accepts_signups(c, now)]
    closed = [c for c in matching if not accepts_signups(c, now)]
    selected = {'open': open_, 'closed': closed}.get(query.signup, matching)
    selected = _ordered(list(selected), query)
    body = {'count': len(selected), 'signup_open_count': len(open_), 'signup_closed_count': len(closed)}
    if query.limit is not None:
        body['offset'], body['limit'] = query.offset, query.limit
        selected = selected[query.offset:query.offset + query.limit]
    items = []
    for circle in selected:
        item = to_api_item(circle, now)
        if query.has_location:
            item['distance_km'] = round(circle.distance_km, 2)
        items.append(item)
    body['items'] = items
    return body
