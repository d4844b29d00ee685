"""Privacy records: the suppression list and consent records.

- `SUPPRESS#<hash>` / `SUPPRESS`: an email address or mobile number we must never message again
  (erased, hard-bounced, complained). Only a keyed hash of the normalised contact is stored
  (`chalicelib.messaging.suppression.contact_hash`), so the list holds no address.
- `CONSENT#<subject>` / `<ISO instant>#<topic>`: one thing a person agreed to or withdrew, when,
  and through which form or channel, with the version of the wording they saw. `subject` names
  the person without their address (a signup: `SIGNUP#<circle>#<signup id>`; an account:
  `USER#<id>`), so the record survives erasure without personal data.
"""
from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import TableItem


class Suppression(TableItem, discriminator='Suppression'):
    channel = UnicodeAttribute()        # email or sms
    reason = UnicodeAttribute()         # erased, bounce, complaint, unreachable
    suppressed_at = UTCDateTimeAttribute()

    @staticmethod
    def key(contact_hash):
        return f'SUPPRESS#{contact_hash}', 'SUPPRESS'


class ConsentRecord(TableItem, discriminator='ConsentRecord'):
    subject = UnicodeAttribute()
    topic = UnicodeAttribute()          # signup, sms, digest, further-communication, reminders ...
    given = UnicodeAttribute()          # 'given' or 'withdrawn'
    wording_version = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()        # the form or channel: signup-form, sms-stop, one-click, my-data ...
    scope = UnicodeAttribute(null=True)  # what it concerns beyond the subject: a team (digest)
    at = UTCDateTimeAttribute()

    @staticmethod
    def key(subject, at, topic):
        return f'CONSENT#{subject}', f'{at.isoformat()}#{topic}'
