"""A learner answers the end-of-circle survey from the link the outbox sent her, on a 390 px phone, in
real Chromium: the page restates her signup goal, a missing answer re-renders the form with its
message, the answers are saved (and a second visit shows them), and the thank-you page follows.

Same set-up as the other browser tests (tests/support/browser.py): the app over real HTTP in this
process against the session's moto server, Debian's Chromium through Playwright; each page is
checked for sideways scrolling, with axe, and photographed into test-output/screenshots/.
"""
import re

import pytest
from playwright.sync_api import expect

from chalicelib.ending import surveys
from chalicelib.ending.survey_job import send_end_of_circle_surveys
from tests.ending.world import FIVE_MINUTES, World
from tests.support.browser import (  # noqa: F401 - fixtures are found by name
    CHROMIUM_ARGS, assert_no_serious_accessibility_violations, assert_no_sideways_scrolling, browser,
    foreign_requests, live_server, screenshot)

pytestmark = pytest.mark.browser

PHONE = {'width': 390, 'height': 844}


def check(page, name):
    page.wait_for_load_state('load')
    assert_no_sideways_scrolling(page, name, 'phone-390')
    assert_no_serious_accessibility_violations(page, name)
    screenshot(page, name, 'phone-390')


def survey_links_sent_to(moto, address):
    """The survey links in the text part of the emails the outbox delivered to `address` (moto's
    SES record: what the local outbox page lists)."""
    from tests.ending.world import text_of
    return sorted({link for m in moto.sent_emails() if m['To'] == address
                   for link in re.findall(r'https?://\S+/survey/[\w.\-]+', text_of(m))})


def test_a_learner_answers_the_survey_from_the_outbox_link_on_a_phone(browser, live_server, moto):
    world = World(weeks=2)
    assert send_end_of_circle_surveys(world.last_end() + FIVE_MINUTES) == {'surveys_sent': 1}
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    requests = []
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on('request', lambda request: requests.append(request.url))
    try:
        (url,) = survey_links_sent_to(moto, 'lea@example.org')
        page.goto(live_server.local_url(url))
        expect(page.get_by_role('heading', level=1)).to_contain_text('How did')
        expect(page.locator('blockquote.goal')).to_have_text('Lea wants to write a small web app')
        check(page, 'survey-learner')

        page.get_by_role('group', name='How far did you reach your goal?').get_by_label('4').check()
        page.get_by_label('What worked well?').fill('Working in pairs every week.')
        page.get_by_role('button', name='Send my answers').click()
        expect(page.locator('.error-summary')).to_contain_text('from 0 to 10')     # the 0-10 scale was left out
        expect(page.get_by_label('What worked well?')).to_have_value('Working in pairs every week.')
        check(page, 'survey-learner-error')

        page.get_by_role('group', name='How likely are you to recommend').get_by_label('9').check()
        page.get_by_label('My words may be quoted publicly').check()
        page.get_by_role('button', name='Send my answers').click()
        expect(page.get_by_role('heading', level=1)).to_have_text('Thank you!')
        check(page, 'survey-thanks')

        (answer,) = surveys.learner_answers(world.circle.id)
        assert (answer.goal_reached, answer.recommend, answer.may_quote, answer.worked_well) == (
            4, 9, True, 'Working in pairs every week.')
        page.get_by_role('link', name='see or change my answers').click()
        expect(page.get_by_role('group', name='How far did you reach your goal?').get_by_label('4')).to_be_checked()
    finally:
        context.close()
    assert not foreign_requests(requests, live_server)
