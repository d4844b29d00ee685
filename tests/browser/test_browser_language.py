"""A visitor switches the site to Spanish in real Chromium and signs up for a German circle: the
pages (errors included) are in Spanish from then on, the welcome email in the circle's German.

The expected words come from the shipped catalogs (each checked to differ from the English), so
the test follows the translations rather than repeating them.
"""
import re

import pytest
from playwright.sync_api import expect

from chalicelib.core import i18n
from tests.support.browser import (  # noqa: F401 - fixtures are found by name
    VIEWPORTS, browser, check_page, live_server, open_local_outbox, open_page)
from tests.support.factories import make_circle

pytestmark = pytest.mark.browser

BERLIN = dict(city='Berlin', region='Berlin', country='Germany', latitude=52.52, longitude=13.405,
              timezone_name='Europe/Berlin')


def words(code, message, **values):
    with i18n.language(code):
        translated = i18n.gettext(message)
    assert translated != message, f'{message!r} has no {code} translation'
    return translated % values if values else translated


@pytest.mark.parametrize('viewport', ['phone', 'desktop'])
def test_a_visitor_switches_to_spanish_and_signs_up_in_spanish(open_page, viewport):
    circle = make_circle(name='Programmieren lernen mit Python', language='de', place=BERLIN,
                         venue_name='Zentral- und Landesbibliothek', venue_address='Blücherplatz 1')
    page = open_page(viewport)          # Chromium asks for en-US
    page.goto(f'/circles/{circle.id}')
    assert page.locator('html').get_attribute('lang') == 'en'     # Accept-Language: en-US comes before the circle's

    languages = page.get_by_role('navigation', name='Language')
    languages.get_by_role('link', name='Español').click()
    page.wait_for_url(f'**/circles/{circle.id}')
    assert page.locator('html').get_attribute('lang') == 'es'
    spanish = page.get_by_role('navigation', name=words('es', 'Language'))
    expect(spanish.get_by_role('link', name='Español')).to_have_attribute('aria-current', 'true')

    expect(page.locator('#signup-heading')).to_have_text(words('es', 'Sign up'))
    # The facilitator's own words keep the circle's language, for screen readers.
    expect(page.locator('[lang="de"]', has_text='We learn Python together.')).to_have_count(1)
    check_page(page, 'circle-es', viewport)

    page.get_by_label(words('es', 'Your name')).fill('Lucía Fernández')
    page.get_by_label(words('es', 'Email'), exact=True).fill('lucia@@example')
    page.get_by_role('button', name=words('es', 'Sign up'), exact=True).click()
    summary = page.locator('.error-summary')
    with i18n.language('es'):
        two_problems = i18n.ngettext('Please fix the %(num)d problem below:', 'Please fix the %(num)d problems below:', 2)
    expect(summary.locator('p')).to_have_text(two_problems % {'num': 2})
    expect(page.locator('#consent-error')).to_have_text(words('es', 'Please give your consent to sign up.'))
    check_page(page, 'circle-es-errors', viewport)

    page.get_by_label(words('es', 'Email'), exact=True).fill('lucia@example.org')
    page.locator('#consent').check()
    page.get_by_role('button', name=words('es', 'Sign up'), exact=True).click()
    page.wait_for_url(re.compile(rf'/circles/{circle.id}/thanks'))
    expect(page.locator('h1')).to_have_text(words('es', "You're signed up!"))
    assert page.locator('html').get_attribute('lang') == 'es'
    check_page(page, 'thanks-es', viewport)

    open_local_outbox(page)
    subject = words('de', 'You signed up for %(circle)s', circle=circle.name)
    welcome = page.locator('details.message', has_text=subject)
    expect(welcome).to_have_count(1)
