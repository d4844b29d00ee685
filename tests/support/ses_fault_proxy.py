"""A small HTTP proxy in front of the test moto server that makes SES v2 misbehave on demand.

Every request is forwarded to moto unchanged, except SES v2 SendEmail
(`POST /v2/email/outbound-emails`), which can be answered the way SES answers when the
account's send rate is exceeded, or delayed. Point only the `sesv2` client at it
(botocore honours `AWS_ENDPOINT_URL_SESV2`) and clear `email.ses_client`'s cache, see
`tests/reminders/test_reminder_job.py`.

SES v2 is a REST-JSON API: an error is an HTTP status, an `x-amzn-ErrorType` header naming
the error and a JSON body with a `message`. `ThrottlingException` is one of its common
errors (HTTP 400); `TooManyRequestsException` (HTTP 429) is SendEmail's own.
"""
import http.client
import itertools
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SEND_EMAIL_PATH = '/v2/email/outbound-emails'
THROTTLING = {'ThrottlingException': 400, 'TooManyRequestsException': 429}
HOP_BY_HOP = {'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection'}


class SesFaultProxy:
    def __init__(self, target_url, port=0):
        target = urlsplit(target_url)
        self.target = (target.hostname, target.port)
        self.lock = threading.Lock()
        self.sends = []                 # (monotonic time, 'sent' | error code) per SendEmail request
        self.throttle_every = 0         # every n-th SendEmail is throttled (0: none)
        self.error_code = 'ThrottlingException'
        self.delay_seconds = 0.0        # before answering each SendEmail
        self.answer_sends = False       # answer SendEmail here instead of moto (benchmarks)
        self._counter = itertools.count(1)
        self.server = ThreadingHTTPServer(('127.0.0.1', port), self._handler())
        self.server.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def reset(self, throttle_every=0, error_code='ThrottlingException', delay_seconds=0.0, answer_sends=False):
        """`answer_sends`: accept SendEmail here with a made-up MessageId, without moto: a
        stand-in for SES that costs the emulator nothing (moto parses every raw email)."""
        with self.lock:
            self.sends.clear()
            self._counter = itertools.count(1)
            self.throttle_every, self.error_code, self.delay_seconds = throttle_every, error_code, delay_seconds
            self.answer_sends = answer_sends

    def send_times(self, outcome=None):
        """Monotonic instants of the SendEmail requests that reached the proxy (of one outcome)."""
        with self.lock:
            return [at for at, result in self.sends if outcome is None or result == outcome]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _decide(self):
        """'sent' or the error code for the next SendEmail, and the delay before answering."""
        with self.lock:
            number = next(self._counter)
            throttled = self.throttle_every and number % self.throttle_every == 0
            outcome = self.error_code if throttled else 'sent'
            self.sends.append((time.monotonic(), outcome))
            return outcome, self.delay_seconds

    def _forward(self, method, path, headers, body):
        connection = http.client.HTTPConnection(*self.target, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            disable_nagle_algorithm = True          # else headers then body wait 40 ms for an ACK

            def _handle(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else None
                if self.command == 'POST' and self.path.split('?')[0] == SEND_EMAIL_PATH:
                    outcome, delay = proxy._decide()
                    if delay:
                        time.sleep(delay)
                    if outcome != 'sent':
                        return self._reply(THROTTLING.get(outcome, 400), [
                            ('x-amzn-RequestId', str(uuid.uuid4())),
                            ('x-amzn-ErrorType', f'{outcome}:http://internal.amazon.com/coral/com.amazonaws.ses/'),
                            ('Content-Type', 'application/json')],
                            json.dumps({'message': 'Maximum sending rate exceeded.'}).encode())
                    if proxy.answer_sends:
                        return self._reply(200, [('x-amzn-RequestId', str(uuid.uuid4())),
                                                 ('Content-Type', 'application/json')],
                                           json.dumps({'MessageId': f'bench-{uuid.uuid4()}'}).encode())
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                status, response_headers, payload = proxy._forward(self.command, self.path, headers, body)
                self._reply(status, [(k, v) for k, v in response_headers if k.lower() not in HOP_BY_HOP], payload)

            def _reply(self, status, headers, payload):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args):
                pass

        return Handler
