"""Accounts for facilitators and organizers: register, confirm, log in, reset and change.

Learners never need one. Passwords are hashed with argon2id. Nothing a visitor sees
reveals whether an email address has an account: registration, login and reset
answer the same either way, and the mailbox owner is told the rest by email.
"""
import functools
import hashlib
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles
from chalicelib.core import links
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.models.transactions import transact_write
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import EmailClaim, LoginThrottle, User

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES = {'account': 5, 'client': 20}
CONFIRM_EMAIL = 'confirm-email'
RESET_PASSWORD = 'reset-password'
links.MAX_AGE_SECONDS.update({CONFIRM_EMAIL: 7 * 24 * 3600, RESET_PASSWORD: 3600})


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


def _validate_password(password, errors, field='password'):
    if len(password) < MIN_PASSWORD_LENGTH:
        errors[field] = [f'Use at least {MIN_PASSWORD_LENGTH} characters.']
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors[field] = [f'Use at most {MAX_PASSWORD_LENGTH} characters.']


def _validate_email(address, errors, field='email'):
    from email_validator import EmailNotValidError

    from chalicelib.learners.signup import normalise_email
    try:
        return normalise_email(address)
    except EmailNotValidError as error:
        errors[field] = [f'This email address is not valid: {error}']


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


def register(name, email, password, now=None):
    """Create an unconfirmed account and email a confirmation link.

    Returns the new User, or None when the address already has an account (its owner
    is emailed instead); the caller shows the same "check your email" page either way.
    """
    now = now or circles.utcnow()
    errors = {}
    name = (name or '').strip()
    if not name:
        errors['name'] = ['Please tell us your name.']
    elif len(name) > 200:
        errors['name'] = ['Please keep your name under 200 characters.']
    email = _validate_email((email or '').strip(), errors)
    _validate_password(password or '', errors)
    if errors:
        raise ValidationFailed(errors)
    user_id = new_id()
    user = User(*User.key(user_id), user_id=user_id, name=name, first_name=name.split()[0], email=email,
                password_hash=hash_password(password), email_confirmed=False, created_at=now, updated_at=now)
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
ACCOUNT_EMAILS = {  # kind -> (template, subject)
    CONFIRM_EMAIL: ('confirm_email', 'Confirm your email address for Circles'),
    RESET_PASSWORD: ('password_reset', 'Reset your Circles password'),
    ALREADY_REGISTERED: ('already_registered', 'You already have a Circles account'),
}


def account_email(user_id, kind, address, now):
    """An outbox item: one of ACCOUNT_EMAILS to `address`, in the account's own partition. Its
    link is signed when it is sent (a reset link then carries the password as it is then)."""
    return outbox.message(outbox.account_partition(user_id), f'{kind}#{now:%Y%m%dT%H%M%S%f}', f'user-{user_id}',
                          outbox.EMAIL, 'account_email', now, to=address, params={'kind': kind, 'user': user_id})


def _render_account_email(item, reads, to, now):
    from chalicelib.core.rendering import render
    from chalicelib.messaging import email as email_
    user = reads.get(User.key(item.params['user']))
    if user is None:
        raise Skip('The account no longer exists.')
    kind = item.params['kind']
    template, subject = ACCOUNT_EMAILS[kind]
    if kind == CONFIRM_EMAIL:
        context = dict(name=user.first_name, new_address=to != user.email,
                       confirm_url=links.url('/confirm', CONFIRM_EMAIL, {'u': user.user_id, 'e': to}))
    elif kind == RESET_PASSWORD:
        context = dict(name=user.first_name, reset_url=links.url(
            '/password/reset', RESET_PASSWORD, {'u': user.user_id, 'f': _password_fingerprint(user)}))
    else:
        context = dict(login_url=_url('/login'), reset_url=_url('/password/forgot'))
    return email_.build_message(to=to, subject=subject, text=render(f'email/{template}.txt', **context),
                                html=render(f'email/{template}.html', **context))


ACCOUNT_EMAIL = Template(keys=lambda item: [User.key(item.params['user'])], render=_render_account_email)


def send_confirmation(user, address, now=None):
    """Queue a link proving `address` belongs to `user` (a new account or a changed address)."""
    outbox.write([account_email(user.user_id, CONFIRM_EMAIL, address, now or circles.utcnow())])


