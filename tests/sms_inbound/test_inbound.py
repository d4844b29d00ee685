"""Texts to our number (`POST /sms/inbound`), signed by the real RequestValidator like Twilio's:
STOP and START words, HELP, yes and no in English and the circle's language, forwarding to the
facilitators or to support, and requests nobody signed."""
import base64
import json
from urllib.parse import urlencode

import pytest

from chalicelib.models import Delivery, Rsvp, Signup
from chalicelib.models.message import InboundText
from chalicelib.sms_inbound import keywords
from tests.facilitators.test_facilitator_pages import account, learner, run_by
from tests.sms_inbound.helpers import answer_of, inbound_fields, text_us
from tests.support import aws_calls

GRACE = '+13125550123'
WRITES = ('PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems')


def signup_of(signup):
    return Signup.get(*Signup.key(signup.circle_id, signup.signup_id), consistent_read=True)


def answer_to(circle, signup, meeting=None):
    meeting = meeting or circle.meetings[0]
    try:
        return Rsvp.get(*Rsvp.key(circle.id, meeting.meeting_id, signup.signup_id), consistent_read=True).answer
    except Rsvp.DoesNotExist:
        return None


@pytest.fixture
def ada():
    return account('Ada Lovelace', 'ada@example.org')


@pytest.fixture
def soon(ada):
    """A circle meeting tomorrow, with Grace (mobile GRACE) signed up."""
    circle = run_by(ada, name='Python for Everybody', starts_in_days=1)
    return circle, learner(circle, 'Grace Hopper', 'grace@example.org', mobile=GRACE)


# --- keywords ----------------------------------------------------------------------------

@pytest.mark.parametrize('word', ['STOP', 'stop', ' Stop. ', 'STOPALL', 'unsubscribe', 'Cancel', 'END', 'quit',
                                  'REVOKE', 'OPTOUT'])
def test_every_stop_word_opts_the_number_out_of_all_its_signups(client, ada, word):
    first = learner(run_by(ada, name='Python'), 'Grace', 'grace@example.org', mobile=GRACE)
    second = learner(run_by(ada, name='Spanish'), 'Grace', 'grace@example.org', mobile=GRACE)
    other = learner(run_by(ada, name='Chess'), 'Alan', 'alan@example.org', mobile='+13125550999')
    assert answer_of(text_us(client, GRACE, word)) is None      # Twilio confirms the opt-out itself
    assert signup_of(first).sms_opted_out and signup_of(second).sms_opted_out
    assert not signup_of(other).sms_opted_out


@pytest.mark.parametrize('word', ['START', 'unstop', 'Yes'])
def test_start_unstop_and_yes_opt_the_number_back_in(client, soon, word):
    circle, grace = soon
    text_us(client, GRACE, 'STOP')
    assert signup_of(grace).sms_opted_out
    text_us(client, GRACE, word)
    assert not signup_of(grace).sms_opted_out


def test_yes_after_stop_answers_the_rsvp_and_never_leaves_the_number_opted_out(client, soon):
    circle, grace = soon
    text_us(client, GRACE, 'STOP')
    reply = answer_of(text_us(client, GRACE, 'YES'))
    assert answer_to(circle, grace) == 'yes' and not signup_of(grace).sms_opted_out
    assert reply.startswith('Python for Everybody, ') and reply.endswith(": Yes, I'll be there")


@pytest.mark.parametrize('word', ['HELP', 'info', ' Help? '])
def test_help_names_the_learners_circle_and_how_to_stop(client, soon, word):
    reply = answer_of(text_us(client, GRACE, word))
    assert 'Python for Everybody' in reply and 'STOP' in reply and len(reply) <= 160


def test_help_from_an_unknown_number_names_support(client):
    reply = answer_of(text_us(client, '+13125550777', 'HELP'))
    assert 'STOP' in reply and 'support@example.org' in reply


def test_keywords_ignore_case_spaces_and_punctuation_and_count_only_alone():
    assert keywords.keyword('  stop!! ') == keywords.STOP
    assert keywords.keyword('please stop texting') is None
    assert [keywords.answer(t, {'es'}) for t in ('yes ', 'N.', 'Sí', 'si', 'nope')] == ['yes', 'no', 'yes', 'yes', None]
    assert [keywords.answer(t, {'de'}) for t in ('Ja!', 'NEIN')] == ['yes', 'no']
    assert keywords.answer('Ja', ()) is None        # only in a German circle


# --- RSVP by text ---------------------------------------------------------------------------

