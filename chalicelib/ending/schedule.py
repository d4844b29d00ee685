"""When the end-of-circle work falls due, and keeping its queue items in step with the meetings.

- A meeting's wrap-up prompt (`MeetingWrapUp`) is due when the meeting ends (start + duration)
  and goes out at most WRAPUP_WINDOW after; none for a cancelled meeting or an unpublished circle.
- The circle's closing (`CircleEnding`) waits on the `SURVEY` queue for the end of the last
  meeting that takes place; the surveys close `surveys_close_days` after that end.
- Its learners' personal data is anonymised `retention_days` after its last meeting's end
  (`RetentionDue` on the `RETENTION` queue, chalicelib.privacy.retention), also for a circle
  unpublished since: `sync_retention` keeps it at that instant (one conditional UpdateItem, run
  by `chalicelib.reminders.sync.sync_reminders` beside `sync_ending`).

`sync_ending` runs after every change to a circle's meetings or publication (from
`chalicelib.reminders.sync.sync_reminders`: reminders import this package, never the other way).
It reads the circle's wrap-ups (one Query) and closing (one GetItem) and writes only what
changes, each write conditional on the item still waiting (the jobs take an item off its queue
in a transaction conditional on its state), so a sync never puts back what a job has sent.
"""
from datetime import timedelta, timezone

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.circles import circles
from chalicelib.core.settings import get_settings
from chalicelib.models.ending import INSIGHTS_QUEUE, SURVEY_QUEUE, WRAPUP_QUEUE, CircleEnding, MeetingWrapUp
from chalicelib.models.retention import RETENTION_QUEUE, RetentionDue

SCHEDULED, SENT, SKIPPED = 'scheduled', 'sent', 'skipped'
SURVEY, SURVEY_REMINDER, INSIGHTS, DONE = SURVEY_QUEUE, 'SURVEY_REMINDER', INSIGHTS_QUEUE, 'done'
WRAPUP_WINDOW = timedelta(days=1)     # a wrap-up prompt later than this after the meeting is not sent


def utc(instant):
    return instant.astimezone(timezone.utc).replace(microsecond=0)


def until(now):
    """The `due_sk` bound of everything due at `now` (every key starts with its ISO instant)."""
    return f'{utc(now).isoformat()}#~'


def meeting_end(meeting):
    return utc(meeting.starts_at + timedelta(minutes=int(meeting.duration_minutes or 0)))


def wrapup_due(circle, meeting):
    """When the meeting's wrap-up prompt is due (its end), or None when it gets none."""
    if not circle.published or meeting.cancelled:
        return None
    return meeting_end(meeting)


def in_wrapup_window(due, now):
    return due <= now < due + WRAPUP_WINDOW


def last_meeting_end(circle):
    """The end of the circle's last meeting that takes place, or None (no meeting, or all cancelled)."""
    ends = [meeting_end(m) for m in circles.active_meetings(circle)]
    return max(ends) if ends else None


def surveys_due(circle):
    """When the surveys go out: the last meeting's end, for a published circle; else None."""
    return last_meeting_end(circle) if circle.published else None


def surveys_close(last_end):
    return utc(last_end + timedelta(days=get_settings().surveys_close_days))


def reminder_due(surveys_sent_at):
    return utc(surveys_sent_at + timedelta(days=get_settings().survey_reminder_days))


# --- reading what exists ----------------------------------------------------------------------

def wrapups_of(circle_id):
    """Every wrap-up of the circle: one Query of its partition."""
    return list(MeetingWrapUp.query(f'CIRCLE#{circle_id}', MeetingWrapUp.sk.startswith('WRAPUP#')))


def ending_of(circle_id, consistent=False):
    """The circle's closing item, or None: one GetItem."""
    try:
        return CircleEnding.get(*CircleEnding.key(circle_id), consistent_read=consistent)
    except CircleEnding.DoesNotExist:
        return None


# --- keeping them in step ---------------------------------------------------------------------

def sync_ending(circle, existing=None, ending=None, now=None):
    """Create or move the wrap-up of every meeting and the circle's closing so they follow the
    meetings (see the module docstring). `existing` is the circle's wrap-ups and `ending` its
    closing if already read (pass `ending=False` for "read: there is none"); else one Query and
    one GetItem read them. Returns (wrap-ups, closing)."""
    now = now or circles.utcnow()
    if existing is None:
        existing = wrapups_of(circle.id)
    if ending is None:
        ending = ending_of(circle.id)
    by_meeting = {w.meeting_id: w for w in existing}
    wrapups = []
    for meeting in circle.meetings:
        wrapup = _sync_wrapup(circle, meeting, by_meeting.pop(meeting.meeting_id, None), now)
        if wrapup is not None:
            wrapups.append(wrapup)
    for removed in by_meeting.values():      # the meeting is gone from the circle
        _update_wrapup(removed, SKIPPED, None, now)
    return wrapups, sync_closing(circle, ending or None, now)


def retention_due(circle):
    """When the circle's learners' personal data is anonymised: the end of its last meeting that
    takes place (else of its last meeting) plus `retention_days`; None without meetings."""
    ends = [meeting_end(m) for m in circles.active_meetings(circle)] or [meeting_end(m) for m in circle.meetings]
    return utc(max(ends) + timedelta(days=get_settings().retention_days)) if ends else None


