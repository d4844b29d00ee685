"""SNS messages: checking that AWS signed them, and reading the SES feedback they carry.

`verified(message)` accepts a message (the SNS JSON an HTTPS subscription receives, or a Lambda
event's `Records[].Sns`, whose certificate key is spelled `SigningCertUrl`) only when:

- it comes from our topic (`TopicArn` ends with the configured topic's name);
- its certificate URL is https, on a host matching `sns.<region>.amazonaws.com` (only the local
  stage may name another host: the tests' certificate server), its path a `.pem`;
- its `Signature` checks, with that certificate's RSA key, over AWS's string to sign: for a
  Notification `Message, MessageId, Subject (when there is one), Timestamp, TopicArn, Type`, for
  a SubscriptionConfirmation or UnsubscribeConfirmation `Message, MessageId, SubscribeURL,
  Timestamp, Token, TopicArn, Type`, each as `name\\nvalue\\n`; SignatureVersion 1 is
  SHA1withRSA, 2 SHA256withRSA (PKCS#1 v1.5). Anything else is refused.

Certificates are fetched once per container and URL (one https GET, 5 s timeout) and kept.

`feedback(message)` reads the SES event inside a verified Notification, in either shape SES
writes: event publishing from a configuration set (`eventType: Bounce|Complaint`) or identity
notifications (`notificationType: Bounce|Complaint`).
"""
import base64
import json
import re
import ssl
import threading
import urllib.request
from typing import NamedTuple
from urllib.parse import urlsplit

from chalicelib.core.errors import Refusal
from chalicelib.core.settings import get_settings

NOTIFICATION, SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION = (
    'Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation')
SIGNED_FIELDS = {
    NOTIFICATION: ('Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'),
    SUBSCRIPTION_CONFIRMATION: ('Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'),
    UNSUBSCRIBE_CONFIRMATION: ('Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'),
}
OPTIONAL_FIELDS = {'Subject'}       # left out of the string to sign when the message has none
CERTIFICATE_TIMEOUT_SECONDS = 5
MAX_CERTIFICATE_BYTES = 64 * 1024
BOUNCE, COMPLAINT = 'Bounce', 'Complaint'
PERMANENT = 'Permanent'

_certificates = {}      # certificate URL -> public key, for the life of the container
_lock = threading.Lock()


class Unverified(Refusal):
    """The message is not one AWS signed for our topic: nothing it says is acted on."""
    status = 403


class Feedback(NamedTuple):
    """One SES bounce or complaint: the addresses it names and what happened to them."""
    kind: str                   # Bounce or Complaint
    addresses: tuple            # the recipients it is about (lowercased)
    permanent: bool             # a hard bounce (bounceType Permanent); always True for a complaint
    subtype: str = ''           # bounceSubType or complaintFeedbackType, for the log
    message_id: str = ''        # the SES message id the feedback is about


def _field(message, name):
    if name == 'SubscribeURL':
        return message.get('SubscribeURL', message.get('SubscribeUrl'))
    return message.get(name)


def string_to_sign(message):
    """AWS's documented string to sign of an SNS message (see the module docstring)."""
    fields = SIGNED_FIELDS.get(message.get('Type'))
    if fields is None:
        raise Unverified(f'Unknown SNS message type {message.get("Type")!r}.')
    parts = []
    for name in fields:
        value = _field(message, name)
        if value is None:
            if name in OPTIONAL_FIELDS:
                continue
            raise Unverified(f'The SNS message has no {name}.')
        parts.append(f'{name}\n{value}\n')
    return ''.join(parts).encode('utf-8')


def certificate_url(message):
    url = message.get('SigningCertURL') or message.get('SigningCertUrl') or ''
    parts = urlsplit(url)
    hosts = get_settings().sns_certificate_hosts
    if parts.scheme != 'https' or not parts.hostname or not re.fullmatch(hosts, parts.hostname) \
            or not parts.path.endswith('.pem') or parts.username or parts.password:
        raise Unverified('The signing certificate is not on an SNS host.')
    return url


def public_key(url):
    """The RSA key of the certificate at `url`: fetched once per container."""
    with _lock:
        key = _certificates.get(url)
    if key is not None:
        return key
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    bundle = get_settings().sns_ca_bundle or None
    context = ssl.create_default_context(cafile=bundle)
    try:
        with urllib.request.urlopen(url, timeout=CERTIFICATE_TIMEOUT_SECONDS, context=context) as answer:
            pem = answer.read(MAX_CERTIFICATE_BYTES + 1)
        certificate = x509.load_pem_x509_certificate(pem)
    except (OSError, ValueError) as error:
        raise Unverified(f'The signing certificate could not be read: {error}') from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey) or len(pem) > MAX_CERTIFICATE_BYTES:
        raise Unverified('The signing certificate holds no RSA key.')
    with _lock:
        _certificates[url] = key
    return key


def forget_certificates():
    with _lock:
        _certificates.clear()


def from_our_topic(message):
    topic = message.get('TopicArn') or ''
    return topic.startswith('arn:') and topic.rsplit(':', 1)[-1] == get_settings().ses_feedback_topic


def verified(message):
    """`message` when AWS signed it for our topic; raises `Unverified` otherwise (see the docstring)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    if not isinstance(message, dict):
        raise Unverified('The SNS message is not a JSON object.')
    if not from_our_topic(message):
        raise Unverified('The SNS message is not from our topic.')
    algorithm = {'1': hashes.SHA1, '2': hashes.SHA256}.get(str(message.get('SignatureVersion')))
    if algorithm is None:
        raise Unverified('Unknown SNS signature version.')
    signed = string_to_sign(message)
    try:
        signature = base64.b64decode(message.get('Signature') or '', validate=True)
    except ValueError:
        raise Unverified('The SNS signature is not base64.') from None
    if not signature:
        raise Unverified('The SNS message is not signed.')
    key = public_key(certificate_url(message))
    try:
        key.verify(signature, signed, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise Unverified('The SNS signature does not match.') from None
    return message


def feedback(message):
    """The bounce or complaint a verified Notification carries, or None (a delivery, a send...)."""
    try:
        event = json.loads(message.get('Message') or '')
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    kind = event.get('eventType') or event.get('notificationType')
    mail = event.get('mail') or {}
    message_id = str(mail.get('messageId') or '')
    if kind == BOUNCE:
        bounce = event.get('bounce') or {}
        addresses = _addresses(bounce.get('bouncedRecipients'))
        return Feedback(BOUNCE, addresses, bounce.get('bounceType') == PERMANENT,
                        f'{bounce.get("bounceType", "")}/{bounce.get("bounceSubType", "")}', message_id)
    if kind == COMPLAINT:
        complaint = event.get('complaint') or {}
        addresses = _addresses(complaint.get('complainedRecipients'))
        return Feedback(COMPLAINT, addresses, True, str(complaint.get('complaintFeedbackType') or ''), message_id)
    return None


def _addresses(recipients):
    found = []
    for recipient in recipients or ():
        address = recipient.get('emailAddress') if isinstance(recipient, dict) else None
        if isinstance(address, str) and '@' in address:
            found.append(_bare_address(address))
    return tuple(dict.fromkeys(found))


def _bare_address(address):
    """`Name <a@b>` -> `a@b`, lowercased: how signups store addresses (normalised)."""
    from email.utils import parseaddr
    return (parseaddr(address)[1] or address).strip().lower()
