"""Reminders as data: one `MeetingReminder` per meeting of a published circle.

A reminder stores only the facilitator's words and when it is due. Everything that can
change with the circle (date, time, timezone, place, online link, RSVP links) is rendered
from the CURRENT meeting each time the reminder is previewed or sent, so an edit to the
circle never leaves a reminder stale, and no edit to the circle ever touches words the
facilitator wrote (`edited=True`); words never edited follow the circle's name and language.

`schedule_reminders` moves each reminder's due time with its meeting and takes reminders
off the due queue when they no longer apply; `changes_to_announce` names the meetings moved
or cancelled since the learners were last told (the reminder's `sequence`), whether or not
the reminder went out: every change to a future meeting of a circle with learners is told. `chalicelib.reminders.sync.sync_reminders` runs
both, and the change notices, after every change to a circle's meetings or publication
(this module never imports `change_notices`: the dependency runs one way, to here).
Rendering is `chalicelib.reminders.render`; the scheduled job (`chalicelib.reminders.job`)
sends what is due.
"""
import logging
from datetime import timedelta, timezone

from markupsafe import Markup
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.circles import circles
from chalicelib.core import fields as rules
from chalicelib.core.i18n import N_, _
from chalicelib.messaging import sms_text
from chalicelib.core.errors import Refusal, ValidationFailed
from chalicelib.models.reminder import DUE_QUEUE, SCHEDULED, SENDING, SENT, SKIPPED, MeetingReminder
from chalicelib.reminders.render import (email_context, facts, in_circle_language, render_sms, render_template,
                                         reminder_subject, short_name, when_of)
from chalicelib.core.settings import get_settings
from chalicelib.core.clock import zone_info

log = logging.getLogger(__name__)

MAX_SUBJECT = rules.REMINDER_SUBJECT.max_length
MAX_INTRO = rules.REMINDER_INTRO.max_length
MAX_SMS_WORDS = rules.REMINDER_SMS_WORDS.max_length
WENT_OUT = (SENDING, SENT)
# The badge of a reminder's state on the facilitator's page (the state itself is stored).
STATE_LABELS = {SCHEDULED: N_('scheduled'), SENDING: N_('going out'), SENT: N_('sent'), SKIPPED: N_('no reminder')}
MOVED, CANCELLED = 'moved', 'cancelled'
# The `by_due` queue of meetings whose change notice must still be written (see change_notices).
CHANGE_QUEUE = 'CHANGE'


# --- when a reminder is due ---------------------------------------------------------

def lead_time():
    return timedelta(hours=get_settings().reminder_lead_hours)


def send_time(circle, meeting):
    """When the reminder of `meeting` goes out (UTC), or None when it must not.

    The lead time (48 h by default) is counted on the circle's wall clock: a meeting on
    Monday at 18:00 is announced on Saturday at 18:00 local time, also when the clocks
    change in between (then 47 or 49 real hours before). Never before the previous
    meeting has ended (learners would get two reminders for two meetings at once),
    never at or after the start, never for drafts or cancelled meetings.
    """
    if not circle.published or meeting.cancelled:
        return None
    zone = zone_info(circle.timezone)
    local = meeting.starts_at.astimezone(zone).replace(tzinfo=None)
    # zoneinfo resolves a wall time in a DST gap or fold; fold=0 takes the earlier offset.
    due = (local - lead_time()).replace(tzinfo=zone).astimezone(timezone.utc)
    previous = [m for m in circles.active_meetings(circle) if m.starts_at < meeting.starts_at]
    if previous:
        last = previous[-1]
        ended = last.starts_at + timedelta(minutes=int(last.duration_minutes or 0))
        due = max(due, ended)
    if due >= meeting.starts_at:
        return None
    return due.replace(microsecond=0)


def is_due(circle, meeting, reminder, now):
    """For the job, on what it read at send time: still scheduled, due, and the meeting as it is
    now still wants a reminder that has not started yet."""
    due = send_time(circle, meeting)
    return (reminder.state == SCHEDULED and due is not None and due <= now < meeting.starts_at)


# --- the facilitator's words -----------------------------------------------------------

@in_circle_language
def default_words(circle):
    """(subject, intro, sms words) in the circle's language: what a reminder says until the
    facilitator writes their own (stored so; rewritten when the circle's name or language changes)."""
    return ((_('Reminder: %(name)s') % {'name': circle.name})[:MAX_SUBJECT],
            _('Our next meeting is coming up. We look forward to seeing you!'), _('See you soon!'))


def new_reminder(circle, meeting, now):
    subject, intro, sms_words = default_words(circle)
    return MeetingReminder(*MeetingReminder.key(circle.id, meeting.meeting_id), circle_id=circle.id,
                           meeting_id=meeting.meeting_id, subject=subject, intro=intro, sms_text=sms_words,
                           edited=False, state=SKIPPED, sequence=int(meeting.sequence or 0), run_attempts=0,
                           created_at=now, updated_at=now)


