"""A moto server on a free 127.0.0.1 port: the tests' DynamoDB and SES."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from email import message_from_string, policy
from pathlib import Path


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class MotoServer:
    def __init__(self):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        executable = shutil.which('moto_server', path=str(Path(sys.executable).parent)) or 'moto_server'
        self.process = subprocess.Popen([executable, '-H', '127.0.0.1', '-p', str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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

    def sent_emails(self):
        """Raw emails SES recorded, parsed, oldest first."""
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
