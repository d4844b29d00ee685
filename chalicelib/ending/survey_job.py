"""The end-of-circle surveys go out, then one reminder: the `send-end-of-circle-surveys` job.

    send_end_of_circle_surveys(now) -> summary      # every 5 minutes

The circle's `CircleEnding` moves through the `by_due` queues one step at a time:

- `SURVEY` (due at the last meeting's end): one transaction moves it to `SURVEY_REMINDER`, due
  `survey_reminder_days` later, and writes the survey's fan-out outbox item (`survey#all`).
- `SURVEY_REMINDER`: one transaction moves it to `INSIGHTS`, due when the surveys close
  (`surveys_close_at`, with `stage='INSIGHTS'`: the insights report's job takes it from there),
  and writes the reminder's fan-out (`survey-reminder#all`). Past the close, no reminder: it
  moves to `INSIGHTS` alone.

Each transaction is conditional on the stage and `due_sk` this run read, and each fan-out item
is put only if it does not exist: two runs at once send nothing twice. The sender expands a
fan-out into one item per recipient, each put only if it does not exist: every learner still
signed up (an email, or an SMS when they gave only a mobile) and every facilitator (an email);
the reminder's only to those who have not answered. Whether a learner has left, opted out or
answered meanwhile is checked again just before sending. Nothing due: two Queries.
"""
import logging
from collections import Counter

from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles
from chalicelib.core import observability
from chalicelib.core.i18n import N_, _
from chalicelib.core.settings import get_settings
from chalicelib.ending.schedule import INSIGHTS, SURVEY_REMINDER, reminder_due, surveys_due, sync_closing, until
from chalicelib.ending.surveys import is_open, survey_link
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import Circle, Signup
from chalicelib.models.ending import INSIGHTS_QUEUE, SURVEY_QUEUE, SURVEY_REMINDER_QUEUE, CircleEnding
from chalicelib.models.ending import FacilitatorSurvey, LearnerSurvey
from chalicelib.models.transactions import condition_failed, transact_write

log = logging.getLogger(__name__)

SURVEY_PURPOSE, REMINDER_PURPOSE = 'survey', 'survey-reminder'


def due_endings(queue, now):
    """Closings waiting on `queue` and due at `now`: one Query of `by_due` (pages as needed)."""
    return CircleEnding.by_due.query(queue, CircleEnding.due_sk <= until(now))


def send_end_of_circle_surveys(now=None):
    """Send the surveys and the reminders due at `now` (see the module docstring)."""
    now = now or circles.utcnow()
    summary = Counter()
    for ending in due_endings(SURVEY_QUEUE, now):
        _run(open_surveys, ending, now, summary)
    for ending in due_endings(SURVEY_REMINDER_QUEUE, now):
        _run(remind, ending, now, summary)
    log.info('send_end_of_circle_surveys: %s', dict(summary))
    observability.count('SurveysSent', summary['surveys_sent'])        # metrics, zeros included
    observability.count('SurveyRemindersSent', summary['reminders_sent'])
    observability.count('SurveyClosingsFailed', summary['failed'])
    return dict(summary)


def _run(step, ending, now, summary):
    try:
        summary[step(ending, now)] += 1
    except Exception:  # noqa: BLE001 - a DynamoDB error: the closing stays due, the next run retries
        log.exception('closing %s: %s failed', ending.pk, step.__name__)
        summary['failed'] += 1


def _still_due(ending):
    return (CircleEnding.stage == ending.stage) & (CircleEnding.due_sk == ending.due_sk)


def move_on(ending, stage, queue, due, now, fan_out=None, extra=()):
    """One transaction: the closing to its next step (on the queue `queue` at `due`), with the
    step's fan-out item. False when another run moved it first."""
    actions = [CircleEnding.stage.set(stage), CircleEnding.due_pk.set(queue),
               CircleEnding.due_sk.set(CircleEnding.due_key(due, ending.circle_id)),
               CircleEnding.updated_at.set(now), *extra]

    def write(transaction):
        transaction.update(ending, actions=actions, condition=_still_due(ending))
        if fan_out is not None:
            transaction.save(*outbox.put(fan_out))
    try:
        transact_write(write)
    except TransactWriteError as error:
        if condition_failed(error):
            return False
        raise
    return True


