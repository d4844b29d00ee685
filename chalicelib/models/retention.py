"""When a circle's learners' personal data is due to be anonymised (chalicelib.privacy.retention).

`RETENTION#<circle id>` / `RETENTION`: on the `RETENTION` queue of `by_due` at the circle's last
meeting's end plus the retention period (`due_sk='<instant ISO>#<circle id>'`), written when the
circle is published or its meetings change and moved with them (chalicelib.ending.schedule
`sync_retention`); the daily job takes it off the queue when it has anonymised the signups. It
has a partition of its own, not the circle's: a Query of the circle's partition never meets it.
"""
from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import DueIndex, TableItem

RETENTION_QUEUE = 'RETENTION'


class RetentionDue(TableItem, discriminator='RetentionDue'):
    circle_id = UnicodeAttribute()
    due_at = UTCDateTimeAttribute(null=True)       # the last meeting's end + the retention period
    anonymized_at = UTCDateTimeAttribute(null=True)

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    by_due = DueIndex()

    @staticmethod
    def key(circle_id):
        return f'RETENTION#{circle_id}', 'RETENTION'

    @staticmethod
    def due_key(due_at, circle_id):
        return f'{due_at.isoformat()}#{circle_id}'
