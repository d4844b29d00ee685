"""Signing up for a learning circle, and withdrawing.

`sign_up` from a request (`client` given) costs two DynamoDB calls: read the circle, and one
transaction that creates the signup, counts it on the circle (conditions keep the capacity and
the open/published rules exact under concurrency), spends the rate limits (signups per client
address and per circle: a counter's condition refuses a use over the limit) and writes its
welcome email and the facilitators' notices to the outbox: all of it or nothing.

A second signup with the same email for the same circle changes nothing stored: anyone can
type anyone's address. It is answered exactly as a new signup (nothing tells the requester
whether the address was known): the cancelled transaction spent nothing, so one more
transaction puts an "already signed up" email to the stored address in the outbox and spends
the rate limits, with a signed link to the details page (chalicelib.learners.details) where the learner
changes their details themselves. Its key names the hour, so repeats within an hour are
refused by the item's own condition (and spend nothing): at most one such email per signup
per hour.
"""
import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles, meeting_entries
from chalicelib.core import fields as rules
from chalicelib.core import links
from chalicelib.core.i18n import N_, _
from chalicelib.messaging import outbox
from chalicelib.core.errors import NotFound, SignupRefused, ValidationFailed
from chalicelib.models.transactions import transact_write
from chalicelib.models import Circle, Signup
from chalicelib.models.ending import LearnerSurvey
from chalicelib.models.message import InboundText
from chalicelib.models import rate_limits
from chalicelib.models.meeting_entry import SIGNUP as SIGNUP_DAY, team_day_pk
from chalicelib.models.rate_limits import Limit
from chalicelib.core.settings import get_settings
from chalicelib.models import consent

log = logging.getLogger(__name__)

CONSENT_VERSION = '2026-11'
# Shown (translated) next to the consent box: `_(consent_text)` in templates/_signup_fields.html.
CONSENT_TEXT = N_('I consent to the facilitator and the organizers of this learning circle keeping '
                  'my answers and contacting me about it.')
MAX_LENGTHS = {name: rule.max_length for name, rule in rules.SIGNUP.items()}
# Why a circle takes no signup (`refusal`): English codes, translated where shown.
FULL = N_('This learning circle is full.')
NOT_PUBLISHED = N_('This learning circle is not published yet.')
FINISHED = N_('This learning circle has finished.')
CLOSED = N_('Signup for this learning circle is closed.')
TRY_AGAIN = N_('Please try again in a moment.')
# A person signs up for a few circles; a script for hundreds. A busy circle's launch stays
# well under the circle's limit, which bounds what many clients together can make it send.
SIGNUPS_PER_CLIENT = Limit('signup-client', 10, timedelta(hours=1))
SIGNUPS_PER_CIRCLE = Limit('signup-circle', 200, timedelta(hours=1))


@dataclass
class SignupForm:
    name: str
    email: str
    mobile: str
    goals: str
    support: str
    custom_answer: str
    consent: bool
    communications_opt_in: bool


def normalise_email(address):
    """The address as email-validator normalises it, lowercased for matching."""
    return validate_email(address, check_deliverability=False).normalized.lower()


