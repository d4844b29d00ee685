"""An organizer's journey in real Chromium: invite a new facilitator from the members page; the
invitee opens the link from the outbox email, registers, confirms, accepts, creates a circle through
the dialog and publishes it; the organizer's week page (reached from the dashboard, the week
chosen with the date picker) shows its meetings, and the feedback and circles pages list it.

Same set-up as tests/browser/test_browser_facilitator.py: the app over real HTTP in this process
against the session's moto server, Debian's Chromium through Playwright. Each organizer page is
checked at 360 px (no sideways scrolling, no serious axe findings) and photographed at 390 and
1280 px into test-output/screenshots/.
"""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from chalicelib.teams import teams
from tests.browser.test_browser_facilitator import CIRCLE_NAME, PASSWORD, walk_the_dialog
from tests.facilitators.test_facilitator_pages import account
from tests.support.browser import (  # noqa: F401 - fixtures are found by name
    VIEWPORTS, assert_no_serious_accessibility_violations, assert_no_sideways_scrolling, browser, live_server,
    open_local_outbox, open_page, screenshot)
from tests.support.factories import local_today

pytestmark = pytest.mark.browser

ORGANIZER_EMAIL = 'olu@example.org'
INVITEE_EMAIL = 'ines@example.org'
TEAM_NAME = 'Riverside Libraries'


def check_page(page, name):
    """At 360 px: no sideways scrolling, no serious axe findings; photos at 390 and 1280 px."""
    page.wait_for_load_state('load')
    page.set_viewport_size(VIEWPORTS['phone'])
    assert_no_sideways_scrolling(page, name, 'phone')
    assert_no_serious_accessibility_violations(page, name)
    page.set_viewport_size({'width': 390, 'height': 844})
    assert_no_sideways_scrolling(page, name, '390')
    screenshot(page, f'organizer-{name}', '390')
    page.set_viewport_size(VIEWPORTS['desktop'])
    screenshot(page, f'organizer-{name}', 'desktop')


def log_in(page, email, next_path=None):
    page.goto(f'/login?next={next_path}' if next_path else '/login')
    page.get_by_label('Email').fill(email)
    page.get_by_label('Password').fill(PASSWORD)
    page.get_by_role('button', name='Log in').click()


def emailed_link(page, live_server, subject_text, to, pattern):
    open_local_outbox(page)
    message = page.locator('details.message', has_text=subject_text).filter(has_text=to).last
    expect(message).to_have_count(1)
    return live_server.local_url(re.search(pattern, message.locator('pre.text').text_content()).group(0))


def invite_from_the_members_page(page, team_id):
    page.goto('/dashboard')
    page.get_by_role('link', name='Members and invitations').click()
    page.wait_for_url(f'**/organize/{team_id}/members')
    page.get_by_label('Their email address').fill(INVITEE_EMAIL)
    page.get_by_role('button', name='Send the invitation').click()
    expect(page.locator('#invitations')).to_contain_text(INVITEE_EMAIL)


def register_confirm_and_accept(page, live_server, invitation):
    page.goto(invitation)
    expect(page.locator('h1')).to_have_text(f'Join {TEAM_NAME}')
    page.get_by_role('link', name=re.compile('Register')).click()
    page.get_by_label('Your name').fill('Ines Invitee')
    page.get_by_label('Email').fill(INVITEE_EMAIL)
    page.get_by_label('Password').fill(PASSWORD)
    page.get_by_role('button', name='Create account').click()
    expect(page.locator('h1')).to_have_text('Check your email')
    page.goto(emailed_link(page, live_server, 'Confirm your email address', INVITEE_EMAIL, r'https?://\S+/confirm/\S+'))
    expect(page.locator('h1')).to_have_text('Email confirmed')
    # Back to the invitation (if registering did not bring her back), signed in through its login link.
    page.goto(invitation)
    if page.get_by_role('button', name=f'Accept and join {TEAM_NAME}').count() == 0:
        page.get_by_role('link', name='Sign in to accept').click()
        page.get_by_label('Email').fill(INVITEE_EMAIL)
        page.get_by_label('Password').fill(PASSWORD)
        page.get_by_role('button', name='Log in').click()
    page.get_by_role('button', name=f'Accept and join {TEAM_NAME}').click()
    page.wait_for_url('**/dashboard')


