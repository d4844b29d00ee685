"""Messages written whole: their words are fixed when the outbox item is written.

A forwarded text and a facilitator's answer by SMS say what someone wrote at that moment, so
there is nothing to render from current data at send time. Their outbox items carry the words
in `params` and the sender delivers them with these templates, which it knows itself
(chalicelib.messaging.sender): no feature has to register them. The sender's one check
(`refusal`) still applies: a learner who withdrew or opted out gets nothing.

The email that stands in for an SMS that could not be delivered carries the text that was sent
and the (English) reason; its own words are rendered at send time, in the language the sender
chooses (the circle's).

    outbox.write([prepared.email(partition, purpose, recipient, address, subject, text, html, now)])
"""
import html as html_escape

from chalicelib.core.i18n import N_, _
from chalicelib.messaging import outbox
from chalicelib.models import Delivery

PREPARED_EMAIL, PREPARED_SMS, SMS_FALLBACK = 'prepared_email', 'prepared_sms', 'sms_fallback'


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
            PREPARED_SMS: Template(keys=lambda item: [], render=_render_sms),
            SMS_FALLBACK: Template(keys=lambda item: [], render=_render_fallback)}


# --- an SMS that cannot reach the learner goes by email ----------------------------------

FALLBACK_SUBJECT = N_('A text message we could not deliver to you')
# Why a text did not arrive, as the fallback email says it (marked where each is defined:
# messaging.sms.CANNOT_RECEIVE, the sender's 21610).
OPTED_OUT_REASON = N_('you had replied STOP to our texts')


def email_fallback(sms_item, text, reason, now):
    """The email standing in for the SMS `sms_item` (to a learner) that Twilio could not
    deliver, or None when there is nothing to do: the item names no learner, the same message
    already has an email of its own (a reminder, a notice and a facilitator's message go by both
    channels), or the text is unknown. One GetItem for the sibling's key. `reason` is an English
    message (N_), translated when the email is rendered."""
    if not sms_item.signup_id or not text:
        return None
    sibling = Delivery.key(sms_item.pk, sms_item.purpose, sms_item.recipient_id, outbox.EMAIL)
    if _exists(sibling):
        return None
    return outbox.message(sms_item.pk, f'sms-fallback#{sms_item.purpose}', sms_item.recipient_id, outbox.EMAIL,
                          SMS_FALLBACK, now, circle_id=sms_item.circle_id, signup_id=sms_item.signup_id,
                          params={'text': text, 'reason': reason}, language=sms_item.language)


def _render_fallback(item, reads, to, now):
    """The fallback email, in the language of the moment (the sender sets the circle's)."""
    from chalicelib.messaging.email import build_message
    params = item.params or {}
    text, reason = params['text'], _(params['reason'])
    # Translators: an email standing in for a text message that did not arrive; the reason is e.g. "the number is unknown".
    tried = _('We tried to send you this text message, but %(reason)s:')
    wrong = _('If your mobile number is wrong, the link in your welcome email lets you change it.')
    body = f'{tried % {"reason": reason}}\n\n{text}\n\n{wrong}'
    html = (f'<p>{html_escape.escape(tried % {"reason": reason})}</p>'
            f'<blockquote>{html_escape.escape(text)}</blockquote>'
            f'<p>{html_escape.escape(wrong)}</p>')
    return build_message(to=to, subject=_(FALLBACK_SUBJECT), text=body, html=html)


def _exists(key):
    try:
        Delivery.get(*key, attributes_to_get=['pk'])
        return True
    except Delivery.DoesNotExist:
        return False