def normalise_mobile(number, region=None):
    """An E.164 number, or ValueError. Numbers without a +country code use `region`."""
    import phonenumbers
    try:
        parsed = phonenumbers.parse(number, region or get_settings().default_phone_region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(str(error)) from error
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError('not a valid number')
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def signup_id_for(circle_id, email):
    """Stable per (circle, email), and not reversible without the secret key."""
    digest = hmac.new(get_settings().secret_key.encode(), f'{circle_id}\n{email}'.encode(),
                      hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def _text(data, name):
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ''


def validate_signup(data, circle):
    """Check a submitted signup (API JSON or form fields, flattened) against the circle."""
    errors = {}
    form = SignupForm(
        name=_text(data, 'name'), email=_text(data, 'email'), mobile=_text(data, 'mobile'),
        goals=_text(data, 'goals'), support=_text(data, 'support'),
        custom_answer=_text(data, 'custom_answer'),
        consent=rules.is_true(data.get('consent')),
        communications_opt_in=rules.is_true(data.get('communications_opt_in')),
    )
    if not form.name:
        errors['name'] = [_('Please tell us your name.')]
    if not form.email:
        errors['email'] = [_('Please give an email address.')]
    else:
        try:
            form.email = normalise_email(form.email)
        except EmailNotValidError as error:
            errors['email'] = [_('This email address is not valid: %(reason)s') % {'reason': error}]
    if form.mobile:
        try:
            from chalicelib.learners.phone import region_for
            form.mobile = normalise_mobile(form.mobile, region_for(circle))
        except ValueError:
            errors['mobile'] = [_('This mobile number is not valid. Check its digits, or start it with + and '
                                  'the country code.')]
    if not form.consent:
        errors['consent'] = [_('Please give your consent to sign up.')]
    if circle.signup_question and not form.custom_answer:
        errors['custom_answer'] = [_('Please answer the question from the facilitator.')]
    for name, rule in rules.SIGNUP.items():     # line breaks only in the answers (core/fields.py)
        if rule.multiline:
            setattr(form, name, rules.normalise_line_breaks(getattr(form, name)))
        problem = rules.text_problem(getattr(form, name), rule.multiline)
        if problem and name not in errors:
            errors[name] = [problem]
    for name, limit in MAX_LENGTHS.items():
        if len(getattr(form, name)) > limit and name not in errors:
            errors[name] = [_('Please keep this under %(limit)s characters.') % {'limit': limit}]
    if errors:
        raise ValidationFailed(errors)
    return form


def refusal(circle, now):
    """Why this circle takes no signup now, in English (`_(reason)` where shown), or None."""
    if not circle.published:
        return NOT_PUBLISHED
    if circles.is_finished(circle, now):
        return FINISHED
    if not circle.signup_open:
        return CLOSED
    if circles.is_full(circle):
        return FULL
    return None


def _apply_form(signup, form, now):
    signup.name, signup.email, signup.mobile = form.name, form.email, form.mobile or None
    signup.goals, signup.support = form.goals or None, form.support or None
    signup.custom_answer = form.custom_answer or None
    signup.communications_opt_in = form.communications_opt_in
    signup.email_pk, signup.email_sk = f'EMAIL#{form.email}', f'SIGNUP#{signup.circle_id}'
    signup.phone_pk = f'PHONE#{form.mobile}' if form.mobile else None
    signup.phone_sk = f'SIGNUP#{signup.circle_id}' if form.mobile else None
    signup.updated_at = now


def _new_signup(circle, form, now):
    signup_id = signup_id_for(circle.id, form.email)
    signup = Signup(*Signup.key(circle.id, signup_id), signup_id=signup_id, circle_id=circle.id,
                    created_at=now, consent_at=now, consent_version=CONSENT_VERSION)
    _apply_form(signup, form, now)
    if circle.team_id:
        # The organizers' digest lists the team's new signups (models/meeting_entry.py).
        signup.td_pk = team_day_pk(circle.team_id)
        signup.td_sk = f'{SIGNUP_DAY}{now.isoformat()}#{circle.id}#{signup_id}'
    return signup


def _count_on_circle_condition(circle):
    """The circle still takes signups: published, open, and (if limited) not full."""
    condition = (Circle.published == True) & (Circle.signup_open == True)  # noqa: E712
    if circle.capacity is not None:
        condition &= Circle.signup_count < circle.capacity
    return condition


def sign_up(circle_id, data, now=None, client=None, channel=consent.SIGNUP_FORM):
    """Create a signup, or (the address signed up before) tell its owner by email; returns
    (signup, circle, created). `client`: the requester's address, given by every request
    handler, which spends the signup rate limits. `channel`: the form it came through, for the
    consent records (the signup form, the partner API, a team's widget).

    Raises NotFound, SignupRefused, ValidationFailed or RateLimited; on any of them nothing is
    written and nothing is sent, except that a known address refused as a new one would be
    (the circle is full) still gets its "already signed up" email, and spends the limits.
    """
    circle = circles.get_circle(circle_id)
    if circle is None or not circle.published:
        raise NotFound(_('No such learning circle.'))
    return sign_up_for(circle, data, now, client=client, channel=channel)


def _signup_limits(circle, client):
    return (SIGNUPS_PER_CLIENT, client), (SIGNUPS_PER_CIRCLE, circle.id)


def _with_errors(limited):
    limited.errors = {'rate_limit': [limited.message]}
    return limited


def _cancelled_reasons(error):
    return [r.code if r else None for r in (error.cancellation_reasons or [])]


def _tell_known_address(existing, spent, now):
    """The "already signed up" email with the rate limits' counters, in one transaction. One
    sent this hour already cancels it: nothing is written or spent, and nothing is sent."""
    from chalicelib.learners.welcome import already_signed_up_item
    item = already_signed_up_item(existing, now)
    if not spent:
        outbox.write([item])
        return

    def write(transaction):
        transaction.save(*outbox.put(item))
        rate_limits.spend_in(transaction, spent)
    try:
        transact_write(write)
    except TransactWriteError as error:
        reasons = _cancelled_reasons(error)
        limited = rate_limits.refusal(spent, reasons[1:], now)
        if limited:
            raise _with_errors(limited) from None
        if not (reasons and reasons[0] == 'ConditionalCheckFailed'):
            raise


def sign_up_for(circle, data, now=None, client=None, channel=consent.SIGNUP_FORM):
    """`sign_up` for a circle already read. The circle may be stale: the transaction's
    conditions, not this copy, decide whether there is room. The consent records of the signup
    (`privacy.consent.at_signup`, naming `channel`) are written in its transaction.

    For a repeated signup (same address, still signed up) the returned signup holds only its
    keys, and `created` is False: callers must answer it as they answer a new one."""
    now = now or circles.utcnow()
    form = validate_signup(data, circle)
    reason = refusal(circle, now)
    if reason and reason != FULL:
        # When full, the transaction decides (and a repeated signup is refused the same way).
        raise SignupRefused(_(reason))
    spent = rate_limits.uses(now, *_signup_limits(circle, client)) if client is not None else []
    from chalicelib.learners.welcome import welcome_items
    signup = _new_signup(circle, form, now)
    records = consent.at_signup(signup, channel, CONSENT_VERSION, now)
    puts = []

    def write(transaction):
        transaction.save(signup, condition=Signup.pk.does_not_exist() | Signup.withdrawn_at.exists())
        transaction.update(circle, actions=circles.count_change(1, now),
                           condition=_count_on_circle_condition(circle))
        welcome = list(welcome_items(signup, circle, now))
        for item in welcome:
            transaction.save(*outbox.put(item))
        consent.save_in(transaction, records)
        rate_limits.spend_in(transaction, spent)
        puts[:] = [signup, *welcome, *records]
    try:
        transact_write(write)
    except TransactWriteError as error:
        # PynamoDB sends the puts before the updates, each in the order added: the signup
        # first, then its outbox items and consent records, then the circle's count, then the
        # rate-limit counters.
        reasons = _cancelled_reasons(error)
        at_circle = len(puts)
        limited = rate_limits.refusal(spent, reasons[at_circle + 1:], now)
        if limited:
            raise _with_errors(limited) from None
        known = bool(reasons) and reasons[0] == 'ConditionalCheckFailed'
        if known:
            existing = Signup(*Signup.key(circle.id, signup.signup_id), signup_id=signup.signup_id,
                              circle_id=circle.id)
            _tell_known_address(existing, spent, now)
        if len(reasons) > at_circle and reasons[at_circle] == 'ConditionalCheckFailed':
            fresh = circles.get_circle(circle.id)
            raise SignupRefused(_(refusal(fresh, now) or TRY_AGAIN)) from None
        if known:
            return existing, circle, False
        raise
    circle.signup_count = int(circle.signup_count or 0) + 1
    return signup, circle, True


def withdraw_link(signup):
    return links.url('/withdraw', links.WITHDRAW, {'c': signup.circle_id, 's': signup.signup_id})


def signup_from_withdraw_token(token):
    """The signup a withdraw link points at, or None when it no longer holds personal data."""
    payload = links.unsign(links.WITHDRAW, token)
    try:
        signup = Signup.get(*Signup.key(payload['c'], payload['s']))
    except Signup.DoesNotExist:
        return None
    return signup


TRANSACTION_ITEMS = 100     # DynamoDB's limit
LEFT = 'LEFT#'      # the by_email / by_phone key of a withdrawn signup: a keyed hash of the contact


def left_key(contact):
    """`LEFT#<keyed hash>` of an email address or mobile number: where a withdrawn signup stays
    findable by its owner (privacy.my_data lists and erases it) without holding the contact. The
    hash is keyed like the signup id itself, so it links nothing the id did not already."""
    digest = hmac.new(get_settings().secret_key.encode(), f'left\n{contact.strip().lower()}'.encode(), hashlib.sha256)
    return f'{LEFT}{digest.hexdigest()}'


def withdraw(signup, now=None, channel=consent.WITHDRAW_LINK):
    """Erase the learner's personal data and stop every message to them, in one transaction.

    The item stays (without personal data) so that counts and history remain true; it keeps
    only keyed hashes of its email and mobile on the indexes (`left_key`), so its owner can still
    find and erase it. Gone with it: the learner's survey answer and the texts they sent
    (one Query of `TEXT#<signup id>#`), and the tally of the meetings to come that they answered
    (one Query of the circle's meeting entries, team circles only). The withdrawal is a consent
    record of the same transaction. Texts past DynamoDB's 100 items of a transaction are deleted
    after it, by BatchWriteItem.
    """
    now = now or circles.utcnow()
    if signup.active and signup.email is None:
        # Only its keys (a repeated signup's answer): what is erased, hashed and untallied is
        # what is stored.
        signup = Signup.get(*Signup.key(signup.circle_id, signup.signup_id), consistent_read=True)
    if not signup.active:
        return
    circle = Circle(*Circle.key(signup.circle_id))
    erased = ['name', 'email', 'mobile', 'goals', 'support', 'custom_answer']
    keys = [Signup.email_pk.set(left_key(signup.email)), Signup.email_sk.set(f'SIGNUP#{signup.circle_id}')]
    if signup.mobile:
        keys += [Signup.phone_pk.set(left_key(signup.mobile)), Signup.phone_sk.set(f'SIGNUP#{signup.circle_id}')]
    else:
        erased += ['phone_pk', 'phone_sk']
    erase = [*(getattr(Signup, name).remove() for name in erased), *keys]

    answered = meeting_entries.answered_by(signup, now) if signup.td_pk else []
    texts = sent_texts(signup)
    room = TRANSACTION_ITEMS - 4 - len(answered)     # signup, circle, survey, consent record
    in_transaction, after = texts[:room], texts[room:]
    record = consent.withdrawn(consent.signup_subject(signup.circle_id, signup.signup_id), consent.SIGNUP,
                               channel, now)

    def write(transaction):
        transaction.update(signup, actions=[*erase, Signup.withdrawn_at.set(now), Signup.updated_at.set(now)],
                           condition=Signup.withdrawn_at.does_not_exist())
        transaction.update(circle, actions=circles.count_change(-1, now), condition=Circle.pk.exists())
        for entry in answered:
            meeting_entries.untally(transaction, entry, signup.signup_id)
        transaction.delete(LearnerSurvey(*LearnerSurvey.key(signup.circle_id, signup.signup_id)))
        for text in in_transaction:
            transaction.delete(text)
        consent.save_in(transaction, [record])
    transact_write(write)
    if after:
        with InboundText.batch_write() as batch:
            for text in after:
                batch.delete(text)
    signup.withdrawn_at = now


def sent_texts(signup):
    """The texts the learner sent us for this signup (`TEXT#<signup id>#`): one Query."""
    return list(InboundText.query(f'CIRCLE#{signup.circle_id}',
                                  InboundText.sk.startswith(f'TEXT#{signup.signup_id}#')))
