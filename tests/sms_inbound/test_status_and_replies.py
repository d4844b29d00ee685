"""A facilitator answers a learner's text from their page; Twilio's status callbacks say what
became of it (delivered, or a number that cannot get texts: then by email), and only Twilio can
say so. The real twilio client sends to the session's fake; callbacks are signed like Twilio's."""

import os

import pytest

from chalicelib.core.settings import get_settings
from chalicelib.models import Delivery, Signup
from tests.facilitators.test_facilitator_pages import Browser, account, learner, run_by
from tests.sms_inbound.helpers import text_us
from tests.support.twilio_fake import signed_post

GRACE = '+13125550123'
FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


@pytest.fixture
def world(client):
    ada = account('Ada Lovelace', 'ada@example.org')
    circle = run_by(ada, name='Python for Everybody', starts_in_days=1)
    grace = learner(circle, 'Grace Hopper', 'grace@example.org', mobile=GRACE)
    text_us(client, GRACE, 'Can I bring my laptop?')
    return ada, circle, grace, Browser(ada)


def reply_page(client, circle, grace, browser):
    return client.http.get(f'/facilitate/circles/{circle.id}/texts/{grace.signup_id}',
                           headers={'Cookie': browser.cookie})


def send_reply(client, circle, grace, browser, text, key='k' * 20):
    from urllib.parse import urlencode
    body = urlencode({'csrf_token': browser.csrf, 'reply_key': key, 'text': text})
    return client.http.post(f'/facilitate/circles/{circle.id}/texts/{grace.signup_id}', body=body,
                            headers={**FORM, 'Cookie': browser.cookie})


def replies(circle, grace):
    """The answers' outbox items, once the sender has delivered what was written."""
    from tests.support.outbox import drain
    drain()
    return list(Delivery.query(f'CIRCLE#{circle.id}', Delivery.sk.startswith(f'DELIVERY#text-reply#{grace.signup_id}#'),
                               consistent_read=True))


def test_the_reply_page_shows_the_learners_text_and_sends_an_answer_by_sms_once(client, twilio, world):
    ada, circle, grace, browser = world
    page = reply_page(client, circle, grace, browser)
    assert page.status_code == 200 and 'Can I bring my laptop?' in page.body.decode()
    response = send_reply(client, circle, grace, browser, 'Yes, please do!')
    assert response.status_code == 303 and response.headers['Location'].endswith('?sent=1')
    again = send_reply(client, circle, grace, browser, 'Yes, please do!')          # a second click
    assert again.headers['Location'].endswith('?sent=again')
    [sent] = twilio.sent()
    assert sent['To'] == GRACE and sent['From'] == '+13125550000'
    assert sent['Body'] == 'Python for Everybody (Ada): Yes, please do! Reply STOP to stop texts'
    assert sent['StatusCallback'].startswith('http://circles.test/sms/status?d=')
    [item] = replies(circle, grace)
    assert item.state == 'sent' and item.provider_id.startswith('SM') and item.body == sent['Body']
    assert 'accepted by Twilio' in reply_page(client, circle, grace, browser).body.decode()


def test_an_empty_or_too_long_answer_is_shown_again_with_the_error(client, twilio, world):
    ada, circle, grace, browser = world
    empty = send_reply(client, circle, grace, browser, '   ')
    assert empty.status_code == 400 and 'Please write your answer.' in empty.body.decode()
    long = send_reply(client, circle, grace, browser, 'word ' * 120)
    assert long.status_code == 400 and 'within 3 text messages' in long.body.decode()
    assert replies(circle, grace) == [] and twilio.sent() == []


def test_status_callbacks_record_delivery_forward_only_and_the_page_shows_delivered(client, twilio, world):
    ada, circle, grace, browser = world
    send_reply(client, circle, grace, browser, 'See you!')
    [sent] = [r for r in twilio.requests if r['status'] == 201]
    assert twilio.report_status(client, sent['sid'], 'sent').status_code == 204
    assert twilio.report_status(client, sent['sid'], 'delivered').status_code == 204
    twilio.report_status(client, sent['sid'], 'sent')             # late and out of order: ignored
    [item] = replies(circle, grace)
    assert (item.state, item.provider_status) == ('sent', 'delivered')
    assert '>delivered<' in reply_page(client, circle, grace, browser).body.decode()


def test_a_callback_for_another_message_sid_changes_nothing(client, twilio, world):
    ada, circle, grace, browser = world
    send_reply(client, circle, grace, browser, 'See you!')
    [item] = replies(circle, grace)
    callback = twilio.message(item.provider_id)['StatusCallback']
    fields = {'MessageSid': 'SM' + '0' * 32, 'MessageStatus': 'undelivered', 'ErrorCode': '30006', 'To': GRACE}
    assert signed_post(client, callback, fields, get_settings().twilio_auth_token).status_code == 204
    [item] = replies(circle, grace)
    assert item.provider_status is None and item.state == 'sent'


