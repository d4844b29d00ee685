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

    def __init__(self, app, lock=None):
        self.app = app
        self.lock = lock or threading.Lock()

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
        return [body]


def build_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True    # as moto_server sets it
    return SerialisedDynamoDB(app)


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
