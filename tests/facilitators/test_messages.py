"""Messages to a circle's learners: one email each, SMS through (a local fake of) Twilio,
exactly once per compose form, delivery states recorded, roles and CSRF on every route."""
import dataclasses
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

from chalicelib.facilitators import access as facilitation
from chalicelib.facilitators import messages
from chalicelib.models import Circle, CircleMessage, Delivery, Signup, TeamMember
from chalicelib.core.settings import get_settings
from chalicelib.learners.signup import sign_up, withdraw
from tests.support import aws_calls
from tests.support.outbox import drain
from tests.support.factories import make_circle
from tests.accounts.test_account_pages import csrf_from, log_in
from tests.accounts.test_accounts import registered

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}
GRACE_MOBILE = '+13125550101'
LINUS_MOBILE = '+13125550103'


@dataclass
class World:
    circle: object
    other_circle: object
    facilitator: object
    co_facilitator: object
    learners: dict


def build_world(moto, **circle_fields):
    """A circle of team t-chicago run by two facilitators, with three current learners (one with a
    mobile, one with a mobile that opted out, one without) and one who left; and another circle.

    Accounts are made only for the people a test logs in as (hashing passwords is slow).
    """
    ada = registered(moto, 'ada@example.org')
    bo = registered(moto, 'bo@example.org')
    circle = make_circle(facilitator_ids=[ada.user_id, bo.user_id], facilitator_names=['Ada', 'Bo'],
                         facilitator_emails=[ada.email, bo.email], team_id='t-chicago', **circle_fields)
    facilitation.facilitator_link(circle, ada).save()
    facilitation.facilitator_link(circle, bo, 'co-facilitator').save()
    other = make_circle(name='Writing Club', facilitator_ids=['u-eve'], facilitator_names=['Eve'],
                        facilitator_emails=['eve@example.org'])
    learners = {}
    for name, email, mobile in [('Grace', 'grace@example.org', GRACE_MOBILE), ('Alan', 'alan@example.org', ''),
                                ('Linus', 'linus@example.org', LINUS_MOBILE),
                                ('Kat', 'kat@example.org', '+13125550104')]:
        learners[name], _, _ = sign_up(circle.id, {'name': name, 'email': email, 'mobile': mobile,
                                                   'consent': 'true'})
    learners['Linus'].update(actions=[Signup.sms_opted_out.set(True)])
    withdraw(learners.pop('Kat'))
    return World(circle, other, ada, bo, learners)


def stranger(moto, world):
    """Eve: she facilitates the other circle, not this one."""
    eve = registered(moto, 'eve@example.org')
    world.other_circle.update(actions=[Circle.facilitator_ids.set([eve.user_id])])
    facilitation.facilitator_link(world.other_circle, eve).save()
    return eve


def organizer(moto):
    """Olu organizes team t-chicago (the circle's team); log in after this."""
    olu = registered(moto, 'olu@example.org')
    TeamMember('TEAM#t-chicago', f'MEMBER#{olu.user_id}', team_id='t-chicago', user_id=olu.user_id,
               role='organizer', user_pk=f'USER#{olu.user_id}', user_sk='TEAM#t-chicago').save()
    return olu


def log_in_as(client, moto, world, email):
    """Log in as the facilitator, the co-facilitator, the team's organizer or the stranger."""
    if email == 'olu@example.org':
        organizer(moto)
    elif email == 'eve@example.org':
        stranger(moto, world)
    return log_in(client, email)


@pytest.fixture
def world(moto):
    return build_world(moto)


def post(client, path, fields, cookie):
    return client.http.post(path, headers={**FORM, 'Cookie': cookie}, body=urlencode(fields))


def compose_form(client, cookie, circle_id):
    """csrf_token and message_key of a freshly rendered compose form."""
    page = client.http.get(f'/facilitate/circles/{circle_id}/messages/new', headers={'Cookie': cookie})
    assert page.status_code == 200, page.body
    body = page.body.decode()
    return {'csrf_token': csrf_from(body),
            'message_key': re.search(r'name="message_key" value="([^"]+)"', body).group(1)}


def send(client, cookie, circle_id, subject='Bring a laptop', body='Hi all,\n\nPlease bring a laptop on Tuesday.',
         sms_text='', form=None):
    form = form or compose_form(client, cookie, circle_id)
    response = post(client, f'/facilitate/circles/{circle_id}/messages/new',
                    {**form, 'subject': subject, 'body': body, 'sms_text': sms_text}, cookie)
    drain()     # the stream sender, as in AWS within a second or so
    return response


