"""One send rate per channel across every sender at once: SES and Twilio count our requests
per account, not per Lambda.

The shared state is one item per channel, `RATE#<channel>`, holding the next free send
slot (epoch seconds). Taking slots is one atomic UpdateItem that moves it forward:

- busy: `SET next_slot = next_slot + n * step` on condition `next_slot >= now`; the new
  value says which n slots are ours (the n steps before it);
- idle (the slot lies in the past, or no item yet): `SET next_slot = now + n * step` on
  condition `next_slot < now` or no slot; if both conditions fail, someone moved the slot
  between our two tries, and we try again.

Slots are `step = 1 / (rate * HEADROOM)` apart, and a send may leave only a little after its
slot (`send_at`: a thread woken later takes a new slot), so no second holds
more than `rate` sends even when threads run late on a busy machine (the provider counts
arrivals, not our slots). DynamoDB serialises the updates of one item, so
two senders never get the same slot: the sends are spaced across processes exactly as
within one. Waiting for a slot is a sleep in the sender; it never holds a lock.
"""
import time

from pynamodb.exceptions import UpdateError

from chalicelib.models import SendRate

HEADROOM = 0.9
MIN_LATE, MAX_LATE = 0.005, 0.1     # seconds a woken thread may be late and still use its slot
MAX_SLOTS_AT_ONCE = 50


class SendRateLimit:
    """`take(n)` returns n epoch instants, at most `per_second` per second across all senders.
    `per_second` of None or 0 means no limit (no DynamoDB call)."""

    def __init__(self, channel, per_second, clock=time.time):
        self.channel = channel
        self.step = 1.0 / (per_second * HEADROOM) if per_second else 0.0
        self.clock = clock
        # Sends leave within `late` of their slots, so any one second holds the slots of at most
        # 1 + late seconds, plus one at its edge: per_second * HEADROOM * (1 + late) + 1 sends,
        # which stays within per_second while late <= (1 - 1/per_second) / HEADROOM - 1.
        self.late = (max(MIN_LATE, min(MAX_LATE, (1 - 1 / per_second) / HEADROOM - 1))
                     if per_second else 0.0)

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
        delay = slot - self.clock()
        if delay > 0:
            time.sleep(delay)

    def send_at(self, slot):
        """Sleep until `slot`, and return only while it is still on time: a thread woken more
        than `late` after its slot (a busy machine) takes a new slot instead, so sends never
        bunch up behind a late one and no second goes over the limit."""
        while True:
            self.wait_for(slot)
            if not self.step or self.clock() - slot <= self.late:
                return
            slot = self.take(1)[0]


def _raise_unless_condition(error):
    if error.cause_response_code != 'ConditionalCheckFailedException':
        raise error
