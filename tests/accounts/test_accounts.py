"""Accounts: registration, confirmation, login throttling, password reset and changes, sessions."""
import re
from datetime import timedelta

import pytest

from chalicelib.accounts import accounts
from chalicelib.circles import circles
from chalicelib.core import links
from chalicelib.accounts import sessions
from chalicelib.core.errors import ValidationFailed
from chalicelib.models import LoginThrottle, Session, TableItem
from chalicelib.models.rate_limits import hashed

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


def test_failures_slow_down_only_the_client_that_makes_them(moto, time_machine):
    registered(moto)
    time_machine.move_to('2026-12-01T10:00:00+00:00', tick=False)
    for _ in range(accounts.FREE_FAILURES + 1):
        with pytest.raises(accounts.LoginRefused, match='do not match'):
            accounts.log_in('dee@example.org', 'wrong password', '6.6.6.6')
    with pytest.raises(accounts.LoginThrottled, match='wait 2 seconds') as throttled:
        accounts.log_in('dee@example.org', PASSWORD, '6.6.6.6')         # even the right password
    assert throttled.value.retry_after == 2
    assert accounts.log_in('dee@example.org', PASSWORD, '10.0.0.1')    # the owner, elsewhere, is never locked out
    time_machine.move_to('2026-12-01T10:00:02+00:00', tick=False)
    assert accounts.log_in('dee@example.org', PASSWORD, '6.6.6.6')


def test_each_further_failure_doubles_the_wait_up_to_fifteen_minutes(moto, time_machine):
    registered(moto)
    now = circles.utcnow().replace(microsecond=0)
    time_machine.move_to(now, tick=False)
    waits = []
    while len(waits) < 6:
        try:
            accounts.log_in('dee@example.org', 'wrong password', '6.6.6.6')
        except accounts.LoginThrottled as error:    # refused unchecked: no failure counted
            waits.append(error.retry_after)
            now += timedelta(seconds=error.retry_after)
            time_machine.move_to(now, tick=False)
        except accounts.LoginRefused:
            pass
    assert waits == [2, 4, 8, 16, 32, 64]
    assert accounts.login_delay(40) == accounts.login_delay(10_000) == accounts.MAX_DELAY == timedelta(minutes=15)


def test_concurrent_guesses_cannot_slip_past_the_wait(moto, time_machine):
    from concurrent.futures import ThreadPoolExecutor
    registered(moto)
    time_machine.move_to('2026-12-01T10:00:00+00:00', tick=False)
    for _ in range(accounts.FREE_FAILURES):
        with pytest.raises(accounts.LoginRefused):
            accounts.log_in('dee@example.org', 'wrong password', '6.6.6.6')

    def guess(n):
        try:
            accounts.log_in('dee@example.org', f'guess number {n}', '6.6.6.6')
        except accounts.LoginThrottled:
            return 'throttled'
        except accounts.LoginRefused:
            return 'checked'
    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(guess, range(8)))
    assert outcomes == ['checked'] + ['throttled'] * 7


def test_a_password_reset_is_never_throttled_and_clears_every_wait(moto, time_machine):
    registered(moto)
    time_machine.move_to('2026-12-01T10:00:00+00:00', tick=False)
    for ip in ('6.6.6.6', '7.7.7.7'):
        for _ in range(accounts.FREE_FAILURES + 3):
            with pytest.raises(accounts.LoginRefused):
                accounts.log_in('dee@example.org', 'wrong password', ip)
    with pytest.raises(accounts.LoginThrottled):
        accounts.log_in('dee@example.org', PASSWORD, '6.6.6.6')
    accounts.request_password_reset('dee@example.org')
    token = token_of(link_in(moto, 'dee@example.org', '/password/reset'))
    accounts.set_password(accounts.user_for_reset_token(token), 'a brand new password')
    for ip in ('6.6.6.6', '7.7.7.7'):
        assert accounts.log_in('dee@example.org', 'a brand new password', ip)


