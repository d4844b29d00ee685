"""The pages about the site: privacy, about, and "Run a circle" for a newcomer; every footer
and the signup form's consent link to them."""
import re

import pytest

from chalicelib.core.settings import get_settings
from tests.support.factories import make_circle


def get(client, path, **headers):
    response = client.http.get(path, headers=headers)
    return response, response.body.decode()


@pytest.mark.parametrize('path, heading', [('/privacy', 'Your privacy'), ('/about', 'About learning circles'),
                                           ('/run-a-circle', 'Run a learning circle')])
def test_the_site_pages_answer_html(client, path, heading):
    response, page = get(client, path)
    assert response.status_code == 200
    assert response.headers['Content-Type'].startswith('text/html')
    assert f'<h1>{heading}</h1>' in page


def test_the_privacy_page_says_what_is_stored_why_for_how_long_and_how_to_get_or_erase_it(client):
    _, page = get(client, '/privacy')
    for section in ('What we store', 'Why', 'For how long', 'How to get or erase your data'):
        assert f'>{section}</h2>' in page
    support = get_settings().support_email
    assert f'<a href="mailto:{support}">{support}</a>' in page
    assert 'leave the circle' in page and 'erases your details' in page


def test_every_page_footer_links_to_the_privacy_and_about_pages(client):
    circle = make_circle()
    for path in ('/', f'/circles/{circle.id}', '/privacy', '/login', '/no-such-page'):
        _, page = get(client, path)
        footer = page.split('<footer', 1)[1]
        assert 'href="/privacy"' in footer and 'href="/about"' in footer, path


def test_the_signup_consent_links_to_the_privacy_page(client):
    circle = make_circle()
    _, page = get(client, f'/circles/{circle.id}')
    consent = re.search(r'<label for="consent">(.*?)</label>', page, re.S).group(1)
    assert 'href="/privacy"' in consent


def test_run_a_circle_shows_a_newcomer_what_facilitating_means_with_register_and_login(client):
    _, browse = get(client, '/')
    nav = browse.split('<nav class="account"', 1)[1].split('</nav>', 1)[0]
    assert 'href="/run-a-circle">Run a circle</a>' in nav and '/dashboard' not in nav
    response, page = get(client, '/run-a-circle')
    assert 'What a facilitator does' in page
    assert '<a class="button" href="/register">' in page and 'href="/login' in page


def test_the_privacy_page_states_the_configured_retention_and_links_the_self_service_pages(client, monkeypatch):
    import dataclasses

    from chalicelib.core import settings
    configured = dataclasses.replace(settings.get_settings(), retention_days=120)
    monkeypatch.setattr(settings, 'get_settings', lambda: configured)
    _, page = get(client, '/privacy')
    assert "120 days after the circle's last meeting" in page and '90 days after' not in page
    assert 'href="/my-data"' in page and 'href="/account"' in page
