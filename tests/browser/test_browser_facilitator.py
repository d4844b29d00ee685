"""A facilitator's journey in real Chromium: register, confirm from the outbox, log in, create
a circle through all six steps of the dialog, publish it, message its learner and record
feedback on its first meeting.

Same set-up as tests/browser/test_browser.py (tests/support/browser.py): the app over real HTTP in
this process against the session's moto server and Twilio fake, Debian's Chromium through
Playwright. Each page the facilitator works in is checked with axe at 360 px (serious and
critical findings fail) and for sideways scrolling there, and photographed at phone and
desktop widths into test-output/screenshots/. No request may leave the live server.
"""
import json
import re
import urllib.request
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from chalicelib.circles import circles
from tests.support.browser import (  # noqa: F401 - fixtures are found by name
    VIEWPORTS, assert_no_serious_accessibility_violations, assert_no_sideways_scrolling, browser, live_server,
    open_local_outbox, open_page, screenshot)
from tests.support import outbox
from tests.support.factories import local_today

pytestmark = pytest.mark.browser

EMAIL = 'dee@example.org'
PASSWORD = 'a long enough password'
CIRCLE_NAME = 'Python at the library'


def check_page(page, name):
    """At 360 px: no sideways scrolling, no serious axe findings, a photo; then a desktop photo."""
    page.wait_for_load_state('load')
    page.set_viewport_size(VIEWPORTS['phone'])
    assert_no_sideways_scrolling(page, name, 'phone')
    assert_no_serious_accessibility_violations(page, name)
    screenshot(page, f'facilitator-{name}', 'phone')
    page.set_viewport_size(VIEWPORTS['desktop'])
    screenshot(page, f'facilitator-{name}', 'desktop')


def register_confirm_and_log_in(page, live_server):
    page.goto('/register')
    page.get_by_label('Your name').fill('Dee Facilitator')
    page.get_by_label('Email').fill(EMAIL)
    page.get_by_label('Password').fill(PASSWORD)
    page.get_by_role('button', name='Create account').click()
    expect(page.locator('h1')).to_have_text('Check your email')

    open_local_outbox(page)
    confirmation = page.locator('details.message', has_text='Confirm your email address for Circles')
    expect(confirmation).to_have_count(1)
    assert EMAIL in confirmation.locator('summary').inner_text()
    link = re.search(r'https?://\S+/confirm/\S+', confirmation.locator('pre.text').text_content()).group(0)
    page.goto(live_server.local_url(link))
    expect(page.locator('h1')).to_have_text('Email confirmed')

    page.goto('/login')
    page.get_by_label('Email').fill(EMAIL)
    page.get_by_label('Password').fill(PASSWORD)
    page.get_by_role('button', name='Log in').click()
    page.wait_for_url('**/dashboard')
    expect(page.locator('h1')).to_have_text('Hello, Dee Facilitator')


def step_heading(page, text):
    expect(page.locator('h1')).to_have_text(text)


