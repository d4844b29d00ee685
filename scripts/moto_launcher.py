"""moto's server with DynamoDB's atomicity: the local and test DynamoDB, SES and SQS.

Why: moto (checked with 5.2.5) applies `TransactWriteItems` non-atomically when
HTTP requests arrive concurrently. Its threaded server handles each request on
its own thread and the DynamoDB backend takes no lock, so transactions
interleave: 20 concurrent conditional signups to a circle of capacity 5 stored
9, and 20 identical ones left the signup counter at +2 with HTTP 500s. Real
DynamoDB is linearizable per item and per transaction (a transaction's
conditions and writes happen at one instant, or it is cancelled), so code that
is correct on AWS looked broken locally, and races the app must survive on AWS
could not be tested.

How: the same WSGI application `moto_server` builds
(`DomainDispatcherApplication(create_backend_app)`, served by werkzeug's
threaded `run_simple` with moto's request handler), wrapped in a middleware
that holds ONE process-wide lock for the whole handling of every DynamoDB and
DynamoDB Streams request, response body included. One lock means the requests
take effect one at a time, in an order consistent with real time: a
linearizable store, which gives at least DynamoDB's per-item and
per-transaction guarantees (it never needs DynamoDB's `TransactionConflict`
cancellations; the app retries those, see `chalicelib/models/transactions.py`).
Requests are recognised by their `X-Amz-Target` header
(`DynamoDB_20120810.*`, `DynamoDBStreams_20120810.*`); everything else (SES,
SQS, `/moto-api/`) is served concurrently as before.

Two costs of moto's DynamoDB that grow with the table, removed here (`keep_dynamodb_cheap`),
so that the local stack and the benchmarks at 10,000 circles measure our code, not moto:
- `TransactWriteItems` deep-copies every table it touches once per item of the transaction
  (its rollback backup), so one signup copied the whole table four times: minutes and GBs at
  10,000 circles. Under the one lock nothing else runs during a transaction, so a backup of the
  items it touches (and of the stream's length) restores exactly the same state on a rollback.
- Every moto model object (each item copy, each stream record) is kept in a class-level list for
  moto's dashboard, forever; the DynamoDB ones are dropped after each request.
- Every Query sorts every item of the table (`Table.all_items`) and measures each one's size
  before keeping one partition, so a Query's cost grew with the table, unlike DynamoDB's. A
  Query of the table now starts from its partition's items, and a Query of an index from the
  items in its partition and key range; Scans are unchanged. (moto still pages an index by
  whole items, not by their projection: bench/dynamodb_calls.py re-pages by DynamoDB's rules.)

One addition for the local outbox (`chalicelib/messaging/local_outbox.py`): `POST
/circles-local/ses/forget` with `{"addresses": [...]}` removes every recorded email to or
mentioning those addresses, as erasing a learner's data must (moto keeps every email it sent).

Usage, with the flags of `moto_server`:

    python -m scripts.moto_launcher -H 127.0.0.1 -p 5055
"""
import argparse
import os
import signal
import sys
import threading

LOCKED_TARGETS = ('DynamoDB_20120810', 'DynamoDBStreams_20120810')


class SerialisedDynamoDB:
    """WSGI middleware: DynamoDB and DynamoDB Streams requests run one at a time."""

    def __init__(self, app, lock=None, after=None):
        self.app = app
        self.lock = lock or threading.Lock()
        self.after = after

    @staticmethod
    def is_dynamodb(environ):
        return environ.get('HTTP_X_AMZ_TARGET', '').startswith(LOCKED_TARGETS)

    def __call__(self, environ, start_response):
        if not self.is_dynamodb(environ):
            return self.app(environ, start_response)
        with self.lock:
            response = self.app(environ, start_response)
            try:
                body = b''.join(response)    # produce the whole body inside the lock
            finally:
                close = getattr(response, 'close', None)
                if close:
                    close()
                if self.after:
                    self.after()
        return [body]