def sync_retention(circle, now):
    """Put the circle's `RetentionDue` on the `RETENTION` queue at `retention_due`: one UpdateItem,
    conditional on the due time changing (so a sync that moves nothing writes nothing, and an
    anonymised circle comes back on the queue only when meetings move or are added)."""
    due = retention_due(circle)
    if due is None:
        return
    item = RetentionDue(*RetentionDue.key(circle.id))
    try:
        item.update(actions=[RetentionDue.kind.set(RetentionDue),     # an UpdateItem may create it
                             RetentionDue.circle_id.set(circle.id), RetentionDue.due_at.set(due),
                             RetentionDue.due_pk.set(RETENTION_QUEUE),
                             RetentionDue.due_sk.set(RetentionDue.due_key(due, circle.id)),
                             RetentionDue.updated_at.set(now)],
                    condition=RetentionDue.due_at.does_not_exist() | (RetentionDue.due_at != due))
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise


def _sync_wrapup(circle, meeting, wrapup, now, retried=False):
    due = wrapup_due(circle, meeting)
    state = SCHEDULED if due is not None and now < due + WRAPUP_WINDOW else SKIPPED
    if wrapup is None:
        if state != SCHEDULED:
            return None
        wrapup = MeetingWrapUp(*MeetingWrapUp.key(circle.id, meeting.meeting_id), circle_id=circle.id,
                               meeting_id=meeting.meeting_id, state=SCHEDULED, due_at=due, due_pk=WRAPUP_QUEUE,
                               due_sk=MeetingWrapUp.due_key(due, circle.id, meeting.meeting_id),
                               created_at=now, updated_at=now)
        try:
            wrapup.save(condition=MeetingWrapUp.pk.does_not_exist())
            return wrapup
        except PutError as error:
            if error.cause_response_code != 'ConditionalCheckFailedException' or retried:
                raise
        return _sync_wrapup(circle, meeting, _read_wrapup(circle.id, meeting.meeting_id), now, retried=True)
    if wrapup.state == SENT:
        return wrapup
    if not _update_wrapup(wrapup, state, due if state == SCHEDULED else None, now) and not retried:
        return _sync_wrapup(circle, meeting, _read_wrapup(circle.id, meeting.meeting_id), now, retried=True)
    return wrapup


def _update_wrapup(wrapup, state, due, now):
    """Put the wrap-up where it should be (on the queue at `due`, or off it); False when the job
    took it since it was read. Writes nothing when it is there already."""
    due_sk = MeetingWrapUp.due_key(due, wrapup.circle_id, wrapup.meeting_id) if due else None
    if (wrapup.state, wrapup.due_sk) == (state, due_sk):
        return True
    actions = [MeetingWrapUp.state.set(state), MeetingWrapUp.updated_at.set(now)]
    if due:
        actions += [MeetingWrapUp.due_at.set(due), MeetingWrapUp.due_pk.set(WRAPUP_QUEUE),
                    MeetingWrapUp.due_sk.set(due_sk)]
    else:
        actions += [MeetingWrapUp.due_at.remove(), MeetingWrapUp.due_pk.remove(), MeetingWrapUp.due_sk.remove()]
    try:
        wrapup.update(actions=actions, condition=MeetingWrapUp.state.is_in(SCHEDULED, SKIPPED))
        return True
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
        return False


def sync_closing(circle, ending, now, retried=False):
    """The closing waits on `SURVEY` at the last meeting's end until the surveys go out; after
    that it is the jobs' alone (a meeting added later does not send the surveys again). A
    circle that is gone (None) takes its closing off the queue."""
    due = surveys_due(circle) if circle is not None else None
    if ending is None:
        if due is None:
            return None
        ending = CircleEnding(*CircleEnding.key(circle.id), circle_id=circle.id, stage=SURVEY,
                              last_meeting_ends_at=due, surveys_close_at=surveys_close(due), due_pk=SURVEY_QUEUE,
                              due_sk=CircleEnding.due_key(due, circle.id), created_at=now, updated_at=now)
        try:
            ending.save(condition=CircleEnding.pk.does_not_exist())
            return ending
        except PutError as error:
            if error.cause_response_code != 'ConditionalCheckFailedException' or retried:
                raise
        return sync_closing(circle, ending_of(ending.circle_id, consistent=True), now, retried=True)
    if ending.stage != SURVEY:
        return ending
    due_sk = CircleEnding.due_key(due, ending.circle_id) if due else None
    if ending.due_sk == due_sk:
        return ending
    actions = [CircleEnding.updated_at.set(now)]
    if due:
        actions += [CircleEnding.last_meeting_ends_at.set(due), CircleEnding.surveys_close_at.set(surveys_close(due)),
                    CircleEnding.due_pk.set(SURVEY_QUEUE), CircleEnding.due_sk.set(due_sk)]
    else:       # unpublished, or every meeting cancelled: nothing to close until that changes
        actions += [CircleEnding.due_pk.remove(), CircleEnding.due_sk.remove()]
    try:
        ending.update(actions=actions, condition=CircleEnding.stage == SURVEY)
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException' or retried:
            raise
        return sync_closing(circle, ending_of(ending.circle_id, consistent=True), now, retried=True)
    return ending


def _read_wrapup(circle_id, meeting_id):
    try:
        return MeetingWrapUp.get(*MeetingWrapUp.key(circle_id, meeting_id), consistent_read=True)
    except MeetingWrapUp.DoesNotExist:
        return None
