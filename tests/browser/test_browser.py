"""A learner's journey in real Chromium: browse, filter, open a circle, sign up, get the welcome email.

The app runs over real HTTP in this process (tests/support/live_server.py)
against the session's moto server; Chromium is Debian's, driven by Playwright.
Each page is checked with axe (serious and critical violations fail), for
horizontal scrolling on a 360 px phone, and photographed at phone and desktop
sizes into test-output/screenshots/ for a person to look at.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import (  # noqa: F401 - fixtures are found by name
    VIEWPORTS, assert_no_serious_accessibility_violations, browser, check_page, live_server, open_local_outbox,
    open_page)
from tests.support.factories import make_circle

pytestmark = pytest.mark.browser

LISBON = dict(city='Lisbon', region='Lisboa', country='Portugal', latitude=38.7223, longitude=-9.1393,
              timezone_name='Europe/Lisbon')


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

    open_local_outbox(page)
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
    from chalicelib.circles import circles
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
