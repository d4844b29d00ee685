"""What the facilitator told the creation dialog: `CIRCLE#<id>` / `SETUP`.

Beside the circle, so the Query that reads a circle's workspace reads it too. It keeps
what the circle item has no place for: the steps completed (a draft's placeholders —
name = course title, timezone UTC — are not answers), the weekly pattern the schedule
was planned from (so a moved meeting can be told from a planned one), the chosen city,
the facilitator's goal and concerns (emailed to the organizers when first published), and
when it was first published: a circle unpublished later may have learners and meetings
they were told about, so publishing it again changes no meeting.
"""
from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import TableItem


class CircleSetup(TableItem, discriminator='CircleSetup'):
    circle_id = UnicodeAttribute()
    steps_done = ListAttribute(of=NumberAttribute, default=list)
    first_date = UnicodeAttribute(null=True)      # ISO date of week 1 of the planned pattern
    weeks = NumberAttribute(null=True)
    city_id = UnicodeAttribute(null=True)         # GeoNames id (chalicelib.circles.gazetteer)
    goal = UnicodeAttribute(null=True)
    concerns = UnicodeAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)   # first publication; later ones keep meetings as they are

    @staticmethod
    def key(circle_id):
        return f'CIRCLE#{circle_id}', 'SETUP'
