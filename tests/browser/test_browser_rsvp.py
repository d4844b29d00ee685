"""A learner follows the RSVP link of a real reminder (sent by the reminder job, read from the
local outbox) in real Chromium: the page shows the link's answer selected and records nothing
until the learner taps the button; they change their mind, and the facilitator sees the answer
on the circle's page.

Same set-up as tests/browser/test_browser.py (tests/support/browser.py): the app over real HTTP in
this process against the session's moto server, Debian's Chromium through Playwright; the
RSVP and unsubscribe pages are checked with axe, for sideways scrolling on a 360 px phone,
and photographed into test-output/screenshots/.
"""
import json
import re
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from chalicelib.accounts import accounts
from chalicelib.circles import circles
from chalicelib.facilitators import access as facilitation
from chalicelib.learners import rsvp
from chalicelib.core.ids import new_id
from chalicelib.models import EmailClaim, Rsvp, Signup, User
from tests.support.browser import (  # noqa: F401 - fixtures are found by name
    VIEWPORTS, browser, check_page, live_server, open_local_outbox, open_page)
from tests.support.factories import make_circle

pytestmark = pytest.mark.browser

PASSWORD = 'a long enough password'


def facilitator_account(name='Dee Facilitator', email='dee@example.org'):
    user_id = new_id()
    now = circles.utcnow()
    user = User(*User.key(user_id), user_id=user_id, name=name, first_name=name.split()[0], email=email,
                password_hash=accounts.hash_password(PASSWORD), email_confirmed=True,
                created_at=now, updated_at=now)
    user.save()
    EmailClaim(*EmailClaim.key(email), user_id=user_id, created_at=now).save()
    return user


def circle_run_by(user):
    circle = make_circle(facilitator_ids=[user.user_id], facilitator_names=[user.first_name],
                         facilitator_emails=[user.email])
    facilitation.facilitator_link(circle, user).save()
    return circle


def sign_up_through_the_api(live_server, circle, name, email):
    body = json.dumps({'learning_circle': circle.id, 'name': name, 'email': email, 'consent': True,
                       'signup_questions': {'goals': 'Learn'}}).encode()
    request = urllib.request.Request(f'{live_server.url}/api/signup', data=body, method='POST',
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response) == {'status': 'created'}
    return next(Signup.by_email.query(f'EMAIL#{email}'))


def send_the_first_reminder(circle):
    """Run the reminder job at the first meeting's send time, as the schedule would."""
    from chalicelib.reminders import job as reminder_job
    from chalicelib.reminders import schedule as reminders
    from chalicelib.reminders.sync import sync_reminders
    circle = circles.get_circle(circle.id)
    sync_reminders(circle)
    summary = reminder_job.send_due_reminders(reminders.send_time(circle, circle.meetings[0]) + timedelta(minutes=1))
    assert summary['reminders_sent'] == 1, summary


def rsvp_link_from_the_outbox(page, live_server, email, answer):
    """The learner's `answer` link in the text part of their reminder, as the local outbox shows it."""
    open_local_outbox(page)
    reminder = page.locator('details.message', has_text=email).filter(
        has=page.locator('pre.text', has_text='/rsvp/'))
    expect(reminder).to_have_count(1)
    urls = re.findall(r'https?://\S+/rsvp/\S+', reminder.locator('pre.text').text_content())
    (url,) = [u for u in urls if rsvp.answer_from_token(u.rsplit('/', 1)[1]) == answer]
    return live_server.local_url(url)


def log_in(page, email):
    page.goto('/login')
    page.get_by_label('Email').fill(email)
    page.get_by_label('Password').fill(PASSWORD)
    page.get_by_role('button', name='Log in').click()
    page.wait_for_url('**/dashboard')


