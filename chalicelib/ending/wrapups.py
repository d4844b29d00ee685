"""The wrap-up prompt: when a meeting has ended, its facilitators get one email asking how it
went, with 1-5 links that open the meeting's feedback form with that rating chosen.

    send_meeting_wrapups(now) -> summary        # the `send-meeting-wrapups` job, every 5 minutes

- Finds due prompts with one Query of the `by_due` queue `WRAPUP` (due_sk <= now): nothing due,
  one DynamoDB call. Then one BatchGetItem reads the circles and the meetings' feedback.
- Each prompt is sent (or skipped) by ONE transaction: the wrap-up leaves the queue, on the
  condition that it is still `scheduled` at the `due_sk` this run read, together with one outbox
  item per facilitator, each keyed by (circle, `wrapup#<meeting>`, facilitator) and put only if
  it does not exist. Two runs at once: one commits, the other's condition fails and it sends
  nothing; a facilitator never gets two prompts for a meeting.
- Not before the meeting ends (its due time is the end, and a meeting moved later is put back on
  the queue at its new end), not more than WRAPUP_WINDOW after (skipped), not when feedback on
  the meeting was recorded (skipped here, and again by the sender if it arrives meanwhile), not
  for a cancelled meeting or an unpublished circle. The window is the job's: the sender, seconds
  later, checks again only what can change meanwhile (feedback, cancellation, publication).
"""
import logging
from collections import Counter

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.circles import circles
from chalicelib.core.i18n import N_, _
from chalicelib.core.settings import get_settings
from chalicelib.ending.schedule import (SCHEDULED, SENT, SKIPPED, in_wrapup_window, meeting_end, until,
                                        wrapup_due)
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import Circle, MeetingFeedback, TableItem
from chalicelib.models.ending import WRAPUP_QUEUE, MeetingWrapUp
from chalicelib.models.transactions import condition_failed, transact_write

log = logging.getLogger(__name__)

RATINGS = range(1, 6)
BATCH_KEYS = 100        # BatchGetItem's limit


def purpose_of(meeting_id):
    return f'wrapup#{meeting_id}'


def due_wrapups(now):
    """Wrap-ups due at `now`, oldest first: one Query of the `by_due` index (pages as needed)."""
    return MeetingWrapUp.by_due.query(WRAPUP_QUEUE, MeetingWrapUp.due_sk <= until(now))


def read_for(wrapups):
    """{(pk, sk): item} of the wrap-ups' circles and their meetings' feedback: BatchGetItems of 100."""
    keys = sorted({key for w in wrapups for key in (Circle.key(w.circle_id),
                                                     MeetingFeedback.key(w.circle_id, w.meeting_id))})
    found = {}
    for start in range(0, len(keys), BATCH_KEYS):
        for item in TableItem.batch_get(keys[start:start + BATCH_KEYS], consistent_read=True):
            found[(item.pk, item.sk)] = item
    return found


def find_meeting(circle, meeting_id):
    return next((m for m in circle.meetings if m.meeting_id == meeting_id), None) if circle else None


def decide(circle, meeting, feedback, now):
    """What to do with a due wrap-up now: 'send', 'later' (the meeting moved: not ended yet), or
    the reason it is skipped."""
    due = wrapup_due(circle, meeting) if meeting is not None else None
    if due is None:
        return 'skipped_no_meeting'
    if feedback is not None:
        return 'skipped_feedback_recorded'
    if now < due:
        return 'later'
    if not in_wrapup_window(due, now):
        return 'skipped_too_late'
    return 'send'


def wrapup_items(circle, meeting, now):
    """One outbox item per facilitator of the circle as it is now."""
    purpose = purpose_of(meeting.meeting_id)
    return [outbox.for_address(circle.id, purpose, recipient_id, address, 'wrapup', now,
                               params={'meeting': meeting.meeting_id})
            for recipient_id, address in circles.facilitator_recipients(circle)]


def send_meeting_wrapups(now=None):
    """Send or skip every wrap-up due at `now` (see the module docstring); returns a summary."""
    now = now or circles.utcnow()
    summary = Counter()
    due = list(due_wrapups(now))
    if not due:
        return dict(summary)
    reads = read_for(due)
    for wrapup in due:
        summary['due'] += 1
        circle = reads.get(Circle.key(wrapup.circle_id))
        meeting = find_meeting(circle, wrapup.meeting_id)
        feedback = reads.get(MeetingFeedback.key(wrapup.circle_id, wrapup.meeting_id))
        outcome = decide(circle, meeting, feedback, now)
        try:
            if outcome == 'send':
                done = send_one(wrapup, circle, meeting, now)
                summary['wrapups_sent' if done else 'held_by_another_run'] += 1
                if done:
                    summary['messages_queued'] += done
            elif outcome == 'later':
                summary['moved' if requeue(wrapup, meeting_end(meeting), now) else 'held_by_another_run'] += 1
            else:
                summary[outcome if finish(wrapup, now) else 'held_by_another_run'] += 1
        except Exception:  # noqa: BLE001 - a DynamoDB error: the wrap-up stays due, the next run retries
            log.exception('wrap-up %s: failed', wrapup.sk)
            summary['failed'] += 1
    log.info('send_meeting_wrapups: %s', dict(summary))
    return dict(summary)


