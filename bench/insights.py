"""The insights report: DynamoDB calls and app CPU to publish one report, at 10 and 50 learners.

For each size, a finished team circle of six meetings is seeded as it stands when its surveys
close: its learners (every other one with a mobile), each learner's RSVP to every meeting, the
outbox items a circle has sent by then (a welcome and six reminders per learner, an SMS reminder
for those with a mobile, all `sent`), the facilitator's feedback on every meeting, a survey answer
from 80 % of the learners, the facilitator's survey, and the closing on the INSIGHTS queue; plus
100 other circles whose closings fall due later. Then, measured one by one:

- `publish-insights` with nothing due (an hour before the close): goal ≤ 3 DynamoDB calls;
- `publish-insights` at the close: the `by_due` Query, ONE Query of the circle's partition (its
  pages: DynamoDB answers at most 1 MB a page, and most of a finished circle's partition is its
  outbox history) and ONE TransactWriteItems (report, circle card, closing, the emails' fan-out);
- the next run: nothing due again;
- the public page `/circles/{id}/insights` (one BatchGetItem);
- the sender expanding the emails' fan-out: it reads the learners and the team's organizers and
  writes one outbox item per person and channel (these grow with the learners, by design).

We count each step's DynamoDB calls by operation and its app CPU: `time.process_time()` of this
process around it (moto answers in another process; botocore's and PynamoDB's work on its answers
is counted). No stream poller runs here, so nothing is sent.

    python -m bench.insights            # writes its section of BENCHMARKS.md
"""
import time
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone

from bench import dynamodb_calls
from tests.support import aws_calls

START = '<!-- insights bench results start -->'
END = '<!-- insights bench results end -->'
SIZES = (10, 50)
OTHER_CIRCLES = 100
TEAM = 'team-1'
NOTHING_DUE_CALLS = 3


def _finished_circle(now):
    from chalicelib.circles import circles
    from chalicelib.models import Course
    from chalicelib.core.clock import zone_info
    tz_name = 'America/Chicago'
    first = (now - timedelta(weeks=7)).astimezone(zone_info(tz_name)).date()
    meetings = circles.weekly_meetings(first, datetime.strptime('18:00', '%H:%M').time(), 6, 90, tz_name)
    return circles.new_circle(
        name='Python for Everybody in Chicago', timezone_name=tz_name, meetings=meetings, published=True,
        course=Course(title='Python for Everybody', provider='Coursera', link='https://example.org/py4e',
                      topics=['python']),
        city='Chicago', country='United States', latitude=41.88, longitude=-87.63, venue_name='Library',
        venue_address='400 S State St', facilitator_ids=['u-ada'], facilitator_names=['Ada'],
        facilitator_emails=['ada@example.org'], team_id=TEAM)


def seed(learners, now):
    """The finished circle with `learners` (see the module docstring) and the other circles.
    Returns (circle, the instant its surveys close, items written)."""
    from chalicelib.learners.signup import CONSENT_VERSION, signup_id_for
    from chalicelib.messaging import outbox
    from chalicelib.models import (CircleEnding, FacilitatorSurvey, LearnerSurvey, MeetingFeedback, Rsvp, Signup,
                                   TableItem, Team, TeamMember, User)
    from chalicelib.models.ending import INSIGHTS_QUEUE
    circle = _finished_circle(now)
    last = circle.meetings[-1]
    ended = last.starts_at + timedelta(minutes=int(last.duration_minutes))
    closes = ended + timedelta(days=7)
    items = [circle, Team(*Team.key(TEAM), team_id=TEAM, name='A library'),
             User(*User.key('u-olu'), user_id='u-olu', name='Olu', first_name='Olu', email='olu@example.org',
                  password_hash='x', email_confirmed=True),
             TeamMember(f'TEAM#{TEAM}', 'MEMBER#u-olu', team_id=TEAM, user_id='u-olu', role='organizer')]
    for n in range(learners):
        address = f'learner{n}.{circle.id}@example.org'
        signup_id = signup_id_for(circle.id, address)
        mobile = f'+1312{zlib.crc32(address.encode()) % 10**7:07d}' if n % 2 == 0 else None
        signup = Signup(*Signup.key(circle.id, signup_id), signup_id=signup_id, circle_id=circle.id,
                        name=f'Learner {n}', email=address, mobile=mobile, goals='Write my first program.',
                        created_at=now, updated_at=now, consent_at=now, consent_version=CONSENT_VERSION,
                        email_pk=f'EMAIL#{address}', email_sk=f'SIGNUP#{circle.id}')
        items.append(signup)
        sent = [outbox.for_signup(signup, 'welcome', outbox.EMAIL, 'welcome', now)]
        for meeting in circle.meetings:
            items.append(Rsvp(*Rsvp.key(circle.id, meeting.meeting_id, signup_id), circle_id=circle.id,
                              meeting_id=meeting.meeting_id, signup_id=signup_id, answer='yes' if n % 3 else 'no',
                              answered_at=now, sequence=0))
            sent.append(outbox.for_signup(signup, f'reminder#{meeting.meeting_id}', outbox.EMAIL, 'reminder', now))
            if mobile:
                sent.append(outbox.for_signup(signup, f'reminder#{meeting.meeting_id}', outbox.SMS, 'reminder_sms',
                                              now))
        for item in sent:
            item.state, item.due_pk, item.due_sk, item.sent_at = outbox.SENT, None, None, now
        items += sent
        if n % 5 != 4:
            items.append(LearnerSurvey(*LearnerSurvey.key(circle.id, signup_id), circle_id=circle.id,
                                       signup_id=signup_id, goal_reached=1 + n % 5, recommend=n % 11,
                                       worked_well='Working in pairs every week.', improve='Longer meetings.',
                                       next_step='The next course.', may_quote=n % 2 == 0, answered_at=ended))
    for number, meeting in enumerate(circle.meetings):
        items.append(MeetingFeedback(*MeetingFeedback.key(circle.id, meeting.meeting_id), circle_id=circle.id,
                                     meeting_id=meeting.meeting_id, author_id='u-ada', author_name='Ada',
                                     attendance=max(learners - number, 0), rating=4, prompt='How did it go?',
                                     reflection='We worked through the exercises in pairs.'))
    items.append(FacilitatorSurvey(*FacilitatorSurvey.key(circle.id, 'u-ada'), circle_id=circle.id, user_id='u-ada',
                                   happened=True, course_rating=4, shared_reflections=[circle.meetings[0].meeting_id],
                                   answered_at=ended))
    items.append(CircleEnding(*CircleEnding.key(circle.id), circle_id=circle.id, stage=INSIGHTS_QUEUE,
                              due_pk=INSIGHTS_QUEUE, due_sk=f'{closes.isoformat()}#{circle.id}'))
    for n in range(OTHER_CIRCLES):       # closings due later
        other = f'other{n:03d}'
        items.append(CircleEnding(*CircleEnding.key(other), circle_id=other, stage=INSIGHTS_QUEUE,
                                  due_pk=INSIGHTS_QUEUE,
                                  due_sk=f'{(closes + timedelta(days=1 + n)).isoformat()}#{other}'))
    with TableItem.batch_write() as batch:
        for item in items:
            batch.save(item)
    return circle, closes, len(items)


