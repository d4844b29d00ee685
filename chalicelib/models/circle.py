"""A learning circle: one item `CIRCLE#<id>` / `CIRCLE` holding the circle and its meetings.

Browse indexes are sparse: their keys are set only while the circle is
published, so drafts never show up in a listing (see `chalicelib.circles.circles`).
"""
from pynamodb.attributes import (BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute,
                                 UnicodeAttribute, UTCDateTimeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

from chalicelib.models.base import TableItem

# What the public listing needs, by stored name. Browsing without a location, city or
# team reads every active circle through this index, so each entry is kept near 400
# bytes and one 1 MB Query page holds about 2,400 circles: the attributes projected
# here are stored under two-letter names (DynamoDB counts names in an item's size;
# the Python names stay readable), and what can be derived from them (search words,
# the first start instant) is derived at read time instead of projected.
LISTING_ATTRIBUTES = [
    'kind', 'id', 'nm', 'co', 'fn', 'vn', 'va', 'vw', 'ci', 'rg', 'cy', 'la', 'lo', 'ol', 'lg',
    'tz', 'sd', 'ed', 'mt', 'du', 'md', 'so', 'cp', 'sc', 'pb', 'sq', 'im', 'ct', 'tm',
]


class Course(MapAttribute):
    title = UnicodeAttribute(attr_name='t')
    provider = UnicodeAttribute(null=True, attr_name='p')
    link = UnicodeAttribute(null=True, attr_name='l')
    topics = ListAttribute(of=UnicodeAttribute, default=list, attr_name='tp')


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
    list_pk = UnicodeAttribute(hash_key=True, attr_name='lp')
    list_sk = UnicodeAttribute(range_key=True, attr_name='ls')


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
    name = UnicodeAttribute(attr_name='nm')
    description = UnicodeAttribute(null=True)
    course = Course(attr_name='co')
    venue_name = UnicodeAttribute(null=True, attr_name='vn')
    venue_address = UnicodeAttribute(null=True, attr_name='va')
    venue_details = UnicodeAttribute(null=True)
    venue_website = UnicodeAttribute(null=True, attr_name='vw')
    city = UnicodeAttribute(null=True, attr_name='ci')
    region = UnicodeAttribute(null=True, attr_name='rg')
    country = UnicodeAttribute(null=True, attr_name='cy')
    latitude = NumberAttribute(null=True, attr_name='la')
    longitude = NumberAttribute(null=True, attr_name='lo')
    geohash = UnicodeAttribute(null=True)
    online = BooleanAttribute(default=False, attr_name='ol')
    online_link = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default='en', attr_name='lg')
    timezone = UnicodeAttribute(attr_name='tz')
    meetings = ListAttribute(of=Meeting, default=list)
    signup_open = BooleanAttribute(default=True, attr_name='so')
    capacity = NumberAttribute(null=True, attr_name='cp')
    signup_count = NumberAttribute(default=0, attr_name='sc')
    published = BooleanAttribute(default=False, attr_name='pb')
    signup_question = UnicodeAttribute(null=True, attr_name='sq')
    welcome_message = UnicodeAttribute(null=True)
    image_url = UnicodeAttribute(null=True, attr_name='im')
    facilitator_ids = ListAttribute(of=UnicodeAttribute, default=list)
    facilitator_names = ListAttribute(of=UnicodeAttribute, default=list, attr_name='fn')
    facilitator_emails = ListAttribute(of=UnicodeAttribute, default=list)
    team_id = UnicodeAttribute(null=True, attr_name='tm')

    # Derived from the fields above by `chalicelib.circles.circles.refresh_derived`.
    start_date = UnicodeAttribute(null=True, attr_name='sd')
    end_date = UnicodeAttribute(null=True, attr_name='ed')
    meeting_time = UnicodeAttribute(null=True, attr_name='mt')
    duration_minutes = NumberAttribute(null=True, attr_name='du')
    # 'YYYY-MM-DD:0,7,14': the first local date and each meeting's day offset from it
    meeting_days = UnicodeAttribute(null=True, attr_name='md')
    first_starts_at = UTCDateTimeAttribute(null=True)
    created_millis = NumberAttribute(null=True, attr_name='ct')   # created_at in epoch milliseconds, for ordering

    list_pk = UnicodeAttribute(null=True, attr_name='lp')
    list_sk = UnicodeAttribute(null=True, attr_name='ls')
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
