"""A local fake of Twilio's Messages API for the tests: the real `twilio` client talks to it.

It implements `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio documents it:
HTTP Basic auth with the account SID and auth token, form fields `To`, `From` (or
`MessagingServiceSid`) and `Body`, optionally `StatusCallback`; 201 with a Message resource, or an error body `{"code", "message", "more_info", "status"}`.
Every request is recorded. Tests can make a number fail (e.g. 21610 "unsubscribed
recipient"), or queue answers for the next requests (429, 500).

Twilio's side of the webhooks: `signed_post` sends a request the way Twilio does (form fields,
`X-Twilio-Signature` computed with the real `RequestValidator` for the public URL), and
`report_status` calls a sent message's `StatusCallback` with a delivery status.
"""
import base64
import itertools
import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ERRORS = {
    21610: (400, 'Attempt to send to unsubscribed recipient'),
    21211: (400, "The 'To' number is not a valid phone number."),
    20429: (429, 'Too Many Requests'),
    20500: (500, 'Internal Server Error'),
}


class TwilioFake:
    def __init__(self, account_sid, auth_token, port=0):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.received = []              # every request, accepted or not
        self._lock = threading.Lock()
        self._failing_numbers = {}      # E.164 number -> Twilio error code
        self._queued = []               # (status, code) answers for the next requests
        self._sids = itertools.count(1)
        self.delay_seconds = 0.0        # before answering each request (benchmarks)
        self.server = ThreadingHTTPServer(('127.0.0.1', port), self._handler())
        self.port = self.server.server_address[1]
        self.url = f'http://127.0.0.1:{self.port}'
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    # --- what tests use ---------------------------------------------------------------

    def reset(self):
        with self._lock:
            self.received.clear()
            self._failing_numbers.clear()
            self._queued.clear()
            self.delay_seconds = 0.0

    def fail_number(self, number, code=21610):
        """Every message to `number` is refused with Twilio error `code`."""
        with self._lock:
            self._failing_numbers[number] = code

    def answer_next(self, status, code=None):
        """The next request gets this HTTP status (with Twilio error `code`), then back to normal."""
        with self._lock:
            self._queued.append((status, code or {429: 20429, 500: 20500}.get(status, status)))

    before_read = None      # set by conftest: drains the outbox so every caused message is sent

    @property
    def requests(self):
        """Every request received (after the outbox is drained)."""
        if self.before_read:
            self.before_read()
        return self.received

    def sent(self):
        """Form fields of the requests that Twilio would have accepted (201)."""
        return [r['form'] for r in self.requests if r['status'] == 201]

    def message(self, sid):
        """The form fields of the accepted request that got this SID."""
        with self._lock:
            return next(r['form'] for r in self.received if r.get('sid') == sid)

    def report_status(self, client, sid, status, error_code=None):
        """Call message `sid`'s StatusCallback as Twilio does (through a chalice test client)."""
        form = self.message(sid)
        fields = {'MessageSid': sid, 'SmsSid': sid, 'MessageStatus': status, 'SmsStatus': status,
                  'AccountSid': self.account_sid, 'To': form['To'], 'From': form.get('From') or '+13125550000',
                  'ApiVersion': '2010-04-01'}
        if error_code is not None:
            fields['ErrorCode'] = str(error_code)
        return signed_post(client, form['StatusCallback'], fields, self.auth_token)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- the API ------------------------------------------------------------------------

    def _answer(self, path, auth, form):
        """(status, JSON body) for one request, the way Twilio answers it."""
        if path != f'/2010-04-01/Accounts/{self.account_sid}/Messages.json':
            return 404, _error(20404, 404, 'The requested resource was not found')
        if auth != (self.account_sid, self.auth_token):
            return 401, _error(20003, 401, 'Authenticate')
        for name, code in (('To', 21604), ('Body', 21602)):
            if not form.get(name):
                return 400, _error(code, 400, f'A {name} is required.')
        if not form.get('From') and not form.get('MessagingServiceSid'):
            return 400, _error(21603, 400, "A 'From' phone number or a Messaging Service is required.")
        with self._lock:
            if self._queued:
                status, code = self._queued.pop(0)
                return status, _error(code, status, ERRORS.get(code, (status, 'Error'))[1])
            code = self._failing_numbers.get(form['To'])
            sid = f'SM{next(self._sids):032x}'
        if code:
            status, message = ERRORS.get(code, (400, 'Error'))
            return status, _error(code, status, message)
        now = formatdate(usegmt=True)
        return 201, {
            'sid': sid, 'account_sid': self.account_sid, 'to': form['To'], 'from': form.get('From'),
            'body': form['Body'], 'status': 'queued', 'direction': 'outbound-api', 'num_segments': '1',
            'num_media': '0', 'api_version': '2010-04-01', 'date_created': now, 'date_updated': now,
            'date_sent': None, 'price': None, 'price_unit': 'USD', 'error_code': None, 'error_message': None,
            'messaging_service_sid': form.get('MessagingServiceSid'),
            'uri': f'/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json', 'subresource_uris': {},
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'           # keep-alive, like the real API
            disable_nagle_algorithm = True          # no 40 ms wait between headers and body

            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
                auth = _basic_auth(self.headers.get('Authorization'))
                received_at = time.monotonic()
                status, body = fake._answer(self.path, auth, form)
                with fake._lock:
                    fake.received.append({'path': self.path, 'auth': auth, 'form': form, 'status': status,
                                          'sid': body.get('sid'),
                                          'content_type': self.headers.get('Content-Type'), 'at': received_at})
                if fake.delay_seconds:
                    time.sleep(fake.delay_seconds)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler


def signed_post(client, url, fields, auth_token, signature=None):
    """POST `fields` to `url` (its path, on a chalice test client) as Twilio would: form-encoded,
    signed for the whole `url` with `auth_token`, unless `signature` is given ('' for none)."""
    from urllib.parse import urlencode, urlsplit

    from twilio.request_validator import RequestValidator
    if signature is None:
        signature = RequestValidator(auth_token).compute_signature(url, fields)
    parts = urlsplit(url)
    headers = {'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature}
    if not signature:
        del headers['X-Twilio-Signature']
    path = parts.path + (f'?{parts.query}' if parts.query else '')
    return client.http.post(path, headers=headers, body=urlencode(fields))


def _error(code, status, message):
    return {'code': code, 'message': message, 'more_info': f'https://www.twilio.com/docs/errors/{code}',
            'status': status}


def _basic_auth(header):
    if not header or not header.startswith('Basic '):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(':')
    except ValueError:
        return None
    return user, password
