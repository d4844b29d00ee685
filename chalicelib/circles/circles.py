"""Learning circles: meetings in local time, derived fields, status and the public API shape.

A circle's meetings are stored with their local date and time and the UTC
instant computed with zoneinfo, so every rule here compares instants or
compares dates in the circle's own timezone.
"""
import json
import re
import unicodedata
import zlib
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo  # noqa: F401 - circles.ZoneInfo is used by tests

from chalicelib.circles import geo
from chalicelib.core.ids import new_id
from chalicelib.models import Circle, Meeting
from chalicelib.core.clock import utcnow  # noqa: F401 - circles.utcnow is the clock callers know
from chalicelib.core.settings import get_settings
from chalicelib.core.clock import zone_info
from chalicelib.core.i18n import _

CATALOG = 'C'   # the `catalog` index's one partition: every circle ever published
EMPTY_CARD = b''
# The API's `day` (English, like every value of the API); pages name it in the visitor's
# language (the `weekday_name` filter).
WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']


def local_start(local_date, local_time, tz_name):
    """The aware local datetime of a meeting; zoneinfo resolves DST gaps and folds."""
    return datetime.combine(local_date, local_time, tzinfo=zone_info(tz_name))


def new_meeting(local_date, local_time, duration_minutes, tz_name):
    start = local_start(local_date, local_time, tz_name)
    return Meeting(meeting_id=new_id(8), local_date=local_date.isoformat(),
                   local_time=local_time.strftime('%H:%M'), duration_minutes=duration_minutes,
                   starts_at=start.astimezone(timezone.utc), cancelled=False)


def weekly_meetings(first_date, local_time, weeks, duration_minutes, tz_name):
    return [new_meeting(first_date + timedelta(weeks=n), local_time, duration_minutes, tz_name)
            for n in range(weeks)]


def active_meetings(circle):
    return sorted((m for m in circle.meetings if not m.cancelled), key=lambda m: m.starts_at)


def local_today(circle, now):
    return now.astimezone(zone_info(circle.timezone)).date()


def normalise_city(city):
    return ' '.join(search_words(city or ''))


def search_words(text):
    """Lowercase words without accents: the unit of the prefix text search."""
    decomposed = unicodedata.normalize('NFKD', text)
    plain = ''.join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.findall(r'\w+', plain)


def refresh_derived(circle):
    """Recompute the fields and index keys that follow from the circle's own data.

    Call before every save. Browse index keys exist only while the circle is
    published and has meetings, so drafts are invisible to every listing; the catalog card
    (`card_of`) is rebuilt from the same fields.
    """
    meetings = active_meetings(circle)
    first, last = (meetings[0], meetings[-1]) if meetings else (None, None)
    regular = regular_meeting(meetings, local_today(circle, utcnow())) if meetings else None
    circle.start_date = first.local_date if first else None
    circle.end_date = last.local_date if last else None
    circle.meeting_time = regular.local_time if regular else None
    circle.duration_minutes = regular.duration_minutes if regular else None
    circle.first_starts_at = first.starts_at if first else None
    circle.meeting_days = _meeting_days(meetings)
    circle.created_millis = int(circle.created_at.timestamp() * 1000) if circle.created_at else None
    if circle.latitude is not None and circle.longitude is not None and not circle.online:
        circle.geohash = geo.encode(float(circle.latitude), float(circle.longitude))
    else:
        circle.geohash = None

    listed = bool(circle.published and meetings)
    order_key = f'{circle.end_date}#{circle.id}' if listed else None
    # Every circle of a team is on `by_team`, its drafts (never published, or unpublished) under
    # `DRAFT#`, after every published one (dates sort before letters).
    circle.team_pk = f'TEAM#{circle.team_id}' if circle.team_id else None
    circle.team_sk = (order_key or f'DRAFT#{circle.id}') if circle.team_pk else None
    if listed or circle.catalog_pk:
        # Once published, a circle stays in the catalog: an empty card tells every container
        # to drop it. The change time only moves forward, whatever the writers' clocks say.
        circle.catalog_pk = CATALOG
        circle.changed_millis = max(_millis(utcnow()), int(circle.changed_millis or 0) + 1)
        circle.card = encode_card(card_of(circle)) if listed else EMPTY_CARD


