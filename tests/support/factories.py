"""Build small worlds through the same domain functions the app uses."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from chalicelib.circles import circles
from chalicelib.models import Course

CHICAGO = dict(city='Chicago', region='Illinois', country='United States',
               latitude=41.8781, longitude=-87.6298, timezone_name='America/Chicago')


def local_today(tz_name, now=None):
    return (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz_name)).date()


def make_circle(*, name='Python for Everybody', first_date=None, starts_in_days=7, weeks=6,
                meeting_time='18:00', duration=90, published=True, save=True, place=None,
                course_title='Python for Everybody', provider='Coursera', topics=('programming', 'python'),
                **fields):
    """A circle in Chicago meeting weekly, starting `starts_in_days` from today by default."""
    place = dict(place or CHICAGO)
    tz_name = place.pop('timezone_name')
    first = first_date or local_today(tz_name) + timedelta(days=starts_in_days)
    if isinstance(first, str):
        first = date.fromisoformat(first)
    meetings = circles.weekly_meetings(first, time.fromisoformat(meeting_time), weeks, duration, tz_name)
    defaults = dict(venue_name='Harold Washington Library', venue_address='400 S State St',
                    facilitator_names=['Ada'], facilitator_ids=['u-ada'],
                    facilitator_emails=['ada@example.org'], description='We learn Python together.',
                    published=published)
    defaults.update(place)
    defaults.update(fields)
    course = Course(title=course_title, provider=provider, link='https://example.org/course',
                    topics=list(topics))
    circle = circles.new_circle(name=name, course=course, timezone_name=tz_name, meetings=meetings, **defaults)
    if save:
        circles.create(circle)
    return circle
