"""A learner asks for their data at /my-data on a 390 px phone, opens the link from the local
outbox, downloads the JSON, erases everything, and the facilitator's page then shows "Personal
information removed" where the learner was.

Same set-up as the other browser tests (tests/support/browser.py): the app over real HTTP in this
process against the session's moto server, Debian's Chromium through Playwright; each page is
checked for sideways scrolling, with axe, and photographed into test-output/screenshots/.
"""
import json
import re

import pytest
from playwright.sync_api import expect

from chalicelib.facilitators import access as facilitation
from tests.browser.test_browser_rsvp import facilitator_account, log_in
from tests.privacy.test_my_data import sign_up
from tests.support.browser import (  # noqa: F401 - fixtures are found by name
    assert_no_serious_accessibility_violations, assert_no_sideways_scrolling, browser, live_server,
    open_local_outbox, open_page, screenshot)
from tests.support.factories import make_circle

pytestmark = pytest.mark.browser

PHONE = {'width': 390, 'height': 844}
ZED = 'zed.quillfeather@example.org'


def check(page, name):
    page.wait_for_load_state('load')
    assert_no_sideways_scrolling(page, name, 'phone-390')
    assert_no_serious_accessibility_violations(page, name)
    screenshot(page, name, 'phone-390')


def test_a_learner_downloads_then_erases_their_data_and_the_facilitator_sees_it_removed(
        browser, live_server, open_page):
    dee = facilitator_account()
    circle = make_circle(name='Herons and Haiku', facilitator_ids=[dee.user_id], facilitator_names=[dee.first_name],
                         facilitator_emails=[dee.email])
    facilitation.facilitator_link(circle, dee).save()
    sign_up(circle)

    context = browser.new_context(viewport=PHONE, base_url=live_server.url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto('/my-data')
        expect(page.get_by_role('heading', level=1)).to_have_text('Your data')
        check(page, 'my-data-request')
        page.get_by_label('Email address or mobile number').fill('Zed.Quillfeather@Example.org')
        page.get_by_role('button', name='Send me a link').click()
        expect(page.get_by_role('heading', level=1)).to_have_text('Check your messages')
        check(page, 'my-data-sent')

        open_local_outbox(page)
        summary = page.locator('details.message', has_text='Your data at Learning Circles').first
        text = summary.locator('pre.text').inner_text()
        link = re.search(r'https?://\S+/my-data/\S+', text).group(0)
        page.goto(live_server.local_url(link))
        expect(page.get_by_role('heading', level=2, name='Your circles')).to_be_visible()
        expect(page.get_by_role('heading', level=3, name='Herons and Haiku')).to_be_visible()
        check(page, 'my-data-page')

        with page.expect_download() as download:
            page.get_by_role('link', name=re.compile('Download everything we hold')).click()
        data = json.loads(open(download.value.path()).read())
        [held] = data['signups']
        assert held['email'] == ZED and held['circle']['name'] == 'Herons and Haiku'
        assert any(m['message'] == 'welcome' for m in held['messages'])

        page.get_by_role('button', name='Erase my data').click()          # the box is not ticked yet
        expect(page.locator('#confirm-error')).to_contain_text('tick the box')
        page.get_by_label('Yes, erase everything you hold about me').check()
        page.get_by_role('button', name='Erase my data').click()
        expect(page.get_by_role('heading', level=1)).to_have_text('Your data was erased')
        check(page, 'my-data-erased')
    finally:
        context.close()

    facilitator = open_page('phone')
    log_in(facilitator, dee.email)
    facilitator.goto(f'/facilitate/circles/{circle.id}')
    expect(facilitator.locator('#signups-heading')).to_contain_text('Learners (0')
    expect(facilitator.get_by_text('Personal information removed')).to_be_visible()
    assert 'Zed' not in facilitator.content() and ZED not in facilitator.content()
    screenshot(facilitator, 'my-data-facilitator-after-erasure', 'phone')