def _still_due(wrapup):
    """The condition every job write carries: still waiting where this run found it."""
    return (MeetingWrapUp.state == SCHEDULED) & (MeetingWrapUp.due_sk == wrapup.due_sk)


def _off_queue(state, now):
    actions = [MeetingWrapUp.state.set(state), MeetingWrapUp.due_pk.remove(), MeetingWrapUp.due_sk.remove(),
               MeetingWrapUp.updated_at.set(now)]
    if state == SENT:
        actions.append(MeetingWrapUp.sent_at.set(now))
    return actions


def send_one(wrapup, circle, meeting, now):
    """The wrap-up off the queue and the facilitators' emails, in one transaction; the number
    of emails queued, or 0 when another run took the wrap-up first."""
    items = wrapup_items(circle, meeting, now)

    def write(transaction):
        transaction.update(wrapup, actions=_off_queue(SENT, now), condition=_still_due(wrapup))
        for item in items:
            transaction.save(*outbox.put(item))
    try:
        transact_write(write)
    except TransactWriteError as error:
        if condition_failed(error):
            return 0
        raise
    return len(items)


def finish(wrapup, now):
    """Skipped: off the queue for good. False when another run took it first."""
    try:
        wrapup.update(actions=_off_queue(SKIPPED, now), condition=_still_due(wrapup))
        return True
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return False


def requeue(wrapup, due, now):
    """The meeting moved later than its wrap-up's place on the queue: wait for its new end."""
    try:
        wrapup.update(actions=[MeetingWrapUp.due_at.set(due), MeetingWrapUp.updated_at.set(now),
                               MeetingWrapUp.due_sk.set(MeetingWrapUp.due_key(due, wrapup.circle_id,
                                                                              wrapup.meeting_id))],
                      condition=_still_due(wrapup))
        return True
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return False


# --- the email (the sender renders it at send time) ------------------------------------------

def feedback_url(circle_id, meeting_id, rating=None):
    url = f'{get_settings().public_base_url}/facilitate/circles/{circle_id}/meetings/{meeting_id}/feedback'
    return f'{url}?rating={rating}' if rating else url


def wrapup_email(circle, meeting, to, now=None):
    from chalicelib.core.formatting import meeting_when
    from chalicelib.core.rendering import render
    from chalicelib.messaging import email
    active = circles.active_meetings(circle)
    number = next((n for n, m in enumerate(active, 1) if m.meeting_id == meeting.meeting_id), None)
    context = {'circle': circle, 'meeting': meeting, 'number': number, 'of': len(active),
               'when': meeting_when(meeting, circle.timezone), 'name': _facilitator_name(circle, to),
               'rating_links': [(r, feedback_url(circle.id, meeting.meeting_id, r)) for r in RATINGS],
               'feedback_url': feedback_url(circle.id, meeting.meeting_id)}
    subject = _('How did meeting %(number)s of %(name)s go?') % {'number': number, 'name': circle.name}
    return email.build_message(to=to, subject=subject,
                               text=render('email/wrapup.txt', **context), html=render('email/wrapup.html', **context))


def _facilitator_name(circle, address):
    emails = [e.lower() for e in circle.facilitator_emails or []]
    names = list(circle.facilitator_names or [])
    index = emails.index(address.lower()) if address and address.lower() in emails else None
    return names[index] if index is not None and index < len(names) else None


def _keys(item):
    return [Circle.key(item.circle_id), MeetingFeedback.key(item.circle_id, item.params['meeting'])]


def _render(item, reads, to, now):
    circle = reads.get(Circle.key(item.circle_id))
    meeting = find_meeting(circle, item.params['meeting'])
    if meeting is None or wrapup_due(circle, meeting) is None:
        raise Skip(N_('The meeting is cancelled or the circle is no longer published.'))
    if reads.get(MeetingFeedback.key(item.circle_id, meeting.meeting_id)) is not None:
        raise Skip(N_('Feedback on this meeting was recorded meanwhile.'))
    return wrapup_email(circle, meeting, to, now)


WRAPUP = Template(keys=_keys, render=_render)
