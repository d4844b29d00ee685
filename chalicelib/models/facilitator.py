"""Who runs a circle: `CIRCLE#<id>` / `FACILITATOR#<user id>`, one item per facilitator.

Beside the circle (so the facilitator's page reads it in the same Query) and indexed
by user (`by_user`: `USER#<id>` / `CIRCLE#<id>`), so the dashboard lists "my circles"
with one Query.
"""
from pynamodb.attributes import UnicodeAttribute

from chalicelib.models.account import UserIndex
from chalicelib.models.base import TableItem


class CircleFacilitator(TableItem, discriminator='CircleFacilitator'):
    circle_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    role = UnicodeAttribute(default='facilitator')     # facilitator (creator) or co-facilitator

    user_pk = UnicodeAttribute(null=True)
    user_sk = UnicodeAttribute(null=True)
    by_user = UserIndex()

    @staticmethod
    def key(circle_id, user_id):
        return f'CIRCLE#{circle_id}', f'FACILITATOR#{user_id}'