def _millis(instant):
    return int(instant.timestamp() * 1000)


def count_change(delta, now):
    """The update actions of a signup (+1) or a withdrawal (-1) on its circle: the count, and
    the change time that makes every container's catalog pick the new count up."""
    return [Circle.signup_count.add(delta), Circle.changed_millis.set(_millis(now))]


def regular_weekday(dates, today):
    """The circle's weekday (Monday = 0) from its regular schedule: the most common weekday among
    the meeting dates not yet past (all of them once every one is past), ties to the earliest.
    Moving one meeting to another day does not change it. None without dates."""
    upcoming = [d for d in dates if d >= today] or list(dates)
    if not upcoming:
        return None
    counts = Counter(d.weekday() for d in upcoming)
    best = max(counts.values())
    return next(d.weekday() for d in sorted(upcoming) if counts[d.weekday()] == best)


def regular_meeting(meetings, today):
    """The meeting that stands for the regular schedule (its time and length are the circle's):
    on `regular_weekday`, at the most common time among the meetings on that weekday not yet
    past, ties to the earliest. `meetings` are the active ones, in order of start."""
    weekday = regular_weekday([date.fromisoformat(m.local_date) for m in meetings], today)
    upcoming = [m for m in meetings if date.fromisoformat(m.local_date) >= today] or list(meetings)
    on_day = [m for m in upcoming if date.fromisoformat(m.local_date).weekday() == weekday]
    counts = Counter(m.local_time for m in on_day)
    best = max(counts.values())
    return next(m for m in on_day if counts[m.local_time] == best)


def _meeting_days(meetings):
    if not meetings:
        return None
    first = date.fromisoformat(meetings[0].local_date)
    offsets = ','.join(str((date.fromisoformat(m.local_date) - first).days) for m in meetings)
    return f'{first.isoformat()}:{offsets}'


def search_words_of(circle):
    """The words a text search matches by prefix: name, course, venue, city, facilitators
    (kept in the circle's catalog card, `card_of`)."""
    words = set()
    for text in [circle.name, circle.course.title, circle.course.provider or '', *circle.course.topics,
                 circle.venue_name or '', circle.city or '', *circle.facilitator_names]:
        words.update(search_words(text))
    return words


def new_circle(*, name, course, timezone_name, meetings, **fields):
    now = utcnow()
    circle_id = new_id()
    pk, sk = Circle.key(circle_id)
    circle = Circle(pk, sk, id=circle_id, name=name, course=course, timezone=timezone_name,
                    meetings=meetings, created_at=now, updated_at=now, **fields)
    refresh_derived(circle)
    return circle


def create(circle):
    refresh_derived(circle)
    circle.save(condition=Circle.pk.does_not_exist())


def save(circle):
    """Write an edited circle, unless it changed since it was read.

    Signups change `signup_count` on the same item, so the condition covers it:
    a whole-item put must never write back a stale count (PutError: re-read, re-apply).
    """
    read_at, read_count = circle.updated_at, circle.signup_count
    circle.updated_at = utcnow()
    refresh_derived(circle)
    circle.save(condition=(Circle.updated_at == read_at) & (Circle.signup_count == read_count))


def get_circle(circle_id):
    """The circle, or None. One GetItem."""
    pk, sk = Circle.key(circle_id)
    try:
        return Circle.get(pk, sk)
    except Circle.DoesNotExist:
        return None


# --- status and the public shape -------------------------------------------------

def meeting_dates(circle):
    """Local dates of the active meetings."""
    return dates_of(circle.meeting_days)


def first_start(circle):
    """The first meeting's aware local start at the circle's regular time."""
    return _local_datetime(circle.start_date, circle.meeting_time, circle.timezone)


