"""Messages to a circle's learners, their deliveries, and feedback on meetings.

All live in the circle's partition, so the facilitator's page reads them in its one Query:

- `CIRCLE#<id>` / `MESSAGE#<message key>`: what the facilitator sent. The key comes from
  the compose form, so a second submit of the same form finds this item and sends nothing.
- `CIRCLE#<id>` / `DELIVERY#<purpose>#<recipient>#<channel>`: one email or SMS, the outbox
  item (`Delivery`), for `message#<key>`, `reminder#<meeting>`, `welcome`, ... Messages that
  belong to no circle (account emails) have their own partition, `ACCOUNT#<user id>`.
- `CIRCLE#<id>` / `FEEDBACK#<meeting id>`: how a meeting went, from its facilitator.
- `CIRCLE#<id>` / `TEXT#<signup id>#<message SID>`: a text a learner sent us (`InboundText`).

`LOCAL_SMS` / `<instant>#<id>` holds text messages "sent" in the local stage without
Twilio credentials, for the local outbox page.
"""
from pynamodb.attributes import (BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute,
                                 UTCDateTimeAttribute)

from chalicelib.models.meeting_entry import TeamDayIndex
from chalicelib.models.base import DueIndex, TableItem


class CircleMessage(TableItem, discriminator='CircleMessage'):
    circle_id = UnicodeAttribute()
    message_key = UnicodeAttribute()
    subject = UnicodeAttribute()
    body = UnicodeAttribute()
    sms_text = UnicodeAttribute(null=True)
    author_id = UnicodeAttribute()
    author_name = UnicodeAttribute()
    email_recipients = NumberAttribute(default=0)   # learners it was meant for, per channel
    sms_recipients = NumberAttribute(default=0)

    @staticmethod
    def key(circle_id, message_key):
        return f'CIRCLE#{circle_id}', f'MESSAGE#{message_key}'


class Delivery(TableItem, discriminator='Delivery'):
    """The outbox item: one message to one recipient on one channel (chalicelib.messaging.outbox).

    Written in the same DynamoDB write as the change that causes it; delivered by the one
    sender (chalicelib.messaging.sender) from the table's stream, exactly once. The key is
    deterministic, so writing the same message twice is a conditional failure, not a repeat.
    It stays on the `OUTBOX` queue of `by_due` until final: due a little after it was written
    (in case the stream never delivered it), at the end of a sender's lease while claimed, at
    the next try after a transient failure.
    """
    purpose = UnicodeAttribute()                # unique within the partition: 'welcome', 'reminder#<m>', ...
    recipient_id = UnicodeAttribute()           # a signup id, 'facilitator-<user id>', 'user-<user id>', ...
    channel = UnicodeAttribute()                # email or sms
    template = UnicodeAttribute()               # what renders it (chalicelib.ops.outbox_templates)
    circle_id = UnicodeAttribute(null=True)
    signup_id = UnicodeAttribute(null=True)     # a learner: their current address, checked before sending
    to = UnicodeAttribute(null=True)            # an address or number, for recipients who are no signup
    params = JSONAttribute(null=True)           # what rendering needs besides stored items (ids, a kind)
    # A message about no circle is rendered in this language: the page's when it was written
    # (a password reset), or the recipient's (a digest). One about a circle uses the circle's.
    language = UnicodeAttribute(null=True)
    state = UnicodeAttribute()                  # pending, retrying, sent, failed, skipped
    attempts = NumberAttribute(default=0)
    claimed_until = UTCDateTimeAttribute(null=True)     # a sender's lease
    retry_at = UTCDateTimeAttribute(null=True)          # the next try after a transient failure
    error = UnicodeAttribute(null=True)
    error_code = NumberAttribute(null=True)     # Twilio's error code, e.g. 21610
    provider_id = UnicodeAttribute(null=True)   # SES message id or Twilio message SID
    sent_at = UTCDateTimeAttribute(null=True)
    # What Twilio's status callback said last (queued, sent, delivered, undelivered, failed;
    # chalicelib.sms_inbound.status), after the sender's `sent` ("accepted by Twilio").
    provider_status = UnicodeAttribute(null=True)
    provider_status_at = UTCDateTimeAttribute(null=True)
    body = UnicodeAttribute(null=True)          # an SMS as sent: what an email fallback repeats

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    by_due = DueIndex()

    @staticmethod
    def key(partition, purpose, recipient_id, channel):
        return partition, f'DELIVERY#{purpose}#{recipient_id}#{channel}'

    @staticmethod
    def due_key(due_at, pk, sk):
        return f'{due_at.isoformat()}#{pk}#{sk}'


class SendRate(TableItem, discriminator='SendRate'):
    """`RATE#<channel>` / `RATE`: the next free send slot of a channel, shared by every sender
    (chalicelib.messaging.rate)."""
    next_slot = NumberAttribute(null=True)      # epoch seconds

    @staticmethod
    def key(channel):
        return f'RATE#{channel}', 'RATE'


class MeetingFeedback(TableItem, discriminator='MeetingFeedback'):
    circle_id = UnicodeAttribute()
    meeting_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    author_name = UnicodeAttribute()
    attendance = NumberAttribute()
    rating = NumberAttribute()
    prompt = UnicodeAttribute()
    reflection = UnicodeAttribute()
    share_with_learners = BooleanAttribute(default=False)
    share_with_organizers = BooleanAttribute(default=False)
    # Set once, by the transaction that queues the recap to the outbox: never sent twice.
    recap_claimed_at = UTCDateTimeAttribute(null=True)

    # On the team's days (`by_team_day`) when the circle is a team's; see models/meeting_entry.py.
    td_pk = UnicodeAttribute(null=True)
    td_sk = UnicodeAttribute(null=True)
    by_team_day = TeamDayIndex()

    @staticmethod
    def key(circle_id, meeting_id):
        return f'CIRCLE#{circle_id}', f'FEEDBACK#{meeting_id}'


class InboundText(TableItem, discriminator='InboundText'):
    """A text a learner sent us that was no keyword (chalicelib.sms_inbound): forwarded to the
    circle's facilitators, shown on their reply page. In the circle's partition, keyed by the
    learner and Twilio's message SID, so a webhook Twilio retries is stored (and forwarded) once."""
    circle_id = UnicodeAttribute()
    signup_id = UnicodeAttribute()
    message_sid = UnicodeAttribute()
    body = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()

    @staticmethod
    def key(circle_id, signup_id, message_sid):
        return f'CIRCLE#{circle_id}', f'TEXT#{signup_id}#{message_sid}'


class LocalSms(TableItem, discriminator='LocalSms'):
    to = UnicodeAttribute()
    sender = UnicodeAttribute()
    body = UnicodeAttribute()
    sid = UnicodeAttribute()

    @staticmethod
    def key(sent_at, sid):
        return 'LOCAL_SMS', f'{sent_at.isoformat()}#{sid}'
