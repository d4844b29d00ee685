"""bench/load.py in small: locust in its own process against `make run`'s stack, a few seconds.

The load bench's facts that must hold at any size: no request fails, and the signups stored
afterwards are exactly those answered `created` (none lost, none stored twice, none stored
that was refused), with the circles' counters grown by as many. Timings stay in the bench."""
import pytest

from bench import load

SIGNUP_HEAVY = (('browse 50 km', 2), ('browse first page of 10', 1), ('circle page', 1), ('POST /api/signup', 4))


@pytest.mark.slow
def test_a_short_load_run_fails_no_request_and_stores_every_created_signup_once():
    result = load.run(seconds=3, users=4, circles=20, alone_seconds=0, mix=SIGNUP_HEAVY)
    mixed, = result['phases']
    signups = result['signups']
    assert mixed['total']['errors'] == 0, mixed['errors']
    assert signups['succeeded'] > 0
    assert signups['lost'] == signups['stored_although_refused'] == signups['stored_unknown'] == 0
    assert signups['stored'] == signups['distinct_stored'] == signups['counter_growth']
    assert signups['stored'] == signups['succeeded'] + signups['stored_of_unanswered']
    assert load.signups_consistent(result)
    assert result['server_peak_rss_mb'] > 0


def test_the_signup_check_finds_a_lost_and_a_doubly_stored_signup():
    phases = [{'signups': {'attempted': ['load-a', 'load-b', 'load-c'], 'succeeded': ['load-a', 'load-b'],
                           'refused': ['load-c']}}]
    stored = {'c1': {'emails': ['load-a', 'load-a', 'load-c'], 'counter': 3}}
    check = load.signup_check(phases, stored, {'c1': 0})
    assert (check['lost'], check['stored'], check['distinct_stored'], check['stored_although_refused']) == (1, 3, 2, 1)
    assert not load.signups_consistent({'signups': check})
