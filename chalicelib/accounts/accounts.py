"""Accounts for facilitators and organizers: register, confirm, log in, reset and change.

Learners never need one. Passwords are hashed with argon2id and must not be easy to guess
(zxcvbn, which knows the common-password lists). Nothing a visitor sees reveals whether an
email address has an account: registration, login, reset and "resend the confirmation" answer
the same either way, and the mailbox owner is told the rest by email.

A password change voids every other session, every reset link and every pending email change.
An email change tells the old address, with a link that undoes it.
"""
import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, TransactWriteError, UpdateError

from chalicelib.circles import circles
from chalicelib.core import fields as rules
from chalicelib.core import i18n, links
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.i18n import N_, _, ngettext
from chalicelib.core.ids import new_id
from chalicelib.models.transactions import transact_write
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import EmailClaim, LoginThrottle, User
from chalicelib.models.rate_limits import Limit, hashed, spend

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MAX_EMAIL_LENGTH = 320          # longer is no address (RFC 5321); refused before any lookup
MIN_PASSWORD_SCORE = 3          # zxcvbn's 0-4 scale: 3 is about 10^8 guesses
WEAK_PASSWORD = N_('This password is too easy to guess: it is a common password or close to one. '
                 'Try a few unrelated words, or a longer phrase.')
CONFIRM_EMAIL = links.CONFIRM_EMAIL
RESET_PASSWORD = links.RESET_PASSWORD
UNDO_EMAIL_CHANGE = links.UNDO_EMAIL_CHANGE

# Login throttling, per (account, client address): a few free attempts, then each failure
# doubles the wait before that client may try that account again. Another client, the
# owner's, is never slowed down, and a password reset clears every wait of the account.
FREE_FAILURES = 3
MAX_DELAY = timedelta(minutes=15)
IN_FLIGHT = timedelta(seconds=10)   # an attempt being checked holds its pair's slot this long at most
PAIR_MEMORY = timedelta(days=1)     # a pair's failures are forgotten a day after the last one
# One client spraying many accounts: 20 failures in a 15-minute window stop that client.
CLIENT_WINDOW = timedelta(minutes=15)
CLIENT_FAILURES = 20
RESENDS_PER_ADDRESS = Limit('resend-confirmation-address', 3, timedelta(hours=1))
RESENDS_PER_CLIENT = Limit('resend-confirmation-client', 10, timedelta(hours=1))
# Registration and reset mail whatever address is typed: bounded per client and per address.
REGISTRATIONS_PER_CLIENT = Limit('register-client', 5, timedelta(hours=1))
REGISTRATIONS_PER_ADDRESS = Limit('register-address', 3, timedelta(hours=1))
RESETS_PER_CLIENT = Limit('reset-client', 10, timedelta(hours=1))
RESETS_PER_ADDRESS = Limit('reset-address', 3, timedelta(hours=1))


class LoginRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


@functools.cache
def _hasher():
    from argon2 import PasswordHasher
    return PasswordHasher()    # argon2id with the library's current recommended parameters


def hash_password(password):
    return _hasher().hash(password)


def password_matches(password_hash, password):
    from argon2.exceptions import InvalidHashError, VerificationError
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _decoy_hash():
    """Verified against when no account matches, so unknown emails take as long as wrong passwords."""
    return hash_password('decoy password that matches nothing')


def password_too_guessable(password, user_inputs=()):
    """True for a common password or one close to it (zxcvbn's estimate, which also penalises
    the person's own name and address given as `user_inputs`)."""
    from zxcvbn import zxcvbn
    inputs = [word for value in user_inputs if value for word in str(value).replace('@', ' ').split()]
    return zxcvbn(password, user_inputs=inputs, max_length=MAX_PASSWORD_LENGTH)['score'] < MIN_PASSWORD_SCORE


def _validate_password(password, errors, field='password', user_inputs=()):
    if len(password) < MIN_PASSWORD_LENGTH:
        errors[field] = [_('Use at least %(limit)s characters.') % {'limit': MIN_PASSWORD_LENGTH}]
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors[field] = [_('Use at most %(limit)s characters.') % {'limit': MAX_PASSWORD_LENGTH}]
    elif password_too_guessable(password, user_inputs):
        errors[field] = [_(WEAK_PASSWORD)]


