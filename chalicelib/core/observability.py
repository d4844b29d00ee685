"""Structured logs and metrics (AWS Lambda Powertools): JSON lines and CloudWatch embedded metrics.

    logger()                        # the Powertools Logger (service 'circles'), configured once
    http_middleware(event, next)    # app.py: request id, route pattern and circle id on each line
    @job('send-due-reminders')      # a job's or the sender's Lambda: its name and request id, then
                                    # its metrics flushed at the end of the invocation
    count('MessagesSent', 3, channel='email')   # a metric, flushed by the job's wrapper

Logs: one JSON object a line on stderr (StderrHandler; the EMF metrics go to stdout). The
Powertools handler is on the 'circles' logger (the Powertools Logger, and Chalice's `app.log`,
whose plain-text handler it replaces) and on the 'chalicelib' logger, so every
`logging.getLogger(__name__)` of the package writes the same lines with the same appended keys;
an exception is written as its type and frames, never its text. Root handlers (the Lambda
runtime's plain-text one) get Powertools' SuppressFilter for 'chalicelib', as Powertools does for
its own logger, so nothing is written twice; pytest's capture handlers are left alone, so
`caplog` still sees every record. Level: `CIRCLES_LOG_LEVEL` (DEBUG, INFO, WARNING, ERROR; INFO
when unset), per stage; it applies to our loggers only (botocore's and PynamoDB's DEBUG lines
quote whole items: leave them at the root's level).

No personal data in a log line: log keys, ids, counts and reasons, never an email address, a
phone number or a message's words (tests/ops/test_logging.py greps a run's logs for them).

Metrics: namespace 'Circles', dimension service=circles plus the ones given to `count` (channel).
Printed as EMF JSON on stdout at `flush_metrics()` (no CloudWatch API call), one blob per set of
dimensions, inside Lambda (or with CIRCLES_METRICS=emf; CIRCLES_METRICS=off silences them).
Counts are kept in this module (the sender counts from its send pool's threads) and Powertools'
`EphemeralMetrics` prints them, so no state is shared with another Metrics instance.

Cold start: Powertools is imported when `logger()` or `flush_metrics()` first runs (about 35 ms
of imports, `python -X importtime -c "import aws_lambda_powertools.logging"`), not at the import
of this module: app.py calls `logger()` in Lambda's init phase, the jobs on their first run.
"""
import functools
import logging
import os
import sys
import threading
import traceback
from collections import Counter, defaultdict

SERVICE = 'circles'
NAMESPACE = 'Circles'
LEVEL_VARIABLE = 'CIRCLES_LOG_LEVEL'
METRICS_VARIABLE = 'CIRCLES_METRICS'       # emf or off; by default emf inside Lambda only
PACKAGE_LOGGER = 'chalicelib'
LEVELS = ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL')
HTTP_KEYS = ('request_id', 'api_request_id', 'route', 'method', 'circle_id')
JOB_KEYS = ('request_id', 'job', 'cold_start')

_logger = None
_logger_lock = threading.Lock()
_cold_start = True
_counts = defaultdict(Counter)          # dimensions (sorted tuple of pairs) -> {metric name: count}
_counts_lock = threading.Lock()


def level():
    """The stage's log level: CIRCLES_LOG_LEVEL, INFO when unset or not a level's name."""
    wanted = os.environ.get(LEVEL_VARIABLE, 'INFO').strip().upper()
    return wanted if wanted in LEVELS else 'INFO'


def logger():
    """The Powertools Logger, configured once per container (see the module docstring)."""
    global _logger
    if _logger is None:
        with _logger_lock:
            if _logger is None:
                _logger = _configure()
    return _logger


def _configure():
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.filters import SuppressFilter
    service_logger = logging.getLogger(SERVICE)
    for handler in list(service_logger.handlers):      # Chalice's plain-text handler of app.log
        if handler is not getattr(service_logger, 'powertools_handler', None):
            service_logger.removeHandler(handler)
    powertools = Logger(service=SERVICE, level=level(), logger_handler=StderrHandler())
    powertools.logger_handler.addFilter(without_exception_text)
    package = logging.getLogger(PACKAGE_LOGGER)
    package.setLevel(powertools.log_level)
    if powertools.logger_handler not in package.handlers:
        package.addHandler(powertools.logger_handler)
    for handler in logging.root.handlers:
        if type(handler).__module__ != '_pytest.logging':
            handler.addFilter(SuppressFilter(PACKAGE_LOGGER))
    return powertools


