"""The account pages over HTTP: cookies, CSRF, redirects, and what anonymous visitors get."""
import re

from chalicelib.accounts import accounts
from tests.accounts.test_accounts import PASSWORD, link_in, registered

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


def post(client, path, body, cookie=None):
    headers = dict(FORM, **({'Cookie': cookie} if cookie else {}))
    from urllib.parse import urlencode
    return client.http.post(path, headers=headers, body=urlencode(body))


def log_in(client, email='dee@example.org', password=PASSWORD):
    response = post(client, '/login', {'email': email, 'password': password, 'next': '/dashboard'})
    assert response.status_code == 303, response.body
    return response.headers['Set-Cookie'].split(';')[0]


def csrf_from(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_register_page_flow(client, moto):
    response = post(client, '/register', {'name': 'Dee', 'email': 'dee@example.org', 'password': PASSWORD})
    assert response.status_code == 200 and 'Check your email' in response.body.decode()
    path = link_in(moto, 'dee@example.org', '/confirm')
    assert 'Email confirmed' in client.http.get(path).body.decode()
    assert accounts.user_for_email('dee@example.org').email_confirmed


def test_register_errors_are_shown_in_place(client):
    response = post(client, '/register', {'name': 'Dee', 'email': 'nope', 'password': 'short'})
    page = response.body.decode()
    assert response.status_code == 400
    assert 'id="email-error"' in page and 'id="password-error"' in page and 'value="Dee"' in page


def test_login_sets_a_session_cookie_and_lands_on_the_dashboard(client, moto):
    registered(moto)
    response = post(client, '/login', {'email': 'dee@example.org', 'password': PASSWORD, 'next': '/dashboard'})
    assert response.status_code == 303 and response.headers['Location'] == '/dashboard'
    assert 'HttpOnly' in response.headers['Set-Cookie']
    cookie = response.headers['Set-Cookie'].split(';')[0]
    page = client.http.get('/dashboard', headers={'Cookie': cookie})
    assert page.status_code == 200 and 'Dee Facilitator' in page.body.decode()


def test_login_never_redirects_off_site(client, moto):
    registered(moto)
    for target in ['https://evil.example', '//evil.example', '/\\evil.example']:
        response = post(client, '/login', {'email': 'dee@example.org', 'password': PASSWORD, 'next': target})
        assert response.headers['Location'] == '/dashboard'


def test_failed_login_shows_one_message(client, moto):
    registered(moto)
    response = post(client, '/login', {'email': 'dee@example.org', 'password': 'wrong password'})
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
    response = post(client, '/password/forgot', {'email': 'dee@example.org'})
    assert 'Check your email' in response.body.decode()
    path = link_in(moto, 'dee@example.org', '/password/reset')
    assert client.http.get(path).status_code == 200
    assert post(client, path, {'password': 'short'}).status_code == 400
    assert post(client, path, {'password': 'my new password'}).status_code == 200
    assert post(client, path, {'password': 'another new one'}).status_code == 400      # single use
    assert client.http.get(path).status_code == 400
    assert log_in(client, password='my new password')


def test_forgot_password_answers_the_same_for_unknown_addresses(client, moto):
    registered(moto)
    known = post(client, '/password/forgot', {'email': 'dee@example.org'}).body.decode()
    unknown = post(client, '/password/forgot', {'email': 'nobody@example.org'}).body.decode()
    assert known == unknown