def walk_the_dialog(page, first_date):
    """All six steps, with one validation error (step 1) and one Back (from step 5); returns the id."""
    page.get_by_role('link', name='Start a new learning circle').click()
    step_heading(page, 'Which course will your circle study?')
    page.get_by_label('Course title').fill('Python for Everybody')
    page.get_by_label('Provider').fill('Coursera')
    page.get_by_label('Link to the course').fill('coursera python')
    page.get_by_label('Topics').fill('Programming, Python')
    page.get_by_role('button', name='Next', exact=True).last.click()
    summary = page.locator('.error-summary')
    expect(summary).to_contain_text('full web address')
    assert summary.locator('a').evaluate_all('links => links.map(a => a.hash)') == ['#link']
    assert page.locator('#link-error').is_visible()
    assert page.get_by_label('Link to the course').get_attribute('aria-invalid') == 'true'
    assert page.get_by_label('Course title').input_value() == 'Python for Everybody'   # input kept
    check_page(page, 'step-1-error')
    page.get_by_label('Link to the course').fill('https://www.coursera.org/learn/python')
    page.get_by_role('button', name='Next', exact=True).last.click()

    step_heading(page, 'Where will you meet?')
    circle_id = re.search(r'/facilitate/circles/(\w+)/step/2$', page.url).group(1)
    page.get_by_role('radio', name='In person').check()
    page.get_by_label('Venue (optional)', exact=True).fill('Harold Washington Library')
    page.get_by_label('Street address').fill('400 S State St')
    page.get_by_label('Venue details').fill('Room 3, second floor')
    page.get_by_label('City', exact=True).fill('Chicago')
    page.get_by_role('button', name='Find city').click()
    page.get_by_label('Chicago, Illinois, United States').check()
    check_page(page, 'step-2')
    page.get_by_role('button', name='Next', exact=True).last.click()

    step_heading(page, 'When will you meet?')
    assert page.get_by_label('Timezone').input_value() == 'America/Chicago'    # from the city
    page.get_by_label('First meeting').fill(first_date.isoformat())
    page.get_by_label('Start time').fill('18:00')
    page.get_by_label('Number of weeks').fill('6')
    page.get_by_role('button', name='Update preview').click()
    expect(page.locator('ol.preview > li')).to_have_count(6)
    check_page(page, 'step-3')
    page.get_by_role('button', name='Next', exact=True).last.click()

    step_heading(page, 'Tell learners about your circle')
    page.get_by_label('Name of the circle').fill(CIRCLE_NAME)
    page.get_by_label('Description').fill('We learn Python together, one chapter a week.')
    page.get_by_label('Welcome message').fill('Bring a laptop if you have one.')
    check_page(page, 'step-4')
    page.get_by_role('button', name='Next', exact=True).last.click()

    step_heading(page, 'Your goals as a facilitator')
    page.get_by_label('What do you hope to achieve').fill('Help my neighbours learn to code.')
    check_page(page, 'step-5')
    page.get_by_role('button', name='Back').click()      # saves this step and shows step 4 again
    step_heading(page, 'Tell learners about your circle')
    assert page.get_by_label('Name of the circle').input_value() == CIRCLE_NAME
    page.get_by_role('button', name='Next', exact=True).last.click()
    step_heading(page, 'Your goals as a facilitator')
    assert page.get_by_label('What do you hope to achieve').input_value() == 'Help my neighbours learn to code.'
    page.get_by_role('button', name='Next', exact=True).last.click()

    step_heading(page, 'Review and publish')
    main = page.locator('main')
    for text in ('Python for Everybody', 'Harold Washington Library', 'Chicago, Illinois, United States',
                 CIRCLE_NAME, 'Help my neighbours learn to code.'):
        expect(main).to_contain_text(text)
    check_page(page, 'review')
    page.get_by_role('button', name='Publish').click()
    step_heading(page, 'Your learning circle is published')
    return circle_id


def api_listing(page):
    """GET /api/learningcircles/ from the page, as a script on another page of the site would."""
    return page.evaluate("fetch('/api/learningcircles/').then(r => r.json())")


def sign_up_learner(live_server, circle_id):
    body = json.dumps({'learning_circle': circle_id, 'name': 'Grace Hopper', 'email': 'grace@example.org',
                       'mobile': '+1 312 555 0100', 'consent': True,
                       'signup_questions': {'goals': 'Write a game', 'support': 'None'}}).encode()
    request = urllib.request.Request(f'{live_server.url}/api/signup', data=body, method='POST',
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201), response.status


def send_message(page, circle_id):
    page.get_by_role('link', name='Write a message').click()
    expect(page.locator('h1')).to_have_text('Message your learners')
    counter = page.locator('#sms-count')
    expect(counter).to_have_text('No text message will be sent.')
    page.get_by_label('Email subject').fill('Room change on Tuesday')
    page.get_by_label('Email message').fill('We meet in room 4 this week.\n\nSee you there!')
    sms = page.get_by_label('Text message (SMS)')
    sms.press_sequentially('Room 4 on Tuesday')
    # The count includes the circle's name and the opt-out words the text is sent with.
    around = 71 - 17
    expect(counter).to_have_text(f"{17 + around} of 160 characters (GSM-7), 1 message per learner, "
                                 "with the circle's name and the opt-out words.")
    sms.press_sequentially(' ☕')         # one character outside GSM-7 makes it UCS-2: 70 per message
    expect(counter).to_contain_text(f'{19 + around} of 134 characters (UCS-2), 2 messages per learner')
    sms.fill('Room 4 on Tuesday. ' * 9)    # 170 GSM-7 characters: two segments of 153
    expect(counter).to_contain_text(f'{170 + around} of 306 characters (GSM-7), 2 messages per learner')
    sms.fill('We meet in room 4 on Tuesday.')
    expect(counter).to_contain_text(f'{29 + around} of 160 characters (GSM-7), 1 message per learner')
    check_page(page, 'message-form')
    page.get_by_role('button', name='Send now').click()
    page.wait_for_url(re.compile(rf'/facilitate/circles/{circle_id}/messages/\w+$'))
    expect(page.get_by_role('status')).to_contain_text('Your message is on its way')
    outbox.drain()              # the stream sender, a moment later
    page.get_by_role('link', name='Reload this page').click()
    expect(page.get_by_role('status')).to_have_count(0)
    expect(page.locator('.delivery')).to_contain_text('Email: 1 of 1 sent')
    expect(page.locator('.delivery')).to_contain_text('Text message: 1 of 1 sent')