def confirm_email(token, now=None):
    """Mark the address in the token confirmed (moving the account to it if it changed).

    Raises links.BadLink for a bad, expired or stale token and ValidationFailed when
    a changed-to address was taken by another account meanwhile.
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
    old_claim = EmailClaim(*EmailClaim.key(user.email))
    new_claim = EmailClaim(*EmailClaim.key(address), user_id=user.user_id, created_at=now)

    def write(transaction):
        transaction.save(new_claim, condition=EmailClaim.pk.does_not_exist())
        transaction.delete(old_claim, condition=EmailClaim.user_id == user.user_id)
        transaction.update(user, actions=[User.email.set(address), User.email_confirmed.set(True),
                                          User.updated_at.set(now)],
                           condition=User.email == user.email)
    try:
        transact_write(write)
    except TransactWriteError:
        raise ValidationFailed({'email': ['This address already belongs to another account.']}) from None
    from chalicelib.accounts import sessions
    sessions.revoke_all(user.user_id)
    return get_user(user.user_id)


def _window_start(now):
    seconds = int(LOGIN_WINDOW.total_seconds())
    return int(now.timestamp()) // seconds * seconds


def _throttle_keys(email, client_ip, now):
    window = _window_start(now)
    return {'account': LoginThrottle.key('account', email, window),
            'client': LoginThrottle.key('client', client_ip or 'unknown', window)}


def _throttled(keys):
    found = {(t.pk, t.sk): t for t in LoginThrottle.batch_get(list(keys.values()))}
    return any(found[key].failures >= MAX_FAILURES[scope]
               for scope, key in keys.items() if key in found)


def _record_failure(keys, now):
    expires = now + LOGIN_WINDOW * 2
    for key in keys.values():
        LoginThrottle(*key).update(actions=[LoginThrottle.failures.add(1), LoginThrottle.expires_at.set(expires),
                                            LoginThrottle.created_at.set(now)])


TOO_MANY = 'Too many failed attempts. Please wait 15 minutes and try again, or reset your password.'
WRONG = 'That email and password do not match an account.'


def log_in(email, password, client_ip, now=None):
    """The account for these credentials, or LoginRefused with a message safe to show.

    After 5 failures for one address or 20 from one client within a 15-minute window,
    every attempt is refused until the window passes, right password or not.
    """
    now = now or circles.utcnow()
    errors = {}
    email = _validate_email((email or '').strip(), errors) or (email or '').strip().lower()
    keys = _throttle_keys(email, client_ip, now)
    if _throttled(keys):
        raise LoginRefused(TOO_MANY)
    user = user_for_email(email) if not errors else None
    if user is None:
        password_matches(_decoy_hash(), password or '')
    if user is None or not password_matches(user.password_hash, password or ''):
        _record_failure(keys, now)
        raise LoginRefused(WRONG)
    return user


def _password_fingerprint(user):
    """Changes whenever the password does, which makes a reset link single-use."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email):
    """Queue a reset link (valid one hour, single use) if the address has an account."""
    errors = {}
    email = _validate_email((email or '').strip(), errors)
    if errors:
        raise ValidationFailed(errors)
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


def set_password(user, new_password, now=None):
    """Store a new password and sign out every session of the account."""
    from chalicelib.accounts import sessions
    errors = {}
    _validate_password(new_password or '', errors)
    if errors:
        raise ValidationFailed(errors)
    now = now or circles.utcnow()
    user.update(actions=[User.password_hash.set(hash_password(new_password)), User.updated_at.set(now)],
                condition=User.password_hash == user.password_hash)
    sessions.revoke_all(user.user_id)


def change_password(user, current_password, new_password):
    if not password_matches(user.password_hash, current_password or ''):
        raise ValidationFailed({'current_password': ['This is not your current password.']})
    set_password(user, new_password)


def change_email(user, password, new_email):
    """Send a confirmation link to the new address; the account moves when it is followed."""
    errors = {}
    if not password_matches(user.password_hash, password or ''):
        errors['password'] = ['This is not your current password.']
    address = _validate_email((new_email or '').strip(), errors, 'new_email')
    if address and address == user.email:
        errors['new_email'] = ['This is already your address.']
    if errors:
        raise ValidationFailed(errors)
    send_confirmation(user, address)

