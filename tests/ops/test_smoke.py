"""scripts/smoke.py (`make smoke URL=...`) against the app served over real HTTP, as `chalice
local` serves it; and it fails against a server that is not the app."""
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer
from tests.support.moto_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def live_server():
    server = LiveServer()
    yield server
    server.stop()


def test_smoke_passes_against_the_served_app(live_server):
    from scripts import smoke
    lines = []

    class Out:
        def write(self, text):
            lines.append(text)
    assert smoke.run(live_server.url, out=Out()) == 0, ''.join(lines)
    assert ''.join(lines).count('ok ') == len(smoke.CHECKS) == 5


@pytest.fixture
def not_the_app():
    """A plain file server: 404s are not the app's page and there is no API."""
    server = http.server.ThreadingHTTPServer(('127.0.0.1', free_port()), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_smoke_fails_against_something_else_and_says_what(not_the_app, tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'smoke.py'), not_the_app],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert 'FAIL  browse API' in result.stdout and 'FAIL  HTML 404' in result.stdout


def test_make_smoke_runs_the_script_with_the_url():
    dry = subprocess.run(['make', '-n', 'smoke', 'URL=https://circles.example.org'], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert 'scripts.smoke https://circles.example.org' in dry.stdout


def test_make_deploy_packages_then_deploys_the_stack_with_the_aws_cli():
    dry = subprocess.run(['make', '-n', 'deploy', 'STAGE=prod', 'DEPLOY_BUCKET=my-artifacts', 'ALARM_EMAIL=ops@example.org'],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    package = next(i for i, line in enumerate(lines) if 'chalice package --stage prod' in line)
    upload = next(i for i, line in enumerate(lines) if line.startswith('aws ') and 'cloudformation package' in line)
    deploy = next(i for i, line in enumerate(lines) if line.startswith('aws ') and 'cloudformation deploy' in line)
    assert package < upload < deploy
    assert '--s3-bucket my-artifacts' in lines[upload]
    for part in ('--stack-name circles-prod', 'CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND', 'AlarmEmail=ops@example.org'):
        assert part in lines[deploy], part


def test_make_deploy_refuses_without_a_bucket_or_for_a_stage_without_a_stack():
    for arguments in (['STAGE=prod'], ['STAGE=dev', 'DEPLOY_BUCKET=b']):
        result = subprocess.run(['make', 'deploy', *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode != 0, arguments
        assert 'DEPLOY_BUCKET' in result.stderr or 'only the prod stage' in result.stderr, result.stderr
