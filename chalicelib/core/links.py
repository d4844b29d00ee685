"""Signed, expiring links for learners (no account): withdraw now, RSVP later.

Each purpose has its own salt, so a token made for one action never works for another.
"""
import functools

from itsdangerous import BadSignature, URLSafeTimedSerializer

from chalicelib.core.settings import get_settings

WITHDRAW = 'withdraw'
RSVP = 'rsvp'                # also ends when the meeting starts (chalicelib.learners.rsvp checks that)
UNSUBSCRIBE = 'unsubscribe'
CALENDAR = 'calendar'
MAX_AGE_SECONDS = {WITHDRAW: 400 * 24 * 3600, RSVP: 400 * 24 * 3600, UNSUBSCRIBE: 400 * 24 * 3600,
                   CALENDAR: 400 * 24 * 3600}


class BadLink(Exception):
    """The link was tampered with, made for something else, or has expired."""


@functools.cache
def _serializer(purpose):
    return URLSafeTimedSerializer(get_settings().secret_key, salt=f'circles.{purpose}')


def sign(purpose, payload):
    return _serializer(purpose).dumps(payload)


def unsign(purpose, token):
    try:
        return _serializer(purpose).loads(token, max_age=MAX_AGE_SECONDS[purpose])
    except BadSignature as error:
        raise BadLink(str(error)) from error


def url(path, purpose, payload):
    return f'{get_settings().public_base_url}{path}/{sign(purpose, payload)}'
