"""Messages written whole: their words are fixed when the outbox item is written.

A forwarded text, a facilitator's answer by SMS and the email that stands in for an SMS that
could not be delivered say what someone wrote (or what was sent) at that moment, so there is
nothing to render from current data at send time. Their outbox items carry the words in
`params` and the sender delivers them with these templates, which it knows itself
(chalicelib.messaging.sender): no feature has to register them. The sender's one check
(`refusal`) still applies: a learner who withdrew or opted out gets nothing.

    outbox.write([prepared.email(partition, purpose, recipient, address, subject, text, html, now)])
"""
import html as html_escape

from chalicelib.messaging import outbox
from chalicelib.models import Delivery

PREPARED_EMAIL, PREPARED_SMS = 'prepared_email', 'prepared_sms'


def email(partition, purpose, recipient_id, address, subject, text, html, now, *, circle_id=None,
          signup_id=None, reply_to=()):
    """An email to `address` (or, with `signup_id`, to that learner's current address)."""
    params = {'subject': subject, 'text': text, 'html': html, 'reply_to': list(reply_to)}
    return outbox.message(partition, purpose, recipient_id, outbox.EMAIL, PREPARED_EMAIL, now,
                          circle_id=circle_id, signup_id=signup_id, to=None if signup_id else address,
                          params=params)


def sms_to_learner(signup, purpose, body, now):
    """A text to a learner's current mobile number, unless they opted out by then."""
    return outbox.for_signup(signup, purpose, outbox.SMS, PREPARED_SMS, now, params={'body': body})


def _render_email(item, reads, to, now):
    from chalicelib.messaging.email import build_message
    params = item.params or {}
    return build_message(to=to, subject=params['subject'], text=params['text'], html=params['html'],
                         reply_to=params.get('reply_to') or ())


def _render_sms(item, reads, to, now):
    return (item.params or {})['body']


def templates():
    from chalicelib.messaging.sender import Template
    return {PREPARED_EMAIL: Template(keys=lambda item: [], render=_render_email),
            PREPARED_SMS: Template(keys=lambda item: [], render=_render_sms)}


# --- an SMS that cannot reach the learner goes by email ----------------------------------

FALLBACK_SUBJECT = 'A text message we could not deliver to you'


def email_fallback(sms_item, text, reason, now):
    """The email standing in for the SMS `sms_item` (to a learner) that Twilio could not
    deliver, or None when there is nothing to do: the item names no learner, the same message
    already has an email of its own (a reminder, a notice and a facilitator's message go by both
    channels), or the text is unknown. One GetItem for the sibling's key."""
    if not sms_item.signup_id or not text:
        return None
    sibling = Delivery.key(sms_item.pk, sms_item.purpose, sms_item.recipient_id, outbox.EMAIL)
    if _exists(sibling):
        return None
    body = (f'We tried to send you this text message, but {reason}:\n\n{text}\n\n'
            'If your mobile number is wrong, the link in your welcome email lets you change it.')
    html = (f'<p>We tried to send you this text message, but {html_escape.escape(reason)}:</p>'
            f'<blockquote>{html_escape.escape(text)}</blockquote>'
            '<p>If your mobile number is wrong, the link in your welcome email lets you change it.</p>')
    return email(sms_item.pk, f'sms-fallback#{sms_item.purpose}', sms_item.recipient_id, None,
                 FALLBACK_SUBJECT, body, html, now, circle_id=sms_item.circle_id, signup_id=sms_item.signup_id)


def _exists(key):
    try:
        Delivery.get(*key, attributes_to_get=['pk'])
        return True
    except Delivery.DoesNotExist:
        return False
