"""Login CSRF in real Chromium: a foreign page that posts the login form with the attacker's
credentials (and the attacker's own form token) does not sign the visitor into the attacker's
account, while the site's own login form still works in the same browser."""
import html
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.facilitators.test_facilitator_pages import PASSWORD, account
from tests.support.browser import browser, live_server  # noqa: F401 - fixtures are found by name

pytestmark = pytest.mark.browser


def attackers_form_token(live_server):
    """The attacker opens the login page with their own browser: token and cookie are theirs."""
    with urllib.request.urlopen(f'{live_server.url}/login', timeout=10) as response:
        return re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode()).group(1)


def serve_foreign_page(body):
    """A page on another site (`localhost`, not the app's `127.0.0.1`); returns (url, server)."""
    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(('127.0.0.1', 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f'http://localhost:{server.server_address[1]}/', server


def test_a_foreign_page_cannot_log_chromium_into_another_account(browser, live_server):
    attacker = account('Mallory Attacker', 'mallory@example.org')
    account('Vic Victim', 'vic@example.org')
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto('/login')                        # the visitor has the site's pre-session cookie
    fields = {'email': attacker.email, 'password': PASSWORD, 'next': '/dashboard',
              'csrf_token': attackers_form_token(live_server)}
    inputs = ''.join(f'<input type="hidden" name="{name}" value="{html.escape(value)}">' for name, value in fields.items())
    foreign, server = serve_foreign_page(f'<form method="post" action="{live_server.url}/login">{inputs}</form>'
                                         '<script>document.forms[0].submit()</script>')
    try:
        page.goto(foreign)
        page.wait_for_url(f'{live_server.url}/login')
        expect(page.locator('h1')).to_have_text('This form has expired')
    finally:
        server.shutdown()
    assert not [c for c in context.cookies() if c['name'] == 'circles_session']
    page.goto('/dashboard')
    assert '/login' in page.url                 # not signed in as anyone

    page.get_by_label('Email').fill('vic@example.org')
    page.get_by_label('Password').fill(PASSWORD)
    page.get_by_role('button', name='Log in').click()
    page.wait_for_url('**/dashboard')
    expect(page.locator('h1')).to_have_text('Hello, Vic Victim')
    context.close()