def _fan_out(circle_id, purpose, now):
    return outbox.fan_out(outbox.circle_partition(circle_id), purpose, 'survey_fan_out', now, circle_id=circle_id,
                          params={'purpose': purpose})


def open_surveys(ending, now):
    """The surveys go out, unless the circle has changed so that they are not due (then the
    closing waits where the circle says, as `schedule.sync_ending` would put it)."""
    circle = circles.get_circle(ending.circle_id)
    due = surveys_due(circle) if circle else None
    if due is None or due > now:
        sync_closing(circle, ending, now)
        return 'not_due_any_more'
    moved = move_on(ending, SURVEY_REMINDER, SURVEY_REMINDER_QUEUE, reminder_due(now), now,
                    fan_out=_fan_out(ending.circle_id, SURVEY_PURPOSE, now),
                    extra=[CircleEnding.surveys_sent_at.set(now)])
    return 'surveys_sent' if moved else 'held_by_another_run'


def remind(ending, now):
    """The one reminder, then on to the report when the surveys close."""
    if not is_open(ending, now):
        moved = move_on(ending, INSIGHTS, INSIGHTS_QUEUE, ending.surveys_close_at, now)
        return 'reminder_skipped_closed' if moved else 'held_by_another_run'
    moved = move_on(ending, INSIGHTS, INSIGHTS_QUEUE, ending.surveys_close_at, now,
                    fan_out=_fan_out(ending.circle_id, REMINDER_PURPOSE, now),
                    extra=[CircleEnding.reminders_sent_at.set(now)])
    return 'reminders_sent' if moved else 'held_by_another_run'


# --- the fan-out: who gets what (the sender expands it) ---------------------------------------

def _expand(item, reads, now):
    """One item per learner still signed up (email, or SMS with only a mobile) and per
    facilitator; for the reminder, only those who have not answered."""
    purpose = item.params['purpose']
    circle = reads.get(Circle.key(item.circle_id))
    if circle is None:
        return []
    partition = outbox.circle_partition(item.circle_id)
    answered, answered_by = set(), set()
    if purpose == REMINDER_PURPOSE:
        answered = {a.signup_id for a in LearnerSurvey.query(partition, LearnerSurvey.sk.startswith('SURVEY#'),
                                                             consistent_read=True)}
        answered_by = {a.user_id for a in FacilitatorSurvey.query(
            partition, FacilitatorSurvey.sk.startswith('FSURVEY#'), consistent_read=True)}
    params = {'purpose': purpose}
    items = []
    for signup in Signup.query(partition, Signup.sk.startswith('SIGNUP#'), consistent_read=True):
        if not signup.active or signup.signup_id in answered:
            continue
        if signup.email:
            items.append(outbox.for_signup(signup, purpose, outbox.EMAIL, 'survey', now, params))
        elif signup.mobile:
            items.append(outbox.for_signup(signup, purpose, outbox.SMS, 'survey_sms', now, params))
    ids = list(circle.facilitator_ids or [])
    for index, (recipient_id, address) in enumerate(circles.facilitator_recipients(circle)):
        user_id = ids[index] if index < len(ids) else None
        if user_id in answered_by:
            continue
        items.append(outbox.for_address(circle.id, purpose, recipient_id, address, 'facilitator_survey', now,
                                        {**params, 'user': user_id or ''}))
    return items


def _reminding(item):
    return item.params.get('purpose') == REMINDER_PURPOSE


def _current(item, reads, now):
    circle = reads.get(Circle.key(item.circle_id))
    ending = reads.get(CircleEnding.key(item.circle_id))
    if circle is None or not is_open(ending, now):
        raise Skip(N_('The survey has closed.'))
    return circle, ending