@pytest.mark.parametrize('text, answer', [('yes ', 'yes'), ('N.', 'no'), ('y', 'yes'), ('No', 'no')])
def test_yes_and_no_answer_the_next_meeting_and_confirm_it(client, soon, text, answer):
    circle, grace = soon
    reply = answer_of(text_us(client, GRACE, text))
    assert answer_to(circle, grace) == answer
    assert reply.startswith('Python for Everybody, ') and len(reply) <= 160
    assert reply.endswith("Yes, I'll be there" if answer == 'yes' else "No, I can't make it")


def test_the_circle_languages_yes_counts_and_the_confirmation_is_in_it(client, ada):
    circle = run_by(ada, name='Conversación', starts_in_days=2, language='es')
    grace = learner(circle, 'Grace', 'grace@example.org', mobile=GRACE)
    reply = answer_of(text_us(client, GRACE, 'Sí'))
    assert answer_to(circle, grace) == 'yes' and reply.endswith('Si, alli estaré')    # folded to GSM-7: one text


def test_the_facilitators_page_shows_the_answer_given_by_text(client, ada, soon):
    from tests.facilitators.test_facilitator_pages import Browser
    circle, grace = soon
    text_us(client, GRACE, 'y')
    page = client.http.get(f'/facilitate/circles/{circle.id}', headers={'Cookie': Browser(ada).cookie}).body.decode()
    assert 'Coming: 1' in page and 'Coming: Grace Hopper' in page


def test_no_meeting_within_three_days_answers_nothing_and_says_so(client, ada):
    circle = run_by(ada, starts_in_days=5)
    grace = learner(circle, 'Grace', 'grace@example.org', mobile=GRACE)
    reply = answer_of(text_us(client, GRACE, 'yes'))
    assert answer_to(circle, grace) is None and 'next 3 days' in reply


def test_two_circles_meeting_soon_answer_nothing(client, ada):
    first, second = run_by(ada, name='A', starts_in_days=1), run_by(ada, name='B', starts_in_days=2)
    grace_a = learner(first, 'Grace', 'grace@example.org', mobile=GRACE)
    grace_b = learner(second, 'Grace', 'grace@example.org', mobile=GRACE)
    reply = answer_of(text_us(client, GRACE, 'yes'))
    assert answer_to(first, grace_a) is None and answer_to(second, grace_b) is None
    assert 'several circles' in reply


def test_a_withdrawn_signup_is_no_match(client, soon):
    from chalicelib.learners.signup import withdraw
    circle, grace = soon
    withdraw(grace)
    reply = answer_of(text_us(client, GRACE, 'yes'))
    assert answer_to(circle, grace) is None and 'nothing to answer' in reply


# --- forwarding ---------------------------------------------------------------------------

def test_other_texts_go_to_the_facilitators_of_the_learners_circle_once(client, moto, soon):
    circle, grace = soon
    sid = 'SM' + 'f' * 32
    assert answer_of(text_us(client, GRACE, 'Running 10 minutes late, sorry!', sid=sid)) is None
    text_us(client, GRACE, 'Running 10 minutes late, sorry!', sid=sid)        # Twilio sent it again
    sent = [m for m in moto.sent_emails() if m['To'] == 'ada@example.org' and m['Subject'].startswith('Text from')]
    assert len(sent) == 1
    message = sent[0]
    assert message['Subject'] == 'Text from Grace Hopper (Python for Everybody)'
    text = message.get_body(preferencelist=('plain',)).get_content()
    assert 'Running 10 minutes late, sorry!' in text and GRACE in text
    assert '/rsvp/' in text and 'Coming:' in text            # the meeting is within 2 days
    assert f'/facilitate/circles/{circle.id}/texts/{grace.signup_id}' in text
    [kept] = InboundText.query(f'CIRCLE#{circle.id}', InboundText.sk.startswith('TEXT#'))
    assert (kept.signup_id, kept.body, kept.message_sid) == (grace.signup_id, 'Running 10 minutes late, sorry!', sid)


def test_a_forward_without_a_meeting_soon_has_no_rsvp_links(client, moto, ada):
    circle = run_by(ada, starts_in_days=6)
    learner(circle, 'Grace', 'grace@example.org', mobile=GRACE)
    text_us(client, GRACE, 'Where do we meet?')
    [message] = [m for m in moto.sent_emails() if m['Subject'].startswith('Text from')]
    assert '/rsvp/' not in message.get_body(preferencelist=('plain',)).get_content()


def test_texts_from_unknown_numbers_go_to_support(client, moto):
    text_us(client, '+13125550777', 'Is there a circle for knitting?')
    [message] = [m for m in moto.sent_emails() if m['Subject'].startswith('Text from')]
    assert message['To'] == 'support@example.org' and message['Subject'] == 'Text from +13125550777'
    body = message.get_body(preferencelist=('plain',)).get_content()
    assert 'Is there a circle for knitting?' in body and 'No current learner has this number' in body


