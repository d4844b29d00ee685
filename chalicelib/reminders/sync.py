"""Keeping a circle's reminders in step with its meetings, change notices included.

`sync_reminders` runs after every change to a circle's meetings or publication (publish,
edits, add/move/cancel, unpublish): `schedule.schedule_reminders` moves each reminder's due
time with its meeting and takes reminders off the due queue when they no longer apply; for
every future meeting moved or cancelled since its learners were last told
(`schedule.changes_to_announce`) they get a change notice (`chalicelib.reminders.change_notices`).

It lives here, above both, so that `schedule` never imports `change_notices` (which uses
`schedule` and `render`): the dependency runs one way.
"""
from chalicelib.circles import circles, meeting_entries
from chalicelib.ending.schedule import sync_ending, sync_retention
from chalicelib.reminders import change_notices
from chalicelib.reminders.schedule import changes_to_announce, schedule_reminders


def sync_reminders(circle, existing=None, now=None, entries=None):
    """Create or update the reminder of every meeting so due times follow the meetings, and
    send the change notice of each future meeting moved or cancelled since its learners were told.
    A team circle's meeting entries (the organizer's week) follow too.

    `existing` is the circle's reminders and `entries` its meeting entries if already read (a
    Workspace holds them); else one Query reads each. Returns the reminders.
    """
    now = now or circles.utcnow()
    meeting_entries.sync_entries(circle, existing=entries)
    sync_ending(circle, now=now)     # the wrap-up prompts and the closing follow the meetings too
    sync_retention(circle, now)      # and when its learners' data is anonymised (privacy.retention)
    reminders = schedule_reminders(circle, existing=existing, now=now)
    for reminder, meeting, kind in changes_to_announce(circle, reminders, now):
        change_notices.queue_change_notice(reminder, now)
        change_notices.notify_change(circle, meeting, kind, now)
    return reminders
