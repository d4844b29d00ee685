"""A team's days: what the organizer's week page and the Monday digest read, by team and date.

The sparse `by_team_day` index (hash `td_pk='TEAM#<team id>'`, range `td_sk`) holds three kinds
of items of the team's circles, told apart by the prefix of `td_sk`, so that one Query of a
range of dates reads one kind for the whole team, whatever its number of circles:

- `M#<local date>#<local time>#<circle>#<meeting>`: a `MeetingEntry`, one per meeting of a
  published team circle, beside its circle (`CIRCLE#<id>` / `ENTRY#<meeting id>`). It copies the
  facts a listing shows (written by `chalicelib.circles.meeting_entries.sync_entries` whenever the
  circle's meetings, name or facilitators change) and tallies the RSVPs: the ids of the learners
  who answered yes and no, added in the transaction that records the answer. A set is idempotent
  (answering twice adds nothing) and needs no read of the previous answer. Like the RSVP items,
  the tally holds for the meeting as it was answered: the write that raises the meeting's
  `sequence` (a move) empties both sets.
- `F#<local date>#<circle>#<meeting>`: the meeting's `MeetingFeedback` (keys set when it is written).
- `S#<UTC instant>#<circle>#<signup>`: a learner's `Signup` (keys set when they sign up).

Dates are the circle's local dates: a week of a team spread over time zones is each circle's
own Monday to Sunday.
"""
from pynamodb.attributes import (BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute,
                                 UnicodeSetAttribute, UTCDateTimeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import TableItem

MEETING, FEEDBACK, SIGNUP = 'M#', 'F#', 'S#'


class TeamDayIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = 'by_team_day'
        projection = AllProjection()
    td_pk = UnicodeAttribute(hash_key=True)
    td_sk = UnicodeAttribute(range_key=True)


def team_day_pk(team_id):
    return f'TEAM#{team_id}'


class MeetingEntry(TableItem, discriminator='MeetingEntry'):
    circle_id = UnicodeAttribute()
    meeting_id = UnicodeAttribute()
    team_id = UnicodeAttribute()
    circle_name = UnicodeAttribute()
    facilitator_names = ListAttribute(of=UnicodeAttribute, default=list)
    facilitator_ids = ListAttribute(of=UnicodeAttribute, default=list)
    timezone = UnicodeAttribute()
    local_date = UnicodeAttribute()
    local_time = UnicodeAttribute()
    duration_minutes = NumberAttribute()
    starts_at = UTCDateTimeAttribute()
    cancelled = BooleanAttribute(default=False)
    number = NumberAttribute(null=True)       # 1.. among the meetings that take place; None if cancelled
    of = NumberAttribute()                    # how many meetings take place
    sequence = NumberAttribute(default=0)     # the meeting's sequence the tally holds for
    yes = UnicodeSetAttribute(null=True)      # signup ids
    no = UnicodeSetAttribute(null=True)

    td_pk = UnicodeAttribute(null=True)
    td_sk = UnicodeAttribute(null=True)
    by_team_day = TeamDayIndex()

    @staticmethod
    def key(circle_id, meeting_id):
        return f'CIRCLE#{circle_id}', f'ENTRY#{meeting_id}'

    @staticmethod
    def day_key(local_date, local_time, circle_id, meeting_id):
        return f'{MEETING}{local_date}#{local_time}#{circle_id}#{meeting_id}'

    @property
    def yes_count(self):
        return len(self.yes or ())

    @property
    def no_count(self):
        return len(self.no or ())
