"""Consent records: every signup and opt-in, and every withdrawal, recorded with what was agreed
(the wording's version), when, and through which form or channel, in the change's own write."""
import json

import pytest
from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles
from chalicelib.learners import rsvp
from chalicelib.learners.details import update_details
from chalicelib.learners.signup import CONSENT_VERSION, withdraw
from chalicelib.models import Signup, TeamMember
from chalicelib.models import consent
from chalicelib.privacy.consent import records_of
from tests.privacy.test_my_data import sign_up
from tests.support import aws_calls
from tests.support.factories import make_circle


def facts(signup):
    return sorted((r.topic, r.given, r.channel, r.wording_version)
                  for r in records_of(consent.signup_subject(signup.circle_id, signup.signup_id)))


def test_a_signup_records_the_forms_consent_sms_and_further_communication_in_its_transaction(client):
    circle = make_circle()
    aws_calls.reset()
    signup = sign_up(circle)
    assert aws_calls.dynamodb_calls().get('TransactWriteItems') == 1
    assert facts(signup) == [('further-communication', 'given', 'signup-form', CONSENT_VERSION),
                             ('signup', 'given', 'signup-form', CONSENT_VERSION),
                             ('sms', 'given', 'signup-form', CONSENT_VERSION)]
    [record] = [r for r in records_of(consent.signup_subject(circle.id, signup.signup_id))
                if r.topic == 'signup']
    assert record.at == signup.consent_at
    assert signup.email not in json.dumps(record.attribute_values, default=str)


def test_without_a_mobile_or_the_box_only_the_forms_consent_is_recorded(client):
    signup = sign_up(make_circle(), mobile='', communications_opt_in='')
    assert facts(signup) == [('signup', 'given', 'signup-form', CONSENT_VERSION)]


def test_the_api_signup_records_the_same(client):
    circle = make_circle()
    body = {'learning_circle': circle.id, 'name': 'Pat', 'email': 'pat@example.org', 'consent': True,
            'signup_questions': {'goals': 'x'}}
    assert client.http.post('/api/signup/', headers={'Content-Type': 'application/json'},
                            body=json.dumps(body)).status_code == 200
    [signup] = Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#'))
    assert [f[:2] for f in facts(signup)] == [('signup', 'given')]


def test_a_refused_signup_records_nothing(client):
    circle = make_circle(capacity=1)
    sign_up(circle, email='first@example.org')
    from chalicelib.core.errors import SignupRefused
    with pytest.raises(SignupRefused):
        sign_up(circle, email='second@example.org')
    from chalicelib.learners.signup import signup_id_for
    assert records_of(consent.signup_subject(circle.id, signup_id_for(circle.id, 'second@example.org'))) == []


def test_changing_details_records_the_mobile_and_the_opt_in_changes(client):
    circle = make_circle()
    signup = sign_up(circle)
    update_details(signup, circle, {'name': signup.name, 'mobile': '', 'goals': 'x', 'communications_opt_in': ''})
    assert ('sms', 'withdrawn', 'details-page', CONSENT_VERSION) in facts(signup)
    assert ('further-communication', 'withdrawn', 'details-page', CONSENT_VERSION) in facts(signup)
    before = facts(signup)
    update_details(signup, circle, {'name': 'New Name', 'mobile': '', 'goals': 'y', 'communications_opt_in': ''})
    assert facts(signup) == before        # nothing about consent changed


def test_one_click_unsubscribe_records_the_withdrawal(client):
    circle = make_circle()
    signup = sign_up(circle)
    token = rsvp.unsubscribe_url(signup).rsplit('/', 1)[1]
    rsvp.stop_reminders(token)
    assert ('reminders', 'withdrawn', 'one-click-unsubscribe', None) in facts(signup)
    assert Signup.get(*Signup.key(circle.id, signup.signup_id)).reminders_stopped


def test_withdrawing_records_the_withdrawal_in_its_transaction(client):
    signup = sign_up(make_circle())
    withdraw(signup)
    assert ('signup', 'withdrawn', 'withdraw-link', None) in facts(signup)