def _validate_email(address, errors, field='email'):
    from email_validator import EmailNotValidError

    from chalicelib.learners.signup import normalise_email
    if len(address) > MAX_EMAIL_LENGTH:
        errors[field] = [_('This email address is too long (at most %(limit)s characters).')
                         % {'limit': MAX_EMAIL_LENGTH}]
        return None
    try:
        return normalise_email(address)
    except EmailNotValidError as error:
        # the reason is email_validator's own (English) explanation
        errors[field] = [_('This email address is not valid: %(reason)s') % {'reason': error}]


def get_user(user_id):
    try:
        return User.get(*User.key(user_id))
    except User.DoesNotExist:
        return None


def user_for_email(email):
    try:
        claim = EmailClaim.get(*EmailClaim.key(email))
    except EmailClaim.DoesNotExist:
        return None
    return get_user(claim.user_id)


def register(name, email, password, now=None, client_ip=None):
    """Create an unconfirmed account and email a confirmation link.

    Returns the new User, or None when the address already has an account (its owner
    is emailed instead); the caller shows the same "check your email" page either way.
    The account remembers the language of the moment (the page's) as its own.
    A request passes `client_ip`: RateLimited (nothing written or sent) when that client or
    this address registered too often.
    """
    now = now or circles.utcnow()
    errors = {}
    name, problem = rules.clean_text(rules.PERSON_NAME, name, missing=_('Please tell us your name.'))
    if problem:
        errors['name'] = [problem]
    email = _validate_email((email or '').strip(), errors)
    _validate_password(password or '', errors, user_inputs=(name, email))
    if errors:
        raise ValidationFailed(errors)
    if client_ip is not None:
        spend(now, (REGISTRATIONS_PER_CLIENT, client_ip), (REGISTRATIONS_PER_ADDRESS, email))
    user_id = new_id()
    user = User(*User.key(user_id), user_id=user_id, name=name, first_name=name.split()[0], email=email,
                password_hash=hash_password(password), email_confirmed=False, language=i18n.current(),
                created_at=now, updated_at=now)
    claim = EmailClaim(*EmailClaim.key(email), user_id=user_id, created_at=now)

    def write(transaction):
        transaction.save(claim, condition=EmailClaim.pk.does_not_exist())
        transaction.save(user, condition=User.pk.does_not_exist())
        transaction.save(*outbox.put(account_email(user_id, CONFIRM_EMAIL, email, now)))
    try:
        transact_write(write)
    except TransactWriteError:
        owner = user_for_email(email)
        if owner is not None:
            outbox.write([account_email(owner.user_id, ALREADY_REGISTERED, owner.email, now)])
        return None
    return user


def _url(path):
    from chalicelib.core.settings import get_settings
    return f'{get_settings().public_base_url}{path}'


ALREADY_REGISTERED = 'already-registered'
EMAIL_CHANGED = 'email-changed'
ACCOUNT_EMAILS = {  # kind -> (template, subject: translated when the email is rendered)
    CONFIRM_EMAIL: ('confirm_email', N_('Confirm your email address for Circles')),
    RESET_PASSWORD: ('password_reset', N_('Reset your Circles password')),
    ALREADY_REGISTERED: ('already_registered', N_('You already have a Circles account')),
    EMAIL_CHANGED: ('email_changed', N_('The email address of your Circles account was changed')),
}


def account_email(user_id, kind, address, now, **params):
    """An outbox item: one of ACCOUNT_EMAILS to `address`, in the account's own partition. Its
    link is signed when it is sent (a reset link then carries the password as it is then);
    `params` are what the link must carry from the moment of the change."""
    return outbox.message(outbox.account_partition(user_id), f'{kind}#{now:%Y%m%dT%H%M%S%f}', f'user-{user_id}',
                          outbox.EMAIL, 'account_email', now, to=address,
                          params={'kind': kind, 'user': user_id, **params})


def _render_account_email(item, reads, to, now):
    from chalicelib.core.rendering import render
    from chalicelib.messaging import email as email_
    user = reads.get(User.key(item.params['user']))
    if user is None:
        raise Skip(N_('The account no longer exists.'))
    kind = item.params['kind']
    template, subject = ACCOUNT_EMAILS[kind]
    params = item.params
    if kind == CONFIRM_EMAIL:
        payload = {'u': user.user_id, 'e': to}
        if to != user.email:    # an address change: void once the password changes
            payload['v'] = params.get('version', 0)
        context = dict(name=user.first_name, new_address=to != user.email,
                       confirm_url=links.url('/confirm', CONFIRM_EMAIL, payload))
    elif kind == RESET_PASSWORD:
        context = dict(name=user.first_name, reset_url=links.url(
            '/password/reset', RESET_PASSWORD, {'u': user.user_id, 'f': _password_fingerprint(user)}))
    elif kind == EMAIL_CHANGED:
        context = dict(name=user.first_name, new_email=params['new'], undo_url=links.url(
            '/account/email/undo', UNDO_EMAIL_CHANGE,
            {'u': user.user_id, 'old': params['old'], 'new': params['new'], 'at': params['at']}))
    else:
        context = dict(login_url=_url('/login'), reset_url=_url('/password/forgot'))
    return email_.build_message(to=to, subject=_(subject), text=render(f'email/{template}.txt', **context),
                                html=render(f'email/{template}.html', **context))