@pytest.mark.parametrize('viewport', list(VIEWPORTS))
def test_learner_answers_changes_their_mind_and_the_facilitator_sees_it(open_page, live_server, viewport):
    dee = facilitator_account()
    circle = circle_run_by(dee)
    grace = sign_up_through_the_api(live_server, circle, 'Grace Hopper', 'grace@example.org')
    sign_up_through_the_api(live_server, circle, 'Alan Turing', 'alan@example.org')
    send_the_first_reminder(circle)

    learner = open_page(viewport)
    yes = rsvp_link_from_the_outbox(learner, live_server, grace.email, 'yes')
    learner.goto(yes)
    expect(learner.locator('#answer')).to_contain_text('You have not answered yet')
    expect(learner.get_by_label("I'll be there")).to_be_checked()
    assert 'Harold Washington Library' in learner.locator('main').inner_text()
    assert 'America/Chicago' in learner.locator('main').inner_text()
    check_page(learner, 'rsvp-offered', viewport)
    assert list(Rsvp.query(f'CIRCLE#{circle.id}', Rsvp.sk.startswith('RSVP#'))) == []    # shown, not recorded

    learner.get_by_role('button', name='Send my answer').click()
    expect(learner.locator('#answer')).to_contain_text("You said you'll be there")
    check_page(learner, 'rsvp-yes', viewport)

    learner.get_by_label("I can't make it").check()
    learner.get_by_role('button', name='Send my answer').click()
    expect(learner.locator('#answer')).to_contain_text("You said you can't make it")
    expect(learner.get_by_label("I can't make it")).to_be_checked()
    check_page(learner, 'rsvp-no', viewport)
    # Reloading the page after the change (a second POST of the same form) keeps one answer.
    learner.reload()
    expect(learner.locator('#answer')).to_contain_text("You said you can't make it")

    facilitator = open_page(viewport)
    log_in(facilitator, dee.email)
    facilitator.goto(f'/facilitate/circles/{circle.id}')
    first = facilitator.locator('ol.facilitator-meetings > li').first
    expect(first.locator('.rsvp').first).to_have_text('Coming: 0 · Not coming: 1 · No answer: 1')
    expect(first.locator('.rsvp-names')).to_have_text('Not coming: Grace Hopper')
    second = facilitator.locator('ol.facilitator-meetings > li').nth(1)
    expect(second.locator('.rsvp')).to_have_text('Coming: 0 · Not coming: 0 · No answer: 2')
    check_page(facilitator, 'facilitator-rsvp', viewport)

    # She changes her mind once more from the email's yes link; the facilitator's page follows.
    learner.goto(yes)
    expect(learner.locator('#answer')).to_contain_text("You said you can't make it")
    expect(learner.get_by_label("I'll be there")).to_be_checked()
    learner.get_by_role('button', name='Send my answer').click()
    expect(learner.locator('#answer')).to_contain_text("You said you'll be there")
    facilitator.reload()
    expect(first.locator('.rsvp').first).to_have_text('Coming: 1 · Not coming: 0 · No answer: 1')
    expect(first.locator('.rsvp-names')).to_have_text('Coming: Grace Hopper')


def test_one_click_unsubscribe_page_in_the_browser(open_page, live_server):
    circle = make_circle()
    grace = sign_up_through_the_api(live_server, circle, 'Grace Hopper', 'grace@example.org')
    page = open_page('phone')
    page.goto(live_server.local_url(rsvp.unsubscribe_url(grace)))
    expect(page.locator('h1')).to_have_text(f'Stop reminder emails for {circle.name}?')
    check_page(page, 'unsubscribe', 'phone')
    assert Signup.get(*Signup.key(circle.id, grace.signup_id)).reminders_stopped is False
    page.get_by_role('button', name='Stop reminder emails').click()
    expect(page.locator('h1')).to_have_text('No more reminder emails')
    assert Signup.get(*Signup.key(circle.id, grace.signup_id)).reminders_stopped is True


def test_an_altered_rsvp_link_shows_a_clear_page(open_page, live_server):
    circle = make_circle()
    grace = sign_up_through_the_api(live_server, circle, 'Grace Hopper', 'grace@example.org')
    yes = rsvp.learner_links(grace, circle.meetings[0])['yes']
    page = open_page('phone')
    response = page.goto(live_server.local_url(re.sub(r'.{4}$', 'AAAA', yes)))
    assert response.status == 400
    expect(page.locator('h1')).to_have_text('This link does not work')
    check_page(page, 'rsvp-invalid', 'phone')
