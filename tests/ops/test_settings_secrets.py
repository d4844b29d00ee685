"""A deployed stage reads its secrets (the signing key, Twilio's SID and token) from SSM
SecureStrings under its path, once per container; the local stage keeps its defaults; a stage
that would send texts without Twilio credentials refuses to start. Real SSM calls to moto."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest

from chalicelib.core import settings

ROOT = Path(__file__).resolve().parents[2]
KEY = 'k' * 48
DEPLOYED = {'CIRCLES_STAGE': 'prod', 'CIRCLES_TABLE': 'circles-prod', 'CIRCLES_BASE_URL': 'https://circles.example.org',
            'CIRCLES_SENDER': 'Circles <c@circles.example.org>'}
PRINT_SECRETS = ('from chalicelib.core.settings import get_settings; s = get_settings(); '
                 'print(s.secret_key, s.twilio_account_sid or "-", s.twilio_auth_token or "-")')


@pytest.fixture
def ssm(moto):
    return boto3.client('ssm', region_name='us-east-1', endpoint_url=os.environ['AWS_ENDPOINT_URL'])


@pytest.fixture
def path():
    return f'/circles/test-{uuid.uuid4().hex[:8]}'


def put(ssm, name, value):
    ssm.put_parameter(Name=name, Value=value, Type='SecureString', Overwrite=True)


def run_python(code, **environment):
    env = {k: v for k, v in os.environ.items() if not k.startswith(('CIRCLES_', 'TWILIO_'))}
    env.pop('AWS_LAMBDA_FUNCTION_NAME', None)
    env.update(environment)
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_deployed_stage_reads_its_secrets_from_securestrings_under_its_path(ssm, path):
    put(ssm, f'{path}/secret-key', KEY)
    put(ssm, f'{path}/twilio-account-sid', 'AC' + 'a' * 32)
    put(ssm, f'{path}/twilio-auth-token', 'token-from-ssm')
    result = run_python(PRINT_SECRETS, **DEPLOYED, CIRCLES_SSM_PATH=path, TWILIO_FROM_NUMBER='+13125550000')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [KEY, 'AC' + 'a' * 32, 'token-from-ssm']


def test_a_missing_secret_names_the_parameter_and_never_prints_a_value(ssm, path):
    put(ssm, f'{path}/twilio-auth-token', 'token-from-ssm')
    result = run_python(PRINT_SECRETS, **DEPLOYED, CIRCLES_SSM_PATH=path)
    assert result.returncode != 0 and 'SettingsMissing' in result.stderr
    assert 'CIRCLES_SECRET_KEY is not set' in result.stderr and f'{path}/secret-key' in result.stderr
    assert 'token-from-ssm' not in result.stderr


def test_sms_enabled_without_twilio_credentials_refuses_to_start(ssm, path):
    put(ssm, f'{path}/secret-key', KEY)
    for sms in ({'TWILIO_FROM_NUMBER': '+13125550000'}, {'TWILIO_MESSAGING_SERVICE_SID': 'MG' + 'b' * 32}):
        result = run_python(PRINT_SECRETS, **DEPLOYED, CIRCLES_SSM_PATH=path, **sms)
        assert result.returncode != 0 and 'SMS is enabled' in result.stderr, result.stderr
    # Email only (no number, no service): it starts without Twilio.
    result = run_python(PRINT_SECRETS, **DEPLOYED, CIRCLES_SSM_PATH=path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [KEY, '-', '-']


def test_sms_needs_credentials_on_deployed_stages_only():
    assert settings.check_stage({**DEPLOYED, 'CIRCLES_SECRET_KEY': KEY, 'TWILIO_FROM_NUMBER': '+1312'})
    assert settings.check_stage({**DEPLOYED, 'CIRCLES_SECRET_KEY': KEY, 'TWILIO_FROM_NUMBER': '+1312',
                                 'TWILIO_ACCOUNT_SID': 'AC1', 'TWILIO_AUTH_TOKEN': 't'}) == []
    assert settings.check_stage({'CIRCLES_STAGE': 'local', 'TWILIO_FROM_NUMBER': '+1312'}) == []


def test_secrets_are_read_once_per_container(ssm, path):
    put(ssm, f'{path}/secret-key', KEY)
    first = settings.read_ssm_secrets(path, 'us-east-1', os.environ['AWS_ENDPOINT_URL'])
    ssm.delete_parameter(Name=f'{path}/secret-key')
    assert settings.read_ssm_secrets(path, 'us-east-1', os.environ['AWS_ENDPOINT_URL']) == first \
        == {'CIRCLES_SECRET_KEY': KEY}


def test_an_unreachable_ssm_refuses_to_start_with_the_reason():
    result = run_python(PRINT_SECRETS, **DEPLOYED, CIRCLES_SSM_PATH='/circles/prod',
                        AWS_ENDPOINT_URL='http://127.0.0.1:9')    # nothing listens on the discard port
    assert result.returncode != 0 and 'could not be read' in result.stderr, result.stderr


def test_the_local_stage_never_asks_ssm():
    # An SSM path on the local stage is ignored: the development defaults stand, no call is made.
    result = run_python(PRINT_SECRETS, CIRCLES_STAGE='local', CIRCLES_SSM_PATH='/circles/prod',
                        AWS_ENDPOINT_URL='http://127.0.0.1:9')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == settings.LOCAL_SECRET
