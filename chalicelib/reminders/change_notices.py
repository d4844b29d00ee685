"""Change notices: a future meeting of a circle with learners moved or cancelled.

Every current learner is told once per (meeting, sequence, channel): an email with the
updated .ics (same UID, higher SEQUENCE, or STATUS:CANCELLED) and an SMS, through the outbox,
whether or not the meeting's reminder went out (the reminder's `sequence` is what learners
know). `sync_reminders` puts the meeting on the `CHANGE` queue of `by_due` before announcing
it, so a crash in between leaves work that the `send-due-change-notices` job finishes; a
reminder still on the job's own queue cannot be on both, and its next sync (any save of the
circle) announces what a crash left unannounced.
"""
from datetime import date, timedelta

from chalicelib.circles import circles
from chalicelib.core import formatting
from chalicelib.core.i18n import N_, _
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.messaging.sms_text import fold_to_gsm7
from chalicelib.models import Signup
from chalicelib.models.reminder import DUE_QUEUE, MeetingReminder
from chalicelib.reminders.render import (email_context, facts, in_circle_language, local_start, render_sms,
                                         render_template)
from chalicelib.reminders.schedule import CANCELLED, CHANGE_QUEUE, MOVED  # noqa: F401 - CHANGE_QUEUE is known here

CHANGE_RETRY = timedelta(minutes=5)


def queue_change_notice(reminder, now):
    """Put the meeting on the `CHANGE` queue of `by_due` before any notice is sent, so that a
    crash or a transient failure part-way leaves work that `send_due_change_notices` finishes.
    (A reminder on the job's own queue, scheduled or `sending`, keeps its place there.)"""
    if reminder.due_pk == DUE_QUEUE:
        return
    due = now + CHANGE_RETRY
    reminder.update(actions=[MeetingReminder.due_pk.set(CHANGE_QUEUE),
                             MeetingReminder.due_sk.set(MeetingReminder.due_key(due, reminder.circle_id,
                                                                                reminder.meeting_id))])


def send_due_change_notices(now=None):
    """The scheduled half of change notices: announce every queued change the request that
    queued it did not get to (a crash between saving the circle and `notify_change`).

    Reads the `CHANGE` queue of `by_due` (no Scan) and, per entry, the circle; `notify_change`
    is exactly once per (meeting, sequence), so running beside that request is safe.
    Returns how many meetings leave the queue.
    """
    now = now or circles.utcnow()
    done = 0
    due = MeetingReminder.by_due.query(CHANGE_QUEUE, MeetingReminder.due_sk <= f'{now.isoformat()}#~')
    for reminder in due:
        circle = circles.get_circle(reminder.circle_id)
        meeting = circle and next((m for m in circle.meetings if m.meeting_id == reminder.meeting_id), None)
        if meeting is None:
            reminder.update(actions=[MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove()])
            continue
        if not notify_change(circle, meeting, CANCELLED if meeting.cancelled else MOVED, now):
            # Announced already (by the request, or another run): it leaves the queue.
            reminder.update(actions=[MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove()])
        done += 1
    return done


SUBJECTS = {MOVED: N_('Meeting moved: %(name)s'), CANCELLED: N_('Meeting cancelled: %(name)s')}


def _before(circle, meeting, kind):
    """The date and time learners were told before this change, in the language of the moment:
    (for the email, for the SMS in GSM-7)."""
    last = next((c for c in reversed(meeting.changes) if c.kind == kind), None)
    if last and last.from_date and last.from_time:
        day, clock = last.from_date, last.from_time
    else:
        local = local_start(meeting, circle)
        day, clock = local.date().isoformat(), f'{local:%H:%M}'
    value, moment = date.fromisoformat(day), formatting.clock(clock)
    # Translators: a meeting's date and time, e.g. "Tuesday, December 1, 2026, 18:00".
    before = _('%(date)s, %(time)s') % {'date': formatting.long_date(value), 'time': moment}
    return before, fold_to_gsm7(f'{formatting.short_date(value)} {moment}')


def _sms_change(kind, sms_before, sms_when):
    """What changed, in a text message (GSM-7): 'Tue, Feb 2 18:00 moved to Wed, Feb 3 17:00 CST'."""
    if kind == CANCELLED:
        # Translators: a text message: the meeting of this date and time (e.g. "Tue, Feb 9 18:00") is cancelled.
        return fold_to_gsm7(_('%(before)s cancelled.') % {'before': sms_before})
    # Translators: a text message: the meeting of the first date and time moved to the second ("Tue, Feb 2 18:00 moved to Wed, Feb 3 17:00 CST").
    return fold_to_gsm7(_('%(before)s moved to %(when)s') % {'before': sms_before, 'when': sms_when})


