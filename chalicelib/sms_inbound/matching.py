"""Which learners a phone number belongs to, and which of their circles are current.

A learner's signups carry their E.164 mobile number on the `by_phone` index (set by
chalicelib.learners.signup, removed when they withdraw), so a number's signups are one Query
of one index partition, and their circles one BatchGetItem: a cost set by the person's own
signups, never by the table.
"""
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.circles import circles
from chalicelib.models import Circle, Signup

RSVP_WINDOW = timedelta(days=3)     # "yes" answers the next meeting only when it is this close


@dataclass
class Match:
    signup: Signup
    circle: Circle

    def next_meeting(self, now, within=RSVP_WINDOW):
        """The circle's next meeting when it starts within `within`, else None."""
        meeting = circles.next_meeting(self.circle, now)
        return meeting if meeting is not None and meeting.starts_at <= now + within else None


def signups_of(number):
    """Every signup with this mobile number (withdrawn ones have none): one Query."""
    if not number:
        return []
    return list(Signup.by_phone.query(f'PHONE#{number}'))


def current(signups, now):
    """The signups whose circle is still running (published or not, not finished), with their
    circles: one BatchGetItem."""
    active = [signup for signup in signups if signup.active]
    if not active:
        return []
    found = {circle.id: circle for circle in Circle.batch_get([Circle.key(s.circle_id) for s in active])}
    return [Match(signup, found[signup.circle_id]) for signup in active
            if signup.circle_id in found and not circles.is_finished(found[signup.circle_id], now)]
