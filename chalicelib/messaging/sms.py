"""Text messages through Twilio's Messages API, with the real `twilio` client.

The client is built once per process from settings. `TWILIO_API_BASE` points it at
another host (the tests' local fake of the Messages API): twilio 9.x builds every
URL from `client.api.base_url` (a `Domain`), so setting that attribute is enough as
long as no edge or region is configured. In the local stage without credentials
nothing leaves the machine: the text is stored as a `LocalSms` item and shown on
`/local/outbox`.

Texts go from the Messaging Service (`TWILIO_MESSAGING_SERVICE_SID`) when one is configured,
else from `TWILIO_FROM_NUMBER`, and name a status callback URL so that Twilio reports
delivery (chalicelib.sms_inbound.status). Twilio's webhooks are checked with
`signed_by_twilio`: the signature covers the URL Twilio called, which is rebuilt from the
configured public base URL (`CIRCLES_BASE_URL`), never from the request's host (behind API
Gateway the host and the stage prefix differ from what Twilio was given).
"""
import functools
import time

from chalicelib.core.i18n import N_
from chalicelib.core.settings import get_settings

OPTED_OUT = 21610          # Twilio: the recipient replied STOP; never retry, mark the number
# Twilio's delivery errors that say this number cannot get texts from us at all: unreachable,
# unknown, a landline. The number is marked and its messages go by email instead, which says
# why in these words (messages translated where the email is rendered: messaging.prepared).
CANNOT_RECEIVE = {30003: N_('the handset is unreachable'), 30005: N_('the number is unknown'),
                  30006: N_('the number is a landline or cannot receive texts')}
STATUS_ROUTE = '/sms/status'
INBOUND_ROUTE = '/sms/inbound'
TOO_MANY_REQUESTS = 429
RETRY_DELAYS = (0.2, 0.5)  # seconds between attempts after a 429, then give up
TIMEOUT_SECONDS = 10


class SmsFailed(Exception):
    """Twilio refused the message or could not be reached; nothing was sent."""

    def __init__(self, reason, code=None, status=None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status

    @property
    def opted_out(self):
        return self.code == OPTED_OUT


@functools.cache
def twilio_client(settings):
    """One client (and its HTTP connection pool) per process and settings."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                    http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS))
    if settings.twilio_api_base:
        client.api.base_url = settings.twilio_api_base.rstrip('/')
    return client


def uses_local_outbox(settings):
    return settings.is_local and not settings.twilio_account_sid


def send(to, body, settings=None, single_attempt=False, status_callback=None):
    """Send `body` to the E.164 number `to`; returns the provider's message id (SID).
    `status_callback`: the URL Twilio reports this message's delivery to.

    Raises SmsFailed (with Twilio's error code when there is one). A 429 is retried a
    couple of times after a short pause, unless `single_attempt` (for callers with their own
    retries and rate limit: a retry here would be a request the limit never counted); every
    other refusal is final.
    """
    settings = settings or get_settings()
    if uses_local_outbox(settings):
        return _store_locally(to, body, settings)
    for delay in (() if single_attempt else RETRY_DELAYS) + (None,):
        try:
            return _send_with_twilio(to, body, settings, status_callback)
        except SmsFailed as failure:
            if failure.status != TOO_MANY_REQUESTS or delay is None:
                raise
        time.sleep(delay)


def _send_with_twilio(to, body, settings, status_callback=None):
    from twilio.base.exceptions import TwilioException
    fields = {'to': to, 'body': body}
    if settings.twilio_messaging_service_sid:
        fields['messaging_service_sid'] = settings.twilio_messaging_service_sid
    else:
        fields['from_'] = settings.twilio_from_number
    if status_callback:
        fields['status_callback'] = status_callback
    try:
        message = twilio_client(settings).messages.create(**fields)
    except TwilioException as error:
        code, status = getattr(error, 'code', None), getattr(error, 'status', None)
        reason = getattr(error, 'msg', None) or getattr(error, 'detail', None) or str(error)
        raise SmsFailed(_short(reason), code=code, status=status) from error
    except OSError as error:    # requests' connection errors and timeouts derive from OSError
        raise SmsFailed(_short(f'Twilio could not be reached: {error}')) from error
    return message.sid


def _short(reason):
    reason = ' '.join(str(reason).split())
    return reason if len(reason) <= 300 else reason[:297] + '...'


def _store_locally(to, body, settings):
    from chalicelib.core.clock import utcnow
    from chalicelib.core.ids import new_id
    from chalicelib.models import LocalSms
    now, sid = utcnow(), 'LOCAL' + new_id(16)
    LocalSms(*LocalSms.key(now, sid), to=to, sender=settings.twilio_from_number or 'local',
             body=body, sid=sid, created_at=now).save()
    return sid


# --- Twilio's webhooks -------------------------------------------------------------------

def webhook_url(route, query='', settings=None):
    """The URL Twilio is given for `route` (and calls): the public base URL, not the request's."""
    settings = settings or get_settings()
    return f'{settings.public_base_url}{route}' + (f'?{query}' if query else '')


def status_callback_url(pk, sk, settings=None):
    """The status callback of one outbox item: `/sms/status?d=<its key, base64url>`. Twilio signs
    the URL with the query, so the key in it is as trustworthy as the rest of the callback."""
    import base64
    ref = base64.urlsafe_b64encode(f'{pk}\n{sk}'.encode()).decode().rstrip('=')
    return webhook_url(STATUS_ROUTE, f'd={ref}', settings)


def status_callback_key(ref):
    """(pk, sk) of the outbox item a status callback's `d` names, or None for anything else."""
    import base64
    import binascii
    try:
        pk, sep, sk = base64.urlsafe_b64decode(ref + '=' * (-len(ref) % 4)).decode().partition('\n')
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (pk, sk) if sep and pk and sk.startswith('DELIVERY#') else None


def twilio_signature(url, fields, settings=None):
    """The `X-Twilio-Signature` Twilio sends for a POST of `fields` to `url` (the local outbox's
    reply form and the tests sign their requests with it)."""
    from twilio.request_validator import RequestValidator
    return RequestValidator((settings or get_settings()).twilio_auth_token).compute_signature(url, fields)


def signed_by_twilio(url, fields, signature, settings=None):
    """Whether `signature` is Twilio's for a POST of `fields` (a flat dict) to `url`. False
    without an auth token: a stage that cannot check a webhook accepts none."""
    settings = settings or get_settings()
    if not settings.twilio_auth_token or not signature:
        return False
    from twilio.request_validator import RequestValidator
    return RequestValidator(settings.twilio_auth_token).validate(url, fields, signature)


def local_outbox(limit=100):
    """Text messages stored by the local stage, newest first (one Query)."""
    from chalicelib.models import LocalSms
    return list(LocalSms.query('LOCAL_SMS', scan_index_forward=False, limit=limit))
