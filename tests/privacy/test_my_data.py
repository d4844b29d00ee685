"""/my-data: the form answers the same whether or not we hold anything, sends a 24-hour link to
that address or number only, is rate-limited; the link's page lists the learner's circles and
lets them leave one or all.

The helpers here (the sender's table of templates, a learner with something of everything, the
form's poster) are shared by the export, erasure and browser tests.
"""
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.circles import circles
from chalicelib.models import Signup
from tests.support import aws_calls
from tests.support.factories import make_circle

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}
SAME_ANSWER = 'If we hold anything for this email address or mobile number, we sent it a link'


class AnonymousForm:
    """A browser of the anonymous forms: the pre-session cookie and the form's CSRF token."""
    def __init__(self, client):
        self.client = client
        page = client.http.get('/my-data')
        self.cookie = page.headers['Set-Cookie'].split(';')[0]
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page.body.decode()).group(1)

    def ask(self, contact, client_ip=None):
        headers = {**FORM, 'Cookie': self.cookie}
        if client_ip:
            headers['X-Forwarded-For'] = client_ip
        return self.client.http.post('/my-data', headers=headers,
                                     body=urlencode({'contact': contact, 'csrf_token': self.token}))


def sign_up(circle, name='Zed Quillfeather', email='zed.quillfeather@example.org', mobile='+1 312 555 0177',
            goals='Learn to write poems about herons', **more):
    from chalicelib.learners.signup import sign_up as sign_up_for
    data = {'name': name, 'email': email, 'mobile': mobile, 'consent': 'true', 'goals': goals,
            'support': 'A quiet corner', 'communications_opt_in': 'true', **more}
    signup, _, _ = sign_up_for(circle.id, data)
    return Signup.get(*Signup.key(circle.id, signup.signup_id), consistent_read=True)


def link_in(moto, to):
    """The last /my-data link emailed to `to`."""
    mails = [m for m in moto.sent_emails() if m['To'] == to and 'data' in m['Subject']]
    text = mails[-1].get_body(preferencelist=('plain',)).get_content()
    return re.search(r'http://\S+(/my-data/\S+)', text).group(1)


def test_the_form_is_an_anonymous_form_with_a_labelled_field(client):
    page = client.http.get('/my-data')
    html = page.body.decode()
    assert page.status_code == 200 and 'Set-Cookie' in page.headers
    assert '<label for="contact">' in html and 'name="csrf_token"' in html
    assert page.headers['Cache-Control'] == 'no-store'
    posted = client.http.post('/my-data', headers=FORM, body=urlencode({'contact': 'a@example.org'}))
    assert posted.status_code == 403        # no form token: nothing happens


def test_the_answer_is_the_same_whether_or_not_we_hold_anything(client, moto):
    sign_up(make_circle())
    form = AnonymousForm(client)
    known, unknown = form.ask('Zed.Quillfeather@Example.org'), form.ask('nobody@example.org')
    assert known.status_code == unknown.status_code == 200
    assert SAME_ANSWER in known.body.decode()
    assert known.body == unknown.body
    sent = [m['To'] for m in moto.sent_emails() if 'data' in m['Subject']]
    assert sent == ['zed.quillfeather@example.org']        # to that address only; nothing to the other


def test_a_mobile_number_gets_the_link_by_text_to_that_number_only(client, moto, twilio):
    sign_up(make_circle())
    assert AnonymousForm(client).ask('+1 (312) 555-0177').status_code == 200
    texts = [t for t in twilio.sent() if '/my-data/' in t['Body']]
    assert [t['To'] for t in texts] == ['+13125550177']
    assert not [m for m in moto.sent_emails() if 'data' in m['Subject']]


def test_an_unreadable_contact_is_asked_again_with_its_message(client):
    answer = AnonymousForm(client).ask('not a contact')
    assert answer.status_code == 400 and 'aria-invalid="true"' in answer.body.decode()


def test_requests_are_rate_limited_per_address_and_answer_429(client, moto):
    sign_up(make_circle())
    form = AnonymousForm(client)
    from chalicelib.privacy.my_data import PER_ADDRESS
    for _ in range(PER_ADDRESS.allowed):
        assert form.ask('zed.quillfeather@example.org').status_code == 200
    refused = form.ask('zed.quillfeather@example.org')
    assert refused.status_code == 429 and 'Retry-After' in refused.headers
    assert len([m for m in moto.sent_emails() if 'data' in m['Subject']]) == PER_ADDRESS.allowed