@pytest.mark.parametrize('signature', ['', 'forged'])
def test_unsigned_and_forged_status_callbacks_get_403_and_change_nothing(client, twilio, world, signature):
    ada, circle, grace, browser = world
    send_reply(client, circle, grace, browser, 'See you!')
    [item] = replies(circle, grace)
    callback = twilio.message(item.provider_id)['StatusCallback']
    fields = {'MessageSid': item.provider_id, 'MessageStatus': 'undelivered', 'ErrorCode': '30006', 'To': GRACE}
    response = signed_post(client, callback, fields, 'not-our-token' if signature else '', signature=None if signature else '')
    assert response.status_code == 403
    [item] = replies(circle, grace)
    assert item.provider_status is None and item.state == 'sent'
    assert not Signup.get(*Signup.key(circle.id, grace.signup_id)).sms_opted_out


def test_a_landline_30006_stops_texts_to_the_number_and_the_answer_goes_by_email(client, moto, twilio, world):
    ada, circle, grace, browser = world
    other = learner(run_by(account('Bo Other'), name='Chess club'), 'Grace', 'grace@example.org', mobile=GRACE)
    send_reply(client, circle, grace, browser, 'Yes, bring it!')
    [item] = replies(circle, grace)
    response = twilio.report_status(client, item.provider_id, 'undelivered', 30006)
    assert response.status_code == 204
    [item] = replies(circle, grace)
    assert (item.state, item.provider_status, item.error_code) == ('failed', 'undelivered', 30006)
    assert 'landline' in item.error
    for signup in (grace, other):
        assert Signup.get(*Signup.key(signup.circle_id, signup.signup_id)).sms_opted_out
    [fallback] = [m for m in moto.sent_emails() if m['To'] == 'grace@example.org'
                  and m['Subject'] == 'A text message we could not deliver to you']
    text = fallback.get_body(preferencelist=('plain',)).get_content()
    assert 'Python for Everybody (Ada): Yes, bring it!' in text and 'landline' in text
    assert 'not delivered' in reply_page(client, circle, grace, browser).body.decode()


def test_a_21610_opted_out_answer_goes_by_email_and_is_never_retried(client, moto, twilio, world):
    ada, circle, grace, browser = world
    twilio.fail_number(GRACE, 21610)
    send_reply(client, circle, grace, browser, 'Yes, bring it!')
    [item] = replies(circle, grace)
    assert (item.state, item.error_code, item.due_pk) == ('failed', 21610, None)
    [fallback] = [m for m in moto.sent_emails() if m['Subject'] == 'A text message we could not deliver to you']
    assert fallback['To'] == 'grace@example.org'
    assert 'replied STOP' in fallback.get_body(preferencelist=('plain',)).get_content()
    assert Signup.get(*Signup.key(circle.id, grace.signup_id)).sms_opted_out


def test_a_reminder_sms_undelivered_sends_no_second_email(client, moto, twilio, world):
    """A reminder goes by email too: its undelivered SMS stops texts but repeats nothing."""
    from chalicelib.messaging import outbox
    from chalicelib.models import Signup as SignupModel
    ada, circle, grace, browser = world
    now = __import__('chalicelib.circles.circles', fromlist=['utcnow']).utcnow()
    signup = SignupModel.get(*SignupModel.key(circle.id, grace.signup_id))
    both = [outbox.for_signup(signup, 'news', channel, 'prepared_' + ('email' if channel == 'email' else 'sms'), now,
                              params={'subject': 'News', 'text': 'News', 'html': '<p>News</p>', 'body': 'News!'})
            for channel in (outbox.EMAIL, outbox.SMS)]
    outbox.write(both)
    before = len(moto.sent_emails())
    sms_item = Delivery.get(*Delivery.key(f'CIRCLE#{circle.id}', 'news', grace.signup_id, 'sms'))
    twilio.report_status(client, sms_item.provider_id, 'failed', 30003)
    assert len(moto.sent_emails()) == before


def test_texts_go_from_the_messaging_service_when_one_is_configured(client, twilio, world):
    ada, circle, grace, browser = world
    os.environ['TWILIO_MESSAGING_SERVICE_SID'] = 'MG' + 'a' * 32
    get_settings.cache_clear()
    get_settings()      # read here, outside a request: the test client sets the stage's config during one
    try:
        send_reply(client, circle, grace, browser, 'Hello')
        [sent] = twilio.sent()
    finally:
        del os.environ['TWILIO_MESSAGING_SERVICE_SID']
        get_settings.cache_clear()
        get_settings()
    assert sent['MessagingServiceSid'] == 'MG' + 'a' * 32 and 'From' not in sent


def test_a_learner_of_another_circle_has_no_reply_page_here(client, world):
    ada, circle, grace, browser = world
    stranger = learner(run_by(account('Bo Other')), 'Sam', 'sam@example.org', mobile='+13125550999')
    response = client.http.get(f'/facilitate/circles/{circle.id}/texts/{stranger.signup_id}',
                               headers={'Cookie': browser.cookie})
    assert response.status_code == 404 and 'Sam' not in response.body.decode()

