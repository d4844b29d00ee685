"""A learner's answer to "will you come?" and the short links that lead to it from an SMS.

- `CIRCLE#<circle>` / `RSVP#<meeting id>#<signup id>`: one answer per learner and meeting,
  beside the circle, so the facilitator's page counts them in its one Query
  (`chalicelib.facilitators.circle_admin.rsvp_answers` reads `sk`, `answer` and `sequence`).
  Answering again overwrites the same item: the key is the idempotency. An answer holds for
  the meeting as it was answered: `sequence` is the meeting's `sequence` then, and a move (or
  a cancel) raises the meeting's, so the one write that saves the move clears every answer
  to it (`Rsvp.holds_for`); nothing has to find and delete them, and an answer to the old
  time that lands just after the move does not count either.
- `SHORT#<code>` / `SHORT`: what a short RSVP link (`/r/<code>`) points at. The code is an
  HMAC of circle, signup and meeting, so writing it again writes the same item; it expires
  (TTL) a week after the meeting starts, when the link is of no use any more.
"""
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import TableItem

ANSWERS = ('yes', 'no')


class Rsvp(TableItem, discriminator='Rsvp'):
    circle_id = UnicodeAttribute()
    meeting_id = UnicodeAttribute()
    signup_id = UnicodeAttribute()
    answer = UnicodeAttribute()            # 'yes' or 'no'
    answered_at = UTCDateTimeAttribute()
    sequence = NumberAttribute(null=True)  # the meeting's sequence when answered (none: 0)

    @staticmethod
    def key(circle_id, meeting_id, signup_id):
        return f'CIRCLE#{circle_id}', f'RSVP#{meeting_id}#{signup_id}'

    def holds_for(self, meeting):
        """True while the meeting is where it was when the learner answered."""
        return answer_holds(self, meeting)


def answer_holds(item, meeting):
    """`Rsvp.holds_for` for anything with a `sequence` (the facilitator page's partition items)."""
    return int(getattr(item, 'sequence', None) or 0) == int(meeting.sequence or 0)


class ShortLink(TableItem, discriminator='ShortLink'):
    circle_id = UnicodeAttribute()
    signup_id = UnicodeAttribute()
    meeting_id = UnicodeAttribute()
    expires_at = TTLAttribute()

    @staticmethod
    def key(code):
        return f'SHORT#{code}', 'SHORT'
