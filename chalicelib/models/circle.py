"""A learning circle: one item `CIRCLE#<id>` / `CIRCLE` holding the circle and its meetings.

The `catalog` index holds every circle published at least once, with a compact card that is
empty while the circle is not listed; `by_team` holds the circles of a team, published ones by
their end date and drafts after them (see `chalicelib.circles.circles.refresh_derived`).
"""
from pynamodb.attributes import (BinaryAttribute, BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute,
                                 UnicodeAttribute, UTCDateTimeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

from chalicelib.models.base import TableItem


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


class CatalogIndex(GlobalSecondaryIndex):
    """Every circle that was ever published, ordered by the instant it last changed (signups
    included): a container reads it whole once, then only what changed since
    (`chalicelib.circles.catalog`). It projects the compact card and the signup count only."""
    class Meta:
        index_name = 'catalog'
        projection = IncludeProjection(['cd', 'sc'])
    catalog_pk = UnicodeAttribute(hash_key=True, attr_name='cg')
    changed_millis = NumberAttribute(range_key=True, attr_name='cu')


class TeamIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = 'by_team'
        projection = AllProjection()
    team_pk = UnicodeAttribute(hash_key=True)
    team_sk = UnicodeAttribute(range_key=True)


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
    # Set when the circle's insights report is first published (chalicelib.insights.publish): the
    # catalog card then carries its `report_url`.
    report_published_at = UTCDateTimeAttribute(null=True, attr_name='rp')

    # Derived from the fields above by `chalicelib.circles.circles.refresh_derived`.
    start_date = UnicodeAttribute(null=True, attr_name='sd')
    end_date = UnicodeAttribute(null=True, attr_name='ed')
    meeting_time = UnicodeAttribute(null=True, attr_name='mt')
    duration_minutes = NumberAttribute(null=True, attr_name='du')
    # 'YYYY-MM-DD:0,7,14': the first local date and each meeting's day offset from it
    meeting_days = UnicodeAttribute(null=True, attr_name='md')
    first_starts_at = UTCDateTimeAttribute(null=True)
    created_millis = NumberAttribute(null=True, attr_name='ct')   # created_at in epoch milliseconds, for ordering

    # The catalog entry: set from the first publication on (a circle taken off the listing
    # keeps an empty card, so that every container learns it is gone).
    catalog_pk = UnicodeAttribute(null=True, attr_name='cg')
    changed_millis = NumberAttribute(null=True, attr_name='cu')
    card = BinaryAttribute(null=True, legacy_encoding=False, attr_name='cd')
    team_pk = UnicodeAttribute(null=True)
    team_sk = UnicodeAttribute(null=True)

    catalog = CatalogIndex()
    by_team = TeamIndex()

    @staticmethod
    def key(circle_id):
        return f'CIRCLE#{circle_id}', 'CIRCLE'
