"""A small world for the end-of-circle tests, built through the app's own domain functions: a
published circle of weekly meetings starting tomorrow, two facilitators with accounts, learners
signed up through the signup form's function. Times are simulated by passing `now` to the jobs."""
from datetime import timedelta

from chalicelib.circles import circles
from chalicelib.ending.schedule import meeting_end
from chalicelib.models import Delivery, TableItem
from chalicelib.reminders.sync import sync_reminders
from tests.facilitators.test_facilitator_pages import account, learner, run_by

FIVE_MINUTES = timedelta(minutes=5)


class World:
    def __init__(self, weeks=3, learners=('Lea Learner', 'Ben Learner'), starts_in_days=1, **fields):
        self.facilitator = account('Fay Facilitator', 'fay@example.org')
        self.co_facilitator = account('Cody Cofacilitator', 'cody@example.org')
        self.circle = run_by(self.facilitator, self.co_facilitator, starts_in_days=starts_in_days, weeks=weeks,
                             **fields)
        self.signups = [learner(self.circle, name, f'{name.split()[0].lower()}@example.org',
                                goals=f'{name.split()[0]} wants to write a small web app')
                        for name in learners]
        self.sync()

    def fresh(self):
        return circles.get_circle(self.circle.id)

    def sync(self, now=None):
        """What every change to the circle's meetings runs (the hook in reminders.sync)."""
        self.circle = self.fresh()
        sync_reminders(self.circle, now=now)

    def end_of(self, number):
        return meeting_end(circles.active_meetings(self.fresh())[number])

    def last_end(self):
        return max(meeting_end(m) for m in circles.active_meetings(self.fresh()))


def deliveries(circle_id, purpose_prefix):
    """The circle's outbox items whose purpose starts with `purpose_prefix` (one Query)."""
    return [item for item in TableItem.query(f'CIRCLE#{circle_id}', TableItem.sk.startswith(f'DELIVERY#{purpose_prefix}'),
                                             consistent_read=True) if isinstance(item, Delivery)]


def emails_to(moto, address, subject_part=''):
    return [m for m in moto.sent_emails() if m['To'] == address and subject_part in m['Subject']]


def text_of(message):
    return message.get_body(preferencelist=('plain',)).get_content()