def emails_with_subject(moto, subject):
    return [m for m in moto.sent_emails() if m['Subject'] == subject]


def deliveries(circle_id):
    """The per-learner outbox items of the facilitators' messages (not their fan-out items)."""
    return sorted((d for d in Delivery.query(f'CIRCLE#{circle_id}', Delivery.sk.startswith('DELIVERY#message#'))
                   if d.channel != 'fan-out'), key=lambda d: (d.channel, d.signup_id))


# --- sending ------------------------------------------------------------------------

def test_each_current_learner_gets_their_own_email_and_replies_go_to_the_facilitators(client, moto, world, twilio):
    cookie = log_in(client, 'ada@example.org')
    response = send(client, cookie, world.circle.id)
    assert response.status_code == 303, response.body
    assert re.fullmatch(rf'/facilitate/circles/{world.circle.id}/messages/[a-z0-9]{{20}}',
                        response.headers['Location'])

    sent = emails_with_subject(moto, 'Bring a laptop')
    assert sorted(m['To'] for m in sent) == ['alan@example.org', 'grace@example.org', 'linus@example.org']
    for message in sent:
        assert message['Cc'] is None and message['Bcc'] is None
        assert ',' not in message['To']
        assert message['Reply-To'] == 'ada@example.org, bo@example.org'
        text = message.get_body(('plain',)).get_content()
        assert 'Please bring a laptop on Tuesday.' in text and '/withdraw/' in text
    grace = next(m for m in sent if m['To'] == 'grace@example.org')
    assert 'Hi Grace,' in grace.get_body(('plain',)).get_content()
    assert 'kat@example.org' not in str([m['To'] for m in moto.sent_emails()])   # she left
    assert twilio.requests == []                                                 # no SMS text written
    assert {d.state for d in deliveries(world.circle.id)} == {'sent'} and len(deliveries(world.circle.id)) == 3


def test_sms_goes_only_to_learners_with_a_mobile_who_have_not_opted_out(client, world, twilio):
    cookie = log_in(client, 'ada@example.org')
    settings = get_settings()
    response = send(client, cookie, world.circle.id, sms_text='Bring a laptop on Tuesday! €5 for pizza [optional]')
    assert response.status_code == 303, response.body

    forms = [dict(r['form']) for r in twilio.requests]
    assert all(form.pop('StatusCallback').startswith(f'{settings.public_base_url}/sms/status?d=') for form in forms)
    assert [(r['path'], r['auth']) for r in twilio.requests] == [(
        f'/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json',
        (settings.twilio_account_sid, settings.twilio_auth_token))]
    assert forms == [{'To': GRACE_MOBILE, 'From': '+13125550000',
                      'Body': 'Python for Everybody (Dee): Bring a laptop on Tuesday! €5 for pizza [optional] '
                              'Reply STOP to stop texts'}]
    states = {d.signup_id: (d.state, d.error) for d in deliveries(world.circle.id) if d.channel == 'sms'}
    # The learner whose number opted out is refused by the sender before any request.
    opted_out = [s for s, (state, _) in states.items() if state == 'skipped']
    assert len(opted_out) == 1 and 'opted out' in states[opted_out[0]][1]
    sms = [d for d in deliveries(world.circle.id) if d.channel == 'sms' and d.state != 'skipped']
    assert [(d.signup_id, d.state) for d in sms] == [(world.learners['Grace'].signup_id, 'sent')]
    assert sms[0].provider_id.startswith('SM')
    message = CircleMessage.get(*CircleMessage.key(world.circle.id, sms[0].purpose.split('#')[1]))
    assert (message.email_recipients, message.sms_recipients) == (3, 1)


def test_submitting_the_same_form_twice_sends_once(client, moto, world, twilio):
    cookie = log_in(client, 'ada@example.org')
    form = compose_form(client, cookie, world.circle.id)
    first = send(client, cookie, world.circle.id, sms_text='See you Tuesday', form=form)
    again = send(client, cookie, world.circle.id, sms_text='See you Tuesday', form=form)
    assert first.status_code == again.status_code == 303
    assert again.headers['Location'] == first.headers['Location'] + '?already=1'
    assert len(emails_with_subject(moto, 'Bring a laptop')) == 3
    assert len(twilio.requests) == 1
    assert len(list(CircleMessage.query(f'CIRCLE#{world.circle.id}', CircleMessage.sk.startswith('MESSAGE#')))) == 1
    page = client.http.get(again.headers['Location'], headers={'Cookie': cookie}).body.decode()
    assert 'already sent' in page and 'not sent again' in page