ACCOUNT_EMAIL = Template(keys=lambda item: [User.key(item.params['user'])], render=_render_account_email)


def send_confirmation(user, address, now=None):
    """Queue a link proving `address` belongs to `user` (a new account or a changed address).
    A changed address's link carries the account's credentials version: a password change
    voids it."""
    params = {} if address == user.email else {'version': user.credentials_version or 0}
    outbox.write([account_email(user.user_id, CONFIRM_EMAIL, address, now or circles.utcnow(), **params)])


def resend_confirmation(email, client_ip, now=None):
    """Queue a new confirmation link if `email` has an account that is not confirmed yet.
    Answers nothing either way (the caller shows one page); RateLimited when asked too often."""
    now = now or circles.utcnow()
    errors = {}
    email = _validate_email((email or '').strip(), errors)
    if errors:
        raise ValidationFailed(errors)
    spend(now, (RESENDS_PER_CLIENT, client_ip), (RESENDS_PER_ADDRESS, email))
    user = user_for_email(email)
    if user is not None and not user.email_confirmed:
        send_confirmation(user, user.email, now)


def confirm_email(token, now=None):
    """Mark the address in the token confirmed (moving the account to it if it changed).

    Moving writes, in the same transaction, an email to the old address saying so, with a link
    that undoes the change. Raises links.BadLink for a bad, expired or stale token (an address
    change asked before the latest password change) and ValidationFailed when a changed-to
    address was taken by another account meanwhile.
    """
    now = now or circles.utcnow()
    payload = links.unsign(CONFIRM_EMAIL, token)
    user = get_user(payload['u'])
    if user is None:
        raise links.BadLink('no such account')
    address = payload['e']
    if address == user.email:
        if not user.email_confirmed:
            user.update(actions=[User.email_confirmed.set(True), User.updated_at.set(now)])
        return user
    if payload.get('v') != (user.credentials_version or 0):
        raise links.BadLink('the password changed since this email change was asked')
    old_address = user.email
    old_claim = EmailClaim(*EmailClaim.key(old_address))
    new_claim = EmailClaim(*EmailClaim.key(address), user_id=user.user_id, created_at=now)
    notice = account_email(user.user_id, EMAIL_CHANGED, old_address, now,
                           old=old_address, new=address, at=now.isoformat())

    def write(transaction):
        transaction.save(new_claim, condition=EmailClaim.pk.does_not_exist())
        transaction.delete(old_claim, condition=EmailClaim.user_id == user.user_id)
        transaction.update(user, actions=[User.email.set(address), User.email_confirmed.set(True),
                                          User.updated_at.set(now)],
                           condition=User.email == old_address)
        transaction.save(*outbox.put(notice))
    try:
        transact_write(write)
    except TransactWriteError:
        raise ValidationFailed({'email': [_('This address already belongs to another account.')]}) from None
    from chalicelib.accounts import sessions
    sessions.revoke_all(user.user_id)
    return get_user(user.user_id)


