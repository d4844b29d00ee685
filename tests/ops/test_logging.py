"""Structured logs (chalicelib/core/observability.py): JSON lines from every chalicelib logger with
the request id, the route pattern and the circle id of an HTTP request, or the job's name; the
level from CIRCLES_LOG_LEVEL; and no personal data in any line of representative flows."""
import io
import json
import logging
from datetime import timedelta

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.core import observability
from tests.learners.test_signup import post_signup
from tests.reminders.test_reminder_job import circle_with_learners, first_due
from tests.sms_inbound.helpers import text_us
from tests.support.factories import make_circle


@pytest.fixture
def json_lines():
    """Every JSON line the Powertools handler writes during the test, parsed (a function)."""
    handler = observability.handler()
    stream = io.StringIO()
    handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    handler.setStream(None)


def test_app_installs_the_middleware_outermost():
    from app import app
    assert list(app._get_middleware_handlers('http'))[0] is observability.http_middleware


def test_a_request_logs_json_lines_with_its_id_route_pattern_and_circle_id(json_lines):
    small = Chalice(app_name='logs-test')
    small.register_middleware(observability.http_middleware, 'http')

    @small.route('/circles/{circle_id}/x')
    def with_circle(circle_id):
        logging.getLogger('chalicelib.somewhere').info('inside %s', 'the view')
        return {}

    @small.route('/plain')
    def plain():
        logging.getLogger('chalicelib.elsewhere').warning('no circle here')
        return {}

    with Client(small) as client:
        client.http.get('/circles/c-42/x?email=someone')
        client.http.get('/plain')
    inside, plain_line = [line for line in json_lines() if line['message'] in ('inside the view', 'no circle here')]
    assert inside['message'] == 'inside the view' and inside['level'] == 'INFO' and inside['service'] == 'circles'
    assert inside['route'] == '/circles/{circle_id}/x' and inside['circle_id'] == 'c-42'
    assert inside['request_id'] and inside['method'] == 'GET'
    assert plain_line['route'] == '/plain' and 'circle_id' not in plain_line     # the keys do not leak over
    assert plain_line['request_id'] != inside['request_id']


def test_a_job_logs_its_name_and_request_id(client, moto, twilio, time_machine, json_lines):
    circle, _ = circle_with_learners(count=1)
    time_machine.move_to(first_due(circle) + timedelta(minutes=1))
    event = client.events.generate_cw_event(source='aws.events', detail_type='Scheduled Event', detail={},
                                            resources=[])
    client.lambda_.invoke('send-due-reminders', event)
    [summary] = [line for line in json_lines() if line['message'].startswith('send_due_reminders:')]
    assert summary['job'] == 'send-due-reminders' and summary['request_id']
    # After the invocation the job's keys are gone.
    logging.getLogger('chalicelib.after').warning('later')
    assert 'job' not in json_lines()[-1]


def test_the_level_comes_from_circles_log_level(monkeypatch):
    monkeypatch.delenv(observability.LEVEL_VARIABLE, raising=False)
    assert observability.level() == 'INFO'
    monkeypatch.setenv(observability.LEVEL_VARIABLE, 'debug')
    assert observability.level() == 'DEBUG'
    monkeypatch.setenv(observability.LEVEL_VARIABLE, 'loud')
    assert observability.level() == 'INFO'


def test_the_handler_writes_to_the_stderr_of_the_moment(capsys):
    logging.getLogger('chalicelib.somewhere').warning('on stderr')
    captured = capsys.readouterr()
    assert json.loads(captured.err.splitlines()[-1])['message'] == 'on stderr' and captured.out == ''


def test_every_chalicelib_logger_writes_through_the_json_handler_at_the_stages_level():
    package = logging.getLogger(observability.PACKAGE_LOGGER)
    assert observability.handler() in package.handlers
    assert package.level == observability.logger().log_level


def test_an_exception_is_logged_as_its_type_and_frames_never_its_text(json_lines):
    try:
        raise ValueError('could not reach grace@example.org at +13125550123')
    except ValueError:
        logging.getLogger('chalicelib.somewhere').exception('sending failed')
    [line] = json_lines()[-1:]
    assert line['message'].startswith('sending failed: ValueError') and 'test_logging.py' in line['message']
    assert 'grace@example.org' not in json.dumps(line) and '5550123' not in json.dumps(line)


# --- no personal data in any log line ------------------------------------------------------

PRIVATE = {'name': 'Priya Private', 'email': 'Priya.Private@Example.ORG', 'mobile': '(312) 555-0177',
           'signup_questions': {'goals': 'Quietly learn to read my own medical records',
                                'support': 'Childcare'}}
INBOUND_BODY = 'Please do not tell anyone but I am moving house'


def test_no_email_phone_number_or_message_text_appears_in_any_log_line(client, moto, twilio, time_machine,
                                                                      json_lines, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger='chalicelib')
    # A signup over HTTP, its welcome sent.
    circle = make_circle()
    assert post_signup(client, circle, **PRIVATE).status_code == 200
    moto.sent_emails()                          # drains the outbox through the real sender
    # The reminder job, and a sender run with a permanent and a transient SMS failure.
    reminded, signups = circle_with_learners(index=7, count=5)
    numbers = [s.mobile for s in signups if s.mobile]
    twilio.fail_number(numbers[0])              # refused (21610): two, as the 500 below may take one
    twilio.fail_number(numbers[1])
    twilio.answer_next(500)                     # retried
    time_machine.move_to(first_due(reminded) + timedelta(minutes=1))
    event = client.events.generate_cw_event(source='aws.events', detail_type='Scheduled Event', detail={},
                                            resources=[])
    client.lambda_.invoke('send-due-reminders', event)
    moto.sent_emails()
    twilio.sent()
    # A text to our number.
    assert text_us(client, '+13125550177', INBOUND_BODY).status_code == 200
    moto.sent_emails()

    lines = json_lines()
    messages = [line['message'] for line in lines]
    assert any(m.startswith('send_due_reminders:') for m in messages)          # the flows did log
    assert any(m.startswith('sender:') and "'failed'" in m and "'retrying'" in m for m in messages)
    ours = [r for r in caplog.records if r.name.startswith(('chalicelib', 'circles'))]
    assert ours
    logged = ('\n'.join(json.dumps(line) for line in lines) + '\n'
              + '\n'.join(f'{r.getMessage()} {r.exc_text or ""}' for r in ours)).lower()
    needles = [PRIVATE['email'], PRIVATE['name'], PRIVATE['signup_questions']['goals'], INBOUND_BODY,
               '+13125550177', '3125550177', '555-0177', *numbers, *(n[2:] for n in numbers),
               *(s.email for s in signups), *(s.name for s in signups)]
    found = [needle for needle in needles if needle.lower() in logged]
    assert found == []
