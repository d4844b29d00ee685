"""The learner's download: everything we hold about them, as JSON, from their /my-data link."""
import json

from tests.privacy.test_my_data import ZED, Everything


def test_the_export_holds_everything_we_hold_about_the_learner(client, twilio):
    world = Everything(client, twilio)
    response = client.http.get(f'/my-data/{world.token()}/export.json')
    assert response.status_code == 200
    assert response.headers['Content-Type'].startswith('application/json')
    assert 'attachment' in response.headers['Content-Disposition']
    assert response.headers['Cache-Control'] == 'no-store'
    data = json.loads(response.body)
    [signup] = data['signups']
    assert signup['circle']['name'] == 'Herons and Haiku'
    assert (signup['name'], signup['email'], signup['mobile']) == (ZED['name'], ZED['email'], ZED['mobile'])
    assert signup['answers'] == {'goals': ZED['goals'], 'support': ZED['support'], 'question': 'Which birds?',
                                 'answer': ZED['custom_answer']}
    assert signup['communications_opt_in'] is True and signup['reminder_emails_off'] is True
    assert sorted(r['answer'] for r in signup['rsvps']) == ['yes', 'yes']
    assert signup['survey']['worked_well'] == ZED['survey'] and signup['survey']['recommend'] == 9
    messages = {(m['message'], m['channel']): m for m in signup['messages']}
    assert messages[('welcome', 'email')]['state'] == 'sent'
    text = messages[('reminder-test', 'sms')]
    assert text['state'] == 'sent' and text['text'].startswith('Herons soon: http')
    assert signup['texts_sent'] == [{'text': ZED['text'], 'received_at': signup['texts_sent'][0]['received_at']}]
    consents = {(c['topic'], c['given'], c['channel']) for c in signup['consents']}
    assert consents == {('signup', 'given', 'signup-form'), ('sms', 'given', 'signup-form'),
                        ('further-communication', 'given', 'signup-form'),
                        ('reminders', 'withdrawn', 'one-click-unsubscribe')}
    assert all(c['wording_version'] for c in signup['consents'] if c['channel'] == 'signup-form')
    assert [(m['channel'], m['state']) for m in data['links_sent']] == [('email', 'sent')]


def test_the_export_holds_nothing_of_another_learner(client, twilio):
    world = Everything(client, twilio)
    body = client.http.get(f'/my-data/{world.token()}/export.json').body.decode()
    for other in ('Ann Otherlearner', 'ann@example.org', '+13125550188', 'Ann wants haiku', 'Gulls'):
        assert other not in body


def test_an_expired_or_altered_link_downloads_nothing(client, twilio):
    world = Everything(client, twilio)
    token = world.token()
    altered = client.http.get(f'/my-data/{token[:-5]}x{token[-4:]}/export.json')
    assert altered.status_code == 400 and ZED['email'] not in altered.body.decode()