def is_finished(circle, now):
    return circle.end_date is None or date.fromisoformat(circle.end_date) < local_today(circle, now)


def is_full(circle):
    return circle.capacity is not None and circle.signup_count >= circle.capacity


def accepts_signups(circle, now):
    return bool(circle.published and circle.signup_open and not is_finished(circle, now))


def status(circle, now):
    """The public status, as P2PU defines it, with "today" in the circle's timezone."""
    return status_on(circle.signup_open, circle.start_date, circle.end_date, local_today(circle, now))


def status_on(signup_open, start_date, end_date, today):
    """`status` from a circle's signup flag, first and last local dates (ISO) and local today."""
    if start_date is None:
        return 'closed'
    start, end = date.fromisoformat(start_date), date.fromisoformat(end_date)
    if signup_open and start > today:
        return 'upcoming'
    if signup_open and start <= today <= end:
        return 'in_progress'
    if not signup_open and end >= today:
        return 'closed'
    return 'completed'


def next_meeting(circle, now):
    """The first meeting that has not started yet (None once the last one has started)."""
    return next((m for m in active_meetings(circle) if m.starts_at > now), None)


def circle_url(circle_id):
    return f'{get_settings().public_base_url}/circles/{circle_id}'


def _local_datetime(local_date, local_time, tz_name):
    return local_start(date.fromisoformat(local_date), time.fromisoformat(local_time), tz_name)


# --- the card: what the public listing shows and filters on -----------------------------

# A card is JSON, compressed with a preset dictionary of the words every card repeats (its
# keys): about 40 % of the plain JSON. The first byte is the format's version.
CARD_FORMAT = b'1'
_CARD_WORDS = (b'"item": {"id": "name": "course": {"id": null, "title": "provider": "link": "topics": []}, '
               b'"facilitator": "facilitators": "venue": "venue_address": "venue_website": "city": '
               b'"region": "country": "latitude": "longitude": "online": false, true, "language": "en", '
               b'"start_date": "start_datetime": "meeting_time": "time_zone": "America/Chicago", '
               b'"last_meeting_date": "end_time": "weeks": "report_url": null, "draft": false, '
               b'"signup_limit": null, "signup_question": "image_url": "https://", '
               b'"so": "md": "ct": "tm": "gh": "w": "cn": "tp": "fs": 2026-')


def card_of(circle):
    """The static part of the circle's list item (`item`: everything but what depends on the
    date or the signup count) and what the listing filters and orders on."""
    start = first_start(circle) if circle.start_date else None
    item = {
        'id': circle.id,
        'name': circle.name,
        'course': {'id': None, 'title': circle.course.title, 'provider': circle.course.provider,
                   'link': circle.course.link, 'topics': list(circle.course.topics)},
        'facilitator': circle.facilitator_names[0] if circle.facilitator_names else None,
        'facilitators': list(circle.facilitator_names),
        'venue': circle.venue_name,
        'venue_address': circle.venue_address,
        'venue_website': circle.venue_website,
        'city': circle.city,
        'region': circle.region,
        'country': circle.country,
        'latitude': float(circle.latitude) if circle.latitude is not None else None,
        'longitude': float(circle.longitude) if circle.longitude is not None else None,
        'online': bool(circle.online),
        'language': circle.language,
        'start_date': circle.start_date,
        'start_datetime': start.isoformat() if start else None,
        'meeting_time': circle.meeting_time,
        'time_zone': circle.timezone,
        'last_meeting_date': circle.end_date,
        'end_time': ((start + timedelta(minutes=int(circle.duration_minutes or 0))).strftime('%H:%M')
                     if start else None),
        'weeks': len(meeting_dates(circle)),
        'report_url': f'{circle_url(circle.id)}/insights' if circle.report_published_at else None,
        'draft': not circle.published,
        'signup_limit': int(circle.capacity) if circle.capacity is not None else None,
    }
    if circle.signup_question:
        item['signup_question'] = circle.signup_question
    if circle.image_url:
        item['image_url'] = circle.image_url
    return {
        'item': item,
        'so': bool(circle.signup_open),
        'md': circle.meeting_days,
        'ct': circle.created_millis,
        'tm': circle.team_id,
        'gh': circle.geohash,
        'w': ' '.join(sorted(search_words_of(circle))),
        'cn': normalise_city(circle.city),
        'tp': ' | '.join(t.lower() for t in circle.course.topics),
        'fs': start.timestamp() if start else None,
    }


