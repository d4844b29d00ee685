"""The one DynamoDB table: every entity is an item keyed by `pk`/`sk`.

Items of one aggregate share a partition (a circle, its signups and later its
meetings' reminders live under `CIRCLE#<id>`), so one Query reads the whole
aggregate. Each entity subclass declares the global secondary indexes it is
found by; `TableItem.create_table()` creates them all (PynamoDB collects the
indexes of every registered subclass).
"""
from pynamodb.attributes import DiscriminatorAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.settings import get_settings


class TableItem(Model):
    class Meta:
        table_name = get_settings().table_name
        region = get_settings().region
        billing_mode = 'PAY_PER_REQUEST'
        # The outbox sender reads the table's stream (chalicelib.messaging.sender).
        stream_view_type = 'NEW_IMAGE'

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)


class DueIndex(GlobalSecondaryIndex):
    """Work that falls due at an instant: `due_pk` names the queue, `due_sk` starts with the
    ISO UTC instant. Sparse: an item leaves the queue when its work is done."""
    class Meta:
        index_name = 'by_due'
        projection = AllProjection()
    due_pk = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


def connection():
    """The low-level PynamoDB connection of the process, for transactions and raw reads: the one
    every model shares (chalicelib.models makes TableItem's the connection of them all)."""
    return TableItem._get_connection().connection


def warm():
    """Create the process's botocore client now (~90 ms of CPU): Lambda's init phase calls this,
    so that the first request does not pay it on a third of a core."""
    return connection().client
