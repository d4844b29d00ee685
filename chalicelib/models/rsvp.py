"""A learner's answer to "will you come?" and the short links that lead to it from an SMS.

- `CIRCLE#<circle>` / `RSVP#<meeting id>#<signup id>`: one answer per learner and meeting,
  beside the circle, so the facilitator's page counts them in its one Query
  (`chalicelib.facilitators.circle_admin.rsvp_answers` reads `sk` and `answer`). Answering again
  overwrites the same item: the key is the idempotency.
- `SHORT#<code>` / `SHORT`: what a short RSVP link (`/r/<code>`) points at. The code is an
  HMAC of circle, signup and meeting, so writing it again writes the same item; it expires
  (TTL) a day after the meeting, when the link is of no use any more.
"""
from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import TableItem

ANSWERS = ('yes', 'no')


class Rsvp(TableItem, discriminator='Rsvp'):
    circle_id = UnicodeAttribute()
    meeting_id = UnicodeAttribute()
    signup_id = UnicodeAttribute()
    answer = UnicodeAttribute()            # 'yes' or 'no'
    answered_at = UTCDateTimeAttribute()

    @staticmethod
    def key(circle_id, meeting_id, signup_id):
        return f'CIRCLE#{circle_id}', f'RSVP#{meeting_id}#{signup_id}'


class ShortLink(TableItem, discriminator='ShortLink'):
    circle_id = UnicodeAttribute()
    signup_id = UnicodeAttribute()
    meeting_id = UnicodeAttribute()
    expires_at = TTLAttribute()

    @staticmethod
    def key(code):
        return f'SHORT#{code}', 'SHORT'
