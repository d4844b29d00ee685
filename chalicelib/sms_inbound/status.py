"""Twilio's status callback: what became of a text we sent, on its outbox item.

The sender gives every text the callback URL `/sms/status?d=<the item's key>`
(chalicelib.messaging.sms.status_callback_url); Twilio signs that URL with the fields, so the
key is Twilio's word like the rest. One conditional UpdateItem records the status
(`provider_status`: queued, sent, delivered, undelivered, failed) with Twilio's error code:

- statuses only move forward (callbacks may arrive out of order: a late `sent` never hides
  `delivered`), and only for the item's own message SID;
- `undelivered` and `failed` also make the item `failed` with the reason, so the facilitator's
  page counts it among the failures (the sender, recording its `sent` later, keeps that:
  chalicelib.messaging.outcomes.record);
- 30003, 30005, 30006 (unreachable, unknown, a landline) mark the number as unable to receive
  our texts in every circle, and the text goes by email when its message has no email of its
  own (chalicelib.messaging.prepared.email_fallback).
"""
from pynamodb.exceptions import UpdateError

from chalicelib.circles import circles
from chalicelib.messaging import outcomes, sms
from chalicelib.messaging.outbox import FAILED
from chalicelib.models import Delivery

RANK = {'accepted': 0, 'scheduled': 0, 'queued': 1, 'sending': 2, 'sent': 3,
        'delivered': 4, 'undelivered': 4, 'failed': 4, 'read': 5}
UNDELIVERED = set(outcomes.UNDELIVERED_STATUSES)


def record_status(ref, fields, now=None):
    """Record one callback. Returns the item's status afterwards, or None when the callback
    names no item of ours or a status behind the one recorded."""
    now = now or circles.utcnow()
    key = sms.status_callback_key(ref or '')
    status = (fields.get('MessageStatus') or fields.get('SmsStatus') or '').lower()
    sid = fields.get('MessageSid') or fields.get('SmsSid') or ''
    if key is None or status not in RANK or not sid:
        return None
    code = _error_code(fields.get('ErrorCode'))
    item = Delivery(*key)
    earlier = [name for name, rank in RANK.items() if rank < RANK[status]]
    actions = [Delivery.provider_status.set(status), Delivery.provider_status_at.set(now),
               Delivery.updated_at.set(now)]
    if code is not None:
        actions.append(Delivery.error_code.set(code))
    if status in UNDELIVERED:
        actions += [Delivery.state.set(FAILED), Delivery.error.set(_reason(status, code))]
    condition = (Delivery.pk.exists() & (Delivery.channel == 'sms')
                 & (Delivery.provider_id.does_not_exist() | (Delivery.provider_id == sid))
                 & (Delivery.provider_status.does_not_exist() | Delivery.provider_status.is_in(*earlier)))
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return None
    if status in UNDELIVERED and code in sms.CANNOT_RECEIVE:
        outcomes.sms_cannot_reach(item, fields.get('To'), item.body, sms.CANNOT_RECEIVE[code], now)
    return status


def _error_code(value):
    try:
        return int(value) if value not in (None, '') else None
    except ValueError:
        return None


def _reason(status, code):
    if code in sms.CANNOT_RECEIVE:
        return (f'Not delivered: {sms.CANNOT_RECEIVE[code]} (Twilio error {code}). '
                'No more texts go to this number; emails do.')
    return f'Twilio reports the text {status}' + (f' (error {code}).' if code else '.')
