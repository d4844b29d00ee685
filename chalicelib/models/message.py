"""Messages to a circle's learners, their deliveries, and feedback on meetings.

All live in the circle's partition, so the facilitator's page reads them in its one Query:

- `CIRCLE#<id>` / `MESSAGE#<message key>`: what the facilitator sent. The key comes from
  the compose form, so a second submit of the same form finds this item and sends nothing.
- `CIRCLE#<id>` / `DELIVERY#<message key>#<signup id>#<channel>`: one email or SMS to one
  learner, claimed (`pending`) before it is sent and then marked `sent` or `failed`.
  `chalicelib.messaging.delivery` writes the same items for reminders and change notices, with a
  purpose such as `reminder#<meeting id>` in place of the message key (and `retrying`).
- `CIRCLE#<id>` / `FEEDBACK#<meeting id>`: how a meeting went, from its facilitator.

`LOCAL_SMS` / `<instant>#<id>` holds text messages "sent" in the local stage without
Twilio credentials, for the local outbox page.
"""
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import TableItem


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
    circle_id = UnicodeAttribute()
    message_key = UnicodeAttribute()
    signup_id = UnicodeAttribute()
    channel = UnicodeAttribute()                # email or sms
    state = UnicodeAttribute()                  # pending, sent, failed
    error = UnicodeAttribute(null=True)
    error_code = NumberAttribute(null=True)     # Twilio's error code, e.g. 21610
    provider_id = UnicodeAttribute(null=True)   # SES message id or Twilio message SID
    # Kept by chalicelib.messaging.delivery (reminders, change notices): how many tries so far, and when
    # another run may take it again (the end of a claim's lease, or the next retry).
    attempts = NumberAttribute(null=True)
    retry_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(circle_id, message_key, signup_id, channel):
        return f'CIRCLE#{circle_id}', f'DELIVERY#{message_key}#{signup_id}#{channel}'


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
    # Set once, by a conditional update, before the recap email goes out: never sent twice.
    recap_claimed_at = UTCDateTimeAttribute(null=True)
    recap_sent = NumberAttribute(null=True)
    recap_failed = NumberAttribute(null=True)

    @staticmethod
    def key(circle_id, meeting_id):
        return f'CIRCLE#{circle_id}', f'FEEDBACK#{meeting_id}'


class LocalSms(TableItem, discriminator='LocalSms'):
    to = UnicodeAttribute()
    sender = UnicodeAttribute()
    body = UnicodeAttribute()
    sid = UnicodeAttribute()

    @staticmethod
    def key(sent_at, sid):
        return 'LOCAL_SMS', f'{sent_at.isoformat()}#{sid}'
