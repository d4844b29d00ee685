"""Real signed SNS messages for the tests: a signing key and certificate made for the session,
served over HTTPS on 127.0.0.1 (its TLS certificate issued by a test CA the app is told to
trust, through the local stage's CIRCLES_SNS_CA_BUNDLE).

    server = SnsCertificateServer()           # started; server.stop() when done
    message = server.notification(ses_event)  # signed, SignatureVersion 2 (or version=1)
    server.requests                            # every path requested, in order

The string to sign is built here from AWS's documentation, independently of the app's own
(chalicelib.privacy.sns), so that a wrong field order in the app fails the tests.
"""
import base64
import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:circles-ses-feedback'
CERT_PATH = '/SimpleNotificationService-test.pem'
NOTIFICATION_FIELDS = ('Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type')
CONFIRMATION_FIELDS = ('Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type')


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(subject_name, key, issuer_name, issuer_key, *, ca=False, ip=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_name)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


def string_to_sign(message):
    fields = NOTIFICATION_FIELDS if message['Type'] == 'Notification' else CONFIRMATION_FIELDS
    return ''.join(f'{name}\n{message[name]}\n' for name in fields if message.get(name) is not None).encode()


class SnsCertificateServer:
    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix='circles-sns-'))
        ca_key, self.signing_key, tls_key = _key(), _key(), _key()
        ca = _certificate('Circles test CA', ca_key, 'Circles test CA', ca_key, ca=True)
        self.signing_certificate = _certificate('sns.test', self.signing_key, 'sns.test', self.signing_key)
        self.other_key = _key()     # a key whose certificate nobody serves: forged signatures
        tls = _certificate('127.0.0.1', tls_key, 'Circles test CA', ca_key, ip='127.0.0.1')
        self.ca_bundle = self.folder / 'ca.pem'
        self.ca_bundle.write_bytes(_pem(ca))
        (self.folder / 'tls.pem').write_bytes(_pem(tls) + tls_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.requests = []
        served = _pem(self.signing_certificate)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body, status = (served, 200) if self.path == CERT_PATH else (b'no', 404)
                self.send_response(status)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.folder / 'tls.pem')
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f'https://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def certificate_url(self):
        return self.url + CERT_PATH

    def sign(self, message, version=2, key=None):
        """`message` with its SignatureVersion, SigningCertURL and Signature set."""
        message = {**message, 'SignatureVersion': str(version),
                   'SigningCertURL': message.get('SigningCertURL', self.certificate_url)}
        algorithm = hashes.SHA256() if version == 2 else hashes.SHA1()
        signature = (key or self.signing_key).sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        message['Signature'] = base64.b64encode(signature).decode()
        return message

    def notification(self, event, version=2, subject=None, **changes):
        message = {'Type': 'Notification', 'MessageId': str(uuid.uuid4()), 'TopicArn': TOPIC_ARN,
                   'Message': json.dumps(event), 'Timestamp': '2026-12-01T12:00:00.000Z',
                   'UnsubscribeURL': self.url + '/unsubscribe'}
        if subject is not None:
            message['Subject'] = subject
        message.update(changes)
        return self.sign(message, version)

    def subscription_confirmation(self, version=2):
        return self.sign({'Type': 'SubscriptionConfirmation', 'MessageId': str(uuid.uuid4()), 'TopicArn': TOPIC_ARN,
                          'Token': 'token-' + uuid.uuid4().hex, 'Timestamp': '2026-12-01T12:00:00.000Z',
                          'Message': f'You have chosen to subscribe to the topic {TOPIC_ARN}.',
                          'SubscribeURL': self.url + '/confirm-subscription'}, version)


def lambda_event(*messages):
    """The event SNS gives a subscribed Lambda: its record calls the certificate URL
    `SigningCertUrl` and the unsubscribe URL `UnsubscribeUrl`."""
    records = []
    for message in messages:
        sns = {('SigningCertUrl' if k == 'SigningCertURL' else 'UnsubscribeUrl' if k == 'UnsubscribeURL' else k): v
               for k, v in message.items()}
        sns.setdefault('Subject', None)
        sns.setdefault('MessageAttributes', {})
        records.append({'EventSource': 'aws:sns', 'EventVersion': '1.0',
                        'EventSubscriptionArn': TOPIC_ARN + ':sub', 'Sns': sns})
    return {'Records': records}


def ses_bounce(address, bounce_type='Permanent', subtype='General', shape='event'):
    """An SES bounce: event publishing (`eventType`) or a notification (`notificationType`)."""
    body = {'mail': {'messageId': 'ses-' + uuid.uuid4().hex, 'destination': [address]},
            'bounce': {'bounceType': bounce_type, 'bounceSubType': subtype,
                       'bouncedRecipients': [{'emailAddress': address, 'action': 'failed'}]}}
    body['eventType' if shape == 'event' else 'notificationType'] = 'Bounce'
    return body


def ses_complaint(address, shape='event'):
    body = {'mail': {'messageId': 'ses-' + uuid.uuid4().hex, 'destination': [address]},
            'complaint': {'complainedRecipients': [{'emailAddress': address}], 'complaintFeedbackType': 'abuse'}}
    body['eventType' if shape == 'event' else 'notificationType'] = 'Complaint'
    return body