def test_a_retried_post_with_an_edited_text_still_sends_nothing_new(client, moto, world, twilio):
    cookie = log_in(client, 'ada@example.org')
    form = compose_form(client, cookie, world.circle.id)
    send(client, cookie, world.circle.id, form=form)
    send(client, cookie, world.circle.id, subject='Bring a laptop!!', form=form)
    assert len(emails_with_subject(moto, 'Bring a laptop')) == 3
    assert emails_with_subject(moto, 'Bring a laptop!!') == []


def test_a_number_that_opted_out_is_marked_and_never_texted_again(client, moto, world, twilio):
    twilio.fail_number(GRACE_MOBILE, 21610)
    cookie = log_in(client, 'ada@example.org')
    send(client, cookie, world.circle.id, sms_text='Room change: 2nd floor')
    [sms] = [d for d in deliveries(world.circle.id) if d.channel == 'sms' and d.state != 'skipped']
    assert (sms.state, sms.error_code) == ('failed', 21610) and 'opted out' in sms.error
    assert Signup.get(*Signup.key(world.circle.id, world.learners['Grace'].signup_id)).sms_opted_out is True
    assert len(twilio.requests) == 1          # not retried

    send(client, cookie, world.circle.id, subject='Next week', sms_text='Next week: chapter 3')
    assert len(twilio.requests) == 1          # Grace is not texted again...
    assert [m['To'] for m in emails_with_subject(moto, 'Next week')].count('grace@example.org') == 1   # ...but emailed


def test_a_twilio_server_error_is_retried_later_and_shown_meanwhile(client, moto, world, twilio):
    twilio.answer_next(500)
    cookie = log_in(client, 'ada@example.org')
    response = send(client, cookie, world.circle.id, sms_text='Room change: 2nd floor')
    [sms] = [d for d in deliveries(world.circle.id) if d.channel == 'sms' and d.state != 'skipped']
    assert sms.state == 'retrying' and sms.error_code == 20500 and 'Internal Server Error' in sms.error
    assert len(twilio.requests) == 1
    assert len(emails_with_subject(moto, 'Bring a laptop')) == 3      # email unaffected
    page = client.http.get(response.headers['Location'], headers={'Cookie': cookie}).body.decode()
    assert 'Grace' in page and 'Internal Server Error' in page and '0 of 1 sent' in page
    sweep_at(sms.retry_at)
    assert [r['status'] for r in twilio.requests] == [500, 201]
    [sms] = [d for d in deliveries(world.circle.id) if d.channel == 'sms' and d.state != 'skipped']
    assert sms.state == 'sent'


def sweep_at(moment):
    from chalicelib.messaging import sender
    from chalicelib.ops.outbox_templates import templates
    return sender.sweep(templates(), moment)


def test_too_many_requests_is_one_request_and_a_retry_later(client, world, twilio):
    twilio.answer_next(429)
    cookie = log_in(client, 'ada@example.org')
    send(client, cookie, world.circle.id, sms_text='Room change: 2nd floor')
    assert [r['status'] for r in twilio.requests] == [429]    # no hidden retry behind the rate's back
    [sms] = [d for d in deliveries(world.circle.id) if d.channel == 'sms' and d.state != 'skipped']
    assert sms.state == 'retrying'
    sweep_at(sms.retry_at)
    assert [r['status'] for r in twilio.requests] == [429, 201]


def test_an_unreachable_twilio_is_a_failure_not_a_crash(world):
    from chalicelib.messaging import sms
    unreachable = dataclasses.replace(get_settings(), twilio_api_base='http://127.0.0.1:9')
    with pytest.raises(sms.SmsFailed, match='could not be reached'):
        sms.send(GRACE_MOBILE, 'Hello', settings=unreachable)


def test_the_form_shows_errors_in_place_keeps_input_and_sends_nothing(client, moto, world, twilio):
    cookie = log_in(client, 'ada@example.org')
    too_long = 'a' * 460     # 4 segments of 153
    response = send(client, cookie, world.circle.id, subject='', body='Dear all', sms_text=too_long)
    page = response.body.decode()
    assert response.status_code == 400
    assert 'id="subject-error"' in page and 'id="sms_text-error"' in page and 'id="body-error"' not in page
    assert 'needs 4 messages' in page and 'Dear all' in page and too_long in page
    assert twilio.requests == [] and emails_with_subject(moto, '') == []
    assert deliveries(world.circle.id) == []
    assert list(CircleMessage.query(f'CIRCLE#{world.circle.id}', CircleMessage.sk.startswith('MESSAGE#'))) == []