# --- keeping reminders in step with their meetings -------------------------------------

def reminders_of(circle_id):
    """Every reminder of the circle: one Query of its partition."""
    return list(MeetingReminder.query(f'CIRCLE#{circle_id}', MeetingReminder.sk.startswith('REMINDER#')))


def wanted(circle, meeting, now):
    """(state, due_at) the reminder should have now, while it has not gone out."""
    due = send_time(circle, meeting)
    if due is None or meeting.starts_at <= now:
        return SKIPPED, None
    return SCHEDULED, due


def schedule_reminders(circle, existing=None, now=None):
    """Create or update the reminder of every meeting so due times follow the meetings.

    `existing` is the circle's reminders if already read (a Workspace holds them); else
    one Query reads them. Only reminders that change are written, each with a condition
    that it has not gone out meanwhile (the job claims a reminder by setting `sending`),
    and words are rewritten only while the facilitator has not edited them. Reminders that
    went out are left as they are (see `changes_to_announce`). Returns the reminders.
    """
    now = now or circles.utcnow()
    if existing is None:
        existing = reminders_of(circle.id)
    by_meeting = {r.meeting_id: r for r in existing}
    result = []
    for meeting in circle.meetings:
        reminder = _sync_one(circle, meeting, by_meeting.get(meeting.meeting_id), now)
        if reminder is not None:
            result.append(reminder)
    return result


def has_learners(circle):
    """Whether anyone is there to be told: a published circle with current signups."""
    return bool(circle.published and int(circle.signup_count or 0) > 0)


def changes_to_announce(circle, reminders, now=None):
    """[(reminder, meeting, MOVED or CANCELLED)] for each future meeting (or one whose reminder
    went out) moved or cancelled since the learners were last told: the reminder's `sequence`
    is the meeting's iCalendar SEQUENCE they know, and `notify_change` raises it."""
    now = now or circles.utcnow()
    if not has_learners(circle):
        return []
    meetings = {m.meeting_id: m for m in circle.meetings}
    changed = []
    for reminder in reminders:
        meeting = meetings.get(reminder.meeting_id)
        if (meeting is not None and (meeting.starts_at > now or reminder.state in WENT_OUT)
                and int(meeting.sequence or 0) > int(reminder.sequence or 0)):
            changed.append((reminder, meeting, CANCELLED if meeting.cancelled else MOVED))
    return changed


def _sync_one(circle, meeting, reminder, now, retried=False):
    state, due = wanted(circle, meeting, now)
    if reminder is None:
        # Every future meeting of a published circle has one, due or not: it holds the
        # sequence its learners know, so a later change to the meeting is told.
        if state != SCHEDULED and not (circle.published and meeting.starts_at > now):
            return None
        reminder = new_reminder(circle, meeting, now)
        _set_due(reminder, state, due)
        try:
            reminder.save(condition=MeetingReminder.pk.does_not_exist())
            return reminder
        except PutError as error:
            if error.cause_response_code != 'ConditionalCheckFailedException' or retried:
                raise
        return _sync_one(circle, meeting, _read(circle.id, meeting.meeting_id), now, retried=True)
    if reminder.state in WENT_OUT:
        return reminder
    actions = []
    if reminder.state != state:
        actions.append(MeetingReminder.state.set(state))
    if reminder.due_at != due:
        actions.append(MeetingReminder.due_at.set(due) if due else MeetingReminder.due_at.remove())
    if due and reminder.due_sk != MeetingReminder.due_key(due, circle.id, meeting.meeting_id):
        actions += [MeetingReminder.due_pk.set(DUE_QUEUE),
                    MeetingReminder.due_sk.set(MeetingReminder.due_key(due, circle.id, meeting.meeting_id))]
    elif not due and reminder.due_pk not in (None, CHANGE_QUEUE):
        actions += [MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove()]
    if int(reminder.sequence or 0) != int(meeting.sequence or 0) and not has_learners(circle):
        # Nobody to tell: the sequence follows silently (with learners, notify_change raises it).
        actions.append(MeetingReminder.sequence.set(int(meeting.sequence or 0)))
    condition = MeetingReminder.state.is_in(SCHEDULED, SKIPPED)
    if not reminder.edited:
        subject, intro, sms_words = default_words(circle)
        if (reminder.subject, reminder.intro, reminder.sms_text) != (subject, intro, sms_words):
            actions += [MeetingReminder.subject.set(subject), MeetingReminder.intro.set(intro),
                        MeetingReminder.sms_text.set(sms_words)]
            condition &= MeetingReminder.edited == False  # noqa: E712 - a PynamoDB condition
    if not actions:
        return reminder
    try:
        reminder.update(actions=[*actions, MeetingReminder.updated_at.set(now)], condition=condition)
        return reminder
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException' or retried:
            raise
    # The job claimed it, or the facilitator edited the words, since we read it: look again.
    return _sync_one(circle, meeting, _read(circle.id, meeting.meeting_id), now, retried=True)