def _learner_keys(item):
    return [Circle.key(item.circle_id), CircleEnding.key(item.circle_id),
            LearnerSurvey.key(item.circle_id, item.signup_id)]


def _learner_context(item, reads, now):
    circle, ending = _current(item, reads, now)
    if _reminding(item) and reads.get(LearnerSurvey.key(item.circle_id, item.signup_id)) is not None:
        raise Skip(N_('The learner has answered the survey.'))
    signup = reads[Signup.key(item.circle_id, item.signup_id)]
    return circle, ending, signup


def _render_learner_email(item, reads, to, now):
    from chalicelib.core.rendering import render
    from chalicelib.learners.signup import withdraw_link
    from chalicelib.messaging import email
    circle, ending, signup = _learner_context(item, reads, now)
    context = {'circle': circle, 'signup': signup, 'reminder': _reminding(item), 'survey_url': survey_link(signup),
               'closes': _closes(circle, ending), 'withdraw_url': withdraw_link(signup)}
    subject = (_('Reminder: how did %(name)s go for you?') if _reminding(item)
               else _('%(name)s has ended: how far did you get?')) % {'name': circle.name}
    return email.build_message(to=to, subject=subject, text=render('email/survey.txt', **context),
                               html=render('email/survey.html', **context), reply_to=list(circle.facilitator_emails))


def _render_learner_sms(item, reads, to, now):
    circle, _ending, signup = _learner_context(item, reads, now)
    return survey_sms(circle, survey_link(signup), reminder=_reminding(item))


def _facilitator_keys(item):
    keys = [Circle.key(item.circle_id), CircleEnding.key(item.circle_id)]
    if item.params.get('user'):
        keys.append(FacilitatorSurvey.key(item.circle_id, item.params['user']))
    return keys


def _render_facilitator_email(item, reads, to, now):
    from chalicelib.core.rendering import render
    from chalicelib.messaging import email
    circle, ending = _current(item, reads, now)
    user_id = item.params.get('user')
    if _reminding(item) and user_id and reads.get(FacilitatorSurvey.key(item.circle_id, user_id)) is not None:
        raise Skip(N_('The facilitator has answered the survey.'))
    context = {'circle': circle, 'reminder': _reminding(item), 'closes': _closes(circle, ending),
               'survey_url': facilitator_survey_url(circle.id)}
    subject = (_('Reminder: your survey for %(name)s') if _reminding(item)
               else _('%(name)s has ended: your facilitator survey')) % {'name': circle.name}
    return email.build_message(to=to, subject=subject, text=render('email/survey_facilitator.txt', **context),
                               html=render('email/survey_facilitator.html', **context))


def facilitator_survey_url(circle_id):
    return f'{get_settings().public_base_url}/facilitate/circles/{circle_id}/survey'


def _closes(circle, ending):
    from chalicelib.core.formatting import local_moment
    return local_moment(ending.surveys_close_at, circle.timezone)


# --- the SMS ---------------------------------------------------------------------------------

def survey_sms(circle, link, reminder=False):
    """The survey text: the circle's short name, the question, the link whole and the opt-out
    words: two segments with a ~110-character link (tests/ending check it keeps within
    chalicelib.messaging.sms_text.MAX_SEGMENTS). In the language of the moment (the sender's:
    the circle's)."""
    from chalicelib.core.rendering import render
    from chalicelib.messaging.sms_text import fold_to_gsm7, short_name
    text = render('sms/survey.txt', name=short_name(circle.name), link=link, reminder=reminder)
    # Folded whole, the translated words too ('¿Hasta dónde...'): in GSM-7 it keeps to two segments.
    return fold_to_gsm7(' '.join(text.split()))


SURVEY_FAN_OUT = Template(keys=lambda item: [Circle.key(item.circle_id)], expand=_expand)
SURVEY = Template(keys=_learner_keys, render=_render_learner_email)
SURVEY_SMS = Template(keys=_learner_keys, render=_render_learner_sms)
FACILITATOR_SURVEY = Template(keys=_facilitator_keys, render=_render_facilitator_email)
