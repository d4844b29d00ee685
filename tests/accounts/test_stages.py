"""Only the local stage has development defaults: every other stage (`dev`, which `chalice
deploy` uses by default, and `prod`) refuses to start without its secret key and settings,
and the local outbox route exists on the local stage only."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.core import settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = {'CIRCLES_STAGE': 'dev', 'CIRCLES_SECRET_KEY': 'k' * 48, 'CIRCLES_TABLE': 'circles-dev',
            'CIRCLES_BASE_URL': 'https://dev.circles.example.org', 'CIRCLES_SENDER': 'Circles <c@example.org>'}


def stages():
    return json.loads((ROOT / '.chalice' / 'config.json').read_text())['stages']


def run_python(code, **environment):
    """`code` in a fresh interpreter with only `environment` for the app's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('CIRCLES_')}
    env.pop('AWS_LAMBDA_FUNCTION_NAME', None)
    env.update(environment)
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_only_the_local_stage_of_the_config_is_the_local_stage():
    config = stages()
    assert config['local']['environment_variables']['CIRCLES_STAGE'] == 'local'
    for name, stage in config.items():
        variables = stage.get('environment_variables', {})
        assert 'CIRCLES_SECRET_KEY' not in variables, name          # never a literal secret
        if name != 'local':
            assert variables.get('CIRCLES_STAGE') == name, name


def test_the_local_stage_has_development_defaults():
    assert settings.check_stage({}) == [] and settings.check_stage({'CIRCLES_STAGE': 'local'}) == []


@pytest.mark.parametrize('missing', settings.REQUIRED_OUTSIDE_LOCAL)
def test_a_deployed_stage_names_each_missing_setting(missing):
    environment = {k: v for k, v in DEPLOYED.items() if k != missing}
    assert settings.check_stage(environment) == [f'{missing} is not set']


@pytest.mark.parametrize('secret', [settings.LOCAL_SECRET, 'short-secret'])
def test_a_deployed_stage_refuses_the_development_key_or_a_short_one(secret):
    problems = settings.check_stage({**DEPLOYED, 'CIRCLES_SECRET_KEY': secret})
    assert problems and 'CIRCLES_SECRET_KEY' in problems[0]


def test_a_deployed_stage_needs_an_https_address_and_whole_twilio_credentials():
    assert settings.check_stage({**DEPLOYED, 'CIRCLES_BASE_URL': 'http://dev.example.org'})
    assert settings.check_stage({**DEPLOYED, 'TWILIO_ACCOUNT_SID': 'AC123'})
    assert settings.check_stage(DEPLOYED) == []


def test_the_dev_stage_as_configured_refuses_to_start():
    """What `chalice deploy` gives the dev stage's Lambda: its config variables, no secret."""
    variables = stages()['dev']['environment_variables']
    result = run_python('from chalicelib.core.settings import get_settings; get_settings()', **variables)
    assert result.returncode != 0 and 'SettingsMissing' in result.stderr
    assert 'CIRCLES_SECRET_KEY is not set' in result.stderr
    assert settings.LOCAL_SECRET not in result.stderr


def test_a_lambda_cold_start_without_settings_fails_and_with_them_serves_no_local_outbox():
    code = 'import app; print("/local/outbox" in app.app.routes)'
    cold = run_python(code, AWS_LAMBDA_FUNCTION_NAME='circles-dev', CIRCLES_STAGE='dev')
    assert cold.returncode != 0 and 'SettingsMissing' in cold.stderr
    deployed = run_python(code, AWS_LAMBDA_FUNCTION_NAME='circles-dev', **DEPLOYED)
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.split()[-1] == 'False'
    local = run_python(code, CIRCLES_STAGE='local')
    assert local.stdout.split()[-1] == 'True'


def test_session_cookies_are_secure_outside_the_local_stage():
    result = run_python('from chalicelib.accounts import sessions; print(sessions.new_form_cookie()[1])', **DEPLOYED)
    assert result.returncode == 0, result.stderr
    assert 'Secure' in result.stdout and 'HttpOnly' in result.stdout and 'SameSite=Lax' in result.stdout
