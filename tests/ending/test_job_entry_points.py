"""The two jobs are EventBridge rules every 5 minutes, run through their Lambda entry points."""
import pytest

from chalicelib.ending.schedule import meeting_end
from tests.ending.world import FIVE_MINUTES, World, emails_to


@pytest.mark.parametrize('name', ['send-meeting-wrapups', 'send-end-of-circle-surveys'])
def test_the_job_is_scheduled_every_five_minutes(name):
    from app import app
    [config] = [s for s in app.event_sources if s.name == name]
    assert config.schedule_expression.to_string() == 'rate(5 minutes)'


def test_the_wrapup_job_runs_through_its_lambda_entry_point(client, moto, time_machine):
    world = World(weeks=1)
    time_machine.move_to(meeting_end(world.fresh().meetings[0]) + FIVE_MINUTES)
    event = client.events.generate_cw_event(source='aws.events', detail_type='Scheduled Event', detail={},
                                            resources=[])
    client.lambda_.invoke('send-meeting-wrapups', event)
    client.lambda_.invoke('send-end-of-circle-surveys', event)
    assert len(emails_to(moto, 'fay@example.org', 'How did meeting 1')) == 1
    assert len(emails_to(moto, 'lea@example.org', 'has ended')) == 1
