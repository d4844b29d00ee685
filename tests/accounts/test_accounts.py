"""Accounts: registration, confirmation, login throttling, password reset and changes, sessions."""
import re
from datetime import timedelta

import pytest

from chalicelib.accounts import accounts
from chalicelib.circles import circles
from chalicelib.core import links
from chalicelib.accounts import sessions
from chalicelib.core.errors import ValidationFailed
from chalicelib.models import LoginThrottle

PASSWORD = 'correct horse battery'


def link_in(moto, to, path):
    [message] = [m for m in moto.sent_emails() if m['To'] == to and path in m.get_body(('plain',)).get_content()][-1:]
    text = message.get_body(preferencelist=('plain',)).get_content()
    return re.search(rf'http://circles\.test({path}/\S+)', text).group(1)


def token_of(path):
    return path.rsplit('/', 1)[1]


def registered(moto, email='dee@example.org', confirm=True):
    user = accounts.register('Dee Facilitator', email, PASSWORD)
    if confirm:
        accounts.confirm_email(token_of(link_in(moto, email, '/confirm')))
    return accounts.get_user(user.user_id)


def test_register_hashes_with_argon2id_and_needs_confirmation(moto):
    user = accounts.register('Dee Facilitator', 'Dee@Example.org', PASSWORD)
    assert user.password_hash.startswith('$argon2id$') and PASSWORD not in user.password_hash
    assert user.email == 'dee@example.org' and user.email_confirmed is False
    confirmed = accounts.confirm_email(token_of(link_in(moto, 'dee@example.org', '/confirm')))
    assert confirmed.email_confirmed is True


@pytest.mark.parametrize('name, email, password, field', [
    ('', 'a@example.org', PASSWORD, 'name'),
    ('Al', 'not-an-email', PASSWORD, 'email'),
    ('Al', 'a@example.org', 'short', 'password'),
])
def test_register_validates_each_field(name, email, password, field):
    with pytest.raises(ValidationFailed) as error:
        accounts.register(name, email, password)
    assert field in error.value.errors


def test_registering_a_taken_address_reveals_nothing_and_tells_the_owner(moto):
    registered(moto)
    assert accounts.register('Someone Else', 'dee@example.org', 'another password!') is None
    last = moto.sent_emails()[-1]
    assert last['To'] == 'dee@example.org' and 'already have' in last['Subject']
    assert accounts.log_in('dee@example.org', PASSWORD, '1.2.3.4').name == 'Dee Facilitator'


def test_login_refuses_wrong_passwords_and_unknown_addresses_alike(moto):
    registered(moto)
    with pytest.raises(accounts.LoginRefused) as wrong:
        accounts.log_in('dee@example.org', 'wrong password', '1.2.3.4')
    with pytest.raises(accounts.LoginRefused) as unknown:
        accounts.log_in('nobody@example.org', 'wrong password', '1.2.3.4')
    assert wrong.value.message == unknown.value.message


def test_five_failures_lock_the_account_for_the_window(moto, time_machine):
    registered(moto)
    time_machine.move_to('2026-12-01T10:00:00+00:00', tick=False)
    for _ in range(5):
        with pytest.raises(accounts.LoginRefused):
            accounts.log_in('dee@example.org', 'wrong password', f'10.0.0.{_}')
    with pytest.raises(accounts.LoginRefused, match='Too many'):
        accounts.log_in('dee@example.org', PASSWORD, '10.0.0.99')     # even the right password
    time_machine.move_to('2026-12-01T10:15:01+00:00', tick=False)
    assert accounts.log_in('dee@example.org', PASSWORD, '10.0.0.99')


def test_twenty_failures_from_one_client_lock_that_client(moto, time_machine):
    registered(moto)
    time_machine.move_to('2026-12-01T10:00:00+00:00', tick=False)
    for n in range(20):
        with pytest.raises(accounts.LoginRefused):
            accounts.log_in(f'guess{n}@example.org', 'wrong password', '6.6.6.6')
    with pytest.raises(accounts.LoginRefused, match='Too many'):
        accounts.log_in('dee@example.org', PASSWORD, '6.6.6.6')
    assert accounts.log_in('dee@example.org', PASSWORD, '7.7.7.7')


def test_throttle_items_expire_with_ttl(moto):
    with pytest.raises(accounts.LoginRefused):
        accounts.log_in('x@example.org', 'nope nope nope', '1.1.1.1')
    keys = accounts._throttle_keys('x@example.org', '1.1.1.1', circles.utcnow())
    throttles = list(LoginThrottle.batch_get(list(keys.values())))
    assert len(throttles) == 2 and all(t.expires_at > circles.utcnow() for t in throttles)


def test_password_reset_link_is_single_use_and_expires(moto, time_machine):
    user = registered(moto)
    accounts.request_password_reset('dee@example.org')
    token = token_of(link_in(moto, 'dee@example.org', '/password/reset'))
    assert accounts.user_for_reset_token(token).user_id == user.user_id
    accounts.set_password(accounts.user_for_reset_token(token), 'a brand new password')
    with pytest.raises(links.BadLink):
        accounts.user_for_reset_token(token)                      # reused
    assert accounts.log_in('dee@example.org', 'a brand new password', '1.2.3.4')
    accounts.request_password_reset('dee@example.org')
    token = token_of(link_in(moto, 'dee@example.org', '/password/reset'))
    time_machine.move_to(circles.utcnow() + timedelta(hours=1, minutes=1))
    with pytest.raises(links.BadLink):
        accounts.user_for_reset_token(token)                      # expired


def test_reset_for_an_unknown_address_sends_nothing(moto):
    accounts.request_password_reset('nobody@example.org')
    assert moto.sent_emails() == []


def test_password_change_revokes_every_session(moto):
    user = registered(moto)
    first, cookie_one = sessions.start(user)
    second, cookie_two = sessions.start(user)
    header = cookie_one.split(';')[0]
    assert sessions.from_cookie_header(header).session_id == first.session_id
    accounts.change_password(user, PASSWORD, 'another long password')
    assert sessions.from_cookie_header(header) is None
    assert sessions.from_cookie_header(cookie_two.split(';')[0]) is None


def test_change_email_moves_the_account_after_confirmation(moto):
    user = registered(moto)
    accounts.change_email(user, PASSWORD, 'dee.new@example.org')
    assert accounts.user_for_email('dee.new@example.org') is None
    moved = accounts.confirm_email(token_of(link_in(moto, 'dee.new@example.org', '/confirm')))
    assert moved.email == 'dee.new@example.org' and moved.email_confirmed
    assert accounts.user_for_email('dee@example.org') is None
    assert accounts.log_in('dee.new@example.org', PASSWORD, '1.2.3.4').user_id == user.user_id


def test_session_cookie_is_signed_httponly_and_lax(moto):
    user = registered(moto)
    _, set_cookie = sessions.start(user)
    assert 'HttpOnly' in set_cookie and 'SameSite=Lax' in set_cookie and 'Path=/' in set_cookie
    assert 'Secure' not in set_cookie            # local stage only; every other stage adds it
    value = set_cookie.split(';')[0]
    assert sessions.from_cookie_header(value[:-2] + 'xx') is None
    assert sessions.from_cookie_header('circles_session=forged') is None


def test_sessions_expire(moto, time_machine):
    user = registered(moto)
    _, set_cookie = sessions.start(user)
    time_machine.move_to(circles.utcnow() + sessions.SESSION_LIFETIME + timedelta(minutes=1))
    assert sessions.from_cookie_header(set_cookie.split(';')[0]) is None
