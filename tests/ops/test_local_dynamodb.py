"""The local DynamoDB keeps DynamoDB's atomicity, and TransactionConflict is retried.

The session's moto runs through `scripts.moto_launcher`, which serialises DynamoDB
requests: concurrent transactions must behave as on AWS (plain `moto_server` stored
9 signups in a circle of capacity 5). `transact_write` retries the cancellations
real DynamoDB gives under contention; moto never gives them, so those tests answer
the request on the wire (botocore's `before-send` event) with DynamoDB's response.
"""
import json
import threading
import time

import pytest
from botocore.awsrequest import AWSResponse
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.models import transactions
from chalicelib.core.settings import get_settings
from chalicelib.models.transactions import TransactionBusy, transact_write
from chalicelib.models import Circle, Signup
from chalicelib.models.base import connection
from scripts.moto_launcher import SerialisedDynamoDB
from tests.support.factories import make_circle

THREADS = 20
CAPACITY = 5
OTHER_ITEMS = 300    # moto copies the whole table per transaction: a bigger table, a wider race


def fill_table(count=OTHER_ITEMS):
    """Other circles' signups, as a local table has them (demo data)."""
    other = make_circle(name='Another circle')
    with Signup.batch_write() as batch:
        for i in range(count):
            batch.save(signup(other, f'other-{i:04d}'))


def signup(circle, signup_id):
    return Signup(*Signup.key(circle.id, signup_id), signup_id=signup_id, circle_id=circle.id)


def stored_signups(circle):
    return list(Signup.query(circle.pk, Signup.sk.startswith('SIGNUP#'), consistent_read=True))


def stored_count(circle):
    return Circle.get(circle.pk, circle.sk, consistent_read=True).signup_count


def reason_codes(error):
    return [reason.code if reason else None for reason in error.cancellation_reasons]


def all_at_once(work):
    """Run work(i, connection) in THREADS threads released together, on a connection with an
    HTTP pool as large, so the requests really reach moto concurrently.
    Returns {i: exception or None}."""
    shared = Connection(region=get_settings().region, max_pool_connections=THREADS)
    shared.client    # created here: botocore clients are thread-safe, creating one is not
    barrier, outcomes = threading.Barrier(THREADS), {}

    def run(i):
        barrier.wait()
        try:
            work(i, shared)
            outcomes[i] = None
        except Exception as error:  # noqa: BLE001 - the test looks at every outcome
            outcomes[i] = error
    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == THREADS
    return outcomes


def assert_only_conditional_cancellations(failures):
    for error in failures:
        assert isinstance(error, TransactWriteError), repr(error)
        assert error.cause_response_code == 'TransactionCanceledException', error.cause_response_message
        assert 'ConditionalCheckFailed' in reason_codes(error), reason_codes(error)


# --- the local DynamoDB is linearizable -----------------------------------------------------

def test_concurrent_conditional_signups_never_overfill_a_circle():
    fill_table()
    circle = make_circle()
    assert circle.signup_count == 0

    def sign_up(i, conn):
        with TransactWrite(connection=conn) as transaction:
            transaction.save(signup(circle, f's{i:02d}'), condition=Signup.pk.does_not_exist())
            transaction.update(circle, actions=[Circle.signup_count.add(1)],
                               condition=Circle.signup_count < CAPACITY)

    outcomes = all_at_once(sign_up)
    succeeded = [i for i, error in outcomes.items() if error is None]
    assert len(succeeded) == CAPACITY
    assert_only_conditional_cancellations([e for e in outcomes.values() if e is not None])
    assert sorted(s.signup_id for s in stored_signups(circle)) == sorted(f's{i:02d}' for i in succeeded)
    assert stored_count(circle) == CAPACITY


def test_identical_concurrent_transactions_apply_exactly_once():
    fill_table()
    circle = make_circle()

    def sign_up(i, conn):
        with TransactWrite(connection=conn) as transaction:
            transaction.save(signup(circle, 'same'), condition=Signup.pk.does_not_exist())
            transaction.update(circle, actions=[Circle.signup_count.add(1)])

    outcomes = all_at_once(sign_up)
    assert len([error for error in outcomes.values() if error is None]) == 1
    assert_only_conditional_cancellations([e for e in outcomes.values() if e is not None])
    assert [s.signup_id for s in stored_signups(circle)] == ['same']
    assert stored_count(circle) == 1


