"""Signed-in browsers: a signed, HttpOnly, SameSite=Lax cookie naming a session item.

The item can be deleted (logout, password change), so a stolen cookie stops working
at once; it expires by itself after SESSION_LIFETIME (DynamoDB TTL, checked on read
too because TTL deletion is lazy). CSRF tokens are derived from the session id.

Roles are checked against the current membership, at no extra call: the signed cookie names
every team the user belongs to (any role), and the session is read in one BatchGetItem together
with those teams' membership items. So a promotion, a demotion or a removal in any of them counts
on the very next request. A team joined since the cookie was made is not in it: the response to
the request that joins (accepting an invitation, the join link) carries a new cookie for the same
session item (`cookie_with_team`), so it counts from that browser's next request; the person's
other browsers, and a team an administrator creates for an existing account, count it from
their next login (reading it earlier would need a second read on every request).

Anonymous forms (login, register, forgot, reset, resend) carry a CSRF token too, bound to a
pre-session cookie, so a foreign page cannot log a browser into another account.
"""
import functools
import hashlib
import hmac
import secrets
from datetime import timedelta
from http.cookies import SimpleCookie

from itsdangerous import BadSignature, URLSafeSerializer

from chalicelib.circles import circles
from chalicelib.core.i18n import _
from chalicelib.core.ids import new_id
from chalicelib.core.settings import get_settings
from chalicelib.models import Session, TableItem, Team, TeamMember

COOKIE_NAME = 'circles_session'
FORM_COOKIE_NAME = 'circles_form'
SESSION_LIFETIME = timedelta(days=14)
ORGANIZER = 'organizer'
MAX_TOKEN_LENGTH = 200        # longer "tokens" are refused before any comparison
MAX_COOKIE_TEAMS = 99         # a BatchGetItem reads at most 100 keys: the session and 99 memberships


@functools.cache
def _serializer():
    return URLSafeSerializer(get_settings().secret_key, salt='circles.session')


def start(user, now=None):
    """Create a session for `user`; returns (session, Set-Cookie header value)."""
    now = now or circles.utcnow()
    session_id = new_id(24)
    memberships = _memberships(user.user_id)
    team_ids = sorted(m.team_id for m in memberships)[:MAX_COOKIE_TEAMS]
    session = Session(*Session.key(session_id), session_id=session_id, user_id=user.user_id, name=user.name,
                      email=user.email, email_confirmed=user.email_confirmed, created_at=now,
                      organizer_team_ids=sorted(m.team_id for m in memberships if m.role == ORGANIZER),
                      expires_at=now + SESSION_LIFETIME, user_pk=f'USER#{user.user_id}',
                      user_sk=f'SESSION#{session_id}')
    session.save(condition=Session.pk.does_not_exist())
    session.team_ids = team_ids
    return session, _session_cookie(session_id, user.user_id, team_ids)


def _session_cookie(session_id, user_id, team_ids):
    value = _serializer().dumps([session_id, user_id, sorted(team_ids)])
    return cookie(value, int(SESSION_LIFETIME.total_seconds()))


def cookie_with_team(session, team_id):
    """Set-Cookie for the same session, naming `team_id` too (the caller just joined it): the
    browser's next request reads that membership with the session. None if it is named already
    or the cookie is full."""
    known = list(getattr(session, 'team_ids', None) or [])
    if team_id in known or len(known) >= MAX_COOKIE_TEAMS:
        return None
    return _session_cookie(session.session_id, session.user_id, known + [team_id])


def _memberships(user_id):
    return list(TeamMember.by_user.query(f'USER#{user_id}', TeamMember.user_sk.startswith('TEAM#')))


def organized_team_ids(user_id):
    """Teams the user organizes now (one Query of `by_user`)."""
    return sorted(m.team_id for m in _memberships(user_id) if m.role == ORGANIZER)


def _cookie(name, value, max_age=None):
    attributes = [f'{name}={value}', 'Path=/', 'HttpOnly', 'SameSite=Lax']
    if max_age is not None:
        attributes.append(f'Max-Age={max_age}')
    if get_settings().secure_cookies:
        attributes.append('Secure')
    return '; '.join(attributes)


def cookie(value, max_age):
    return _cookie(COOKIE_NAME, value, max_age)


def clearing_cookie():
    return cookie('', 0)


def plain_cookie(name, value, max_age):
    """A cookie of a preference (the language), set like the session's."""
    return _cookie(name, value, max_age)


def cookie_value(header, name):
    """The value of cookie `name` in a Cookie header, or None."""
    return _cookie_value(header, name)


