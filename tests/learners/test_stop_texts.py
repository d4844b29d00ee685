"""A learner stops text messages without leaving the circle: a signed link of its own in every
learner email and on the RSVP page, to a page where opening changes nothing and a POST acts."""
import re
from urllib.parse import urlencode

import pytest

from chalicelib.core import links
from chalicelib.learners import rsvp
from chalicelib.learners.signup import withdraw, withdraw_link
from chalicelib.learners.texts import TEXTS, texts_link
from chalicelib.models import Signup
from tests.facilitators.test_messages import (GRACE_MOBILE, build_world, deliveries, emails_with_subject, log_in,
                                              send)

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


@pytest.fixture
def world(moto):
    return build_world(moto)


def path_of(url):
    return re.sub(r'^https?://[^/]+', '', url)


def stored(signup):
    return Signup.get(*Signup.key(signup.circle_id, signup.signup_id), consistent_read=True)


def post(client, url, texts):
    return client.http.post(path_of(url), headers=FORM, body=urlencode({'texts': texts}))


def test_opening_the_link_changes_nothing_and_its_button_stops_then_restarts_texts(client, world):
    grace = world.learners['Grace']
    url = texts_link(grace)
    response = client.http.get(path_of(url))
    page = response.body.decode()
    assert response.status_code == 200 and response.headers['Cache-Control'] == 'no-store'
    assert 'Stop text messages for Python for Everybody?' in page and 'value="off"' in page
    assert stored(grace).sms_opted_out is False

    page = post(client, url, 'off').body.decode()
    assert stored(grace).sms_opted_out is True and stored(grace).active
    assert 'Text messages are off' in page and 'value="on"' in page and 'emails about the circle' in page

    page = post(client, url, 'on').body.decode()
    assert stored(grace).sms_opted_out is False and 'Text messages are on' in page


def test_a_post_without_a_choice_changes_nothing(client, world):
    grace = world.learners['Grace']
    assert post(client, texts_link(grace), 'maybe').status_code == 200
    assert stored(grace).sms_opted_out is False


def test_after_stopping_texts_the_learner_still_gets_emails_but_no_text(client, moto, world, twilio):
    grace = world.learners['Grace']
    post(client, texts_link(grace), 'off')
    send(client, log_in(client, 'ada@example.org'), world.circle.id, sms_text='Room change: 2nd floor')
    assert twilio.requests == []
    assert 'grace@example.org' in [m['To'] for m in emails_with_subject(moto, 'Bring a laptop')]
    [sms] = [d for d in deliveries(world.circle.id) if d.channel == 'sms' and d.signup_id == grace.signup_id]
    assert sms.state == 'skipped' and 'opted out' in sms.error


def test_a_link_made_for_another_purpose_or_altered_is_refused(client, world):
    grace = world.learners['Grace']
    withdraw_token = withdraw_link(grace).rsplit('/', 1)[1]
    assert client.http.get(f'/texts/{withdraw_token}').status_code == 400
    assert post(client, f'/texts/{withdraw_token}', 'off').status_code == 400
    assert client.http.get(path_of(texts_link(grace)) + 'x').status_code == 400
    assert stored(grace).sms_opted_out is False and links.MAX_AGE_SECONDS[TEXTS] > 0


def test_a_learner_who_left_gets_the_invalid_link_page(client, world):
    grace = world.learners['Grace']
    url = texts_link(grace)
    withdraw(grace)
    assert client.http.get(path_of(url)).status_code == 400
    assert post(client, url, 'on').status_code == 400
    assert stored(grace).mobile is None


def test_a_learner_without_a_mobile_has_no_texts_link(world):
    assert texts_link(world.learners['Alan']) is None


def test_the_message_email_carries_the_link_for_learners_with_a_mobile_only(client, moto, world, twilio):
    send(client, log_in(client, 'ada@example.org'), world.circle.id)
    by_address = {m['To']: m for m in emails_with_subject(moto, 'Bring a laptop')}
    grace = by_address['grace@example.org']
    text, html = grace.get_body(('plain',)).get_content(), grace.get_body(('html',)).get_content()
    url = re.search(r'Stop text messages, and stay in the circle: (\S+)', text).group(1)
    grace_signup = world.learners['Grace']
    assert links.unsign(TEXTS, url.rsplit('/', 1)[1]) == {'c': world.circle.id, 's': grace_signup.signup_id}
    assert f'href="{url}"' in html
    assert 'Stop text messages' not in by_address['alan@example.org'].get_body(('plain',)).get_content()


def test_reminder_links_and_the_rsvp_page_carry_the_texts_link(client, world):
    grace = world.learners['Grace']
    meeting = world.circle.meetings[0]
    learner_links = rsvp.learner_links(grace, meeting)
    assert learner_links['texts'] == texts_link(grace)
    assert rsvp.learner_links(world.learners['Alan'], meeting)['texts'] is None

    from chalicelib.circles import circles
    from chalicelib.reminders import render, schedule
    reminder = schedule.new_reminder(world.circle, meeting, circles.utcnow())
    _, text, html = render.render_email_for_learner(world.circle, meeting, reminder, grace, learner_links)
    url = re.search(r'Stop text messages: (\S+)', text).group(1)
    assert url.startswith(texts_link(grace).rsplit('/', 1)[0]) and f'href="{url}"' in html
    _, text, _ = render.render_email_for_learner(world.circle, meeting, reminder, world.learners['Alan'],
                                                 rsvp.learner_links(world.learners['Alan'], meeting))
    assert 'Stop text messages' not in text

    page = client.http.get(path_of(learner_links['yes'])).body.decode()
    url = re.search(r'<a href="([^"]+)">Text messages: stop or restart</a>', page).group(1)
    assert client.http.get(path_of(url)).body.decode().count('Stop text messages for Python for Everybody?') == 1


def test_turning_texts_off_and_on_is_recorded_as_consent_withdrawn_then_given(client, world):
    from chalicelib.models import consent
    from chalicelib.privacy.consent import records_of
    grace = world.learners['Grace']
    post(client, texts_link(grace), 'off')
    post(client, texts_link(grace), 'on')
    records = [r for r in records_of(consent.signup_subject(grace.circle_id, grace.signup_id))
               if r.channel == consent.TEXTS_PAGE]
    assert [(r.topic, r.given) for r in records] == [(consent.SMS, consent.WITHDRAWN), (consent.SMS, consent.GIVEN)]
