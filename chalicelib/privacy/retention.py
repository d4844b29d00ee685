"""Retention: learners' personal data is anonymised `retention_days` (default 90) after their
circle's last meeting, for every circle of every team, unless they opted in to further
communication (`communications_opt_in`).

    anonymize_expired_signups(now)      # daily (chalicelib/handlers/sns.py), or the CLI's run-job

Circles are found on the `RETENTION` queue of `by_due` (chalicelib.models.retention, kept at
the last meeting's end plus the period by chalicelib.ending.schedule `sync_retention`), never by
a Scan: nothing due costs one Query. Each due circle costs one Query of its partition and one
TransactWriteItems per 99 items changed, the last of which takes the circle off the queue on
condition that its due time is still the one read (a meeting moved meanwhile: it stays queued).

What is anonymised, for each signup that did not opt in: the signup's name, email, mobile and
answers (goals, support, the circle's question) and its `by_email`/`by_phone` entries; the
free text of its survey answer (the goal restated, what worked, what to improve, next step);
the words and provider errors of the messages sent to it; the words of texts it sent. What
stays: the signup itself (so counts stay true; it does not count as withdrawn), RSVPs,
ratings, the circle's counts and the published insights report (a snapshot without names).
This is field removal like `chalicelib.learners.signup.withdraw`, without its change of the
circle's count; the learner's stand-in id (the signup id, derived from the address) stays, as
after a withdrawal.
"""
import logging
import time

from pynamodb.exceptions import TransactWriteError

from chalicelib.core.clock import utcnow
from chalicelib.models import Delivery, LearnerSurvey, Signup, TableItem
from chalicelib.models.message import InboundText
from chalicelib.models.retention import RETENTION_QUEUE, RetentionDue
from chalicelib.models.transactions import condition_failed, transact_write

log = logging.getLogger(__name__)

PER_TRANSACTION = 99        # DynamoDB's 100 actions, one kept for taking the circle off the queue
STOP_MARGIN_SECONDS = 10
SIGNUP_FIELDS = ('name', 'email', 'mobile', 'goals', 'support', 'custom_answer',
                 'email_pk', 'email_sk', 'phone_pk', 'phone_sk')
SURVEY_FIELDS = ('goal', 'worked_well', 'improve', 'next_step')
DELIVERY_FIELDS = ('to', 'body', 'error')
REMOVED_TEXT = '(removed)'


def anonymize_expired_signups(now=None, deadline=None):
    """Anonymise the learners of every circle due on the `RETENTION` queue at `now` (see the
    module docstring). Returns {'circles': n, 'signups': n}."""
    now = now or utcnow()
    done = {'circles': 0, 'signups': 0}
    for due in RetentionDue.by_due.query(RETENTION_QUEUE, RetentionDue.due_sk <= f'{now.isoformat()}#~'):
        if deadline is not None and time.monotonic() > deadline - STOP_MARGIN_SECONDS:
            break       # the next run goes on from here: the rest are still queued
        signups = anonymize_circle(due, now)
        if signups is not None:
            done['circles'] += 1
            done['signups'] += signups
    log.info('anonymize-expired-signups: %s', done)
    return done


def anonymize_circle(due, now):
    """Anonymise one due circle's learners and take it off the queue; the number of signups
    anonymised, or None when the circle moved on the queue meanwhile (nothing more written)."""
    items = list(TableItem.query(f'CIRCLE#{due.circle_id}'))
    expired = {i.signup_id for i in items if isinstance(i, Signup) and _holds_personal_data(i)
               and not i.communications_opt_in}
    changes = [change for item in items for change in _changes(item, expired)]
    chunks = [changes[start:start + PER_TRANSACTION] for start in range(0, len(changes), PER_TRANSACTION)] or [[]]
    for number, chunk in enumerate(chunks, start=1):
        last = number == len(chunks)

        def write(transaction, chunk=chunk, last=last):
            for item, actions, condition in chunk:
                transaction.update(item, actions=actions, condition=condition)
            if last:
                transaction.update(due, actions=[RetentionDue.due_pk.remove(), RetentionDue.due_sk.remove(),
                                                 RetentionDue.anonymized_at.set(now), RetentionDue.updated_at.set(now)],
                                   condition=RetentionDue.due_sk == due.due_sk)
        try:
            transact_write(write)
        except TransactWriteError as error:
            if not condition_failed(error):
                raise
            log.info('retention of circle %s: changed meanwhile, left for the next run', due.circle_id)
            return None
    return len(expired)


def _holds_personal_data(signup):
    return any(getattr(signup, name) for name in ('name', 'email', 'mobile', 'goals', 'support', 'custom_answer'))


def _changes(item, expired):
    """(item, actions, condition) for each item of the partition that holds an expired learner's data."""
    if isinstance(item, Signup) and item.signup_id in expired:
        # Not if the learner opted in meanwhile (the details page), nor if they withdrew meanwhile.
        yield item, [*(getattr(Signup, name).remove() for name in SIGNUP_FIELDS)], \
            (Signup.communications_opt_in.does_not_exist() | (Signup.communications_opt_in == False))  # noqa: E712
    elif isinstance(item, LearnerSurvey) and item.signup_id in expired and _any(item, SURVEY_FIELDS):
        yield item, [getattr(LearnerSurvey, name).remove() for name in SURVEY_FIELDS], LearnerSurvey.pk.exists()
    elif isinstance(item, Delivery) and item.signup_id in expired and _any(item, DELIVERY_FIELDS) \
            and item.state in ('sent', 'failed', 'skipped'):
        yield item, [getattr(Delivery, name).remove() for name in DELIVERY_FIELDS], Delivery.pk.exists()
    elif isinstance(item, InboundText) and item.signup_id in expired and item.body != REMOVED_TEXT:
        yield item, [InboundText.body.set(REMOVED_TEXT)], InboundText.pk.exists()


def _any(item, names):
    return any(getattr(item, name, None) for name in names)