def test_twenty_failures_from_one_client_stop_that_client(moto, time_machine):
    registered(moto)
    time_machine.move_to('2026-12-01T10:00:00+00:00', tick=False)
    for n in range(accounts.CLIENT_FAILURES):
        with pytest.raises(accounts.LoginRefused):
            accounts.log_in(f'guess{n}@example.org', 'wrong password', '6.6.6.6')
    with pytest.raises(accounts.LoginThrottled, match='15 minutes'):
        accounts.log_in('dee@example.org', PASSWORD, '6.6.6.6')
    assert accounts.log_in('dee@example.org', PASSWORD, '7.7.7.7')


def test_throttle_items_name_no_address_and_expire_with_ttl(moto):
    with pytest.raises(accounts.LoginRefused):
        accounts.log_in('x@example.org', 'nope nope nope', '1.1.1.1')
    throttles = [item for item in TableItem.query('THROTTLE#account#' + hashed('login\nx@example.org'))]
    throttles += list(LoginThrottle.query('THROTTLE#client#' + hashed('login\n1.1.1.1')))
    assert len(throttles) == 2 and all(t.expires_at > circles.utcnow() for t in throttles)
    assert not any('x@example.org' in t.pk + t.sk or '1.1.1.1' in t.pk + t.sk for t in throttles)


def test_a_login_email_over_two_kilobytes_is_refused_like_a_wrong_password(moto):
    huge = 'a' * 2100 + '@example.org'
    with pytest.raises(accounts.LoginRefused) as refused:
        accounts.log_in(huge, PASSWORD, '1.2.3.4')
    assert refused.value.message == accounts.WRONG
    with pytest.raises(ValidationFailed) as invalid:
        accounts.register('Dee', huge, PASSWORD)
    assert 'too long' in invalid.value.errors['email'][0]


@pytest.mark.parametrize('password', ['password123', 'Password123!', 'qwertyuiop', '1234567890', 'iloveyou12',
                                      'letmein2024', 'abcdefghij', 'xxxxxxxxxxxx'])
def test_common_passwords_are_refused_with_a_clear_message(password):
    with pytest.raises(ValidationFailed) as error:
        accounts.register('Dee Facilitator', 'dee@example.org', password)
    assert error.value.errors['password'] == [accounts.WEAK_PASSWORD]


def test_a_password_made_of_the_persons_own_name_and_address_is_refused():
    with pytest.raises(ValidationFailed) as error:
        accounts.register('Gwendolyn Brooks', 'gwendolyn.brooks@example.org', 'GwendolynBrooks')
    assert error.value.errors['password'] == [accounts.WEAK_PASSWORD]


def test_new_passwords_are_checked_on_change_and_reset_too(moto):
    user = registered(moto)
    with pytest.raises(ValidationFailed) as changed:
        accounts.change_password(user, PASSWORD, 'password123')
    assert changed.value.errors == {'new_password': [accounts.WEAK_PASSWORD]}
    with pytest.raises(ValidationFailed) as reset:
        accounts.set_password(user, 'password123')
    assert reset.value.errors == {'password': [accounts.WEAK_PASSWORD]}
    assert accounts.log_in('dee@example.org', PASSWORD, '1.2.3.4')


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


def test_password_change_voids_pending_email_changes_and_reset_links(moto):
    user = registered(moto)
    accounts.change_email(user, PASSWORD, 'intruder@example.org')
    accounts.request_password_reset('dee@example.org')
    change_link = token_of(link_in(moto, 'intruder@example.org', '/confirm'))
    reset_link = token_of(link_in(moto, 'dee@example.org', '/password/reset'))
    accounts.change_password(accounts.get_user(user.user_id), PASSWORD, 'the owner took it back')
    with pytest.raises(links.BadLink):
        accounts.confirm_email(change_link)
    with pytest.raises(links.BadLink):
        accounts.user_for_reset_token(reset_link)
    assert accounts.get_user(user.user_id).email == 'dee@example.org'
    assert accounts.user_for_email('intruder@example.org') is None