def test_requests_are_rate_limited_per_client(client):
    from chalicelib.privacy import my_data
    from chalicelib.models.rate_limits import RateLimited
    now = circles.utcnow()
    for n in range(my_data.PER_CLIENT.allowed):
        my_data.request_link(f'someone{n}@example.org', client='198.51.100.7', now=now)
    with pytest.raises(RateLimited):
        my_data.request_link('one-more@example.org', client='198.51.100.7', now=now)
    my_data.request_link('one-more@example.org', client='198.51.100.8', now=now)     # another client


def test_a_request_costs_the_same_calls_known_or_not_and_no_scan(client):
    from chalicelib.privacy import my_data
    sign_up(make_circle())
    aws_calls.reset()
    my_data.request_link('nobody@example.org', client='192.0.2.1')
    unknown = aws_calls.dynamodb_calls()
    aws_calls.reset()
    my_data.request_link('zed.quillfeather@example.org', client='192.0.2.1')
    known = aws_calls.dynamodb_calls()
    assert unknown == {'UpdateItem': 2, 'Query': 2}
    assert known == {**unknown, 'PutItem': 1}


def test_the_link_lists_current_and_past_circles_and_expires_after_24_hours(client, moto, time_machine):
    first, second = make_circle(name='Herons and Haiku'), make_circle(name='Spreadsheets for Poets')
    sign_up(first)
    left = sign_up(second)
    from chalicelib.learners.signup import withdraw
    withdraw(left)
    AnonymousForm(client).ask('zed.quillfeather@example.org')
    path = link_in(moto, 'zed.quillfeather@example.org')
    page = client.http.get(path)
    html = page.body.decode()
    assert page.status_code == 200 and page.headers['Cache-Control'] == 'no-store'
    assert 'Herons and Haiku' in html and 'Circles you left' in html and 'Spreadsheets for Poets' in html
    time_machine.move_to(circles.utcnow() + timedelta(hours=23, minutes=59))
    assert client.http.get(path).status_code == 200
    time_machine.move_to(circles.utcnow() + timedelta(minutes=2))
    expired = client.http.get(path)
    assert expired.status_code == 400 and 'This link does not work' in expired.body.decode()


def test_an_altered_or_foreign_link_is_refused(client):
    from chalicelib.core import links
    sign_up(make_circle())
    good = links.sign(links.MY_DATA, {'t': 'email', 'v': 'zed.quillfeather@example.org'})
    assert client.http.get(f'/my-data/{good}').status_code == 200
    assert client.http.get(f'/my-data/{good[:-4]}abcd').status_code == 400
    foreign = links.sign(links.DETAILS, {'t': 'email', 'v': 'zed.quillfeather@example.org'})
    assert client.http.get(f'/my-data/{foreign}').status_code == 400


def test_leaving_one_circle_then_all_from_the_page(client):
    from chalicelib.core import links
    first, second = make_circle(name='Herons and Haiku'), make_circle(name='Spreadsheets for Poets')
    one, two = sign_up(first), sign_up(second)
    token = links.sign(links.MY_DATA, {'t': 'email', 'v': 'zed.quillfeather@example.org'})
    left = client.http.post(f'/my-data/{token}/withdraw', headers=FORM, body=urlencode({'circle': first.id}))
    assert left.status_code == 200 and 'You have left Herons and Haiku' in left.body.decode()
    assert not Signup.get(*Signup.key(first.id, one.signup_id)).active
    assert Signup.get(*Signup.key(second.id, two.signup_id)).active
    nothing = client.http.post(f'/my-data/{token}/withdraw', headers=FORM, body=urlencode({'circle': first.id}))
    assert nothing.status_code == 400
    client.http.post(f'/my-data/{token}/withdraw', headers=FORM, body=urlencode({'circle': 'all'}))
    assert not Signup.get(*Signup.key(second.id, two.signup_id)).active
    assert circles.get_circle(first.id).signup_count == circles.get_circle(second.id).signup_count == 0


def test_a_withdrawn_signup_keeps_only_keyed_hashes_of_its_contacts(client):
    from chalicelib.learners.signup import left_key, withdraw
    signup = sign_up(make_circle())
    withdraw(signup)
    stored = Signup.get(*signup.key(signup.circle_id, signup.signup_id)).attribute_values
    assert stored['email_pk'] == left_key('zed.quillfeather@example.org')
    assert stored['phone_pk'] == left_key('+13125550177')
    assert not {'name', 'email', 'mobile', 'goals', 'support'} & set(stored)


# --- a learner with something of everything (the export and erasure tests) ---------------------

