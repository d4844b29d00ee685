"""The DynamoDB call-count goals of `make bench`, checked on small tables.

Counts, not timings: they are deterministic, so they belong in the test suite.
Uses the session's moto server and the fresh table the `aws` fixture gives.
"""
from collections import Counter

import pytest

from bench import dynamodb_calls, facilitator_calls, reminder_job

CIRCLES = 20


def _results(client):
    seeded = dynamodb_calls.seed_circles(CIRCLES)
    return {r.scenario.name: r for r in dynamodb_calls.measure(client, seeded)}


def test_every_request_meets_its_call_count_goal(client):
    results = _results(client)
    failing = {name: (r.status, dict(r.calls), r.dynamodb_queries) for name, r in results.items() if not r.met}
    assert not failing


def test_calls_by_operation(client):
    results = _results(client)
    for name, result in results.items():
        if name.startswith('browse') and 'between' not in name and 'new container' not in name:
            assert result.calls == Counter({'Query': 1}), name       # the refresh: what changed
    assert results['browse first page of 10, between two refreshes'].calls == Counter()
    assert results['browse first page of 10, new container (whole catalog)'].calls == Counter({'Query': 1})
    assert results['circle details JSON'].calls == Counter({'GetItem': 1})
    # No request calls SES: the outbox sender does.
    assert results['POST /api/signup (new)'].ses_calls == results['POST /api/signup (duplicate)'].ses_calls == 0


def test_a_new_container_reads_every_seeded_circle_in_one_page(client):
    results = _results(client)
    cold = results['browse first page of 10, new container (whole catalog)']
    assert cold.dynamodb_queries == 1
    assert 0 < cold.bytes_read < dynamodb_calls.PAGE_BYTES
    assert results['browse, no filters'].items == CIRCLES


def test_item_size_follows_dynamodb_rules():
    item = {'name': {'S': 'abc'}, 'n': {'N': '123.45'}, 'l': {'L': [{'S': 'x'}]}, 'b': {'BOOL': True},
            'm': {'M': {'k': {'S': 'vv'}}}}
    # name+value: 4+3; 1 + (5 digits -> 3 bytes + 1); 1 + (3 + 1 + 1); 1 + 1; 1 + (3 + 1 + 1 + 2)
    assert dynamodb_calls.item_size(item) == 7 + 5 + 6 + 2 + 8


# --- facilitator pages (bench/facilitator_calls.py) ------------------------------------

@pytest.mark.parametrize('circle_count, signup_count', facilitator_calls.WORLDS)
def test_facilitator_pages_cost_the_same_calls_for_3_or_30_circles_and_5_or_50_signups(
        client, circle_count, signup_count):
    world = facilitator_calls.seed_world(circle_count, signup_count)
    results = {r.scenario.name: r for r in facilitator_calls.measure(client, world)}
    assert all(r.status == 200 for r in results.values()), {n: r.status for n, r in results.items()}
    one_query_and_the_session = Counter({'Query': 1, 'GetItem': 1})
    assert results["facilitator's circle page"].calls == one_query_and_the_session
    # An organizer's session is read with their current memberships: one BatchGetItem.
    assert results['circle page, team organizer'].calls == Counter({'Query': 1, 'BatchGetItem': 1})
    assert results['signups CSV export'].calls == one_query_and_the_session
    assert results["facilitator's dashboard"].calls == Counter({'Query': 1, 'BatchGetItem': 1, 'GetItem': 1})
    assert results['dashboard, organizer of 1 team'].calls == Counter({'Query': 2, 'BatchGetItem': 1})
    assert all(r.met for r in results.values())
    # The partition the page reads holds what the world seeded: signups, deliveries, the feedback.
    sizes = facilitator_calls.partition_sizes(world.circle_id)
    # Per learner: the welcome, the facilitator's notice and the message's email; and its fan-out.
    assert sizes['Signup'][0] == signup_count and sizes['Delivery'][0] == 3 * signup_count + 1
    assert sizes['MeetingFeedback'][0] == 1 and sizes['CircleMessage'][0] == 1


# --- the reminder job (bench/reminder_job.py) ------------------------------------------

def test_reminder_job_run_costs_the_same_calls_among_20_or_200_circles(moto):
    counts = reminder_job.run(moto, sizes=(20, 200), due=5)
    for measured in counts:
        summary = measured['summary']
        assert summary['reminders_sent'] == summary['due'] == 5, summary
        assert summary['messages_queued'] == measured['expected'] > 5 * 4, summary
    assert reminder_job.identical(counts)
    # the due index once; per reminder: the claim, its circle's partition, one batch write, done
    assert counts[0]['calls'] == Counter({'Query': 1 + 5, 'UpdateItem': 2 * 5, 'BatchWriteItem': 5})
    report = reminder_job.markdown(counts)
    assert '| 20 |' in report and '| 200 |' in report and 'goal: identical: **met**' in report
