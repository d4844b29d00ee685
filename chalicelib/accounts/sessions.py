"""Signed-in browsers: a signed, HttpOnly, SameSite=Lax cookie naming a session item.

The item can be deleted (logout, password change), so a stolen cookie stops working
at once; it expires by itself after SESSION_LIFETIME (DynamoDB TTL, checked on read
too because TTL deletion is lazy). CSRF tokens are derived from the session id.
"""
import functools
import hashlib
import hmac
from datetime import timedelta
from http.cookies import SimpleCookie

from itsdangerous import BadSignature, Signer

from chalicelib.circles import circles
from chalicelib.core.ids import new_id
from chalicelib.models import Session
from chalicelib.core.settings import get_settings

COOKIE_NAME = 'circles_session'
SESSION_LIFETIME = timedelta(days=14)


@functools.cache
def _signer():
    return Signer(get_settings().secret_key, salt='circles.session')


def start(user, now=None):
    """Create a session for `user`; returns (session, Set-Cookie header value)."""
    now = now or circles.utcnow()
    session_id = new_id(24)
    session = Session(*Session.key(session_id), session_id=session_id, user_id=user.user_id, name=user.name,
                      email=user.email, email_confirmed=user.email_confirmed, created_at=now,
                      organizer_team_ids=organized_team_ids(user.user_id),
                      expires_at=now + SESSION_LIFETIME, user_pk=f'USER#{user.user_id}',
                      user_sk=f'SESSION#{session_id}')
    session.save(condition=Session.pk.does_not_exist())
    return session, cookie(_signer().sign(session_id).decode(), int(SESSION_LIFETIME.total_seconds()))


def organized_team_ids(user_id):
    """Teams the user organizes, copied into the session so role checks cost no extra read."""
    from chalicelib.models import TeamMember
    return sorted(m.team_id for m in TeamMember.by_user.query(f'USER#{user_id}', TeamMember.user_sk.startswith('TEAM#'))
                  if m.role == 'organizer')


def cookie(value, max_age):
    attributes = [f'{COOKIE_NAME}={value}', 'Path=/', 'HttpOnly', 'SameSite=Lax', f'Max-Age={max_age}']
    if get_settings().secure_cookies:
        attributes.append('Secure')
    return '; '.join(attributes)


def clearing_cookie():
    return cookie('', 0)


def from_cookie_header(header, now=None):
    """The live session named by the request's Cookie header, or None. One GetItem at most."""
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # noqa: BLE001 - a malformed Cookie header is just "not signed in"
        return None
    morsel = jar.get(COOKIE_NAME)
    if morsel is None or not morsel.value:
        return None
    try:
        session_id = _signer().unsign(morsel.value).decode()
    except BadSignature:
        return None
    try:
        session = Session.get(*Session.key(session_id))
    except Session.DoesNotExist:
        return None
    if session.expires_at <= (now or circles.utcnow()):
        return None
    return session


def end(session):
    session.delete()


def revoke_all(user_id):
    """Sign the account out everywhere (password or email change)."""
    with Session.batch_write() as batch:
        for session in Session.by_user.query(f'USER#{user_id}', Session.user_sk.startswith('SESSION#')):
            batch.delete(session)


def csrf_token(session):
    return hmac.new(get_settings().secret_key.encode(), f'csrf:{session.session_id}'.encode(),
                    hashlib.sha256).hexdigest()[:40]


def csrf_ok(session, token):
    return bool(token) and hmac.compare_digest(csrf_token(session), token)
