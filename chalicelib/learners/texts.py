"""A learner turns text messages off (and back on) for one signup, without leaving the circle.

Every learner email and the RSVP page carry `texts_link(signup)`: a signed link of its own
purpose, to a page that changes nothing when opened (mail scanners follow links) and acts on
its form's POST. Off is the signup's `sms_opted_out`, the flag the sender already honours for
a number that replied STOP: from then on every SMS to this signup is skipped with its reason,
and the emails keep coming.

A number that replied STOP to our Twilio number is blocked by Twilio itself until it texts
START; turning texts back on here cannot undo that, and the page says so.
"""
from chalicelib.core import links
from chalicelib.core.clock import utcnow
from chalicelib.core.errors import SignupRefused
from chalicelib.core.i18n import _
from chalicelib.learners.details import active_signup_of_link
from chalicelib.models import Signup, consent

TEXTS = links.TEXTS


def texts_link(signup):
    """The learner's link to turn text messages off or on, or None without a mobile number."""
    if not signup.mobile:
        return None
    return links.url('/texts', TEXTS, {'c': signup.circle_id, 's': signup.signup_id})


def signup_from_texts_token(token):
    """The signup a texts link points at, or None when it is gone or withdrawn.
    Raises links.BadLink for a tampered, foreign or expired token."""
    return active_signup_of_link(TEXTS, token)


def set_texts(signup, on, now=None):
    """Turn this signup's text messages on or off, with its consent record, in one transaction,
    which changes nothing if the learner withdrew meanwhile (then SignupRefused)."""
    now = now or utcnow()
    subject = consent.signup_subject(signup.circle_id, signup.signup_id)
    record = (consent.given if on else consent.withdrawn)(subject, consent.SMS, consent.TEXTS_PAGE, now)
    if not consent.update_with_record(signup, [Signup.sms_opted_out.set(not on)], record,
                                      condition=Signup.pk.exists() & Signup.withdrawn_at.does_not_exist()):
        raise SignupRefused(_('You are no longer signed up for this learning circle.'))
    signup.sms_opted_out = not on
    return signup