def encode_card(card):
    packer = zlib.compressobj(9, zdict=_CARD_WORDS)
    return CARD_FORMAT + packer.compress(json.dumps(card, separators=(',', ':')).encode()) + packer.flush()


def decode_card(data):
    """The card of `encode_card`, or None for an empty card (a circle no longer listed)."""
    if not data:
        return None
    if data[:1] != CARD_FORMAT:
        raise ValueError(f'Unknown card format {data[:1]!r}')
    unpacker = zlib.decompressobj(zdict=_CARD_WORDS)
    return json.loads(unpacker.decompress(data[1:]) + unpacker.flush())


def dates_of(meeting_days):
    """Local dates from the compact `meeting_days` ('YYYY-MM-DD:0,7,14')."""
    if not meeting_days:
        return []
    first, offsets = meeting_days.split(':')
    start = date.fromisoformat(first)
    return [start + timedelta(days=int(offset)) for offset in offsets.split(',')]


def day_facts(card, today):
    """What a card's list item says that depends on the circle's local date `today`."""
    item = card['item']
    dates = dates_of(card['md'])
    finished = item['last_meeting_date'] is None or date.fromisoformat(item['last_meeting_date']) < today
    weekday = regular_weekday(dates, today) if item['start_date'] else None
    facts = {
        'day': WEEKDAYS[weekday] if weekday is not None else None,
        'signup_open': card['so'] and not finished,
        'status': status_on(card['so'], item['start_date'], item['last_meeting_date'], today),
    }
    upcoming = next((d for d in dates if d >= today), None)
    if upcoming:
        facts['next_meeting_date'] = upcoming.isoformat()
    return facts, weekday, finished


def list_item(card, signup_count, facts):
    """The public list item: the card's static part, the signup count and the day's facts."""
    return {**card['item'], 'url': circle_url(card['item']['id']),
            'signup_count': int(signup_count or 0), **facts}


def to_api_item(circle, now):
    """A circle as the public `GET /api/learningcircles/` lists it."""
    card = card_of(circle)
    facts, _weekday, _finished = day_facts(card, local_today(circle, now))
    return list_item(card, circle.signup_count, facts)


def public_details(circle_id, now=None):
    """One published circle for `GET /api/learningcircles/{id}`: the list item plus its
    description and every meeting. The online link is kept for learners who signed up."""
    from chalicelib.core.errors import NotFound
    now = now or utcnow()
    circle = get_circle(circle_id)
    if circle is None or not circle.published:
        raise NotFound(_('No such learning circle.'))
    item = to_api_item(circle, now)
    item['description'] = circle.description
    item['venue_details'] = circle.venue_details
    item['welcome_message'] = circle.welcome_message
    item['meetings'] = [{
        'id': m.meeting_id, 'date': m.local_date, 'time': m.local_time,
        'duration_minutes': int(m.duration_minutes), 'starts_at': m.starts_at.isoformat(),
        'cancelled': bool(m.cancelled),
    } for m in sorted(circle.meetings, key=lambda m: m.starts_at)]
    return item


def facilitator_recipients(circle):
    """(recipient id, email) of each facilitator, from the circle's own lists."""
    ids = list(circle.facilitator_ids or [])
    return [(f'facilitator-{ids[index] if index < len(ids) else f"n{index}"}', address)
            for index, address in enumerate(circle.facilitator_emails or [])]
