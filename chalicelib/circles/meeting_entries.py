"""Keeping a team circle's `MeetingEntry` items (the organizer's week, the digest) in step.

`sync_entries` runs with `chalicelib.reminders.sync.sync_reminders`, after every change to a
circle's meetings, publication, name or facilitators. Only entries whose facts changed are
written (one UpdateItem each, never a whole-item put: the RSVP tally on the same item is written
by other requests). A circle outside a team has no entries; an unpublished one keeps its
entries off the index (`td_pk` removed), so a draft's meetings are on nobody's week.

`tally_answer` adds the operations of one RSVP answer to the transaction that records it, and
`untally` those of a learner who withdraws (`answered_by` finds the meetings to come they answered).
"""
from pynamodb.exceptions import UpdateError

from chalicelib.circles.circles import active_meetings
from chalicelib.models.meeting_entry import MeetingEntry, team_day_pk

FACTS = ('team_id', 'circle_name', 'facilitator_names', 'facilitator_ids', 'timezone', 'local_date', 'local_time',
         'duration_minutes', 'starts_at', 'cancelled', 'number', 'of', 'td_pk', 'td_sk')


def entries_of(circle_id):
    """Every entry of the circle: one Query of its partition."""
    return list(MeetingEntry.query(f'CIRCLE#{circle_id}', MeetingEntry.sk.startswith('ENTRY#')))


def wanted_facts(circle):
    """{meeting id: {fact: value}} the circle's entries should hold now."""
    numbers = {m.meeting_id: n for n, m in enumerate(active_meetings(circle), 1)}
    listed = bool(circle.published and numbers)
    wanted = {}
    for meeting in circle.meetings:
        wanted[meeting.meeting_id] = {
            'team_id': circle.team_id, 'circle_name': circle.name,
            'facilitator_names': list(circle.facilitator_names or []),
            'facilitator_ids': list(circle.facilitator_ids or []), 'timezone': circle.timezone,
            'local_date': meeting.local_date, 'local_time': meeting.local_time,
            'duration_minutes': int(meeting.duration_minutes), 'starts_at': meeting.starts_at,
            'cancelled': bool(meeting.cancelled), 'number': numbers.get(meeting.meeting_id), 'of': len(numbers),
            'td_pk': team_day_pk(circle.team_id) if listed else None,
            'td_sk': MeetingEntry.day_key(meeting.local_date, meeting.local_time, circle.id,
                                          meeting.meeting_id) if listed else None,
        }
    return wanted


def _differs(entry, facts, sequence):
    if entry is None or int(entry.sequence or 0) != sequence:
        return True
    return any(getattr(entry, name) != value for name, value in facts.items())


def sync_entries(circle, existing=None):
    """Write the entries of a team circle whose facts changed; returns how many were written.

    `existing` is the circle's entries if already read (a Workspace holds them); else one Query
    reads them (none for a circle outside a team, which has no entries)."""
    if not circle.team_id:
        return 0
    if existing is None:
        existing = entries_of(circle.id)
    by_meeting = {e.meeting_id: e for e in existing}
    wanted = wanted_facts(circle)
    written = 0
    for meeting in circle.meetings:
        facts = wanted[meeting.meeting_id]
        sequence = int(meeting.sequence or 0)
        entry = by_meeting.get(meeting.meeting_id)
        if not _differs(entry, facts, sequence):
            continue
        _write(circle.id, meeting.meeting_id, facts, sequence)
        written += 1
    return written


def _write(circle_id, meeting_id, facts, sequence):
    """SET (or REMOVE, for None) every fact. A new sequence (the meeting moved or was cancelled)
    empties the tally in the same write: answers to the old time do not count."""
    entry = MeetingEntry(*MeetingEntry.key(circle_id, meeting_id))
    actions = [MeetingEntry.circle_id.set(circle_id), MeetingEntry.meeting_id.set(meeting_id)]
    for name, value in facts.items():
        attribute = getattr(MeetingEntry, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    same_sequence = MeetingEntry.sequence == sequence
    try:
        entry.update(actions=actions, condition=same_sequence)
        return
    except UpdateError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise
    entry.update(actions=actions + [MeetingEntry.sequence.set(sequence), MeetingEntry.yes.remove(),
                                    MeetingEntry.no.remove(), MeetingEntry.kind.set(MeetingEntry)])


def tally_answer(transaction, circle_id, meeting_id, signup_id, answer, sequence):
    """Add to `transaction` the tally of one learner's answer: their id in `yes` or `no` and out
    of the other, on condition that the entry holds for the meeting's `sequence` (a cancelled
    transaction means the meeting moved meanwhile, or the circle has no entries)."""
    entry = MeetingEntry(*MeetingEntry.key(circle_id, meeting_id))
    into, out_of = (MeetingEntry.yes, MeetingEntry.no) if answer == 'yes' else (MeetingEntry.no, MeetingEntry.yes)
    transaction.update(entry, actions=[into.add({signup_id}), out_of.delete({signup_id})],
                       condition=MeetingEntry.sequence == int(sequence or 0))



def answered_by(signup, now):
    """The entries of meetings to come that tally the learner's answer (one Query)."""
    return [e for e in entries_of(signup.circle_id)
            if e.starts_at > now and signup.signup_id in (e.yes or set()) | (e.no or set())]


def untally(transaction, entry, signup_id):
    """Add to `transaction` the removal of a learner who leaves from the entry's tally."""
    transaction.update(entry, actions=[MeetingEntry.yes.delete({signup_id}), MeetingEntry.no.delete({signup_id})])
