"""Count AWS API calls with a botocore event hook, and refuse DynamoDB Scans.

Every botocore client created after `install()` gets a `before-call` handler,
which covers PynamoDB's own clients as well as boto3's.
"""
import collections
import sys
import threading

import botocore.session

calls = collections.Counter()
_lock = threading.Lock()
_installed = False
ADMIN_MODULES = ('chalicelib.ops.admin',)


class ScanRefused(AssertionError):
    """Request paths and jobs must read DynamoDB by key or index."""


def _before_call(model, **kwargs):
    name = f'{model.service_model.service_name}.{model.name}'
    with _lock:
        calls[name] += 1
    if model.name == 'Scan' and not _called_from_admin():
        raise ScanRefused('DynamoDB Scan issued outside admin code')


def _called_from_admin():
    frame = sys._getframe(1)
    while frame:
        if frame.f_globals.get('__name__') in ADMIN_MODULES:
            return True
        frame = frame.f_back
    return False


def install():
    global _installed
    if _installed:
        return
    original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        client.meta.events.register('before-call.*.*', _before_call)
        return client

    botocore.session.Session.create_client = create_client
    _installed = True


def reset():
    with _lock:
        calls.clear()


def dynamodb_calls():
    with _lock:
        return {k.split('.', 1)[1]: v for k, v in calls.items() if k.startswith('dynamodb.')}