def undo_email_change(token, now=None):
    """Move the account back to the address in an "your email was changed" notice, and lock
    whoever changed it out: every session ends and the password stops working. Returns the
    account and a password-reset token for the page that follows (the undo link itself came
    from the owner's mailbox). links.BadLink when expired, tampered, already undone, or when
    the old address belongs to another account by now."""
    now = now or circles.utcnow()
    payload = links.unsign(UNDO_EMAIL_CHANGE, token)
    user = get_user(payload['u'])
    if user is None:
        raise links.BadLink('no such account')
    changed_at = datetime.fromisoformat(payload['at'])
    if user.email_restored_at is not None and changed_at <= user.email_restored_at:
        raise links.BadLink('already undone')
    old_address = payload['old']
    unusable = f'!unusable-{secrets.token_urlsafe(24)}'     # no argon2 hash: matches no password

    def write(transaction):
        if user.email != old_address:
            transaction.save(EmailClaim(*EmailClaim.key(old_address), user_id=user.user_id, created_at=now),
                             condition=EmailClaim.pk.does_not_exist() | (EmailClaim.user_id == user.user_id))
            transaction.delete(EmailClaim(*EmailClaim.key(user.email)), condition=EmailClaim.user_id == user.user_id)
        transaction.update(user, actions=[User.email.set(old_address), User.email_confirmed.set(True),
                                          User.password_hash.set(unusable), User.credentials_version.add(1),
                                          User.email_restored_at.set(now), User.updated_at.set(now)],
                           condition=User.email == user.email)
    try:
        transact_write(write)
    except TransactWriteError:
        raise links.BadLink('the old address belongs to another account, or the account changed meanwhile') from None
    from chalicelib.accounts import sessions
    sessions.revoke_all(user.user_id)
    restored = get_user(user.user_id)
    clear_login_throttles(restored.email)
    return restored, links.sign(RESET_PASSWORD, {'u': restored.user_id, 'f': _password_fingerprint(restored)})


class LoginThrottled(LoginRefused):
    """Refused before the password is even checked: this client must wait `retry_after` seconds."""

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.retry_after = retry_after


def _wait_message(seconds):
    if seconds < 90:
        return ngettext('Too many failed attempts. Please wait %(num)d second and try again, or reset your password.',
                        'Too many failed attempts. Please wait %(num)d seconds and try again, or reset your password.',
                        seconds) % {'num': seconds}
    minutes = -(-seconds // 60)
    return ngettext('Too many failed attempts. Please wait %(num)d minute and try again, or reset your password.',
                    'Too many failed attempts. Please wait %(num)d minutes and try again, or reset your password.',
                    minutes) % {'num': minutes}


def login_delay(failures):
    """How long a client waits after its `failures`-th failure in a row on one account."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 20)      # 2**20 s is past MAX_DELAY; no overflow later
    return min(timedelta(seconds=2 ** doublings), MAX_DELAY)


def _client_window_key(hashed_client, now):
    seconds = int(CLIENT_WINDOW.total_seconds())
    return LoginThrottle.client_key(hashed_client, int(now.timestamp()) // seconds * seconds)


def _check_client(hashed_client, now):
    try:
        window = LoginThrottle.get(*_client_window_key(hashed_client, now))
    except LoginThrottle.DoesNotExist:
        return
    if window.failures >= CLIENT_FAILURES:
        seconds = int(CLIENT_WINDOW.total_seconds())
        left = seconds - int(now.timestamp()) % seconds
        raise LoginThrottled(_wait_message(left), left)


def _claim_attempt(pair, now):
    """Take the pair's slot for one attempt, atomically, so concurrent guesses cannot slip past
    the delay: the attempt counts as a failure until the password proves right. Returns the
    failures so far, this attempt included."""
    try:
        pair.update(actions=[LoginThrottle.kind.set(LoginThrottle),   # an update writes no discriminator by itself
                             LoginThrottle.failures.add(1), LoginThrottle.next_attempt_at.set(now + IN_FLIGHT),
                             LoginThrottle.expires_at.set(now + PAIR_MEMORY)],
                    condition=LoginThrottle.next_attempt_at.does_not_exist() | (LoginThrottle.next_attempt_at <= now))
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        try:
            waiting = LoginThrottle.get(pair.pk, pair.sk, consistent_read=True).next_attempt_at
        except LoginThrottle.DoesNotExist:
            waiting = now + IN_FLIGHT
        left = max(1, int((waiting - now).total_seconds() + 0.999))
        raise LoginThrottled(_wait_message(left), left) from None
    return int(pair.failures)


def _record_failure(pair, failures, hashed_client, now):
    pair.update(actions=[LoginThrottle.next_attempt_at.set(now + login_delay(failures))])
    LoginThrottle(*_client_window_key(hashed_client, now)).update(actions=[
        LoginThrottle.kind.set(LoginThrottle), LoginThrottle.failures.add(1), LoginThrottle.expires_at.set(now + CLIENT_WINDOW * 2),
        LoginThrottle.created_at.set(now)])


def clear_login_throttles(email):
    """Forget every failed login to this account, from every client (after a successful reset)."""
    partition = LoginThrottle.account_partition(hashed(f'login\n{email}'))
    with LoginThrottle.batch_write() as batch:
        for throttle in LoginThrottle.query(partition):
            batch.delete(throttle)


WRONG = N_('That email and password do not match an account.')


def log_in(email, password, client_ip, now=None):
    """The account for these credentials, or LoginRefused with a message safe to show.

    Throttled per (account, client address): FREE_FAILURES failures in a row cost nothing,
    then each one doubles the wait (up to MAX_DELAY) before this client may try this account
    again, right password or not. Other clients, the owner's, are not slowed down; a success
    clears the pair, a password reset clears the account. A client with CLIENT_FAILURES
    failures in a window, whatever the accounts, waits for the window's end.
    """
    now = now or circles.utcnow()
    email, password = (email or '').strip(), password or ''
    if len(email) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        raise LoginRefused(_(WRONG))       # no lookup and no hashing for input no account can have
    errors = {}
    email = _validate_email(email, errors) or email.lower()
    hashed_client = hashed(f'login\n{client_ip or "unknown"}')
    _check_client(hashed_client, now)
    pair = LoginThrottle(*LoginThrottle.pair_key(hashed(f'login\n{email}'), hashed_client))
    failures = _claim_attempt(pair, now)
    user = user_for_email(email) if not errors else None
    if user is None:
        password_matches(_decoy_hash(), password)
    if user is None or not password_matches(user.password_hash, password):
        _record_failure(pair, failures, hashed_client, now)
        raise LoginRefused(_(WRONG))
    try:
        pair.delete()
    except DeleteError:
        pass        # forgetting the pair is a courtesy; it expires by itself
    remember_language(user)
    return user


def remember_language(user):
    """The account's language becomes the one of the moment (the login page's), when it differs:
    one conditional UpdateItem then, nothing otherwise. The emails about no circle that a job
    writes later (the digest) are in it."""
    language = i18n.current()
    if user.language == language:
        return
    try:
        user.update(actions=[User.language.set(language)], condition=User.pk.exists())
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise       # otherwise deleted meanwhile: nothing to remember it for


def _password_fingerprint(user):
    """Changes whenever the password does, which makes a reset link single-use."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email, client_ip=None):
    """Queue a reset link (valid one hour, single use) if the address has an account.
    A request passes `client_ip`: RateLimited (nothing sent) when that client or this address
    asked too often, whether or not the address has an account."""
    errors = {}
    email = _validate_email((email or '').strip(), errors)
    if errors:
        raise ValidationFailed(errors)
    if client_ip is not None:
        spend(circles.utcnow(), (RESETS_PER_CLIENT, client_ip), (RESETS_PER_ADDRESS, email))
    user = user_for_email(email)
    if user is None:
        return
    outbox.write([account_email(user.user_id, RESET_PASSWORD, user.email, circles.utcnow())])


