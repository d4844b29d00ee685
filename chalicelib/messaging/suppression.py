"""The suppression list: contacts we must never message again, stored as keyed hashes only.

A contact is an email address (normalised, lowercased) or an E.164 mobile number. Its hash is
an HMAC with the deployment's secret key, so the list reveals nothing without the key and the
same contact always finds its entry (one BatchGetItem for several). It lives in messaging
because the sender checks it before every email and text (`sender.refusal`); privacy's erasure
and bounces write it.
"""
import hashlib
import hmac

from chalicelib.core.clock import utcnow
from chalicelib.core.settings import get_settings
from chalicelib.models import TableItem
from chalicelib.models.privacy import Suppression

EMAIL, SMS = 'email', 'sms'


def contact_hash(contact):
    key = get_settings().secret_key.encode()
    return hmac.new(key, f'suppress:{contact.strip().lower()}'.encode(), hashlib.sha256).hexdigest()


def entry(contact, channel, reason, now=None):
    """The item that suppresses `contact` (to save alone or in a transaction)."""
    return Suppression(*Suppression.key(contact_hash(contact)), channel=channel, reason=reason,
                       suppressed_at=now or utcnow())


def suppress(contact, channel, reason, now=None):
    entry(contact, channel, reason, now).save()


def suppressed(contacts):
    """The subset of `contacts` on the list: one consistent BatchGetItem for up to 100 (none for
    no contacts)."""
    wanted = {contact_hash(c): c for c in contacts if c}
    if not wanted:
        return set()
    found = TableItem.batch_get([Suppression.key(h) for h in sorted(wanted)], consistent_read=True)
    return {wanted[item.pk.removeprefix('SUPPRESS#')] for item in found}


def is_suppressed(contact):
    return bool(contact) and bool(suppressed([contact]))