def _set_due(reminder, state, due):
    reminder.state = state
    reminder.due_at = due
    if due:
        reminder.due_pk = DUE_QUEUE
        reminder.due_sk = MeetingReminder.due_key(due, reminder.circle_id, reminder.meeting_id)
    else:
        reminder.due_pk = reminder.due_sk = None


def _read(circle_id, meeting_id):
    try:
        return MeetingReminder.get(*MeetingReminder.key(circle_id, meeting_id), consistent_read=True)
    except MeetingReminder.DoesNotExist:
        return None


# --- the facilitator edits the words --------------------------------------------------------

class ReminderSent(Refusal):
    """The reminder went out (or is going out) already: its words can no longer change."""
    status = 409


def validate_words(fields):
    """(subject, intro, sms words) from the edit form, or ValidationFailed naming each bad field."""
    subject = ' '.join((fields.get('subject') or '').split())
    intro = (fields.get('intro') or '').replace('\r\n', '\n').strip()
    sms_words = ' '.join(sms_text.normalise(fields.get('sms_text')).split())
    errors = {}
    problems = {name: rules.text_problem(value, multiline) for name, value, multiline in (
        ('subject', subject, False), ('intro', intro, True), ('sms_text', sms_words, False))}
    if problems['subject']:
        errors['subject'] = [problems['subject']]
    elif not subject:
        errors['subject'] = [_('Please write a subject.')]
    elif len(subject) > MAX_SUBJECT:
        errors['subject'] = [_('Please keep the subject under %(limit)s characters.') % {'limit': MAX_SUBJECT}]
    if problems['intro']:
        errors['intro'] = [problems['intro']]
    elif not intro:
        errors['intro'] = [_('Please write a few words to your learners.')]
    elif len(intro) > MAX_INTRO:
        errors['intro'] = [_('Please keep the message under %(limit)s characters.') % {'limit': MAX_INTRO}]
    if problems['sms_text']:
        errors['sms_text'] = [problems['sms_text']]
    elif len(sms_words) > MAX_SMS_WORDS:
        errors['sms_text'] = [_('Please keep the text message words under %(limit)s characters; only what fits '
                                'beside the date and the link is sent.') % {'limit': MAX_SMS_WORDS}]
    if errors:
        raise ValidationFailed(errors)
    return subject, intro, sms_words


def save_words(circle, meeting, reminder, fields, editor_id=None, now=None):
    """Store the facilitator's words (or, with `reset`, go back to the circle's defaults).

    Refused with ReminderSent once the job has taken the reminder; a reminder the
    facilitator writes before it exists (e.g. for a draft) is created, not yet due.
    """
    now = now or circles.utcnow()
    if fields.get('reset'):
        subject, intro, sms_words = default_words(circle)
        edited = False
    else:
        subject, intro, sms_words = validate_words(fields)
        edited = True
    if meeting.cancelled or meeting.starts_at <= now:
        raise ValidationFailed({'meeting': [_('This meeting is cancelled or has started: it gets no reminder.')]})
    if reminder is not None and reminder.state in WENT_OUT:
        raise ReminderSent(_('This reminder has been sent already.'))
    if reminder is None:
        reminder = new_reminder(circle, meeting, now)
        reminder.subject, reminder.intro, reminder.sms_text, reminder.edited = subject, intro, sms_words, edited
        reminder.edited_by = editor_id
        _set_due(reminder, *wanted(circle, meeting, now))
        try:
            reminder.save(condition=MeetingReminder.pk.does_not_exist())
            return reminder
        except PutError as error:
            if error.cause_response_code != 'ConditionalCheckFailedException':
                raise
            reminder = _read(circle.id, meeting.meeting_id)
    actions = [MeetingReminder.subject.set(subject), MeetingReminder.intro.set(intro),
               MeetingReminder.sms_text.set(sms_words), MeetingReminder.edited.set(edited),
               MeetingReminder.updated_at.set(now)]
    if editor_id:
        actions.append(MeetingReminder.edited_by.set(editor_id))
    try:
        reminder.update(actions=actions, condition=MeetingReminder.state.is_in(SCHEDULED, SKIPPED))
    except UpdateError as error:
        if error.cause_response_code == 'ConditionalCheckFailedException':
            raise ReminderSent(_('This reminder has been sent already.')) from None
        raise
    return reminder