ZED = {'name': 'Zed Quillfeather', 'email': 'zed.quillfeather@example.org', 'mobile': '+13125550177',
       'goals': 'Learn to write poems about herons', 'support': 'A quiet corner',
       'custom_answer': 'Marsh birds mostly', 'survey': 'The heron sonnets worked well',
       'text': 'Running late, saving me a marsh seat'}


class Everything:
    """Zed, in a running team circle (one meeting past, the rest to come): signed up with a mobile
    and answers, welcomed, reminded by text through a short link, answered yes to a past and a
    future meeting (tallied on the team's entries), answered the survey, texted the facilitators,
    texted on the local stage, opted out of reminder emails (one-click), asked for their data.
    Another learner, Ann, in the same circle, keeps everything."""

    def __init__(self, client, twilio):
        from chalicelib.circles import meeting_entries
        from chalicelib.learners import rsvp
        from chalicelib.messaging import outbox, prepared
        from chalicelib.models import CircleEnding, LocalSms, Rsvp
        from chalicelib.models.transactions import transact_write
        from chalicelib.sms_inbound import inbound
        from chalicelib.ending import surveys
        from tests.support.factories import local_today
        from tests.facilitators.test_facilitator_pages import account, organizer_of, run_by
        now = circles.utcnow()
        self.facilitator = account('Fay Facilitator')
        organizer_of('t-privacy')
        self.circle = run_by(self.facilitator, name='Herons and Haiku', team_id='t-privacy',
                             first_date=local_today('America/Chicago') - timedelta(days=7), weeks=4,
                             signup_question='Which birds?')
        meeting_entries.sync_entries(self.circle)
        self.signup = sign_up(self.circle, custom_answer=ZED['custom_answer'])
        self.other = sign_up(self.circle, name='Ann Otherlearner', email='ann@example.org', mobile='+1 312 555 0188',
                             goals='Ann wants haiku', custom_answer='Gulls', support='Large print')
        past, future = self.circle.meetings[0], self.circle.meetings[2]
        self.past, self.future = past, future
        # A yes to the past meeting, tallied (answered before it started), and one to a future meeting.
        answer = Rsvp(*Rsvp.key(self.circle.id, past.meeting_id, self.signup.signup_id), circle_id=self.circle.id,
                      meeting_id=past.meeting_id, signup_id=self.signup.signup_id, answer='yes',
                      answered_at=now - timedelta(days=8), sequence=int(past.sequence or 0))

        def write(transaction):
            transaction.save(answer)
            meeting_entries.tally_answer(transaction, self.circle.id, past.meeting_id, self.signup.signup_id, 'yes',
                                         past.sequence)
        transact_write(write)
        for learner in (self.signup, self.other):
            page = rsvp.open_rsvp(rsvp.rsvp_url(learner, future, 'yes').rsplit('/', 1)[1])
            rsvp.record_answer(page, 'yes')
        # A reminder by text with its short link, sent through Twilio.
        self.links = rsvp.learner_links(self.signup, future)
        outbox.write([prepared.sms_to_learner(self.signup, 'reminder-test', f'Herons soon: {self.links["short"]}', now),
                      prepared.sms_to_learner(self.other, 'reminder-test', 'Herons soon', now)])
        # The survey is open; Zed answers.
        CircleEnding(*CircleEnding.key(self.circle.id), circle_id=self.circle.id, stage='SURVEY_REMINDER',
                     last_meeting_ends_at=now, surveys_sent_at=now, surveys_close_at=now + timedelta(days=7),
                     created_at=now, updated_at=now).save()
        view = surveys.open_learner_survey(surveys.token_of(surveys.survey_link(self.signup)))
        surveys.save_learner_answer(view, {'goal_reached': 4, 'recommend': 9, 'worked_well': ZED['survey'],
                                           'improve': None, 'next_step': None, 'may_quote': False})
        # A text to the facilitators, and one "sent" on the local stage.
        inbound.receive({'From': ZED['mobile'], 'Body': ZED['text'], 'MessageSid': 'SM' + 'a' * 32})
        LocalSms(*LocalSms.key(now, 'SMlocal1'), to=ZED['mobile'], sender='local', body='Herons soon',
                 sid='SMlocal1', created_at=now).save()
        rsvp.stop_reminders(self.links['unsubscribe'].rsplit('/', 1)[1])
        from chalicelib.privacy import my_data
        my_data.request_link(ZED['email'], client='192.0.2.10')
        twilio.sent()       # drains the outbox: everything above is sent

    @property
    def contact(self):
        from chalicelib.privacy.my_data import Contact
        return Contact('email', ZED['email'])

    def token(self):
        from chalicelib.privacy.my_data import link
        return link(self.contact).rsplit('/', 1)[1]