def _measure(step):
    aws_calls.reset()
    started = time.process_time()
    result = step()
    cpu_ms = (time.process_time() - started) * 1000
    return {'calls': Counter(aws_calls.dynamodb_calls()), 'cpu_ms': cpu_ms, 'result': result}


def count_size(server, learners, now):
    from chalice.test import Client

    from app import app
    from chalicelib.insights import publish
    from chalicelib.messaging import sender
    from chalicelib.models import Delivery
    from chalicelib.models import raw
    from chalicelib.ops import outbox_templates
    dynamodb_calls.fresh_table(server)
    circle, closes, written = seed(learners, now)
    partition_bytes = sum(dynamodb_calls.item_size(item) for item in raw.query('pk', f'CIRCLE#{circle.id}'))
    steps = {'nothing due': _measure(lambda: publish.publish_due_insights(closes - timedelta(hours=1))),
             'due: publish': _measure(lambda: publish.publish_due_insights(closes + timedelta(minutes=1))),
             'next run': _measure(lambda: publish.publish_due_insights(closes + timedelta(hours=1)))}
    with Client(app) as client:
        client.http.get(f'/circles/{circle.id}/insights')       # the page's modules and templates loaded
        steps['public page'] = _measure(lambda: client.http.get(f'/circles/{circle.id}/insights').status_code)
    templates = {**outbox_templates.templates(), 'insights_fan_out': publish.INSIGHTS_FAN_OUT,
                 'insights': publish.INSIGHTS_EMAIL, 'insights_sms': publish.INSIGHTS_SMS}
    fan_out = Delivery.get(*Delivery.key(f'CIRCLE#{circle.id}', 'insights', 'all', 'fan-out'))
    steps['sender: fan-out'] = _measure(lambda: sender.send_items([fan_out], templates))
    queued = sum(1 for item in Delivery.query(f'CIRCLE#{circle.id}', Delivery.sk.startswith('DELIVERY#insights#'))
                 if item.channel != 'fan-out')
    return {'learners': learners, 'items': written, 'partition_bytes': partition_bytes, 'steps': steps,
            'queued': queued}


def run(server, sizes=SIZES):
    from chalicelib.insights import publish
    now = datetime.now(timezone.utc).replace(microsecond=0)
    dynamodb_calls.fresh_table(server)
    publish.publish_due_insights(now)      # imports and clients made: a warm container's runs are measured
    return [count_size(server, learners, now) for learners in sizes]


def _ops(calls):
    return ', '.join(f'{op} {n}' for op, n in sorted(calls.items())) or 'none'


def nothing_due_met(results):
    return all(sum(r['steps'][name]['calls'].values()) <= NOTHING_DUE_CALLS
               for r in results for name in ('nothing due', 'next run'))


def markdown(results):
    lines = ['### Insights report: DynamoDB calls and app CPU to publish one report', '',
             f'A finished team circle of six meetings when its surveys close (learners\' RSVPs, welcome and '
             f'reminder deliveries, feedback, survey answers from 80 % of learners, the closing due), among '
             f'{OTHER_CIRCLES} closings due later. App CPU is `time.process_time()` of this process.', '',
             '| learners | partition items, KB | step | calls by operation | total | app CPU ms |',
             '|---|---|---|---|---|---|']
    for r in results:
        for name, step in r['steps'].items():
            lines.append(f"| {r['learners']} | {r['items'] - OTHER_CIRCLES - 3:,}, {r['partition_bytes'] / 1000:.0f} | "
                         f"{name} | {_ops(step['calls'])} | {sum(step['calls'].values())} | {step['cpu_ms']:.1f} |")
    lines += ['', 'The fan-out writes one outbox item per person and channel: '
              + ', '.join(f"{r['queued']} for {r['learners']} learners" for r in results)
              + ' (the facilitator and the organizer included).',
              '', f"A run with nothing due (goal ≤ {NOTHING_DUE_CALLS} DynamoDB calls): "
              f"**{'met' if nothing_due_met(results) else 'NOT met'}**."]
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    from bench.report import run_alone
    run_alone(START, END, run, markdown)
