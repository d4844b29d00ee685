"""The slot arithmetic of the global send rate (chalicelib.messaging.rate), on a fake clock
against the real rate item: whatever the interleaving of senders and however late each
send is within what `send_at` lets through, no one-second window holds more than the limit,
and the slots come at 96 % of it."""
import random

import pytest

from chalicelib.messaging import rate
from chalicelib.messaging.rate import SendRateLimit

MOST_LATE = 1 / rate.HEADROOM - 1      # a send reaches the provider at most this long after its slot


class FakeClock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now
        self.oversleep = 0.0            # each sleep ends this much late (a busy machine)
        self.sleeps = 1.0               # the share of the time asked for that a sleep lasts

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds * self.sleeps + self.oversleep


def busiest_window(slots, most_late):
    """The most sends any window [t, t + 1) can receive when each arrives anywhere from its slot
    to `most_late` after it: the most slots in any open interval of length 1 + most_late (less a
    microsecond: an epoch instant as a float is exact to a quarter of one)."""
    slots = sorted(slots)
    most, first = 0, 0
    for last, end in enumerate(slots):
        while end - slots[first] >= 1 + most_late - 1e-6:
            first += 1
        most = max(most, last - first + 1)
    return most


def two_senders_take(limit_per_second, clock, rounds, rng):
    """Two senders on one channel taking chunks of slots in a random order, the clock running on
    between takes (sometimes past every booked slot, so the rate item goes idle and restarts)."""
    senders = [SendRateLimit('email', limit_per_second, clock=clock, sleep=clock.sleep) for _ in range(2)]
    slots = []
    for _ in range(rounds):
        sender = rng.choice(senders)
        slots += sender.take(rng.choice([1, 2, 7, 13, 50]))
        clock.now += rng.choice([0.0, 0.001, 0.05, 0.3]) if rng.random() < 0.9 else 3.0
    return slots


@pytest.mark.parametrize('limit_per_second', [1, 14, 100, 14.7])
def test_no_second_can_hold_more_than_the_limit_however_senders_interleave_and_sends_run_late(limit_per_second):
    clock, rng = FakeClock(), random.Random(limit_per_second)
    slots = two_senders_take(limit_per_second, clock, 60, rng)
    whole = int(limit_per_second)
    step = 1 / (whole * rate.HEADROOM)
    assert len(set(slots)) == len(slots)
    assert min(b - a for a, b in zip(sorted(slots), sorted(slots)[1:])) >= step - 1e-6
    assert busiest_window(slots, MOST_LATE) <= whole
    # The bound is tight: a send allowed 10 ms later than `send_at` permits could break it.
    if whole > 1:
        assert busiest_window(slots, MOST_LATE + 0.01) > whole or whole * rate.HEADROOM * 1.01 < whole - 1


def test_what_send_at_lets_through_plus_the_arrival_margin_is_the_lateness_the_bound_allows():
    limit = SendRateLimit('email', 14)
    assert limit.late + rate.ARRIVAL_MARGIN == pytest.approx(MOST_LATE)
    assert limit.late > 0.02 and rate.HEADROOM >= 0.95


def test_busy_senders_get_slots_at_96_percent_of_the_limit():
    for limit_per_second in (14, 100):
        clock = FakeClock()
        limit = SendRateLimit('sms', limit_per_second, clock=clock)
        slots = [slot for _ in range(20) for slot in limit.take(limit_per_second // 2)]
        per_second = (len(slots) - 1) / (slots[-1] - slots[0])
        assert per_second == pytest.approx(limit_per_second * rate.HEADROOM)
        assert per_second >= 0.95 * limit_per_second


def test_an_idle_rate_starts_again_at_now_and_never_hands_out_a_past_slot():
    clock = FakeClock()
    limit = SendRateLimit('email', 14, clock=clock)
    first = limit.take(3)
    assert first[0] == clock.now
    clock.now += 60
    again = limit.take(2)
    assert again[0] == clock.now and again[1] == pytest.approx(clock.now + limit.step)


def test_a_thread_woken_too_late_for_its_slot_takes_a_new_one_and_an_early_wakeup_waits_again():
    clock = FakeClock()
    limit = SendRateLimit('email', 14, clock=clock, sleep=clock.sleep)
    on_time, late = limit.take(2)
    clock.oversleep = limit.late / 2
    assert limit.send_at(on_time) == on_time                 # late, but within what the bound allows
    clock.now = late + limit.late + 0.001                    # woken after its slot and the allowance
    clock.oversleep = 0.0
    new = limit.send_at(late)
    assert new > late and clock.now == pytest.approx(new) and new == pytest.approx(late + limit.step)
    clock.sleeps = 0.5                                       # sleeps that end early
    [slot] = limit.take(1)
    assert limit.send_at(slot) == slot and clock.now >= slot


def test_no_limit_means_no_wait_and_no_rate_item():
    from chalicelib.models import SendRate
    clock = FakeClock()
    limit = SendRateLimit('email', 0, clock=clock)
    assert limit.take(3) == [clock.now] * 3 and limit.send_at(clock.now - 5) == clock.now - 5
    assert SendRate.count(SendRate.key('email')[0]) == 0
