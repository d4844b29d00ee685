"""The SES feedback Lambda with real signed SNS messages: a key and certificate made for the test
session and served over HTTPS on 127.0.0.1 (tests/support/sns_signing.py); only here is the
handler's certificate host check pointed at that server."""
import json

import pytest
import yaml

from chalicelib.core.settings import SNS_CERTIFICATE_HOSTS, get_settings
from chalicelib.models.privacy import Suppression
from chalicelib.messaging import suppression
from chalicelib.privacy import sns
from tests.support.sns_signing import (CERT_PATH, SnsCertificateServer, lambda_event, ses_bounce, ses_complaint)


@pytest.fixture(scope='module')
def server():
    started = SnsCertificateServer()
    yield started
    started.stop()


@pytest.fixture
def certificate_server(server, monkeypatch):
    """The local stage told to fetch certificates from the test server and trust its CA."""
    monkeypatch.setenv('CIRCLES_SNS_CERTIFICATE_HOSTS', r'127\.0\.0\.1')
    monkeypatch.setenv('CIRCLES_SNS_CA_BUNDLE', str(server.ca_bundle))
    get_settings.cache_clear()
    get_settings()      # read now: the test client's invocations see the dev stage's config variables
    sns.forget_certificates()
    server.requests.clear()
    yield server
    monkeypatch.undo()
    get_settings.cache_clear()
    get_settings()
    sns.forget_certificates()


def invoke(client, *messages):
    return client.lambda_.invoke('record-email-feedback', lambda_event(*messages)).payload


def nothing_suppressed(*addresses):
    return not suppression.suppressed(addresses)


@pytest.mark.parametrize('version', [1, 2])
@pytest.mark.parametrize('shape', ['event', 'notification'])
def test_a_signed_hard_bounce_puts_the_address_on_the_suppression_list(client, certificate_server, version, shape):
    message = certificate_server.notification(ses_bounce('Lea@Example.org', shape=shape), version=version)
    assert invoke(client, message) == {'recorded': 1, 'refused': 0, 'ignored': 0}
    assert suppression.suppressed(['lea@example.org']) == {'lea@example.org'}
    entry = Suppression.get(*Suppression.key(suppression.contact_hash('lea@example.org')))
    assert entry.reason == 'bounce' and entry.channel == 'email'
    assert certificate_server.requests == [CERT_PATH]


def test_a_notification_with_a_subject_is_signed_over_its_subject_too(client, certificate_server):
    message = certificate_server.notification(ses_complaint('ben@example.org', shape='notification'),
                                              subject='Amazon SES Email Event Notification')
    assert invoke(client, message)['recorded'] == 1
    assert suppression.suppressed(['ben@example.org'])
    # The subject is part of what was signed: a changed subject no longer verifies.
    forged = {**certificate_server.notification(ses_complaint('cy@example.org'), subject='A'), 'Subject': 'B'}
    assert invoke(client, forged) == {'recorded': 0, 'refused': 1, 'ignored': 0}
    assert nothing_suppressed('cy@example.org')


def test_a_subscription_confirmation_is_verified_and_ignored_without_calling_its_url(client, certificate_server):
    message = certificate_server.subscription_confirmation()
    sns.verified(message)       # a correctly signed confirmation (AWS's field order for it)
    assert invoke(client, message) == {'recorded': 0, 'refused': 0, 'ignored': 1}
    assert '/confirm-subscription' not in certificate_server.requests
    assert certificate_server.requests == [CERT_PATH]
    tampered = {**message, 'SubscribeURL': certificate_server.url + '/elsewhere'}
    with pytest.raises(sns.Unverified):
        sns.verified(tampered)


def test_a_message_signed_with_another_key_is_refused_and_nothing_is_recorded(client, certificate_server):
    forged = certificate_server.sign({**certificate_server.notification(ses_bounce('lea@example.org'))},
                                     key=certificate_server.other_key)
    assert invoke(client, forged) == {'recorded': 0, 'refused': 1, 'ignored': 0}
    assert nothing_suppressed('lea@example.org')


def test_a_changed_message_is_refused(client, certificate_server):
    genuine = certificate_server.notification(ses_bounce('lea@example.org'))
    changed = {**genuine, 'Message': json.dumps(ses_bounce('ben@example.org'))}
    assert invoke(client, changed)['refused'] == 1
    assert nothing_suppressed('lea@example.org', 'ben@example.org')


@pytest.mark.parametrize('change', [
    {'Signature': ''},
    {'Signature': None},
    {'SignatureVersion': '3'},
    {'Signature': 'not base64 !'},
])
def test_an_unsigned_message_is_refused(client, certificate_server, change):
    message = {**certificate_server.notification(ses_bounce('lea@example.org')), **change}
    message = {k: v for k, v in message.items() if v is not None}
    assert invoke(client, message)['refused'] == 1
    assert nothing_suppressed('lea@example.org')