def test_the_launcher_locks_dynamodb_requests_only():
    """In process: while a DynamoDB request is being handled (its body still being produced),
    another DynamoDB request waits and an SES request does not."""
    inside, release, order = threading.Event(), threading.Event(), []

    def app(environ, start_response):
        target = environ.get('HTTP_X_AMZ_TARGET', 'ses')
        start_response('200 OK', [('Content-Type', 'text/plain')])

        def body():
            order.append(f'start {target}')
            if target == 'DynamoDB_20120810.TransactWriteItems':
                inside.set()
                release.wait(5)
            yield b'done'
            order.append(f'end {target}')
        return body()

    wrapped = SerialisedDynamoDB(app)

    def request(target=None):
        environ = {'HTTP_X_AMZ_TARGET': target} if target else {}
        return b''.join(wrapped(environ, lambda status, headers: None))

    first = threading.Thread(target=request, args=('DynamoDB_20120810.TransactWriteItems',))
    first.start()
    assert inside.wait(5)
    second = threading.Thread(target=request, args=('DynamoDBStreams_20120810.GetRecords',))
    second.start()
    assert request() == b'done'     # SES is served while DynamoDB is busy
    time.sleep(0.1)
    assert 'start DynamoDBStreams_20120810.GetRecords' not in order
    release.set()
    first.join(5)
    second.join(5)
    assert order == ['start DynamoDB_20120810.TransactWriteItems', 'start ses', 'end ses',
                     'end DynamoDB_20120810.TransactWriteItems', 'start DynamoDBStreams_20120810.GetRecords',
                     'end DynamoDBStreams_20120810.GetRecords']


# --- TransactionConflict is retried -------------------------------------------------------------

class CannedBody:
    def __init__(self, body):
        self.body = body

    def stream(self, **kwargs):
        yield self.body


def conflict_response(request, reasons):
    """DynamoDB's answer to a transaction it cancelled (JSON 1.0 protocol)."""
    body = json.dumps({
        '__type': 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        'Message': f'Transaction cancelled, please refer cancellation reasons for specific reasons '
                   f'[{", ".join(code for code, _ in reasons)}]',
        'CancellationReasons': [{'Code': code, **({'Message': message} if message else {})}
                                for code, message in reasons],
    }).encode()
    return AWSResponse(request.url, 400, {'Content-Type': 'application/x-amz-json-1.0',
                                          'x-amzn-RequestId': 'CANNED', 'Content-Length': str(len(body))},
                       CannedBody(body))


CONFLICT = [('TransactionConflict', 'Transaction is ongoing for the item'), ('None', None)]


@pytest.fixture
def wire():
    """Answers the next TransactWriteItems requests of the app's connection with canned
    cancellations; `sent` counts the requests that reached the wire (canned or real)."""
    class Wire:
        cancellations = []    # one list of (code, message) per request to answer; then moto answers
        sent = 0

    def before_send(request, **kwargs):
        Wire.sent += 1
        if Wire.cancellations:
            return conflict_response(request, Wire.cancellations.pop(0))
        return None
    events = connection().client.meta.events
    events.register('before-send.dynamodb.TransactWriteItems', before_send)
    try:
        yield Wire
    finally:
        events.unregister('before-send.dynamodb.TransactWriteItems', before_send)


def write_signup(circle, signup_id):
    def build(transaction):
        transaction.save(signup(circle, signup_id), condition=Signup.pk.does_not_exist())
        transaction.update(circle, actions=[Circle.signup_count.add(1)])
    return build


def test_a_transaction_cancelled_for_a_conflict_is_sent_again_and_applied_once(wire):
    circle = make_circle()
    wire.cancellations = [CONFLICT, CONFLICT]
    pauses = []
    transact_write(write_signup(circle, 'lee'), sleep=pauses.append)
    assert wire.sent == 3
    assert [s.signup_id for s in stored_signups(circle)] == ['lee']
    assert stored_count(circle) == 1
    assert len(pauses) == 2
    assert 0.01 <= pauses[0] <= 0.03 and 0.02 <= pauses[1] <= 0.06


