"""On the local stage without Twilio credentials (as on `make run`), a learner's reminder text
waits in the local outbox; the developer replies "Y" as that learner from the outbox page, which
posts a request signed like Twilio's to /sms/inbound; the app's TwiML answer confirms the
meeting, and the facilitator's page counts the learner as coming.

Real Chromium through Playwright against the app over HTTP in this process (tests/support/browser.py).
"""
import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from chalicelib.circles import circles
from chalicelib.core.settings import get_settings
from chalicelib.facilitators import access as facilitation
from chalicelib.learners.signup import sign_up
from chalicelib.messaging import sms
from tests.browser.test_browser_rsvp import facilitator_account, log_in
from tests.support.browser import (  # noqa: F401 - fixtures are found by name
    browser, check_page, live_server, open_local_outbox, open_page)
from tests.support.factories import make_circle

pytestmark = pytest.mark.browser

GRACE = '+13125550123'


@pytest.fixture
def without_twilio_credentials():
    """The local stage as `make run` has it: no Twilio account, texts stay in the local outbox."""
    saved = os.environ.pop('TWILIO_ACCOUNT_SID')
    get_settings.cache_clear()
    assert sms.uses_local_outbox(get_settings())
    yield
    os.environ['TWILIO_ACCOUNT_SID'] = saved
    get_settings.cache_clear()
    get_settings()


def send_the_first_reminder(circle):
    from chalicelib.reminders import job as reminder_job
    from chalicelib.reminders import schedule as reminders
    from chalicelib.reminders.sync import sync_reminders
    circle = circles.get_circle(circle.id)
    sync_reminders(circle)
    summary = reminder_job.send_due_reminders(reminders.send_time(circle, circle.meetings[0]) + timedelta(minutes=1))
    assert summary['reminders_sent'] == 1, summary


def test_a_learner_replies_y_to_a_reminder_text_and_the_facilitator_sees_the_rsvp(
        open_page, live_server, without_twilio_credentials):
    dee = facilitator_account()
    circle = make_circle(starts_in_days=2, facilitator_ids=[dee.user_id], facilitator_names=[dee.first_name],
                         facilitator_emails=[dee.email])
    facilitation.facilitator_link(circle, dee).save()
    sign_up(circle.id, {'name': 'Grace Hopper', 'email': 'grace@example.org', 'mobile': GRACE, 'consent': True})
    send_the_first_reminder(circle)

    page = open_page('phone')
    open_local_outbox(page)
    text = page.locator('details.message', has=page.locator('.badge', has_text='sms')).filter(has_text=GRACE)
    expect(text).to_have_count(1)
    if text.get_attribute('open') is None:      # only the newest message starts open
        text.locator('summary').click()
    expect(text.locator('pre.text')).to_contain_text('Python for Everybody')
    text.get_by_label(f'Reply as this learner ({GRACE})').fill('Y')
    text.get_by_role('button', name='Send the reply').click()
    answer = page.locator('.notice .sms-answer')
    expect(answer).to_contain_text("Yes, I'll be there")
    expect(answer).to_contain_text('Python for Everybody, ')
    check_page(page, 'local-outbox-sms-reply', 'phone')

    facilitator = open_page('phone')
    log_in(facilitator, dee.email)
    facilitator.goto(f'/facilitate/circles/{circle.id}')
    first = facilitator.locator('ol.facilitator-meetings > li').first
    expect(first.locator('.rsvp').first).to_have_text('Coming: 1 · Not coming: 0 · No answer: 0')
    expect(first.locator('.rsvp-names')).to_have_text('Coming: Grace Hopper')
