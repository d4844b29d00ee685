"""Signed, expiring links: learners' (withdraw, RSVP, unsubscribe, calendar) and the account
emails' (confirm an address, reset a password, undo an email change).

Each purpose has its own salt, so a token made for one action never works for another. Every
purpose and its lifetime is declared here, so checking a link never depends on which module
happened to be imported first.
"""
import functools

from itsdangerous import BadSignature, URLSafeTimedSerializer

from chalicelib.core.errors import Refusal
from chalicelib.core.settings import get_settings

WITHDRAW = 'withdraw'
RSVP = 'rsvp'                # also ends when the meeting starts (chalicelib.learners.rsvp checks that)
UNSUBSCRIBE = 'unsubscribe'
CALENDAR = 'calendar'
CONFIRM_EMAIL = 'confirm-email'
RESET_PASSWORD = 'reset-password'
UNDO_EMAIL_CHANGE = 'undo-email-change'
DETAILS = 'signup-details'     # a learner's link to change their own details
INVITATION = 'cofacilitator-invitation'     # to co-facilitate a circle
TEXTS = 'texts'             # a learner turns text messages off or on
SURVEY = 'end-of-circle-survey'     # a learner's survey; also ends when the survey closes (chalicelib.ending.surveys)
MY_DATA = 'my-data'         # a learner's data (export, withdraw, erase), sent to the address they typed
DAY = 24 * 3600
MAX_AGE_SECONDS = {WITHDRAW: 400 * DAY, RSVP: 400 * DAY, UNSUBSCRIBE: 400 * DAY, CALENDAR: 400 * DAY,
                   CONFIRM_EMAIL: 7 * DAY, RESET_PASSWORD: 3600, UNDO_EMAIL_CHANGE: 30 * DAY,
                   DETAILS: 7 * DAY, INVITATION: 7 * DAY, TEXTS: 400 * DAY,
                   SURVEY: 400 * DAY, MY_DATA: DAY}


class BadLink(Refusal):
    """The link was tampered with, made for something else, or has expired. `reason` says which
    (for developers, it is also `str(error)`); the person is told only `message`."""
    status = 400
    message = ('This link does not work. It may have expired, been copied incompletely, '
               'or already been used.')

    def __init__(self, reason):
        super().__init__()
        self.reason = reason

    def __str__(self):
        return self.reason


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
