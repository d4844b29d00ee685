"""One send rate per channel across every sender at once: SES and Twilio count our requests
per account, not per Lambda.

The shared state is one item per channel, `RATE#<channel>`, holding the next free send
slot (epoch seconds). Taking slots is one atomic UpdateItem that moves it forward:

- busy: `SET next_slot = next_slot + n * step` on condition `next_slot >= now`; the new
  value says which n slots are ours (the n steps before it);
- idle (the slot lies in the past, or no item yet): `SET next_slot = now + n * step` on
  condition `next_slot < now` or no slot; if both conditions fail, someone moved the slot
  between our two tries, and we try again.

DynamoDB serialises the updates of one item, so two senders never get the same slot, and
any two slots, whoever holds them, are at least `step` apart. Waiting for a slot is a sleep
in the sender; it never holds a lock.

Why no second ever holds more than the limit N (what the provider counts is arrivals):
slots are `step = 1 / (HEADROOM * N)` apart, and a send reaches the provider at most
`D = 1 / HEADROOM - 1` seconds after its slot, never before it: `send_at` lets a thread go
only once its slot has come and while it is at most `late = D - ARRIVAL_MARGIN` past it (a
thread woken later takes a new slot instead), and ARRIVAL_MARGIN covers building and
signing the request and its way to the provider. The arrivals in a window [t, t + 1) then
come from slots in the open interval (t - D, t + 1), of length 1 + D = 1 / HEADROOM, which
holds at most ceil((1 + D) / step) = ceil(N) = N slots. `busiest_window` in
tests/messaging/test_rate.py checks this on real slot sequences.

With HEADROOM 0.96 the senders reach 96 % of the limit, less the slots of the rare thread
that woke too late.
"""
import math
import time

from pynamodb.exceptions import UpdateError

from chalicelib.models import SendRate

HEADROOM = 0.96
ARRIVAL_MARGIN = 0.015      # seconds from the on-time check to the request reaching the provider
MAX_SLOTS_AT_ONCE = 50


class SendRateLimit:
    """`take(n)` returns n epoch instants, at most `per_second` per second across all senders
    (a fractional limit of one or more counts as its whole part: a second holds whole sends).
    `per_second` of None or 0 means no limit (no DynamoDB call)."""

    def __init__(self, channel, per_second, clock=time.time, sleep=time.sleep):
        self.channel = channel
        self.per_second = (math.floor(per_second) if per_second >= 1 else per_second) if per_second else 0
        self.step = 1.0 / (self.per_second * HEADROOM) if per_second else 0.0
        self.late = (1 / HEADROOM - 1 - ARRIVAL_MARGIN) if per_second else 0.0
        self.clock, self.sleep = clock, sleep

    def take(self, count=1):
        if not self.step or count <= 0:
            now = self.clock()
            return [now] * count
        item = SendRate(*SendRate.key(self.channel))
        span = self.step * count
        while True:
            now = self.clock()
            try:
                item.update(actions=[SendRate.next_slot.add(span)], condition=SendRate.next_slot >= now)
                end = float(item.next_slot)
                break
            except UpdateError as error:
                _raise_unless_condition(error)
            try:
                item.update(actions=[SendRate.next_slot.set(now + span)],
                            condition=SendRate.next_slot.does_not_exist() | (SendRate.next_slot < now))
                end = float(item.next_slot)
                break
            except UpdateError as error:
                _raise_unless_condition(error)
        first = end - span
        return [first + index * self.step for index in range(count)]

    def wait_for(self, slot):
        """Sleep until the clock reads `slot` (a sleep may end a little early: check again)."""
        while True:
            delay = slot - self.clock()
            if delay <= 0:
                return
            self.sleep(delay)

    def send_at(self, slot):
        """Sleep until `slot`, and return only while it is still on time: a thread woken more
        than `late` after its slot (a busy machine) takes a new slot instead, so sends never
        bunch up behind a late one and no second goes over the limit. Returns the slot used."""
        while True:
            self.wait_for(slot)
            if not self.step or self.clock() - slot <= self.late:
                return slot
            slot = self.take(1)[0]


def _raise_unless_condition(error):
    if error.cause_response_code != 'ConditionalCheckFailedException':
        raise error