def test_three_segments_with_the_circles_name_and_the_opt_out_words_are_accepted(client, world, twilio):
    cookie = log_in(client, 'ada@example.org')
    prefix, suffix = messages.sms_frame(world.circle, 'Dee')
    room = 3 * 153 - len(prefix) - len(suffix)
    assert send(client, cookie, world.circle.id, sms_text='a' * (room + 1)).status_code == 400
    response = send(client, cookie, world.circle.id, sms_text='a' * room)
    assert response.status_code == 303
    assert twilio.sent()[0]['Body'] == prefix + 'a' * room + suffix


def test_a_form_without_its_message_key_is_refused_and_gets_a_new_one(client, world, twilio):
    cookie = log_in(client, 'ada@example.org')
    form = compose_form(client, cookie, world.circle.id)
    response = send(client, cookie, world.circle.id, form={**form, 'message_key': 'x'})
    assert response.status_code == 400 and 'reload the page' in response.body.decode()
    assert re.search(r'name="message_key" value="[a-z0-9]{20}"', response.body.decode())


# --- the pages ------------------------------------------------------------------------

def test_compose_page_counts_recipients_and_loads_the_counter_script(client, world):
    cookie = log_in(client, 'ada@example.org')
    page = client.http.get(f'/facilitate/circles/{world.circle.id}/messages/new', headers={'Cookie': cookie})
    body = page.body.decode()
    assert 'goes to 3 current learners' in body and 'the 1 learner with a mobile number' in body
    assert 'data-sms-counter="sms-count"' in body and '<script src="/static/sms-counter.js"' in body
    script = client.http.get('/static/sms-counter.js')
    assert script.status_code == 200 and script.headers['Content-Type'].startswith('text/javascript')


def test_the_circle_page_partial_lists_messages_with_counts_and_failure_reasons(client, world, twilio):
    from chalicelib.core.rendering import render
    from chalicelib.accounts.sessions import from_cookie_header
    twilio.answer_next(500)
    cookie = log_in(client, 'ada@example.org')
    send(client, cookie, world.circle.id, sms_text='Room change')
    session = from_cookie_header(cookie)
    aws_calls.reset()
    ws = facilitation.workspace(session, world.circle.id)
    html = render('facilitator/_messages.html', ws=ws, session=session, csrf_token='t')
    assert aws_calls.dynamodb_calls() == {'Query': 1}
    assert 'Bring a laptop' in html and 'Email: 3 sent' in html
    assert 'Text message: 0 sent' in html and '1 still to send' in html and 'Grace: ' in html
    assert 'Internal Server Error' in html and 'will be tried again' in html


def test_the_message_page_lists_each_delivery(client, world, twilio):
    cookie = log_in(client, 'bo@example.org')
    location = send(client, cookie, world.circle.id, sms_text='Hi!').headers['Location']
    page = client.http.get(location, headers={'Cookie': cookie})
    body = page.body.decode()
    assert page.status_code == 200
    assert 'Email: 3 of 3 sent' in body and 'Text message: 1 of 1 sent' in body
    assert body.count('<tr><td>') == 5 and 'Alan' in body and 'Linus' in body     # 3 emails, 1 SMS, 1 skipped SMS
    assert 'not sent: The learner has opted out of text messages' in body
    missing = client.http.get(f'/facilitate/circles/{world.circle.id}/messages/{"a" * 20}', headers={'Cookie': cookie})
    assert missing.status_code == 404


def test_local_stage_without_credentials_keeps_texts_in_the_local_outbox(client, twilio):
    from chalicelib.messaging import sms
    local = dataclasses.replace(get_settings(), twilio_account_sid='', twilio_auth_token='')
    sid = sms.send(GRACE_MOBILE, 'Hello from the local stage', settings=local)
    assert sid.startswith('LOCAL') and twilio.requests == []
    [stored] = sms.local_outbox()
    assert (stored.to, stored.body) == (GRACE_MOBILE, 'Hello from the local stage')
    page = client.http.get('/local/outbox').body.decode()
    assert 'Hello from the local stage' in page and GRACE_MOBILE in page


# --- roles and CSRF ---------------------------------------------------------------------

def routes(world, message_key):
    circle_id = world.circle.id
    return [('GET', f'/facilitate/circles/{circle_id}/messages/new'),
            ('POST', f'/facilitate/circles/{circle_id}/messages/new'),
            ('GET', f'/facilitate/circles/{circle_id}/messages/{message_key}')]