def test_texts_from_a_learner_of_two_current_circles_go_to_support(client, moto, ada):
    learner(run_by(ada, name='Python'), 'Grace', 'grace@example.org', mobile=GRACE)
    learner(run_by(account('Bo Other'), name='Spanish'), 'Grace', 'grace@example.org', mobile=GRACE)
    text_us(client, GRACE, 'Hello, question about next week')
    forwarded = [m for m in moto.sent_emails() if m['Subject'].startswith('Text from')]
    assert [m['To'] for m in forwarded] == ['support@example.org']
    assert 'Python, Spanish' in forwarded[0].get_body(preferencelist=('plain',)).get_content()


# --- nobody else can post here ------------------------------------------------------------

@pytest.mark.parametrize('signature', ['', 'bm90IHR3aWxpbydzIHNpZ25hdHVyZQ==', 'wrong-token', 'other-url'])
def test_forged_and_unsigned_requests_get_403_and_store_nothing(client, soon, signature):
    from twilio.request_validator import RequestValidator
    circle, grace = soon
    if signature == 'wrong-token':
        signature = RequestValidator('not-our-token').compute_signature('http://circles.test/sms/inbound',
                                                                        inbound_fields(GRACE, 'STOP', 'SMx'))
    elif signature == 'other-url':      # signed for the request's own host, not our public URL
        signature = RequestValidator('test-twilio-auth-token').compute_signature(
            'http://localhost/sms/inbound', inbound_fields(GRACE, 'STOP', 'SMx'))
    aws_calls.reset()
    response = text_us(client, GRACE, 'STOP', sid='SMx', signature=signature)
    assert response.status_code == 403
    calls = aws_calls.dynamodb_calls()
    assert not any(calls.get(name) for name in WRITES), calls
    assert not signup_of(grace).sms_opted_out


def test_a_body_altered_after_signing_is_refused(client, soon):
    from chalicelib.core.settings import get_settings
    from twilio.request_validator import RequestValidator
    circle, grace = soon
    fields = inbound_fields(GRACE, 'yes', 'SMy')
    signature = RequestValidator(get_settings().twilio_auth_token).compute_signature(
        'http://circles.test/sms/inbound', fields)
    response = client.http.post('/sms/inbound', body=urlencode({**fields, 'Body': 'STOP'}),
                                headers={'Content-Type': 'application/x-www-form-urlencoded',
                                         'X-Twilio-Signature': signature})
    assert response.status_code == 403 and not signup_of(grace).sms_opted_out


def test_a_base64_body_from_api_gateway_is_decoded_and_checked(soon):
    """API Gateway hands binary-typed bodies to Lambda base64-encoded (`isBase64Encoded`)."""
    from app import app
    from chalicelib.core.settings import get_settings
    from twilio.request_validator import RequestValidator
    circle, grace = soon
    fields = inbound_fields(GRACE, 'Yes', 'SMb64')
    signature = RequestValidator(get_settings().twilio_auth_token).compute_signature(
        'http://circles.test/sms/inbound', fields)
    event = {'resource': '/sms/inbound', 'path': '/sms/inbound', 'httpMethod': 'POST',
             'headers': {'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature,
                         'Host': 'abc123.execute-api.us-east-1.amazonaws.com'},
             'multiValueHeaders': {}, 'queryStringParameters': None, 'multiValueQueryStringParameters': None,
             'pathParameters': None, 'stageVariables': None,
             'requestContext': {'resourcePath': '/sms/inbound', 'httpMethod': 'POST', 'stage': 'api',
                                'path': '/api/sms/inbound', 'identity': {'sourceIp': '54.172.60.1'}},
             'body': base64.b64encode(urlencode(fields).encode()).decode(), 'isBase64Encoded': True}
    response = app(event, None)
    assert response['statusCode'] == 200, response
    assert answer_to(circle, grace) == 'yes'
    assert "Yes, I'll be there" in response['body']
    json.dumps(response)


def test_a_number_texting_too_often_gets_429(client, soon):
    from chalicelib.sms_inbound.inbound import INBOUND_PER_NUMBER
    for _ in range(INBOUND_PER_NUMBER.allowed):
        assert text_us(client, GRACE, 'HELP').status_code == 200
    response = text_us(client, GRACE, 'HELP')
    assert response.status_code == 429 and int(response.headers['Retry-After']) > 0
    assert text_us(client, '+13125550777', 'HELP').status_code == 200     # per number


def test_nothing_is_written_to_the_outbox_for_keywords(client, soon):
    circle, grace = soon
    for word in ('STOP', 'START', 'HELP', 'yes'):
        text_us(client, GRACE, word)
    assert [d for d in Delivery.query(f'CIRCLE#{circle.id}', Delivery.sk.startswith('DELIVERY#text'))] == []
