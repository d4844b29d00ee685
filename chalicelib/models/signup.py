"""A learner's signup: `CIRCLE#<circle>` / `SIGNUP#<signup id>`, beside its circle.

The signup id is derived from the circle and the normalised email (see
`chalicelib.learners.signup.signup_id_for`), so a second signup with the same email
lands on the same item: dedupe is a key, not a lookup.
"""
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.meeting_entry import TeamDayIndex
from chalicelib.models.base import TableItem


class EmailIndex(GlobalSecondaryIndex):
    """Signups (and accounts) by normalised email: duplicates, data export, suppression."""
    class Meta:
        index_name = 'by_email'
        projection = AllProjection()
    email_pk = UnicodeAttribute(hash_key=True)
    email_sk = UnicodeAttribute(range_key=True)


class PhoneIndex(GlobalSecondaryIndex):
    """Signups by E.164 mobile number: SMS opt-out and replies."""
    class Meta:
        index_name = 'by_phone'
        projection = AllProjection()
    phone_pk = UnicodeAttribute(hash_key=True)
    phone_sk = UnicodeAttribute(range_key=True)


class Signup(TableItem, discriminator='Signup'):
    signup_id = UnicodeAttribute()
    circle_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    mobile = UnicodeAttribute(null=True)
    goals = UnicodeAttribute(null=True)
    support = UnicodeAttribute(null=True)
    custom_answer = UnicodeAttribute(null=True)
    consent_at = UTCDateTimeAttribute(null=True)
    consent_version = UnicodeAttribute(null=True)
    communications_opt_in = BooleanAttribute(default=False)
    sms_opted_out = BooleanAttribute(default=False)    # Twilio refused the number (21610) or STOP
    reminders_stopped = BooleanAttribute(default=False)  # one-click unsubscribe: no more reminder emails
    withdrawn_at = UTCDateTimeAttribute(null=True)

    email_pk = UnicodeAttribute(null=True)
    email_sk = UnicodeAttribute(null=True)
    phone_pk = UnicodeAttribute(null=True)
    phone_sk = UnicodeAttribute(null=True)

    by_email = EmailIndex()
    by_phone = PhoneIndex()

    # On the team's days (`by_team_day`) when the circle is a team's; see models/meeting_entry.py.
    td_pk = UnicodeAttribute(null=True)
    td_sk = UnicodeAttribute(null=True)
    by_team_day = TeamDayIndex()

    @property
    def active(self):
        return self.withdrawn_at is None

    @staticmethod
    def key(circle_id, signup_id):
        return f'CIRCLE#{circle_id}', f'SIGNUP#{signup_id}'