def test_an_organizer_invites_a_facilitator_whose_new_circle_is_on_the_week_page(open_page, live_server, moto):
    olu = account('Olu Organizer', email=ORGANIZER_EMAIL)
    team = teams.create_team(TEAM_NAME, olu.email).team

    organizer = open_page('desktop')
    log_in(organizer, ORGANIZER_EMAIL)
    organizer.wait_for_url('**/dashboard')
    expect(organizer.locator('#teams-heading')).to_have_text('Your team')
    invite_from_the_members_page(organizer, team.team_id)

    invitee = open_page('desktop')
    invitation = emailed_link(invitee, live_server, TEAM_NAME, INVITEE_EMAIL, r'https?://\S+/teams/invitations/\S+')
    register_confirm_and_accept(invitee, live_server, invitation)
    first = local_today('America/Chicago') + timedelta(days=8)
    circle_id = walk_the_dialog(invitee, first)
    assert teams.membership(team.team_id, invitee_id(team.team_id)).role == teams.FACILITATOR

    organizer.goto('/dashboard')
    organizer.get_by_role('link', name="This week's meetings").click()
    organizer.wait_for_url(f'**/organize/{team.team_id}')
    expect(organizer.locator('h1')).to_contain_text(f'{TEAM_NAME}: the week of')
    organizer.get_by_label('Show the week of').fill(first.isoformat())
    organizer.get_by_role('button', name='Show this week').click()
    organizer.wait_for_url(f'**/organize/{team.team_id}?week={first.isoformat()}')
    day = organizer.locator('section', has=organizer.locator(f'h2#day-{first.isoformat()}'))
    card = day.locator('.card')
    expect(card).to_contain_text(CIRCLE_NAME)
    expect(card).to_contain_text('18:00 C')
    expect(card).to_contain_text('meeting 1 of 6')
    expect(card).to_contain_text('Facilitated by Ines')
    expect(card).to_contain_text('RSVPs: 0 coming, 0 not coming')
    check_page(organizer, 'week')
    organizer.get_by_role('link', name='Next week →').click()
    next_day = (first + timedelta(days=7)).isoformat()
    expect(organizer.locator('section', has=organizer.locator(f'h2#day-{next_day}')).locator('.card')) \
        .to_contain_text('meeting 2 of 6')
    card_link = organizer.get_by_role('link', name=CIRCLE_NAME)
    assert card_link.get_attribute('href') == f'/facilitate/circles/{circle_id}'

    organizer.get_by_role('navigation', name=f'Organize {TEAM_NAME}').get_by_role('link', name='Circles').click()
    expect(organizer.get_by_role('region', name='Upcoming (1)')).to_contain_text(CIRCLE_NAME)
    expect(organizer.get_by_role('region', name='Facilitators and their circles')).to_contain_text('Ines Invitee')
    check_page(organizer, 'circles')

    organizer.get_by_role('navigation', name=f'Organize {TEAM_NAME}').get_by_role('link', name='Feedback').click()
    expect(organizer.locator('h1')).to_have_text(f'{TEAM_NAME}: feedback from the meetings')
    expect(organizer.get_by_label('Circle')).to_contain_text(CIRCLE_NAME)
    check_page(organizer, 'feedback')


def invitee_id(team_id):
    from chalicelib.accounts import accounts
    return accounts.user_for_email(INVITEE_EMAIL).user_id



def test_a_week_with_feedback_reads_well_on_a_phone_and_a_desktop(open_page, live_server):
    """Last week of a team: shared feedback, feedback kept private, a meeting without feedback and
    a cancelled one; then the feedback page. Photographed for a person to look at."""
    from chalicelib.circles import circles
    from chalicelib.facilitators import circle_admin
    from chalicelib.reminders.sync import sync_reminders
    from tests.browser.test_browser_facilitator import let_days_pass
    from tests.teams.test_week import give_feedback, team_circle
    olu = account('Olu Organizer', email=ORGANIZER_EMAIL)
    team = teams.create_team(TEAM_NAME, olu.email).team
    fay, gus = account('Fay Facilitator'), account('Gus Garcia')
    last_week = local_today('America/Chicago') - timedelta(days=7)
    monday = last_week - timedelta(days=last_week.weekday())
    shared = team_circle(fay, 'Python at the library', monday, team_id=team.team_id)
    private = team_circle(gus, 'Conversational Spanish, intermediate level', monday + timedelta(days=2),
                          team_id=team.team_id, meeting_time='10:30')
    team_circle(fay, 'Data basics', monday + timedelta(days=2), team_id=team.team_id)
    # Cancelled while ahead (a started meeting cannot be), then moved into last week.
    cancelled = team_circle(gus, 'Knitting basics', monday + timedelta(days=18), team_id=team.team_id)
    give_feedback(shared, shared.meetings[0], fay, shared=True, rating=5, attendance=9,
                  reflection='Everyone got Python installed; two learners paired up and finished chapter one.')
    give_feedback(private, private.meetings[0], gus, shared=False)
    circle = circles.get_circle(cancelled.id)
    circle_admin.cancel_meeting(circle, circle.meetings[0].meeting_id)
    circle_admin.save(circle)
    let_days_pass(cancelled.id, 14)
    sync_reminders(circles.get_circle(cancelled.id))

    page = open_page('desktop')
    log_in(page, ORGANIZER_EMAIL, f'/organize/{team.team_id}?week={monday.isoformat()}')
    page.wait_for_url(f'**/organize/{team.team_id}?week={monday.isoformat()}')
    main = page.locator('main')
    expect(main).to_contain_text('9 came')
    expect(main).to_contain_text("Feedback given, kept for the circle's facilitators.")
    expect(page.locator('.badge', has_text='No feedback yet')).to_have_count(1)
    expect(page.locator('.badge', has_text='cancelled')).to_have_count(1)
    check_page(page, 'week-with-feedback')
    page.get_by_role('navigation', name=f'Organize {TEAM_NAME}').get_by_role('link', name='Feedback').click()
    expect(page.locator('blockquote.reflection')).to_have_count(1)
    check_page(page, 'feedback-with-rows')