def test_an_email_change_tells_the_old_address_with_a_way_to_undo_it(moto):
    user = registered(moto)
    _, cookie = sessions.start(user)
    accounts.change_email(user, PASSWORD, 'intruder@example.org')
    accounts.confirm_email(token_of(link_in(moto, 'intruder@example.org', '/confirm')))
    [notice] = [m for m in moto.sent_emails() if m['To'] == 'dee@example.org' and 'was changed' in m['Subject']]
    assert 'intruder@example.org' in notice.get_body(('plain',)).get_content()
    _, intruder_cookie = sessions.start(accounts.get_user(user.user_id))
    undo = token_of(link_in(moto, 'dee@example.org', '/account/email/undo'))

    restored, reset_token = accounts.undo_email_change(undo)
    assert restored.email == 'dee@example.org' and restored.email_confirmed
    assert accounts.user_for_email('dee@example.org').user_id == user.user_id
    assert accounts.user_for_email('intruder@example.org') is None
    assert sessions.from_cookie_header(intruder_cookie.split(';')[0]) is None      # signed out everywhere
    with pytest.raises(accounts.LoginRefused):
        accounts.log_in('dee@example.org', PASSWORD, '1.2.3.4')                      # the known password is void
    accounts.set_password(accounts.user_for_reset_token(reset_token), 'the owner is back again')
    assert accounts.log_in('dee@example.org', 'the owner is back again', '1.2.3.4').user_id == user.user_id
    with pytest.raises(links.BadLink):
        accounts.undo_email_change(undo)                                            # once only


def test_undo_still_works_after_the_intruder_changes_the_password(moto):
    user = registered(moto)
    accounts.change_email(user, PASSWORD, 'intruder@example.org')
    accounts.confirm_email(token_of(link_in(moto, 'intruder@example.org', '/confirm')))
    accounts.change_password(accounts.get_user(user.user_id), PASSWORD, 'the intruder locks it')
    restored, _ = accounts.undo_email_change(token_of(link_in(moto, 'dee@example.org', '/account/email/undo')))
    assert restored.email == 'dee@example.org'
    with pytest.raises(accounts.LoginRefused):
        accounts.log_in('dee@example.org', 'the intruder locks it', '1.2.3.4')


def test_resending_the_confirmation_reaches_only_unconfirmed_accounts(moto):
    accounts.register('Dee Facilitator', 'dee@example.org', PASSWORD)
    registered(moto, 'ada@example.org')
    for address in ('dee@example.org', 'ada@example.org', 'nobody@example.org'):
        accounts.resend_confirmation(address, '1.2.3.4')
    confirmations = [m['To'] for m in moto.sent_emails() if 'Confirm' in m['Subject']]
    assert confirmations.count('dee@example.org') == 2 and confirmations.count('ada@example.org') == 1
    assert 'nobody@example.org' not in confirmations
    accounts.confirm_email(token_of(link_in(moto, 'dee@example.org', '/confirm')))
    assert accounts.user_for_email('dee@example.org').email_confirmed


def test_resending_the_confirmation_is_rate_limited_per_address(moto):
    from chalicelib.models.rate_limits import RateLimited
    accounts.register('Dee Facilitator', 'dee@example.org', PASSWORD)
    for n in range(accounts.RESENDS_PER_ADDRESS.allowed):
        accounts.resend_confirmation('dee@example.org', f'10.0.0.{n}')
    with pytest.raises(RateLimited):
        accounts.resend_confirmation('dee@example.org', '10.0.1.1')


def test_checking_an_account_link_does_not_depend_on_import_order():
    """A fresh interpreter that never imported chalicelib.accounts checks each account link."""
    import os
    import subprocess
    import sys
    code = ("from chalicelib.core import links\n"
            "for purpose in (links.CONFIRM_EMAIL, links.RESET_PASSWORD, links.UNDO_EMAIL_CHANGE, links.DETAILS):\n"
            "    assert links.unsign(purpose, links.sign(purpose, {'u': 'x'})) == {'u': 'x'}\n"
            "import sys; assert 'chalicelib.accounts' not in sys.modules\n")
    subprocess.run([sys.executable, '-c', code], check=True, env=dict(os.environ), timeout=60)


def test_a_session_item_unknown_to_the_cookie_user_is_refused(moto):
    """The signed cookie names the user too: a session item of another account never matches."""
    user = registered(moto)
    session, cookie = sessions.start(user)
    assert sessions.from_cookie_header(cookie.split(';')[0]).user_id == user.user_id
    Session(*Session.key(session.session_id), session_id=session.session_id, user_id='someone-else', name='X',
            email='x@example.org', expires_at=session.expires_at).save()
    assert sessions.from_cookie_header(cookie.split(';')[0]) is None