# --- what the facilitator sees -----------------------------------------------------------------

SMS_WORDS_MARK = '\u2063WORDS\u2063'


def reminder_of(ws, meeting_id):
    """The meeting's reminder among the workspace's items (no read), or None."""
    return next((item for item in ws.of_kind(MeetingReminder) if item.meeting_id == meeting_id), None)


def status_of(circle, meeting, reminder, now):
    """(state, words for the facilitator) of one meeting's reminder, in the language of the
    moment (the facilitator's page)."""
    from chalicelib.core.formatting import local_moment
    tz_name = circle.timezone
    if reminder is not None and reminder.state == SENT:
        if reminder.sent_at:
            # Translators: a reminder's status, e.g. "Sent Wed, Jan 20, 06:00 CST".
            return SENT, _('Sent %(moment)s') % {'moment': local_moment(reminder.sent_at, tz_name)}
        return SENT, _('Sent')
    if reminder is not None and reminder.state == SENDING:
        return SENDING, _('Going out now')
    if meeting.cancelled:
        return SKIPPED, _('No reminder: the meeting is cancelled')
    if meeting.starts_at <= now:
        return SKIPPED, _('No reminder: the meeting has started')
    if not circle.published:
        return SKIPPED, _('Goes out 2 days before, once the circle is published')
    due = send_time(circle, meeting)
    if due is None:
        return SKIPPED, _('No reminder: the previous meeting ends too close to this one')
    if due <= now:
        return SCHEDULED, _('Goes out within minutes')
    # Translators: a reminder's status, e.g. "Goes out Sun, Jan 31, 18:00 CST".
    return SCHEDULED, _('Goes out %(moment)s') % {'moment': local_moment(due, tz_name)}


def preview(ws, meeting, values=None, now=None):
    """What the preview page shows: the email and SMS as a learner would get them now, with the
    words from `values` (the form being edited) or the stored reminder (or the defaults).

    The email and SMS are in the circle's language, as learners get them (`email_html` is the
    email's body, ready for the page); the status and `when` (the page's own words) in the
    language of the moment. The links are stand-ins of the real links' length, so the SMS
    preview counts right."""
    from chalicelib.learners.rsvp import SHORT_CODE_LENGTH
    now = now or circles.utcnow()
    circle = ws.circle
    stored_reminder = reminder_of(ws, meeting.meeting_id)
    reminder = stored_reminder or new_reminder(circle, meeting, now)
    if values:
        reminder = new_reminder(circle, meeting, now)
        reminder.subject = values.get('subject', '')
        reminder.intro = values.get('intro', '')
        reminder.sms_text = values.get('sms_text', '')
    base = get_settings().public_base_url
    short = f'{base}/r/{"x" * SHORT_CODE_LENGTH}'
    links = {'yes': f'{base}/rsvp/example-yes', 'no': f'{base}/rsvp/example-no',
             'withdraw': f'{base}/withdraw/example', 'unsubscribe': f'{base}/unsubscribe/example', 'short': short}
    first_learner = next(iter(sorted(ws.active_signups, key=lambda s: s.name or '')), None)
    name = first_learner.name if first_learner else None
    state, status = status_of(circle, meeting, stored_reminder, now)
    return {
        'reminder': reminder,
        'stored': stored_reminder,
        'editable': state not in WENT_OUT and not meeting.cancelled and meeting.starts_at > now,
        'state': state,
        'state_label': _(STATE_LABELS[state]),
        'status': status,
        'edited': bool(stored_reminder and stored_reminder.edited),
        **_as_learners_get_it(circle, meeting, reminder, name, links),
        'when': when_of(circle, meeting),     # in the page's language
    }


@in_circle_language
def _as_learners_get_it(circle, meeting, reminder, name, links):
    """The preview's email and SMS, in the circle's language."""
    short = links['short']
    context = email_context(circle, meeting, reminder, name, links, facilitator=False)
    marked = ' '.join(render_template('sms/reminder.txt', **{**facts(circle, meeting), 'sms_words': SMS_WORDS_MARK,
                                                             'name': short_name(circle), 'link': short}).split())
    prefix, _mark, suffix = marked.partition(SMS_WORDS_MARK)
    sms = render_sms(circle, meeting, reminder.sms_text, short)
    encoding, length, _segments = sms_text.segments(sms)
    return {
        'subject': reminder_subject(circle, meeting, reminder),
        'email_text': render_template('email/reminder.txt', **context),
        'email_html': Markup(render_template('email/_reminder_content.html', **context)),
        'email': context,
        'sms': sms,
        'sms_encoding': encoding,
        'sms_length': length,
        'sms_limit': sms_text.SINGLE[encoding],
        'sms_prefix': prefix,
        'sms_suffix': suffix,
    }
