"""A moto server on a free 127.0.0.1 port: the tests' DynamoDB and SES.

Started through `scripts.moto_launcher`, which serialises DynamoDB requests so the
tests see DynamoDB's per-item and per-transaction atomicity (plain moto_server
interleaves concurrent transactions)."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from email import message_from_string, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class MotoServer:
    def __init__(self):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'scripts.moto_launcher', '-H', '127.0.0.1', '-p', str(self.port)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f'{self.url}/moto-api/data.json', timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError('moto server did not start')

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(f'{self.url}/moto-api/reset', method='POST'), timeout=10).read()

    def data(self):
        with urllib.request.urlopen(f'{self.url}/moto-api/data.json', timeout=10) as response:
            return json.load(response)

    before_read = None      # set by conftest: drains the outbox so every caused message is sent

    def sent_emails(self, drain=True):
        """Raw emails SES recorded, parsed, oldest first (after the outbox is drained)."""
        if drain and self.before_read:
            self.before_read()
        return [message_from_string(m['raw_data'], policy=policy.default)
                for m in self.data().get('ses', {}).get('RawMessage', [])]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def point_environment_at(server):
    os.environ['AWS_ENDPOINT_URL'] = server.url