def test_a_transaction_that_keeps_conflicting_gives_up_with_transaction_busy(wire):
    circle = make_circle()
    wire.cancellations = [CONFLICT] * 10
    with pytest.raises(TransactionBusy) as raised:
        transact_write(write_signup(circle, 'lee'), attempts=3)
    assert wire.sent == 3
    assert str(raised.value) == 'Please try again in a moment.'
    assert raised.value.status == 409
    assert isinstance(raised.value.__cause__, TransactWriteError)
    assert reason_codes(raised.value.__cause__) == ['TransactionConflict', None]
    assert stored_signups(circle) == [] and stored_count(circle) == 0


def test_the_default_is_four_attempts_with_growing_jittered_pauses(wire):
    circle = make_circle()
    wire.cancellations = [CONFLICT] * 10
    pauses = []
    with pytest.raises(TransactionBusy):
        transact_write(write_signup(circle, 'lee'), sleep=pauses.append)
    assert wire.sent == 4
    first = transactions.FIRST_PAUSE
    assert [(first * 2 ** n) / 2 <= pause <= (first * 2 ** n) * 1.5 for n, pause in enumerate(pauses)] == [True] * 3


def test_a_failed_condition_is_not_retried_and_reaches_the_caller_unchanged(wire):
    circle = make_circle()
    transact_write(write_signup(circle, 'lee'))
    wire.sent = 0
    with pytest.raises(TransactWriteError) as raised:
        transact_write(write_signup(circle, 'lee'))
    assert wire.sent == 1
    assert reason_codes(raised.value) == ['ConditionalCheckFailed', None]
    assert stored_count(circle) == 1


def test_a_conflict_together_with_a_failed_condition_is_not_retried(wire):
    circle = make_circle()
    wire.cancellations = [[('TransactionConflict', None), ('ConditionalCheckFailed', 'The conditional request failed')]]
    with pytest.raises(TransactWriteError) as raised:
        transact_write(write_signup(circle, 'lee'))
    assert wire.sent == 1
    assert reason_codes(raised.value) == ['TransactionConflict', 'ConditionalCheckFailed']
    assert stored_signups(circle) == []


def test_a_cancelled_transaction_leaves_every_item_and_the_stream_as_they_were():
    """The launcher backs up only the items a transaction touches (moto copied whole tables):
    a put, an update and a new item before a failing condition are all undone, stream included."""
    import boto3
    circle = make_circle(name='Before')
    client = boto3.client('dynamodbstreams', region_name=get_settings().region)
    table = boto3.client('dynamodb', region_name=get_settings().region).describe_table(
        TableName=Circle.Meta.table_name)['Table']

    def stream_records():
        shards = client.describe_stream(StreamArn=table['LatestStreamArn'])['StreamDescription']['Shards']
        total = 0
        for shard in shards:
            iterator = client.get_shard_iterator(StreamArn=table['LatestStreamArn'], ShardId=shard['ShardId'],
                                                 ShardIteratorType='TRIM_HORIZON')['ShardIterator']
            total += len(client.get_records(ShardIterator=iterator)['Records'])
        return total
    before = stream_records()
    stored = Circle.get(*Circle.key(circle.id))
    stored.name = 'After'
    newcomer = Signup(*Signup.key(circle.id, 'new'), signup_id='new', circle_id=circle.id)

    def write(transaction):
        transaction.save(stored)
        transaction.save(newcomer)
        transaction.update(Circle(*Circle.key(circle.id)), actions=[Circle.signup_count.add(1)])
        transaction.condition_check(Circle, 'CIRCLE#nope', 'CIRCLE', condition=Circle.pk.exists())
    with pytest.raises(TransactWriteError):
        transact_write(write)
    kept = Circle.get(*Circle.key(circle.id))
    assert (kept.name, kept.signup_count) == ('Before', 0)
    assert Signup.count(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#')) == 0
    assert stream_records() == before