def let_days_pass(circle_id, days):
    """As if `days` had passed: every meeting moves that many days earlier (same local time).

    The dialog only publishes circles whose meetings are all ahead, and feedback opens once a
    meeting has started; moving the meetings is simpler and surer than moving every clock of
    the live server, moto, the Twilio fake and Chromium."""
    circle = circles.get_circle(circle_id)
    for meeting in circle.meetings:
        moved = date.fromisoformat(meeting.local_date) - timedelta(days=days)
        meeting.local_date = moved.isoformat()
        meeting.starts_at = circles.local_start(moved, circles.time.fromisoformat(meeting.local_time),
                                                circle.timezone)
    circles.save(circle)


def record_feedback(page, circle_id):
    feedback = page.locator('#feedback')
    feedback.get_by_role('link', name=re.compile('Give feedback')).first.click()
    expect(page.locator('h1')).to_have_text('How did meeting 1 go?')
    page.get_by_label('How many people came?').fill('7')
    page.get_by_label('5', exact=True).check()
    page.locator('#reflection').fill('Everyone got Python installed; two learners paired up.')
    page.get_by_label('Email my answer to the learners').check()
    page.get_by_label("Share my answer with the team's organizers").check()
    check_page(page, 'feedback-form')
    page.get_by_role('button', name='Save feedback').click()
    expect(page.locator('.notice')).to_contain_text('The recap was emailed to your learners.')


def test_facilitator_registers_creates_publishes_messages_and_gives_feedback(open_page, live_server, twilio,
                                                                              moto):
    page = open_page('desktop')
    register_confirm_and_log_in(page, live_server)
    check_page(page, 'dashboard-empty')

    tomorrow = local_today('America/Chicago') + timedelta(days=1)
    circle_id = walk_the_dialog(page, tomorrow)

    listing = api_listing(page)
    [item] = [i for i in listing['items'] if i['id'] == circle_id]
    assert item['name'] == CIRCLE_NAME and item['city'] == 'Chicago' and item['start_date'] == tomorrow.isoformat()
    assert item['weeks'] == 6 and item['facilitators'] == ['Dee']

    sign_up_learner(live_server, circle_id)
    page.goto('/dashboard')
    upcoming = page.locator('section', has=page.locator('h2', has_text='Upcoming'))
    expect(upcoming.locator('.card')).to_contain_text(CIRCLE_NAME)
    expect(upcoming.locator('.card')).to_contain_text('1 learner signed up')
    check_page(page, 'dashboard')

    upcoming.get_by_role('link', name=CIRCLE_NAME).click()
    page.wait_for_url(f'**/facilitate/circles/{circle_id}')
    expect(page.locator('.signups')).to_contain_text('Grace Hopper')
    send_message(page, circle_id)
    [sms] = twilio.sent()
    assert sms['To'] == '+13125550100' and ': We meet in room 4 on Tuesday.' in sms['Body']
    assert sms['Body'].endswith('Reply STOP to stop texts')

    let_days_pass(circle_id, 2)            # the first meeting was tomorrow; now it was yesterday
    page.goto(f'/facilitate/circles/{circle_id}')
    record_feedback(page, circle_id)

    outbox.drain()                          # the recap leaves through the stream sender
    page.goto(f'/facilitate/circles/{circle_id}')
    messages = page.locator('#messages')
    expect(messages.locator('h3')).to_have_text('Room change on Tuesday')
    expect(messages.locator('.delivery').first).to_have_text('Email: 1 sent')
    expect(messages.locator('.delivery').nth(1)).to_have_text('Text message: 1 accepted by Twilio, not confirmed delivered yet')
    feedback = page.locator('#feedback')
    expect(feedback).to_contain_text('7 came · rated 5 of 5 · by Dee')
    expect(feedback).to_contain_text('Everyone got Python installed; two learners paired up.')
    expect(feedback).to_contain_text('Recap emailed to 1 learner.')
    check_page(page, 'circle')

    recaps = [m for m in moto.sent_emails() if m['To'] == 'grace@example.org']
    assert len(recaps) == 3     # welcome, the message, the recap
