"""Scheduled jobs run through Chalice the way EventBridge invokes them."""
from datetime import timedelta

from chalicelib.circles import circles
from chalicelib.learners.signup import sign_up
from tests.support.factories import make_circle


def test_the_outbox_sweep_is_scheduled_every_five_minutes():
    from app import app
    [config] = [s for s in app.event_sources if s.name == 'send-outbox-sweep']
    assert config.schedule_expression.to_string() == 'rate(5 minutes)'


def test_the_outbox_sweep_sends_through_the_lambda_entry_point(client, moto, time_machine):
    from chalicelib.messaging import outbox
    circle = make_circle()
    sign_up(circle.id, {'name': 'Lee', 'email': 'lee@example.org', 'consent': True})
    time_machine.move_to(circles.utcnow() + outbox.SWEEP_GRACE + timedelta(minutes=1))
    event = client.events.generate_cw_event(source='aws.events', detail_type='Scheduled Event',
                                            detail={}, resources=[])
    client.lambda_.invoke('send-outbox-sweep', event)
    assert sorted(m['To'] for m in moto.sent_emails(drain=False)) == ['ada@example.org', 'lee@example.org']


def _modules_loaded_by(statement):
    import json
    import subprocess
    import sys
    code = f'{statement}; import sys, json; print(json.dumps(sorted(sys.modules)))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


HEAVY = {'boto3', 'pynamodb', 'jinja2', 'twilio', 'aws_xray_sdk', 'argon2', 'phonenumbers', 'icalendar'}


def test_cold_start_of_the_http_lambda_imports_nothing_heavy():
    assert _modules_loaded_by('import app') & HEAVY == set()


def test_cold_start_of_the_jobs_lambda_imports_neither_routes_nor_heavy_clients():
    loaded = _modules_loaded_by('import chalicelib.handlers.jobs')
    assert 'app' not in loaded and 'chalicelib.handlers.pages' not in loaded
    assert loaded & HEAVY == set()


def test_cold_start_of_the_sender_lambda_imports_neither_routes_nor_heavy_clients():
    loaded = _modules_loaded_by('import chalicelib.handlers.sender')
    assert 'app' not in loaded and 'chalicelib.handlers.pages' not in loaded
    assert loaded & HEAVY == set()


def test_inside_lambda_xray_is_patched_at_init_and_the_public_modules_are_loaded_then():
    import json
    import subprocess
    import sys
    code = '''
import json, sys
import app
imported_at_start = 'aws_xray_sdk' in sys.modules and 'chalicelib.circles.browse' in sys.modules
from chalice.test import Client
with Client(app.app, stage_name='prod') as client:    # the prod stage turns the SDK on
    assert client.http.get('/static/style.css').status_code == 200
print(json.dumps([imported_at_start, 'aws_xray_sdk' in sys.modules]))
'''
    env = {**__import__('os').environ, 'AWS_LAMBDA_FUNCTION_NAME': 'circles-prod', 'AWS_XRAY_SDK_ENABLED': 'true',
           'AWS_XRAY_CONTEXT_MISSING': 'IGNORE_ERROR'}
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, check=True)
    # Lambda runs init on a whole core and the first call on a share of one (bench/cold_start.py).
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [True, True]