def test_stop_and_start_by_text_record_withdrawn_and_given(client):
    from chalicelib.sms_inbound import inbound
    signup = sign_up(make_circle())
    inbound.receive({'From': '+13125550177', 'Body': 'STOP', 'MessageSid': 'SM1'})
    assert ('sms', 'withdrawn', 'sms-stop', None) in facts(signup)
    inbound.receive({'From': '+13125550177', 'Body': 'START', 'MessageSid': 'SM2'})
    assert ('sms', 'given', 'sms-start', None) in facts(signup)
    assert not Signup.get(*Signup.key(signup.circle_id, signup.signup_id)).sms_opted_out


def test_the_digest_unsubscribe_and_resubscribe_are_recorded_for_the_member(client):
    from chalicelib.teams import digest_job
    from tests.facilitators.test_facilitator_pages import organizer_of
    organizer = organizer_of('t-consent')
    token = digest_job.unsubscribe_path('t-consent', organizer.user_id).rsplit('/', 1)[1]
    digest_job.set_digest(token, False)
    digest_job.set_digest(token, True, now=circles.utcnow())
    records = records_of(consent.user_subject(organizer.user_id))
    assert [(r.topic, r.given, r.channel, r.scope) for r in records] == [
        ('digest', 'withdrawn', 'digest-unsubscribe', 'TEAM#t-consent'),
        ('digest', 'given', 'digest-unsubscribe', 'TEAM#t-consent')]
    member = TeamMember.get('TEAM#t-consent', f'MEMBER#{organizer.user_id}')
    assert member.digest_opted_out_at is None


def test_a_record_is_refused_for_an_unknown_topic_or_answer():
    with pytest.raises(ValueError):
        consent.record('SIGNUP#c#s', 'marketing', consent.GIVEN, consent.SIGNUP_FORM, circles.utcnow())
    with pytest.raises(ValueError):
        consent.record('SIGNUP#c#s', consent.SMS, 'maybe', consent.SIGNUP_FORM, circles.utcnow())


def test_a_signup_transaction_stays_far_under_dynamodbs_limit(client):
    """Signup, welcome, one notice per facilitator, three records, the circle, two counters."""
    circle = make_circle(facilitator_ids=[f'u{n}' for n in range(20)], facilitator_names=['F'] * 20,
                         facilitator_emails=[f'f{n}@example.org' for n in range(20)])
    try:
        sign_up(circle)
    except TransactWriteError:      # pragma: no cover - the assertion below names the problem
        pytest.fail('the signup transaction was refused')
    assert len(facts(sign_up(circle, email='two@example.org'))) == 3


def test_the_signup_records_the_form_it_came_through(client):
    """The circle page's form, a partner's API call and the team widget are told apart."""
    import json
    import re

    from chalicelib.models import consent
    from chalicelib.privacy.consent import records_of
    from chalicelib.teams import teams
    from tests.facilitators.test_facilitator_pages import account, get
    from tests.support.factories import make_circle
    team = teams.create_team('Riverside', account('Olu Organizer').email, slug='riverside').team
    circle = make_circle(team_id=team.team_id)
    client.http.post('/api/signup/', headers={'Content-Type': 'application/json'},
                     body=json.dumps({'learning_circle': circle.id, 'name': 'Api Person', 'email': 'api@example.org',
                                      'consent': True}))
    form = get(client, f'/teams/riverside/embed/{circle.id}').body.decode()
    token = re.search(r'name="embed_token" value="([^"]+)"', form).group(1)
    client.http.post(f'/teams/riverside/embed/{circle.id}', headers={'Content-Type': 'application/x-www-form-urlencoded'},
                     body=f'name=Widget+Person&email=widget%40example.org&consent=true&embed_token={token}')
    from chalicelib.models import Signup
    channels = {}
    for signup in Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#')):
        records = records_of(consent.signup_subject(circle.id, signup.signup_id))
        channels[signup.email] = {r.channel for r in records if r.topic == consent.SIGNUP}
    assert channels == {'api@example.org': {consent.PARTNER_API}, 'widget@example.org': {consent.TEAM_WIDGET}}
