"""The account pages over HTTP: cookies, CSRF, redirects, and what anonymous visitors get."""
import re

import pytest

from chalicelib.accounts import accounts
from tests.accounts.test_accounts import PASSWORD, link_in, registered

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


def post(client, path, body, cookie=None):
    headers = dict(FORM, **({'Cookie': cookie} if cookie else {}))
    from urllib.parse import urlencode
    return client.http.post(path, headers=headers, body=urlencode(body))


def csrf_from(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


class Visitor:
    """An anonymous browser: it opens a form page first (getting the pre-session cookie and the
    form's token), then posts it, as a real browser does."""
    def __init__(self, client):
        self.client = client
        self.cookie = None

    def open(self, path):
        response = self.client.http.get(path, headers={'Cookie': self.cookie} if self.cookie else {})
        if 'Set-Cookie' in response.headers and self.cookie is None:
            self.cookie = response.headers['Set-Cookie'].split(';')[0]
        return response

    def submit(self, form_path, body, action=None):
        token = csrf_from(self.open(form_path).body.decode())
        return post(self.client, action or form_path, {**body, 'csrf_token': token}, self.cookie)


def form_post(client, path, body, form_path=None):
    """Open the form (at `form_path`, else `path`) in a fresh browser and post it."""
    return Visitor(client).submit(form_path or path, body, action=path)


def log_in(client, email='dee@example.org', password=PASSWORD):
    response = form_post(client, '/login', {'email': email, 'password': password, 'next': '/dashboard'})
    assert response.status_code == 303, response.body
    return response.headers['Set-Cookie'].split(';')[0]


def test_register_page_flow(client, moto):
    response = form_post(client, '/register', {'name': 'Dee', 'email': 'dee@example.org', 'password': PASSWORD})
    assert response.status_code == 200 and 'Check your email' in response.body.decode()
    path = link_in(moto, 'dee@example.org', '/confirm')
    assert 'Email confirmed' in client.http.get(path).body.decode()
    assert accounts.user_for_email('dee@example.org').email_confirmed


def test_register_errors_are_shown_in_place(client):
    response = form_post(client, '/register', {'name': 'Dee', 'email': 'nope', 'password': 'short'})
    page = response.body.decode()
    assert response.status_code == 400
    assert 'id="email-error"' in page and 'id="password-error"' in page and 'value="Dee"' in page


def test_login_sets_a_session_cookie_and_lands_on_the_dashboard(client, moto):
    registered(moto)
    response = form_post(client, '/login', {'email': 'dee@example.org', 'password': PASSWORD, 'next': '/dashboard'})
    assert response.status_code == 303 and response.headers['Location'] == '/dashboard'
    assert 'HttpOnly' in response.headers['Set-Cookie']
    cookie = response.headers['Set-Cookie'].split(';')[0]
    page = client.http.get('/dashboard', headers={'Cookie': cookie})
    assert page.status_code == 200 and 'Dee Facilitator' in page.body.decode()


@pytest.mark.parametrize('target', ['https://evil.example', '//evil.example', '/\\evil.example', '/%09/evil.example',
                                    '/%2F/evil.example', '/%5Cevil.example', '/%252F/evil.example', '/\t/evil.example',
                                    '%2F%2Fevil.example', '/%0a/evil.example', 'javascript:alert(1)', '/ /evil.example'])
def test_login_never_redirects_off_site(client, moto, target):
    registered(moto)
    response = form_post(client, '/login', {'email': 'dee@example.org', 'password': PASSWORD, 'next': target})
    assert response.headers['Location'] == '/dashboard'


@pytest.mark.parametrize('target', ['/facilitate/abc?tab=signups', '/account', '/circles/x%20y'])
def test_login_goes_on_to_a_same_site_path(client, moto, target):
    registered(moto)
    response = form_post(client, '/login', {'email': 'dee@example.org', 'password': PASSWORD, 'next': target})
    assert response.headers['Location'] == target


def test_failed_login_shows_one_message(client, moto):
    registered(moto)
    response = form_post(client, '/login', {'email': 'dee@example.org', 'password': 'wrong password'})
    assert response.status_code == 400 and accounts.WRONG in response.body.decode()


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.http.get('/dashboard')
    assert response.status_code == 303 and response.headers['Location'] == '/login?next=/dashboard'
    assert client.http.get('/account').status_code == 303


def test_a_post_without_the_csrf_token_is_refused(client, moto):
    registered(moto)
    cookie = log_in(client)
    response = post(client, '/account/password', {'current_password': PASSWORD, 'new_password': 'x' * 12}, cookie)
    assert response.status_code == 403
    response = post(client, '/account/password', {'current_password': PASSWORD, 'new_password': 'x' * 12,
                                                  'csrf_token': 'forged'}, cookie)
    assert response.status_code == 403
    assert accounts.log_in('dee@example.org', PASSWORD, '1.1.1.1')     # unchanged


def test_logout_revokes_the_session_server_side(client, moto):
    registered(moto)
    cookie = log_in(client)
    token = csrf_from(client.http.get('/dashboard', headers={'Cookie': cookie}).body.decode())
    response = post(client, '/logout', {'csrf_token': token}, cookie)
    assert response.status_code == 303 and 'Max-Age=0' in response.headers['Set-Cookie']
    # The old cookie value no longer works even if the browser kept it.
    assert client.http.get('/dashboard', headers={'Cookie': cookie}).status_code == 303


def test_changing_password_signs_out_other_devices_but_keeps_this_one(client, moto):
    registered(moto)
    laptop, phone = log_in(client), log_in(client)
    token = csrf_from(client.http.get('/account', headers={'Cookie': laptop}).body.decode())
    response = post(client, '/account/password', {'current_password': PASSWORD, 'new_password': 'a new password!',
                                                  'csrf_token': token}, laptop)
    assert response.status_code == 303
    new_cookie = response.headers['Set-Cookie'].split(';')[0]
    assert client.http.get('/account', headers={'Cookie': new_cookie}).status_code == 200
    assert client.http.get('/account', headers={'Cookie': phone}).status_code == 303
    assert client.http.get('/account', headers={'Cookie': laptop}).status_code == 303


def test_password_reset_pages(client, moto):
    registered(moto)
    response = form_post(client, '/password/forgot', {'email': 'dee@example.org'})
    assert 'Check your email' in response.body.decode()
    path = link_in(moto, 'dee@example.org', '/password/reset')
    browser = Visitor(client)
    assert browser.open(path).status_code == 200
    assert browser.submit(path, {'password': 'short'}).status_code == 400
    weak = browser.submit(path, {'password': 'password123'})
    assert weak.status_code == 400 and 'too easy to guess' in weak.body.decode()
    assert browser.submit(path, {'password': 'my new password'}).status_code == 200
    assert post(client, path, {'password': 'another new one', 'csrf_token': 'x'}, browser.cookie).status_code == 403
    assert browser.open(path).status_code == 400                                   # single use
    assert log_in(client, password='my new password')


def test_forgot_password_answers_the_same_for_unknown_addresses(client, moto):
    registered(moto)
    known = form_post(client, '/password/forgot', {'email': 'dee@example.org'}).body.decode()
    unknown = form_post(client, '/password/forgot', {'email': 'nobody@example.org'}).body.decode()
    assert known == unknown


# --- login CSRF: every anonymous form is bound to a pre-session cookie ------------------

ANONYMOUS_FORMS = [('/login', {'email': 'dee@example.org', 'password': PASSWORD}),
                   ('/register', {'name': 'Mallory', 'email': 'm@example.org', 'password': 'mallory owns this one'}),
                   ('/password/forgot', {'email': 'dee@example.org'}),
                   ('/register/resend', {'email': 'dee@example.org'})]


@pytest.mark.parametrize('path, body', ANONYMOUS_FORMS, ids=[p for p, _ in ANONYMOUS_FORMS])
def test_an_anonymous_form_posted_from_elsewhere_is_refused(client, moto, path, body):
    """A foreign page can post the form, but it cannot read the visitor's pre-session cookie:
    with no token, a forged one, or the attacker's own token, nothing happens."""
    registered(moto)
    sent_before = len(moto.sent_emails())
    attacker, victim = Visitor(client), Visitor(client)
    attackers_token = csrf_from(attacker.open(path).body.decode())
    victim.open('/')
    victim.open(path)
    for cookie, token in [(None, None), (victim.cookie, None), (victim.cookie, 'forged'),
                          (victim.cookie, attackers_token), (None, attackers_token)]:
        response = post(client, path, {**body, **({'csrf_token': token} if token else {})}, cookie)
        assert response.status_code == 403, (cookie, token)
        assert 'circles_session=' not in response.headers.get('Set-Cookie', '')
    assert len(moto.sent_emails()) == sent_before
    assert accounts.user_for_email('m@example.org') is None


def test_the_pre_session_cookie_is_httponly_and_lax(client):
    response = client.http.get('/login')
    cookie = response.headers['Set-Cookie']
    assert cookie.startswith('circles_form=') and 'HttpOnly' in cookie and 'SameSite=Lax' in cookie
    assert 'Secure' not in cookie            # the local stage only; every other stage adds it
    assert 'circles_form=' in response.headers['Set-Cookie']
    again = client.http.get('/login', headers={'Cookie': cookie.split(';')[0]})
    assert 'Set-Cookie' not in again.headers                # kept, not replaced
    assert csrf_from(again.body.decode()) == csrf_from(response.body.decode())


@pytest.mark.parametrize('token', ['é' * 40, '\u2603', '\U0001f600' * 10, 'a' * 5000])
def test_a_non_ascii_or_huge_csrf_token_is_refused_with_403(client, moto, token):
    registered(moto)
    cookie = log_in(client)
    response = post(client, '/account/password', {'current_password': PASSWORD, 'new_password': 'x' * 12,
                                                  'csrf_token': token}, cookie)
    assert response.status_code == 403
    visitor = Visitor(client)
    visitor.open('/login')
    assert post(client, '/login', {'email': 'dee@example.org', 'password': PASSWORD, 'csrf_token': token},
                visitor.cookie).status_code == 403


def test_a_login_email_over_two_kilobytes_re_renders_the_form(client, moto):
    huge = 'a' * 2100 + '@example.org'
    response = form_post(client, '/login', {'email': huge, 'password': PASSWORD})
    assert response.status_code == 400 and accounts.WRONG in response.body.decode()
    register = form_post(client, '/register', {'name': 'Dee', 'email': huge, 'password': PASSWORD})
    assert register.status_code == 400 and 'too long' in register.body.decode()


def test_a_throttled_login_answers_429_with_retry_after(client, moto):
    registered(moto)
    for _ in range(accounts.FREE_FAILURES + 1):
        form_post(client, '/login', {'email': 'dee@example.org', 'password': 'wrong password'})
    response = form_post(client, '/login', {'email': 'dee@example.org', 'password': PASSWORD})
    assert response.status_code == 429 and int(response.headers['Retry-After']) >= 1
    assert 'Too many failed attempts' in response.body.decode() and 'Set-Cookie' not in response.headers


def test_the_login_page_offers_to_resend_the_confirmation(client, moto):
    accounts.register('Dee Facilitator', 'dee@example.org', PASSWORD)
    assert 'href="/register/resend"' in client.http.get('/login').body.decode()
    response = form_post(client, '/register/resend', {'email': 'dee@example.org'})
    assert response.status_code == 200 and 'new confirmation link' in response.body.decode()
    unknown = form_post(client, '/register/resend', {'email': 'nobody@example.org'})
    assert unknown.body.decode() == response.body.decode()
    assert [m['To'] for m in moto.sent_emails() if 'Confirm' in m['Subject']] == ['dee@example.org'] * 2
    assert 'Email confirmed' in client.http.get(link_in(moto, 'dee@example.org', '/confirm')).body.decode()


def test_weak_passwords_are_refused_on_the_register_page(client):
    response = form_post(client, '/register', {'name': 'Dee', 'email': 'dee@example.org', 'password': 'password123'})
    page = response.body.decode()
    assert response.status_code == 400 and 'id="password-error"' in page and 'too easy to guess' in page
    assert accounts.user_for_email('dee@example.org') is None


def test_undoing_an_email_change_from_the_old_inbox(client, moto):
    user = registered(moto)
    accounts.change_email(user, PASSWORD, 'intruder@example.org')
    accounts.confirm_email(link_in(moto, 'intruder@example.org', '/confirm').rsplit('/', 1)[1])
    intruder = log_in(client, 'intruder@example.org')
    path = link_in(moto, 'dee@example.org', '/account/email/undo')
    browser = Visitor(client)
    page = browser.open(path)
    assert page.status_code == 200 and 'dee@example.org' in page.body.decode()
    assert accounts.get_user(user.user_id).email == 'intruder@example.org'       # a GET changes nothing
    response = browser.submit(path, {})
    assert response.status_code == 303 and response.headers['Location'].startswith('/password/reset/')
    assert client.http.get('/account', headers={'Cookie': intruder}).status_code == 303
    reset = response.headers['Location']
    assert browser.submit(reset, {'password': 'the owner is back again'}).status_code == 200
    assert log_in(client, 'dee@example.org', 'the owner is back again')
    assert browser.open(path).status_code == 200 and browser.submit(path, {}).status_code == 400   # once only


def test_the_login_pages_register_link_keeps_next_so_an_invitee_comes_back(client):
    page = client.http.get('/login?next=/teams/invitations/abc').body.decode()
    assert 'href="/register?next=/teams/invitations/abc"' in page or \
        'href="/register?next=%2Fteams%2Finvitations%2Fabc"' in page
    assert 'href="/register">' in client.http.get('/login').body.decode()
