"""The local stand-in for Lambda's DynamoDB Streams event source: reads the table's stream
from moto and invokes the sender's handler with Lambda-shaped events.

    poller = StreamPoller(handler)      # handler(event_dict, context), e.g. the Chalice handler
    poller.drain()                      # read until no record is left, invoking the handler
    poller.start()                      # or keep polling in a background thread (make run)

moto 5.2.5 records an INSERT for every PutItem, every item of a TransactWriteItems and of a
BatchWriteItem (checked). `drain` and the background thread share one lock and one position
per shard, so a test that drains while the thread polls still sees each record handled
once, and when `drain` returns everything written before it was called has been handled.
A new stream (the table was recreated, e.g. after a moto reset) starts from its beginning.
The filter Lambda would apply (FilterCriteria: INSERTs of `Delivery` items) is applied
here too, so the handler sees what it sees in AWS.
"""
import logging
import threading
import time
from datetime import datetime

import boto3

log = logging.getLogger('local_stack')

BATCH_SIZE = 100


class LocalContext:
    """What the sender reads of a Lambda context."""
    function_name = 'send-outbox-local'
    aws_request_id = 'local'

    def __init__(self, seconds=120):
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self):
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class StreamPoller:
    def __init__(self, handler, table_name=None, region=None, interval=0.2):
        import os
        self.handler = handler
        self.table_name = table_name or os.environ.get('CIRCLES_TABLE', 'circles-local')
        region = region or os.environ.get('AWS_DEFAULT_REGION', 'us-east-1')
        self.dynamodb = boto3.client('dynamodb', region_name=region)
        self.streams = boto3.client('dynamodbstreams', region_name=region)
        self.interval = interval
        self.lock = threading.Lock()
        self.stream_arn = None
        self.positions = {}         # shard id -> last sequence number handled
        self.stopping = threading.Event()
        self.thread = None

    def drain(self):
        """Handle every record written so far; returns how many Delivery inserts were handled."""
        with self.lock:
            handled = 0
            while True:
                records = self._read()
                if not records:
                    return handled
                wanted = [r for r in records if _is_outbox_insert(r)]
                for start in range(0, len(wanted), BATCH_SIZE):
                    self.handler({'Records': wanted[start:start + BATCH_SIZE]}, LocalContext())
                handled += len(wanted)

    def start(self):
        self.thread = threading.Thread(target=self._run, name='stream-poller', daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        if self.thread:
            self.thread.join(10)

    def _run(self):
        from botocore.exceptions import EndpointConnectionError
        while not self.stopping.is_set():
            try:
                self.drain()
            except EndpointConnectionError:
                pass        # moto is stopping or not up yet
            except Exception:  # noqa: BLE001 - keep polling; Lambda would retry the batch too
                log.exception('stream poller: handler failed')
            self.stopping.wait(self.interval)

    def _read(self):
        try:
            arn = self.dynamodb.describe_table(TableName=self.table_name)['Table'].get('LatestStreamArn')
        except self.dynamodb.exceptions.ResourceNotFoundException:
            return []       # no table yet (the stack or a test is creating it)
        if arn != self.stream_arn:
            self.stream_arn, self.positions = arn, {}
        if not arn:
            return []
        records = []
        for shard in self.streams.describe_stream(StreamArn=arn)['StreamDescription']['Shards']:
            shard_id = shard['ShardId']
            after = self.positions.get(shard_id)
            kwargs = ({'ShardIteratorType': 'AFTER_SEQUENCE_NUMBER', 'SequenceNumber': after} if after
                      else {'ShardIteratorType': 'TRIM_HORIZON'})
            iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **kwargs)['ShardIterator']
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                if not page['Records']:
                    break
                for record in page['Records']:
                    records.append(_lambda_shaped(record, arn))
                    self.positions[shard_id] = record['dynamodb']['SequenceNumber']
                iterator = page.get('NextShardIterator')
        return records


def _is_outbox_insert(record):
    image = record['dynamodb'].get('NewImage') or {}
    return record['eventName'] == 'INSERT' and image.get('kind', {}).get('S') == 'Delivery'


def _lambda_shaped(record, arn):
    """boto3 parses the record's timestamp; Lambda passes epoch seconds and the stream ARN."""
    dynamodb = dict(record['dynamodb'])
    created = dynamodb.get('ApproximateCreationDateTime')
    if isinstance(created, datetime):
        dynamodb['ApproximateCreationDateTime'] = created.timestamp()
    dynamodb.setdefault('ApproximateCreationDateTime', time.time())
    dynamodb.setdefault('SizeBytes', 0)
    dynamodb.setdefault('StreamViewType', 'NEW_IMAGE')
    return {'eventID': record.get('eventID', ''), 'eventName': record['eventName'],
            'eventVersion': record.get('eventVersion', '1.1'), 'eventSource': 'aws:dynamodb',
            'awsRegion': record.get('awsRegion', 'us-east-1'), 'eventSourceARN': arn, 'dynamodb': dynamodb}