def keep_dynamodb_cheap():
    """Patch moto's DynamoDB transactions and instance tracking (see the module docstring)."""
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    shim = types.SimpleNamespace(**{name: getattr(copy, name) for name in dir(copy) if not name.startswith('__')})
    shim.deepcopy = lambda value, memo=None: value if isinstance(value, Table) else copy.deepcopy(value, memo)
    models.copy = shim        # the whole-table backup becomes the table itself: restored below instead
    original = models.DynamoDBBackend.transact_write_items

    def touched(backend, transact_items):
        """(table, hash key, range key, deep copy of the item or None) of each item written."""
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()), {}) if isinstance(entry, dict) else {}
            table = backend.tables.get(op.get('TableName'))
            attrs = op.get('Key') or op.get('Item') or {}
            if table is None or table.hash_key_attr not in attrs:
                continue
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr in attrs else None
            if table.has_range_key and range_key is None:
                continue
            bucket = table.items.get(hash_key, {})
            current = bucket.get(range_key) if table.has_range_key else bucket or None
            saved.append((table, hash_key, range_key, copy.deepcopy(current)))
        return saved

    def restore(saved, stream_lengths):
        for table, hash_key, range_key, item in reversed(saved):
            if table.has_range_key:
                if item is None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
            elif item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        for table, length in stream_lengths:
            del table.stream_shard.items[length:]

    def transact_write_items(self, transact_items):
        saved = touched(self, transact_items)
        streams = {id(t): (t, len(t.stream_shard.items)) for t, *_ in saved if t.stream_shard is not None}
        try:
            return original(self, transact_items)
        except Exception:
            restore(saved, streams.values())
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items

    original_query = Table.query

    def index_entries(table, index_name, hash_key, range_comparison, range_objs, hash_key_conditions):
        """The items in the queried index partition and key range: what DynamoDB would read, so
        that moto's per-candidate work (sorting, measuring each item) is done on them only."""
        index = table.get_index(index_name)
        keys = {key['KeyType']: key['AttributeName'] for key in index.schema}
        wanted = dict(hash_key_conditions or []) or {keys['HASH']: hash_key}
        entries = []
        for partition in (table.items.values() if table.range_key_attr else [table.items]):
            for item in partition.values():
                if any(item.attrs.get(name) is None or item.attrs[name] != value for name, value in wanted.items()):
                    continue
                value = item.attrs.get(keys.get('RANGE')) if 'RANGE' in keys else None
                if 'RANGE' in keys and (value is None or range_comparison and not value.compare(
                        range_comparison, range_objs)):
                    continue
                entries.append(item)
        return entries

    def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
              projection_expressions, index_name=None, consistent_read=False, filter_expression=None,
              hash_key_conditions=None, **kwargs):
        if not (index_name and kwargs.get('range_key_conditions')):     # (multi-attribute keys: moto's way)
            if index_name is not None:
                candidates = index_entries(self, index_name, hash_key, range_comparison, range_objs,
                                           hash_key_conditions)
            elif self.range_key_attr:
                candidates = list(self.items.get(hash_key, {}).values())
            else:
                candidates = [self.items[hash_key]] if hash_key in self.items else []
            self.all_items = lambda: candidates      # for this call only (under the one lock)
        try:
            return original_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                  scan_index_forward, projection_expressions, index_name, consistent_read,
                                  filter_expression, hash_key_conditions=hash_key_conditions, **kwargs)
        finally:
            self.__dict__.pop('all_items', None)

    Table.query = query


FORGET_EMAILS_PATH = '/circles-local/ses/forget'


def forget_emails(addresses):
    """Remove the SES messages (dashboard records and the backends' sent lists) that name any
    of `addresses`; returns how many records went."""
    from moto.core.model_instances import model_data
    from moto.ses.models import ses_backends
    wanted = [a.strip().lower() for a in addresses if a and a.strip()]

    def mentions(message):
        text = f"{getattr(message, 'raw_data', '')} {getattr(message, 'destinations', '')} {getattr(message, 'body', '')}"
        return any(address in text.lower() for address in wanted)
    removed = 0
    for model in model_data.get('ses', {}).values():
        kept = [m for m in model.instances_tracked if not mentions(m)]
        removed += len(model.instances_tracked) - len(kept)
        model.instances_tracked = kept
    for regions in ses_backends.values():
        for backend in regions.values():
            backend.sent_messages = [m for m in backend.sent_messages if not mentions(m)]
    return removed


class ForgetEmails:
    """WSGI middleware: the local outbox's forget endpoint, everything else to moto."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO') != FORGET_EMAILS_PATH or environ.get('REQUEST_METHOD') != 'POST':
            return self.app(environ, start_response)
        import json
        length = int(environ.get('CONTENT_LENGTH') or 0)
        addresses = json.loads(environ['wsgi.input'].read(length) or b'{}').get('addresses') or []
        body = json.dumps({'removed': forget_emails(addresses)}).encode()
        start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
        return [body]


def forget_tracked_instances():
    """Drop moto's dashboard references to DynamoDB objects (nothing else reads them)."""
    from moto.core.model_instances import model_data
    for model in model_data.get('dynamodb', {}).values():
        model.instances_tracked.clear()


def build_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True    # as moto_server sets it
    keep_dynamodb_cheap()
    return ForgetEmails(SerialisedDynamoDB(app, after=forget_tracked_instances))


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog='python -m scripts.moto_launcher', description=__doc__.split('\n')[0])
    parser.add_argument('-H', '--host', type=str, default='127.0.0.1', help='Which host to bind')
    parser.add_argument('-p', '--port', type=int, default=int(os.environ.get('MOTO_PORT', 5000)),
                        help='Port number to use for connection')
    parser.add_argument('-r', '--reload', action='store_true', default=False, help='Reload server on a file change')
    parser.add_argument('-s', '--ssl', action='store_true', default=False,
                        help='Enable SSL encrypted connection with auto-generated certificate (use https://... URL)')
    parser.add_argument('-c', '--ssl-cert', type=str, default=None, help='Path to SSL certificate')
    parser.add_argument('-k', '--ssl-key', type=str, default=None, help='Path to SSL private key')
    return parser.parse_args(argv)


def _exit(signum, frame):
    sys.exit(0)


def main(argv=None):
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault('MOTO_PORT', str(args.port))    # moto builds some URLs from it
    signal.signal(signal.SIGINT, _exit)
    signal.signal(signal.SIGTERM, _exit)

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    ssl_context = None
    if args.ssl_key and args.ssl_cert:
        ssl_context = (args.ssl_cert, args.ssl_key)
    elif args.ssl:
        ssl_context = 'adhoc'
    run_simple(args.host, args.port, build_app(), threaded=True, use_reloader=args.reload,
               ssl_context=ssl_context, request_handler=MotoRequestHandler)


if __name__ == '__main__':
    main()