@in_circle_language
def change_notice(circle, meeting, signup, links, kind):
    """(subject, text, html, sms) telling one learner that `meeting` moved or is cancelled, in
    the circle's language.

    The facts are the meeting's current ones; `before` is what the reminder said."""
    before, sms_before = _before(circle, meeting, kind)
    context = dict(email_context(circle, meeting, None, signup.name, links, facilitator=False),
                   kind=kind, before=before, sms_before=sms_before)
    subject = _(SUBJECTS[kind]) % {'name': circle.name}
    sms = render_sms(circle, meeting, '', links['short'], template='sms/reminder_change.txt', kind=kind,
                     sms_before=sms_before, sms_change=_sms_change(kind, sms_before, facts(circle, meeting)['sms_when']))
    return subject, render_template('email/reminder_change.txt', **context), render_template('email/reminder_change.html', **context), sms


def notify_change(circle, meeting, kind, now):
    """Tell every current learner that `meeting` moved or was cancelled since they were last told
    (the reminder's `sequence`: what its reminder, their welcome or an earlier notice said).

    Exactly once per (meeting, sequence): one transaction records on the reminder the sequence
    learners are now told about (on condition it is lower) and writes the outbox fan-out
    `change#<meeting>#<sequence>`, which the sender expands into each learner's email (with
    the updated .ics: same UID, higher SEQUENCE or STATUS:CANCELLED) and SMS. Returns
    {'queued': 1} when this call queued it, {} when there was nothing (more) to announce.
    """
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.models.transactions import condition_failed, transact_write
    try:
        reminder = MeetingReminder.get(*MeetingReminder.key(circle.id, meeting.meeting_id), consistent_read=True)
    except MeetingReminder.DoesNotExist:
        return {}
    sequence = int(meeting.sequence or 0)
    if int(reminder.sequence or 0) >= sequence:
        return {}
    off_queue = ([MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove()]
                 if reminder.due_pk == CHANGE_QUEUE else [])    # never off the job's queue
    fan_out = outbox.fan_out(outbox.circle_partition(circle.id), f'change#{meeting.meeting_id}#{sequence}',
                             'change_fan_out', now, circle_id=circle.id,
                             params={'meeting': meeting.meeting_id, 'sequence': sequence, 'kind': kind})

    def write(transaction):
        transaction.update(reminder, actions=[MeetingReminder.sequence.set(sequence),
                                              MeetingReminder.updated_at.set(now), *off_queue],
                           condition=MeetingReminder.sequence < sequence)
        transaction.save(*outbox.put(fan_out))
    try:
        transact_write(write)
    except TransactWriteError as error:
        if condition_failed(error):
            return {}
        raise
    return {'queued': 1}


# --- rendering at send time (the sender's templates) ----------------------------------------

def _expand(item, reads, now):
    """One email and, with a mobile, one SMS per current learner (consent is the sender's check)."""
    return [outbox.for_signup(signup, item.purpose, channel, template, now, params=item.params)
            for signup in Signup.query(f'CIRCLE#{item.circle_id}', Signup.sk.startswith('SIGNUP#'),
                                       consistent_read=True)
            if signup.active
            for channel, template, wanted in ((outbox.EMAIL, 'change', signup.email),
                                              (outbox.SMS, 'change_sms', signup.mobile))
            if wanted]


def _current(item, reads):
    """The circle and meeting as they are now; Skip when a later change superseded this one."""
    from chalicelib.models import Circle
    circle = reads.get(Circle.key(item.circle_id))
    meeting = circle and next((m for m in circle.meetings if m.meeting_id == item.params['meeting']), None)
    if meeting is None or int(meeting.sequence or 0) != int(item.params['sequence']):
        raise Skip(N_('A later change to this meeting replaced this notice.'))
    return circle, meeting


def _notice(item, reads, save_short=False):
    from chalicelib.learners import rsvp
    circle, meeting = _current(item, reads)
    signup = reads[Signup.key(item.circle_id, item.signup_id)]
    links = rsvp.learner_links(signup, meeting, save_short=save_short)
    return circle, meeting, links, change_notice(circle, meeting, signup, links, item.params['kind'])


def _render_email(item, reads, to, now):
    from chalicelib.messaging.email import build_message
    from chalicelib.reminders.job import meeting_ics
    circle, meeting, links, (subject, text, html, _) = _notice(item, reads)
    return build_message(
        to=to, subject=subject, text=text, html=html, reply_to=list(circle.facilitator_emails),
        headers={'List-Unsubscribe': f'<{links["unsubscribe"]}>',
                 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'},
        attachments=[('meeting.ics', meeting_ics(circle, meeting), 'text/calendar; method=PUBLISH')])


def _render_sms(item, reads, to, now):
    return _notice(item, reads, save_short=True)[3][3]     # the short link must resolve


def _keys(item):
    from chalicelib.models import Circle
    return [Circle.key(item.circle_id)]


CHANGE_FAN_OUT = Template(keys=lambda item: [], expand=_expand)
CHANGE = Template(keys=_keys, render=_render_email, unsubscribable=True)
CHANGE_SMS = Template(keys=_keys, render=_render_sms)
