"""Test session: a real moto server for DynamoDB and SES, reset before every test.

The environment is set before anything imports `app` or the models, because
settings are read once per process and Chalice's test client applies config
environment variables only during a request.
"""
import os

from tests.support.environment import AWS_TEST_ENV

os.environ.update(AWS_TEST_ENV)
os.environ.update({
    'TWILIO_ACCOUNT_SID': 'AC' + '0123456789abcdef' * 2,    # the fake Twilio checks these
    'TWILIO_AUTH_TOKEN': 'test-twilio-auth-token',
    'TWILIO_FROM_NUMBER': '+13125550000',
    # No rate limit unless a test sets one: the send-rate tests measure the limit itself.
    'CIRCLES_MAX_SENDS_PER_SECOND': '0',
    'CIRCLES_MAX_SMS_PER_SECOND': '0',
    # Every request reads what changed in the catalog: a test sees its own writes at once
    # (tests/circles/test_catalog.py checks the refresh interval itself).
    'CIRCLES_CATALOG_REFRESH_SECONDS': '0',
})
os.environ.pop('AWS_PROFILE', None)

import pytest  # noqa: E402

from tests.support import aws_calls, log_audit  # noqa: E402
from tests.support.moto_server import MotoServer, point_environment_at  # noqa: E402
from tests.support.twilio_fake import TwilioFake  # noqa: E402

_server = None
_twilio = None


def pytest_configure(config):
    global _server, _twilio
    if not hasattr(config, 'workerinput'):
        log_audit.start_run()       # the controller, or the only process
    if getattr(config.option, 'numprocesses', None) and not hasattr(config, 'workerinput'):
        return    # the xdist controller runs no test; each worker starts its own server
    log_audit.capture(log_audit.worker_name())
    _server = MotoServer()
    point_environment_at(_server)
    _twilio = TwilioFake(os.environ['TWILIO_ACCOUNT_SID'], os.environ['TWILIO_AUTH_TOKEN'])
    os.environ['TWILIO_API_BASE'] = _twilio.url
    aws_calls.install()
    from tests.support import outbox
    _server.before_read = _twilio.before_read = outbox.drain


def pytest_sessionfinish(session, exitstatus):
    """The whole run's log lines name no email address or phone number (tests/support/log_audit.py)."""
    if hasattr(session.config, 'workerinput'):
        return      # a worker: the controller reads every worker's file once all are done
    leaks = log_audit.leaks()
    if leaks:
        print(f'\nPersonal data in {len(leaks)} log line(s) of this run:')
        for name, line in leaks[:20]:
            print(f'  {name}: {line}')
        session.exitstatus = 1


def pytest_unconfigure(config):
    if _server:
        _server.stop()
    if _twilio:
        _twilio.stop()


@pytest.fixture(scope='session')
def moto():
    return _server


@pytest.fixture
def twilio():
    """The local fake of Twilio's Messages API, with no requests recorded and no failures set."""
    _twilio.reset()
    return _twilio


@pytest.fixture(autouse=True)
def aws(moto):
    """A fresh, empty table and a verified sender for every test."""
    from chalicelib.circles import catalog
    from chalicelib.ops import admin
    moto.reset()
    catalog.forget()       # the table is new: so is the container's catalog
    admin.create_table()
    admin.verify_local_sender()
    aws_calls.reset()
    yield moto


@pytest.fixture
def drain():
    """Deliver the outbox now (the stream sender, deterministically); returns the drain function."""
    from tests.support import outbox
    outbox.drain()
    return outbox.drain


@pytest.fixture
def client():
    from chalice.test import Client

    from app import app
    with Client(app) as test_client:
        yield test_client