def user_for_reset_token(token):
    """The account a reset link is for; links.BadLink when expired, tampered or already used."""
    payload = links.unsign(RESET_PASSWORD, token)
    user = get_user(payload['u'])
    if user is None or payload['f'] != _password_fingerprint(user):
        raise links.BadLink('already used')
    return user


def set_password(user, new_password, now=None, field='password'):
    """Store a new password; sign out every session of the account and void every reset link
    (they carry the old password's fingerprint) and every pending email change (they carry
    the old credentials version); forget every failed login to the account."""
    from chalicelib.accounts import sessions
    errors = {}
    _validate_password(new_password or '', errors, field, user_inputs=(user.name, user.email))
    if errors:
        raise ValidationFailed(errors)
    now = now or circles.utcnow()
    user.update(actions=[User.password_hash.set(hash_password(new_password)), User.credentials_version.add(1),
                         User.updated_at.set(now)],
                condition=User.password_hash == user.password_hash)
    sessions.revoke_all(user.user_id)
    clear_login_throttles(user.email)


def change_password(user, current_password, new_password):
    if not password_matches(user.password_hash, current_password or ''):
        raise ValidationFailed({'current_password': [_('This is not your current password.')]})
    set_password(user, new_password, field='new_password')


def change_email(user, password, new_email):
    """Send a confirmation link to the new address; the account moves when it is followed."""
    errors = {}
    if not password_matches(user.password_hash, password or ''):
        errors['password'] = [_('This is not your current password.')]
    address = _validate_email((new_email or '').strip(), errors, 'new_email')
    if address and address == user.email:
        errors['new_email'] = [_('This is already your address.')]
    if errors:
        raise ValidationFailed(errors)
    send_confirmation(user, address)

