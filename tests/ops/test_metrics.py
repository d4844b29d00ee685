"""Metrics in CloudWatch embedded metric format (chalicelib/core/observability.py): printed on stdout
when a Lambda invocation ends, no CloudWatch call. The sender's outcomes per channel, the reminder
job's due and left, digests and surveys."""
import json
from datetime import timedelta

import pytest

from chalicelib.core import observability
from chalicelib.ending.survey_job import send_end_of_circle_surveys
from chalicelib.teams.digest_job import send_weekly_digests
from tests.reminders.test_reminder_job import circle_with_learners, first_due
from tests.support import outbox as stream


def emf_blobs(text):
    """{(metric name, dimensions): value} of every EMF JSON line in `text`, summed."""
    found = {}
    for line in text.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        [directive] = blob['_aws']['CloudWatchMetrics']
        assert directive['Namespace'] == 'Circles'
        [dimension_names] = directive['Dimensions']
        dimensions = tuple(sorted((name, blob[name]) for name in dimension_names))
        for metric in directive['Metrics']:
            assert metric['Unit'] == 'Count'
            key = (metric['Name'], dimensions)
            found[key] = found.get(key, 0) + sum(blob[metric['Name']])
    return found


def by_channel(channel):
    return (('channel', channel), ('service', 'circles'))


JOB = (('service', 'circles'),)


@pytest.fixture
def stdout(capsys, monkeypatch):
    monkeypatch.setenv(observability.METRICS_VARIABLE, 'emf')      # as inside Lambda
    observability.flush_metrics()       # what earlier tests counted outside a Lambda's wrapper
    capsys.readouterr()
    return lambda: capsys.readouterr().out


def test_a_sender_run_prints_sent_failed_and_retried_per_channel(client, moto, twilio, time_machine, stdout):
    circle, signups = circle_with_learners(index=3, count=5)
    stream.drain()                       # the welcomes: sent by email
    welcomes = emf_blobs(stdout())
    assert welcomes[('MessagesSent', by_channel('email'))] == 5 + 5     # each learner's, and the facilitator's
    numbers = [s.mobile for s in signups if s.mobile]
    twilio.fail_number(numbers[0])
    twilio.fail_number(numbers[1])
    twilio.answer_next(500)
    time_machine.move_to(first_due(circle) + timedelta(minutes=1))
    event = client.events.generate_cw_event(source='aws.events', detail_type='Scheduled Event', detail={},
                                            resources=[])
    client.lambda_.invoke('send-due-reminders', event)
    job = emf_blobs(stdout())           # printed when the job's invocation ended
    assert job[('RemindersDue', JOB)] == 1 and job[('RemindersSent', JOB)] == 1
    assert job[('RemindersLeft', JOB)] == 0 and job[('RemindersStoppedEarly', JOB)] == 0
    stream.drain()
    sent = emf_blobs(stdout())
    failed, retried = sent[('MessagesFailed', by_channel('sms'))], sent[('MessagesRetried', by_channel('sms'))]
    assert retried == 1 and failed in (1, 2)    # the 500 went to one of the three, maybe a refused one
    assert failed + retried + sent.get(('MessagesSent', by_channel('sms')), 0) == 3
    assert sent[('MessagesSent', by_channel('email'))] >= 5


def test_a_skipped_message_is_counted_as_skipped(moto, stdout):
    from chalicelib.learners.signup import withdraw
    circle, [signup] = circle_with_learners(index=4, count=1)
    withdraw(signup)
    stream.drain()
    assert emf_blobs(stdout())[('MessagesSkipped', by_channel('email'))] >= 1


def test_digest_and_survey_runs_count_even_when_there_is_nothing_to_send(stdout):
    send_weekly_digests()
    send_end_of_circle_surveys()
    observability.flush_metrics()
    counted = emf_blobs(stdout())
    assert counted[('DigestsSent', JOB)] == 0 and counted[('DigestTeamsFailed', JOB)] == 0
    assert counted[('SurveysSent', JOB)] == 0 and counted[('SurveyClosingsFailed', JOB)] == 0


def test_nothing_counted_prints_nothing(stdout):
    observability.flush_metrics()
    assert stdout() == ''


def test_outside_lambda_the_counts_are_dropped_unprinted(capsys, monkeypatch):
    monkeypatch.delenv(observability.METRICS_VARIABLE, raising=False)
    monkeypatch.delenv('AWS_LAMBDA_FUNCTION_NAME', raising=False)
    observability.count('MessagesSent', channel='email')
    observability.flush_metrics()
    monkeypatch.setenv(observability.METRICS_VARIABLE, 'emf')
    observability.flush_metrics()
    assert capsys.readouterr().out == ''


def test_counts_add_up_per_dimension_set_until_the_flush(stdout):
    observability.count('MessagesSent', channel='email')
    observability.count('MessagesSent', 2, channel='email')
    observability.count('MessagesSent', channel='sms')
    observability.flush_metrics()
    counted = emf_blobs(stdout())
    assert counted == {('MessagesSent', by_channel('email')): 3, ('MessagesSent', by_channel('sms')): 1}
    observability.flush_metrics()
    assert stdout() == ''
