"""A learner's journey in real Chromium: browse, filter, open a circle, sign up, get the welcome email.

The app runs over real HTTP in this process (tests/support/live_server.py)
against the session's moto server; Chromium is Debian's, driven by Playwright.
Each page is checked with axe (serious and critical violations fail), for
horizontal scrolling on a 360 px phone, and photographed at phone and desktop
sizes into test-output/screenshots/ for a person to look at.
"""
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.support.factories import make_circle
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / 'test-output' / 'screenshots'
VIEWPORTS = {'phone': {'width': 360, 'height': 740}, 'desktop': {'width': 1280, 'height': 900}}
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--disable-quic']
LISBON = dict(city='Lisbon', region='Lisboa', country='Portugal', latitude=38.7223, longitude=-9.1393,
              timezone_name='Europe/Lisbon')
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
    local = urlsplit(live_server.url).netloc
    foreign = [url for url in requests if urlsplit(url).scheme in ('http', 'https', 'ws', 'wss')
               and urlsplit(url).netloc != local]
    assert requests, 'the browser made no requests at all'
    assert not foreign, f'the pages asked other hosts for: {foreign}'


def check_page(page, name, viewport):
    """What every learner page must pass: no sideways scrolling, no serious axe findings; then a photo."""
    page.wait_for_load_state('load')
    widths = page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')
    assert widths[0] <= widths[1], f'{name} scrolls sideways at {viewport}: {widths[0]}px content in {widths[1]}px'
    assert_no_serious_accessibility_violations(page, name)
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


def thanks_url(circle):
    """The thanks page; the browser carries the form's #signup fragment across the redirect."""
    return re.compile(rf'/circles/{circle.id}/thanks(#signup)?$')


def make_world():
    """Circles in two cities, so filtering by city visibly narrows the list."""
    make_circle(name='Python for Everybody')
    make_circle(name='Creative Writing Workshop', course_title='Writing for the Web', provider='edX',
                topics=('writing',), starts_in_days=3)
    lisbon = make_circle(name='Introdução à Programação em Python', course_title='Python Basics',
                         venue_name='Biblioteca de Alcântara', venue_address='Rua José Dias Coelho 27',
                         place=LISBON, starts_in_days=5, meeting_time='19:30',
                         facilitator_names=['Inês', 'Tomás'])
    make_circle(name='Data Science Basics', place=LISBON, starts_in_days=10, course_title='Data Science',
                venue_name='Biblioteca Municipal Camões', venue_address='Largo do Calhariz 17')
    return lisbon


@pytest.mark.parametrize('viewport', list(VIEWPORTS))
def test_learner_filters_by_city_signs_up_and_gets_the_welcome_email(open_page, live_server, moto, viewport):
    circle = make_world()
    page = open_page(viewport)

    page.goto('/')
    assert page.locator('.card').count() == 4
    check_page(page, 'browse', viewport)

    page.get_by_label('City').fill('lisbon')
    page.get_by_role('button', name='Search').click()
    page.wait_for_url(re.compile(r'city=lisbon'))
    assert page.locator('.count').inner_text() == '2 learning circles'
    assert sorted(page.locator('.card h2').all_inner_texts()) == [
        'Data Science Basics', 'Introdução à Programação em Python']
    assert page.get_by_label('City').input_value() == 'lisbon'
    check_page(page, 'browse-filtered', viewport)

    page.get_by_role('link', name=circle.name).click()
    page.wait_for_url(f'**/circles/{circle.id}')
    assert page.locator('h1').inner_text() == circle.name
    check_page(page, 'circle', viewport)

    page.get_by_label('Your name').fill('Maria Silva')
    page.get_by_label('Email').fill('maria@@example')
    page.get_by_label('What do you hope to get out of this circle?').fill('Learn to automate my spreadsheets.')
    page.get_by_role('button', name='Sign up').click()
    summary = page.locator('.error-summary')
    assert summary.locator('p').inner_text() == 'Please fix the 2 problems below:'
    expect(summary).to_be_in_viewport()
    assert summary.locator('a').evaluate_all('links => links.map(a => a.hash)') == ['#email', '#consent']
    email_error = page.locator('#email-error')
    assert 'not valid' in email_error.inner_text()
    assert page.get_by_label('Email').get_attribute('aria-describedby') == 'email-error'
    assert page.get_by_label('Email').input_value() == 'maria@@example'
    assert page.get_by_label('Your name').input_value() == 'Maria Silva'
    assert page.get_by_label('What do you hope').input_value() == 'Learn to automate my spreadsheets.'
    assert page.locator('#consent-error').inner_text() == 'Please give your consent to sign up.'
    assert page.locator('.field', has=page.locator('#consent-error')).locator('#consent').count() == 1
    check_page(page, 'circle-errors', viewport)

    page.get_by_label('Email').fill('maria@example.org')
    page.get_by_label('I consent').check()
    page.get_by_role('button', name='Sign up').click()
    page.wait_for_url(thanks_url(circle))
    expect(page.locator('h1')).to_have_text("You're signed up!")
    assert circle.name in page.locator('main').inner_text()
    check_page(page, 'thanks', viewport)

    page.goto('/local/outbox')
    welcome = page.locator('details.message', has_text=f'You signed up for {circle.name}')
    assert welcome.count() == 1
    assert 'maria@example.org' in welcome.locator('summary').inner_text()
    # text_content, not a click: it may be folded away, and a click on <summary> right after load
    # is sometimes routed to the sandboxed email iframe above it in headless Chromium.
    text = welcome.locator('pre.text').text_content()
    assert 'Biblioteca de Alcântara' in text

    withdraw_url = re.search(r'https?://\S+/withdraw/\S+', text).group(0)
    page.goto(live_server.local_url(withdraw_url))
    assert page.locator('h1').inner_text() == f'Leave {circle.name}?'
    check_page(page, 'withdraw', viewport)
    page.get_by_role('button', name='Yes, remove me').click()
    expect(page.locator('h1')).to_have_text(f'You have left {circle.name}')


def test_bot_filling_the_hidden_website_field_writes_no_signup(open_page, moto):
    """Without JavaScript too: the form is plain HTML, and the honeypot answers like a success."""
    from chalicelib import circles
    from chalicelib.models import Signup
    circle = make_circle()
    page = open_page('phone', javascript=False)
    page.goto(f'/circles/{circle.id}')
    page.get_by_label('Your name').fill('Spam Bot')
    page.get_by_label('Email').fill('bot@example.org')
    page.get_by_label('I consent').check()
    page.locator('#website').fill('http://spam.example', force=True)
    page.get_by_role('button', name='Sign up').click()
    page.wait_for_url(thanks_url(circle))

    assert circles.get_circle(circle.id).signup_count == 0
    assert list(Signup.by_email.query('EMAIL#bot@example.org')) == []
    assert moto.sent_emails() == []


def test_accessibility_check_fails_when_a_field_loses_its_label(open_page):
    """The axe check above is only worth something if it can fail."""
    page = open_page('desktop')
    page.goto('/')
    page.evaluate("document.querySelector('label[for=city]').remove()")
    with pytest.raises(AssertionError, match='label'):
        assert_no_serious_accessibility_violations(page, 'browse without a label')
