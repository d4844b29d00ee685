"""Text messages through Twilio's Messages API, with the real `twilio` client.

The client is built once per process from settings. `TWILIO_API_BASE` points it at
another host (the tests' local fake of the Messages API): twilio 9.x builds every
URL from `client.api.base_url` (a `Domain`), so setting that attribute is enough as
long as no edge or region is configured. In the local stage without credentials
nothing leaves the machine: the text is stored as a `LocalSms` item and shown on
`/local/outbox`.
"""
import functools
import time

from chalicelib.core.settings import get_settings

OPTED_OUT = 21610          # Twilio: the recipient replied STOP; never retry, mark the number
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


def send(to, body, settings=None, single_attempt=False):
    """Send `body` to the E.164 number `to`; returns the provider's message id (SID).

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
            return _send_with_twilio(to, body, settings)
        except SmsFailed as failure:
            if failure.status != TOO_MANY_REQUESTS or delay is None:
                raise
        time.sleep(delay)


def _send_with_twilio(to, body, settings):
    from twilio.base.exceptions import TwilioException
    try:
        message = twilio_client(settings).messages.create(to=to, from_=settings.twilio_from_number, body=body)
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


def local_outbox(limit=100):
    """Text messages stored by the local stage, newest first (one Query)."""
    from chalicelib.models import LocalSms
    return list(LocalSms.query('LOCAL_SMS', scan_index_forward=False, limit=limit))