def test_anonymous_visitors_are_sent_to_login_on_every_route(client, world):
    for method, path in routes(world, 'a' * 20):
        if method == 'GET':
            response = client.http.get(path)
        else:
            response = client.http.post(path, headers=FORM, body=urlencode({'subject': 'x', 'body': 'y'}))
        assert response.status_code == 303 and response.headers['Location'].startswith('/login?next='), path


def test_another_facilitator_gets_404_everywhere_and_sends_nothing(client, moto, world, twilio):
    owner = log_in(client, 'ada@example.org')
    location = send(client, owner, world.circle.id).headers['Location']
    key = location.rsplit('/', 1)[1]

    eve = log_in_as(client, moto, world, 'eve@example.org')
    own_form = compose_form(client, eve, world.other_circle.id)    # a valid token of her own
    before = len(moto.sent_emails())
    for method, path in routes(world, key):
        if method == 'GET':
            response = client.http.get(path, headers={'Cookie': eve})
        else:
            response = post(client, path, {**own_form, 'subject': 'Hi', 'body': 'Spam', 'sms_text': 'Spam'}, eve)
        assert response.status_code == 404, path
        assert 'Bring a laptop' not in response.body.decode()
    assert len(moto.sent_emails()) == before and twilio.requests == []


@pytest.mark.parametrize('email', ['ada@example.org', 'bo@example.org', 'olu@example.org'])
def test_facilitators_co_facilitators_and_team_organizers_can_use_every_route(client, moto, world, twilio, email):
    cookie = log_in_as(client, moto, world, email)
    response = send(client, cookie, world.circle.id, subject=f'From {email}')
    assert response.status_code == 303, response.body
    assert len(emails_with_subject(moto, f'From {email}')) == 3
    assert client.http.get(response.headers['Location'], headers={'Cookie': cookie}).status_code == 200


def test_a_post_without_the_csrf_token_is_refused_and_sends_nothing(client, moto, world, twilio):
    cookie = log_in(client, 'ada@example.org')
    form = compose_form(client, cookie, world.circle.id)
    for token in (None, 'forged'):
        fields = {'message_key': form['message_key'], 'subject': 'Hi', 'body': 'Hello', 'sms_text': 'Hello'}
        if token:
            fields['csrf_token'] = token
        response = post(client, f'/facilitate/circles/{world.circle.id}/messages/new', fields, cookie)
        assert response.status_code == 403
    assert emails_with_subject(moto, 'Hi') == [] and twilio.requests == []


def test_message_page_reads_the_circle_with_one_query(client, world, twilio):
    cookie = log_in(client, 'ada@example.org')
    location = send(client, cookie, world.circle.id, sms_text='Hi').headers['Location']
    aws_calls.reset()
    assert client.http.get(location, headers={'Cookie': cookie}).status_code == 200
    calls = aws_calls.dynamodb_calls()
    assert calls.get('Query') == 1 and calls.get('GetItem', 0) <= 1 and set(calls) <= {'Query', 'GetItem'}


def test_sending_is_one_transaction_whatever_the_number_of_learners(client, world, twilio):
    from chalicelib.accounts.sessions import from_cookie_header
    cookie = log_in(client, 'ada@example.org')
    session = from_cookie_header(cookie)
    ws = facilitation.workspace(session, world.circle.id)
    draft = messages.Draft(message_key=messages.new_message_key(), subject='S', body='B', sms_text='T')
    aws_calls.reset()
    message, sent_now = messages.send_message(ws, session, draft)
    calls = aws_calls.dynamodb_calls()
    # The message and its outbox fan-out; nothing is sent by the request.
    assert sent_now and calls == {'TransactWriteItems': 1}
    assert twilio.received == []
    again, sent_now = messages.send_message(ws, session, draft)
    assert not sent_now and again.message_key == message.message_key


def test_a_text_is_counted_delivered_only_once_twilio_says_so(client, world, twilio):
    from chalicelib.core.rendering import render
    from chalicelib.accounts.sessions import from_cookie_header
    from tests.support.outbox import drain
    cookie = log_in(client, 'ada@example.org')
    send(client, cookie, world.circle.id, sms_text='Room change')
    drain()
    session = from_cookie_header(cookie)

    def partial():
        return render('facilitator/_messages.html', ws=facilitation.workspace(session, world.circle.id),
                      session=session, csrf_token='t')
    assert 'Text message: 1 accepted by Twilio, not confirmed delivered yet' in partial()
    [sent] = [r for r in twilio.requests if r['status'] == 201]
    assert twilio.report_status(client, sent['sid'], 'delivered').status_code == 204
    assert 'Text message: 1 delivered' in partial() and 'accepted by Twilio' not in partial()