class StderrHandler(logging.StreamHandler):
    """A StreamHandler on whatever `sys.stderr` is when it writes, unless `setStream` gave it one
    (`setStream(None)` follows sys.stderr again): pytest and the CLI swap the standard streams, and
    a handler bound to the first one would write to a closed file. Lambda sends stderr to the
    function's log group like stdout; a CLI's stdout stays its result."""

    def __init__(self):
        super().__init__()
        self._stream = None

    @property
    def stream(self):
        return self._stream or sys.stderr

    @stream.setter
    def stream(self, value):
        self._stream = None if value is sys.stderr else value


def without_exception_text(record):
    """Handler filter of the JSON lines: an exception is logged as its type and the frames it passed
    through, never its message or locals, which may quote an address or what a person typed (a
    provider's error names the number it refused). Like chalicelib.handlers.web's, for every logger."""
    if record.exc_info and record.exc_info[1] is not None:
        kind, _, trace = record.exc_info
        frames = ''.join(f'\n  {f.filename}:{f.lineno} in {f.name}' for f in traceback.extract_tb(trace))
        record.msg, record.args = f'{record.getMessage()}: {kind.__qualname__}{frames}', ()
        record.exc_info = record.exc_text = None
    return True


def handler():
    """The JSON lines' handler (on sys.stderr; a test may `setStream` it elsewhere, then `setStream(None)`)."""
    return logger().logger_handler


# --- HTTP: Chalice middleware -----------------------------------------------------------------

def http_middleware(event, get_response):
    """`app.register_middleware(http_middleware, 'http')`: the invocation's request id (Lambda's, as
    in its REPORT line and X-Ray; API Gateway's as `api_request_id`), the route pattern
    (`/circles/{circle_id}`, never the URL with its ids or query) and the circle id when the route
    has one, on every line logged while it is handled."""
    log = logger()
    context = getattr(event, 'context', None) or {}
    keys = {'request_id': getattr(getattr(event, 'lambda_context', None), 'aws_request_id', None),
            'api_request_id': context.get('requestId'), 'route': context.get('resourcePath'),
            'method': getattr(event, 'method', None)}
    circle_id = (getattr(event, 'uri_params', None) or {}).get('circle_id')
    if circle_id:
        keys['circle_id'] = circle_id
    log.append_keys(**keys)
    try:
        return get_response(event)
    finally:
        log.remove_keys(HTTP_KEYS)


# --- jobs and the sender: a wrapper per Lambda function -----------------------------------------

def job(name):
    """Decorate a job's or the sender's handler (under Chalice's decorator): its lines carry the job
    name, the invocation's request id and whether it was the container's first; the metrics it
    counted are flushed when it ends, also when it raises."""
    def wrap(handler_function):
        @functools.wraps(handler_function)
        def run(event, *args, **kwargs):
            global _cold_start
            log = logger()
            context = getattr(event, 'context', None)
            log.append_keys(job=name, request_id=getattr(context, 'aws_request_id', None), cold_start=_cold_start)
            _cold_start = False
            try:
                return handler_function(event, *args, **kwargs)
            finally:
                log.remove_keys(JOB_KEYS)
                flush_metrics()
        return run
    return wrap


# --- metrics ------------------------------------------------------------------------------------

def count(name, value=1, **dimensions):
    """Add `value` to the metric `name` (a Count) for these dimensions; printed at the next flush.
    A value of 0 is kept: an alarm on a job's metrics sees a data point for every run."""
    key = tuple(sorted((k, str(v)) for k, v in dimensions.items()))
    with _counts_lock:
        _counts[key][name] += value


def emf_enabled():
    """Inside Lambda (where CloudWatch reads EMF from the function's output), or where
    CIRCLES_METRICS=emf says so; elsewhere (`chalice local`, the CLI, the tests) what was
    counted is dropped at the flush, and a job's or the CLI's own output stays its own."""
    wanted = os.environ.get(METRICS_VARIABLE, '').strip().lower()
    if wanted in ('emf', 'off'):
        return wanted == 'emf'
    return bool(os.environ.get('AWS_LAMBDA_FUNCTION_NAME'))


def flush_metrics():
    """Print what was counted as EMF JSON on stdout (one blob per set of dimensions), then forget it."""
    with _counts_lock:
        counts = {key: dict(named) for key, named in _counts.items() if named}
        _counts.clear()
    if not counts or not emf_enabled():
        return
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
    for dimensions, named in counts.items():
        metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        for dimension, value in dimensions:
            metrics.add_dimension(name=dimension, value=value)
        for name, value in sorted(named.items()):
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        metrics.flush_metrics()
