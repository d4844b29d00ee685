"""What the browser tests share: Debian's Chromium through Playwright, the live app server,
and the checks every page must pass (no sideways scrolling on a 360 px phone, no serious
axe findings, a screenshot for a person to look at, no request to any other host).

Test modules import the fixtures they use (`live_server`, `browser`, `open_page`) by name,
which is how pytest finds fixtures defined outside the module and conftest.py.
"""
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.live_server import LiveServer

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / 'test-output' / 'screenshots'
VIEWPORTS = {'phone': {'width': 360, 'height': 740}, 'desktop': {'width': 1280, 'height': 900}}
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--disable-quic']
BLOCKING_IMPACTS = ('serious', 'critical')


@pytest.fixture(scope='module')
def live_server():
    server = LiveServer()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def browser():
    """One Chromium for the module; Playwright's `launch` gives it a fresh temporary profile."""
    from playwright.sync_api import sync_playwright
    executable = shutil.which('chromium')
    if not executable:
        pytest.fail("Debian's chromium is not installed: run `make chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    """Open a page at a viewport size; after the test, fail if it asked any other host for anything."""
    requests = []
    contexts = []

    def open_(viewport='desktop', javascript=True):
        context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=live_server.url,
                                      java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on('request', lambda request: requests.append(request.url))
        return page

    yield open_
    for context in contexts:
        context.close()
    assert requests, 'the browser made no requests at all'
    foreign = foreign_requests(requests, live_server)
    assert not foreign, f'the pages asked other hosts for: {foreign}'


def foreign_requests(urls, live_server):
    """The network requests among `urls` that went anywhere but the live server (data: and
    blob: URLs never leave the browser)."""
    local = urlsplit(live_server.url).netloc
    return [url for url in urls if urlsplit(url).scheme in ('http', 'https', 'ws', 'wss')
            and urlsplit(url).netloc != local]


def check_page(page, name, viewport):
    """What every page must pass: no sideways scrolling, no serious axe findings; then a photo."""
    page.wait_for_load_state('load')
    assert_no_sideways_scrolling(page, name, viewport)
    assert_no_serious_accessibility_violations(page, name)
    screenshot(page, name, viewport)


def assert_no_sideways_scrolling(page, name, viewport):
    widths = page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')
    assert widths[0] <= widths[1], f'{name} scrolls sideways at {viewport}: {widths[0]}px content in {widths[1]}px'


def screenshot(page, name, viewport):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f'{name}-{viewport}.png', full_page=True)


def assert_no_serious_accessibility_violations(page, name):
    from axe_playwright_python.sync_playwright import Axe
    violations = Axe().run(page).response['violations']
    blocking = [v for v in violations if v.get('impact') in BLOCKING_IMPACTS]
    report = '\n'.join(
        f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})\n"
        + '\n'.join(f"    {node['target']}: {node.get('failureSummary', '').splitlines()[-1].strip()}"
                    for node in v['nodes'])
        for v in blocking)
    assert not blocking, f'axe found serious problems on the {name} page:\n{report}'


def open_local_outbox(page):
    """The developer's outbox page, once the stream sender has delivered what was written so
    far (the background poller may be a moment behind; a developer would reload)."""
    from tests.support import outbox
    outbox.drain()
    page.goto('/local/outbox')