def _cookie_value(header, name):
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # noqa: BLE001 - a malformed Cookie header is just "no such cookie"
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None


def from_cookie_header(header, now=None):
    """The live session named by the request's Cookie header, or None.

    One GetItem, or for a team member one BatchGetItem of the session, its teams' membership
    items and the teams themselves. `team_ids` then holds the cookie's teams the user still
    belongs to, `organizer_team_ids` those they organize now (a promotion since login counts),
    and `teams` their [{'team_id', 'name', 'slug', 'role'}] by name, for the pages' links."""
    value = _cookie_value(header, COOKIE_NAME)
    if value is None:
        return None
    try:
        session_id, user_id, team_ids = _serializer().loads(value)
    except (BadSignature, TypeError, ValueError):
        return None
    if team_ids:
        keys = [Session.key(session_id)] + [(f'TEAM#{team_id}', f'MEMBER#{user_id}') for team_id in team_ids]
        found = list(TableItem.batch_get(keys + [Team.key(team_id) for team_id in team_ids]))
        session = next((item for item in found if isinstance(item, Session)), None)
        members = [item for item in found if isinstance(item, TeamMember) and item.user_id == user_id]
        named = {item.team_id: item for item in found if isinstance(item, Team)}
    else:
        try:
            session = Session.get(*Session.key(session_id))
        except Session.DoesNotExist:
            return None
        members, named = [], {}
    if session is None or session.user_id != user_id or session.expires_at <= (now or circles.utcnow()):
        return None
    session.team_ids = sorted(m.team_id for m in members)
    session.organizer_team_ids = sorted(m.team_id for m in members if m.role == ORGANIZER)
    session.teams = sorted(({'team_id': m.team_id, 'name': getattr(named.get(m.team_id), 'name', None) or _('Your team'),
                             'slug': getattr(named.get(m.team_id), 'slug', None), 'role': m.role} for m in members),
                           key=lambda t: (t['name'].lower(), t['team_id']))
    return session


def end(session):
    session.delete()


def revoke_all(user_id):
    """Sign the account out everywhere (password or email change)."""
    with Session.batch_write() as batch:
        for session in Session.by_user.query(f'USER#{user_id}', Session.user_sk.startswith('SESSION#')):
            batch.delete(session)


def _digest(purpose, value):
    return hmac.new(get_settings().secret_key.encode(), f'{purpose}:{value}'.encode(), hashlib.sha256).hexdigest()[:40]


def _same(expected, token):
    """A constant-time comparison that any submitted text survives (a non-ASCII token is just wrong)."""
    if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(expected.encode(), token.encode('utf-8', errors='replace'))


def csrf_token(session):
    return _digest('csrf', session.session_id)


def csrf_ok(session, token):
    return _same(csrf_token(session), token)


# --- anonymous forms: a pre-session cookie and a token bound to it ----------------------

def form_cookie_value(header):
    """The pre-session cookie's value from a Cookie header, or None."""
    value = _cookie_value(header, FORM_COOKIE_NAME)
    return value if value and len(value) <= MAX_TOKEN_LENGTH else None


def new_form_cookie():
    """(value, Set-Cookie header) for a new pre-session cookie; it lasts as long as the browser session."""
    value = secrets.token_urlsafe(24)
    return value, _cookie(FORM_COOKIE_NAME, value)


def form_token(cookie_value):
    return _digest('form-csrf', cookie_value)


def form_token_ok(cookie_value, token):
    return bool(cookie_value) and _same(form_token(cookie_value), token)


# --- where a new account goes after its first login -------------------------------------
# Registering is followed by the confirmation email and then a login, often many minutes later:
# `register?next=` (an invitation, say) is kept in a short-lived cookie that the login page
# falls back to. Its value is checked as any `next` is, when read (auth.safe_next).

NEXT_COOKIE_NAME = 'circles_next'
NEXT_LIFETIME = timedelta(days=7)       # as long as the confirmation link works


def next_cookie(path):
    from urllib.parse import quote
    return _cookie(NEXT_COOKIE_NAME, quote(path, safe=''), int(NEXT_LIFETIME.total_seconds()))


def clearing_next_cookie():
    return _cookie(NEXT_COOKIE_NAME, '', 0)


def next_from_cookie(header):
    """The kept path (not yet checked), or None."""
    from urllib.parse import unquote
    value = _cookie_value(header, NEXT_COOKIE_NAME)
    return unquote(value) if value and len(value) <= 2000 else None
