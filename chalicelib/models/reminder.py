"""A meeting's reminder: `CIRCLE#<circle>` / `REMINDER#<meeting id>`, beside its circle.

It holds only the facilitator's words (subject, intro, SMS text) and the bookkeeping of
sending. The facts (date, time, timezone, place, RSVP links) are never stored here: they
are rendered from the current meeting when the reminder is previewed or sent, so an edit
to the circle cannot leave a reminder stale.

While the reminder must still go out it carries `due_pk='REMINDER'` and
`due_sk='<due_at ISO>#<circle>#<meeting>'`, which puts it on the sparse `by_due` index:
the job Queries what is due instead of scanning circles. Both keys are removed when it is
sent, skipped or no longer applies (a draft, a cancelled or started meeting).
"""
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import DueIndex, TableItem

SCHEDULED, SENDING, SENT, SKIPPED = 'scheduled', 'sending', 'sent', 'skipped'
DUE_QUEUE = 'REMINDER'


class MeetingReminder(TableItem, discriminator='MeetingReminder'):
    circle_id = UnicodeAttribute()
    meeting_id = UnicodeAttribute()
    subject = UnicodeAttribute()
    intro = UnicodeAttribute()                      # the facilitator's words in the email
    sms_text = UnicodeAttribute()                   # the facilitator's words in the SMS
    edited = BooleanAttribute(default=False)        # False: the words follow the circle's defaults
    due_at = UTCDateTimeAttribute(null=True)        # None: no reminder for this meeting (now)
    state = UnicodeAttribute(default=SCHEDULED)     # scheduled, sending, sent, skipped
    # The meeting's iCalendar SEQUENCE the learners know about: follows the meeting while
    # the reminder is scheduled; a higher meeting sequence after sending means a change notice.
    sequence = NumberAttribute(default=0)
    sent_at = UTCDateTimeAttribute(null=True)
    claimed_until = UTCDateTimeAttribute(null=True)  # the job's lease while sending
    run_attempts = NumberAttribute(default=0)
    edited_by = UnicodeAttribute(null=True)

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    by_due = DueIndex()

    @staticmethod
    def key(circle_id, meeting_id):
        return f'CIRCLE#{circle_id}', f'REMINDER#{meeting_id}'

    @staticmethod
    def due_key(due_at, circle_id, meeting_id):
        return f'{due_at.isoformat()}#{circle_id}#{meeting_id}'
