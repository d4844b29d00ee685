"""The team widget on a partner's website, in real Chromium: the organizer's snippet pasted into
a page of another site (localhost, while the app is 127.0.0.1: another origin and another site,
so the browser sends the app no cookie inside the iframe), resized by our script through
`postMessage`, and a learner signing up inside the frame."""
import threading
from urllib.parse import urlsplit
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from chalicelib.core.settings import get_settings
from chalicelib.models import Signup
from chalicelib.teams import team_page, teams
from tests.facilitators.test_facilitator_pages import account
from tests.support.browser import VIEWPORTS, browser, live_server, screenshot  # noqa: F401 - fixtures by name
from tests.support.factories import make_circle

pytestmark = pytest.mark.browser


@pytest.fixture
def partner_page(browser, live_server, partner_site):
    """A phone's page that may ask only the partner site and the app for anything."""
    hosts = {urlsplit(live_server.url).netloc, urlsplit(partner_site[1]).netloc}
    requests, contexts = [], []

    def open_(viewport='phone'):
        context = browser.new_context(viewport=VIEWPORTS[viewport])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on('request', lambda request: requests.append(request.url))
        return page
    yield open_
    for context in contexts:
        context.close()
    assert [url for url in requests if urlsplit(url).scheme in ('http', 'https')
            and urlsplit(url).netloc not in hosts] == []


@pytest.fixture
def partner_site(tmp_path):
    """A website of another origin: one page, served from `tmp_path` on its own port."""
    server = ThreadingHTTPServer(('127.0.0.1', 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f'http://localhost:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_a_learner_signs_up_through_the_widget_on_another_site(partner_page, live_server, partner_site):
    folder, origin = partner_site
    organizer = account('Olu Organizer')
    team = teams.create_team('Riverside Libraries', organizer.email, slug='riverside').team
    circle = make_circle(name='Python at Riverside', team_id=team.team_id)
    snippet = team_page.embed_snippet(team).replace(get_settings().public_base_url, live_server.url)
    (folder / 'index.html').write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Riverside Libraries</title></head>'
        f'<body><main><h1>Our library</h1><p>Join a free study group:</p>{snippet}</main></body></html>')

    page = partner_page('phone')
    page.goto(f'{origin}/index.html')
    frame = page.frame_locator('iframe[data-circles-embed]')
    expect(frame.get_by_role('heading', name='Learning circles of Riverside Libraries')).to_be_visible()
    # Our script resized the frame to its content (it starts at EMBED_HEIGHT).
    page.wait_for_function("document.querySelector('iframe').style.height.endsWith('px')")
    screenshot(page, 'widget-partner-page', 'phone')

    frame.get_by_role('link', name='Sign up').first.click()
    expect(frame.get_by_role('heading', name='Python at Riverside')).to_be_visible()
    frame.get_by_label('Your name').fill('Lea Learner')
    frame.get_by_label('Email').fill('lea@example.org')
    frame.get_by_label('I consent', exact=False).check()
    frame.get_by_role('button', name='Sign up').click()
    expect(frame.get_by_role('heading', name='Thank you!')).to_be_visible()
    page.wait_for_function("document.querySelector('iframe').style.height.endsWith('px')")
    screenshot(page, 'widget-signed-up', 'phone')

    signups = list(Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#')))
    assert [(s.name, s.email) for s in signups] == [('Lea Learner', 'lea@example.org')]


def test_the_team_page_itself_refuses_to_be_framed_by_another_site(partner_page, live_server, partner_site):
    folder, origin = partner_site
    organizer = account('Olu Organizer')
    team = teams.create_team('Riverside Libraries', organizer.email, slug='riverside').team
    make_circle(name='Python at Riverside', team_id=team.team_id)
    (folder / 'framed.html').write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Framing</title></head><body>'
        f'<iframe title="page" src="{live_server.url}/teams/{team.slug}"></iframe>'
        f'<iframe title="widget" src="{live_server.url}/teams/{team.slug}/embed"></iframe></body></html>')
    page = partner_page('desktop')
    page.goto(f'{origin}/framed.html')
    widget = page.frame_locator('iframe[title=widget]')
    expect(widget.get_by_role('heading', name='Learning circles of Riverside Libraries')).to_be_visible()
    # The page's answer says frame-ancestors 'none': Chromium shows an error page in its frame.
    framed = page.frame_locator('iframe[title=page]')
    expect(framed.get_by_text('Python at Riverside')).to_have_count(0)