@pytest.mark.parametrize('url', [
    'https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-test.pem',
    'https://evil.example/SimpleNotificationService-test.pem',
    'http://127.0.0.1:{port}/SimpleNotificationService-test.pem',      # not https
    'https://127.0.0.1:{port}/SimpleNotificationService-test.txt',     # not a .pem
    'https://user@127.0.0.1:{port}/SimpleNotificationService-test.pem',
])
def test_a_certificate_from_anywhere_else_is_refused_without_fetching_it(client, certificate_server, url):
    port = certificate_server.httpd.server_address[1]
    message = certificate_server.notification(ses_bounce('lea@example.org'),
                                              SigningCertURL=url.format(port=port))
    assert invoke(client, message)['refused'] == 1
    assert certificate_server.requests == []
    assert nothing_suppressed('lea@example.org')


def test_a_message_from_another_topic_is_refused(client, certificate_server):
    message = certificate_server.notification(ses_bounce('lea@example.org'),
                                              TopicArn='arn:aws:sns:us-east-1:123456789012:someone-elses-topic')
    assert invoke(client, message)['refused'] == 1
    assert nothing_suppressed('lea@example.org')


def test_the_certificate_is_fetched_once_per_container(client, certificate_server):
    invoke(client, certificate_server.notification(ses_bounce('a@example.org')),
           certificate_server.notification(ses_bounce('b@example.org'), version=1))
    invoke(client, certificate_server.notification(ses_bounce('c@example.org')))
    assert certificate_server.requests == [CERT_PATH]
    assert suppression.suppressed(['a@example.org', 'b@example.org', 'c@example.org']) == {
        'a@example.org', 'b@example.org', 'c@example.org'}


def test_without_the_test_setting_only_sns_hosts_are_accepted(server):
    """The default (and every deployed stage's) host check: the test server is not an SNS host."""
    assert get_settings().sns_certificate_hosts == SNS_CERTIFICATE_HOSTS
    for url in ('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
                'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem'):
        assert sns.certificate_url({'SigningCertURL': url}) == url
    for url in (server.certificate_url, 'https://sns.amazonaws.com/x.pem', 'https://xsns.us-east-1.amazonaws.com/x.pem',
                'https://sns.us-east-1.amazonaws.com.evil.example/x.pem'):
        with pytest.raises(sns.Unverified):
            sns.certificate_url({'SigningCertURL': url})


def test_a_deployed_stage_ignores_the_test_settings(monkeypatch):
    monkeypatch.setenv('CIRCLES_STAGE', 'prod')
    monkeypatch.setenv('CIRCLES_SECRET_KEY', 'x' * 40)
    monkeypatch.setenv('CIRCLES_BASE_URL', 'https://circles.example.org')
    monkeypatch.setenv('CIRCLES_SNS_CERTIFICATE_HOSTS', '.*')
    monkeypatch.setenv('CIRCLES_SNS_CA_BUNDLE', '/tmp/anything.pem')
    get_settings.cache_clear()
    try:
        assert get_settings().sns_certificate_hosts == SNS_CERTIFICATE_HOSTS
        assert get_settings().sns_ca_bundle == ''
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        get_settings()


def test_deliveries_and_other_ses_events_are_ignored(client, certificate_server):
    delivery = {'eventType': 'Delivery', 'mail': {'messageId': 'm'}, 'delivery': {'recipients': ['lea@example.org']}}
    assert invoke(client, certificate_server.notification(delivery)) == {'recorded': 0, 'refused': 0, 'ignored': 1}
    assert nothing_suppressed('lea@example.org')


def test_the_stack_subscribes_the_handler_to_the_topic_the_configuration_set_publishes_to():
    """The merge template (chalice package output is checked in tests/ops/test_package.py)."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    template = yaml.safe_load((root / 'infra' / 'resources.yaml').read_text())
    resources = template['Resources']
    topic = resources['SesFeedbackTopic']
    config = json.loads((root / '.chalice' / 'config.json').read_text())['stages']['prod']
    assert config['environment_variables']['CIRCLES_SES_FEEDBACK_TOPIC'] == topic['Properties']['TopicName']
    [event] = resources['RecordEmailFeedback']['Properties']['Events'].values()
    assert event['Properties']['Topic'] == {'Ref': 'SesFeedbackTopic'}
    destination = resources['SesFeedbackDestination']['Properties']
    assert destination['ConfigurationSetName'] == {'Ref': 'EmailConfigurationSet'}
    assert sorted(destination['EventDestination']['MatchingEventTypes']) == ['bounce', 'complaint']
    assert destination['EventDestination']['SnsDestination'] == {'TopicARN': {'Ref': 'SesFeedbackTopic'}}
    assert resources['EmailConfigurationSet']['Properties']['SuppressionOptions']['SuppressedReasons'] == [
        'BOUNCE', 'COMPLAINT']
