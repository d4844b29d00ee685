"""A learning circle: one item `CIRCLE#<id>` / `CIRCLE` holding the circle and its meetings.

Browse indexes are sparse: their keys are set only while the circle is
published, so drafts never show up in a listing (see `chalicelib.circles`).
"""
from pynamodb.attributes import (BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute,
                                 UnicodeAttribute, UTCDateTimeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

from chalicelib.models.base import TableItem

# What the public listing needs; kept small because browsing without a
# location or city reads every active circle through this index (~1 KB each,
# so 1 MB, one Query page, holds about a thousand circles).
LISTING_ATTRIBUTES = [
    'kind', 'id', 'name', 'course', 'facilitator_names', 'venue_name', 'venue_address',
    'venue_website', 'city', 'region', 'country', 'latitude', 'longitude', 'online', 'language',
    'timezone', 'start_date', 'end_date', 'meeting_time', 'duration_minutes', 'meeting_dates',
    'first_starts_at', 'signup_open', 'capacity', 'signup_count', 'published', 'signup_question',
    'image_url', 'search_terms', 'created_at', 'team_id',
]


class Course(MapAttribute):
    title = UnicodeAttribute()
    provider = UnicodeAttribute(null=True)
    link = UnicodeAttribute(null=True)
    topics = ListAttribute(of=UnicodeAttribute, default=list)


class MeetingChange(MapAttribute):
    """One change to a published meeting, kept for the reminders (what to tell learners)."""
    at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()              # added, moved or cancelled
    from_date = UnicodeAttribute(null=True)
    from_time = UnicodeAttribute(null=True)
    to_date = UnicodeAttribute(null=True)
    to_time = UnicodeAttribute(null=True)


class Meeting(MapAttribute):
    meeting_id = UnicodeAttribute()
    local_date = UnicodeAttribute()        # ISO date in the circle's timezone
    local_time = UnicodeAttribute()        # HH:MM in the circle's timezone
    duration_minutes = NumberAttribute()
    starts_at = UTCDateTimeAttribute()     # the UTC instant, computed with zoneinfo
    cancelled = BooleanAttribute(default=False)
    sequence = NumberAttribute(default=0)  # iCalendar SEQUENCE: +1 on every move or cancel
    changes = ListAttribute(of=MeetingChange, default=list)
    cancelled_at = UTCDateTimeAttribute(null=True)


class ListingIndex(GlobalSecondaryIndex):
    """All published circles, ordered by last meeting date: active ones are a key range."""
    class Meta:
        index_name = 'listing'
        projection = IncludeProjection(LISTING_ATTRIBUTES)
    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class CityIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = 'by_city'
        projection = AllProjection()
    city_pk = UnicodeAttribute(hash_key=True)
    city_sk = UnicodeAttribute(range_key=True)


class TeamIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = 'by_team'
        projection = AllProjection()
    team_pk = UnicodeAttribute(hash_key=True)
    team_sk = UnicodeAttribute(range_key=True)


class AreaIndex(GlobalSecondaryIndex):
    """Partition per 2-character geohash cell; the sort key starts with the full geohash,
    so finer cells are `begins_with` ranges of one partition."""
    class Meta:
        index_name = 'by_area'
        projection = AllProjection()
    area_pk = UnicodeAttribute(hash_key=True)
    area_sk = UnicodeAttribute(range_key=True)


class Circle(TableItem, discriminator='Circle'):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    course = Course()
    venue_name = UnicodeAttribute(null=True)
    venue_address = UnicodeAttribute(null=True)
    venue_details = UnicodeAttribute(null=True)
    venue_website = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    region = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    latitude = NumberAttribute(null=True)
    longitude = NumberAttribute(null=True)
    geohash = UnicodeAttribute(null=True)
    online = BooleanAttribute(default=False)
    online_link = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default='en')
    timezone = UnicodeAttribute()
    meetings = ListAttribute(of=Meeting, default=list)
    signup_open = BooleanAttribute(default=True)
    capacity = NumberAttribute(null=True)
    signup_count = NumberAttribute(default=0)
    published = BooleanAttribute(default=False)
    signup_question = UnicodeAttribute(null=True)
    welcome_message = UnicodeAttribute(null=True)
    image_url = UnicodeAttribute(null=True)
    facilitator_ids = ListAttribute(of=UnicodeAttribute, default=list)
    facilitator_names = ListAttribute(of=UnicodeAttribute, default=list)
    facilitator_emails = ListAttribute(of=UnicodeAttribute, default=list)
    team_id = UnicodeAttribute(null=True)

    # Derived from the fields above by `chalicelib.circles.refresh_derived`.
    start_date = UnicodeAttribute(null=True)
    end_date = UnicodeAttribute(null=True)
    meeting_time = UnicodeAttribute(null=True)
    duration_minutes = NumberAttribute(null=True)
    meeting_dates = UnicodeAttribute(null=True)   # comma-separated local dates, for listings
    first_starts_at = UTCDateTimeAttribute(null=True)
    search_terms = UnicodeAttribute(null=True)

    list_pk = UnicodeAttribute(null=True)
    list_sk = UnicodeAttribute(null=True)
    city_pk = UnicodeAttribute(null=True)
    city_sk = UnicodeAttribute(null=True)
    team_pk = UnicodeAttribute(null=True)
    team_sk = UnicodeAttribute(null=True)
    area_pk = UnicodeAttribute(null=True)
    area_sk = UnicodeAttribute(null=True)

    listing = ListingIndex()
    by_city = CityIndex()
    by_team = TeamIndex()
    by_area = AreaIndex()

    @staticmethod
    def key(circle_id):
        return f'CIRCLE#{circle_id}', 'CIRCLE'
