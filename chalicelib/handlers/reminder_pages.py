"""Facilitator pages: preview a meeting's reminder (as email and as SMS) and edit its words
until it is sent.

Both views read the circle through `auth.with_workspace` (one Query, role check): anyone who
neither facilitates the circle nor organizes its team gets 404, as for a circle or meeting
that does not exist. Only the words are edited here; the facts come from the meeting.
"""
from chalice import Blueprint

from chalicelib.core.i18n import N_, _
from chalicelib.handlers.auth import signed_in, signed_in_context, with_workspace
from chalicelib.handlers.web import form_fields, page, redirect

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
SAVED = {'saved': N_('Your words are saved. The reminder goes out with them.'),
         'reset': N_('The reminder uses the standard words again.')}


def _meeting(ws, meeting_id):
    """The circle's meeting, or NotFound."""
    from chalicelib.core.errors import NotFound
    meeting = next((m for m in ws.circle.meetings if m.meeting_id == meeting_id), None)
    if meeting is None:
        raise NotFound(_('No such meeting.'))
    return meeting


def _reminder_page(session, ws, meeting, status=200, values=None, errors=None, conflict=None, notice=None):
    from chalicelib.reminders import schedule as reminders
    view = reminders.preview(ws, meeting, values=values)
    form_values = values or {'subject': view['reminder'].subject, 'intro': view['reminder'].intro,
                             'sms_text': view['reminder'].sms_text}
    return page('facilitator/reminder.html', status, **signed_in_context(session),
                 circle=ws.circle, meeting=meeting, view=view, values=form_values, errors=errors or {},
                 conflict=conflict, notice=notice, max_subject=reminders.MAX_SUBJECT,
                 max_intro=reminders.MAX_INTRO, max_sms_words=reminders.MAX_SMS_WORDS)


@bp.route('/facilitate/circles/{circle_id}/meetings/{meeting_id}/reminder', methods=['GET'])
@signed_in(bp)
@with_workspace
def meeting_reminder_page(session, ws, meeting_id):
    meeting = _meeting(ws, meeting_id)
    done = (bp.current_request.query_params or {}).get('done')
    return _reminder_page(session, ws, meeting, notice=_(SAVED[done]) if done in SAVED else None)


@bp.route('/facilitate/circles/{circle_id}/meetings/{meeting_id}/reminder', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def save_meeting_reminder(session, ws, meeting_id):
    from chalicelib.reminders import schedule as reminders
    from chalicelib.core.errors import ValidationFailed
    meeting = _meeting(ws, meeting_id)
    fields = form_fields(bp.current_request)
    values = {name: fields.get(name, '') for name in ('subject', 'intro', 'sms_text')}
    try:
        reminders.save_words(ws.circle, meeting, reminders.reminder_of(ws, meeting_id), fields,
                             editor_id=session.user_id)
    except ValidationFailed as error:
        return _reminder_page(session, ws, meeting, error.status, values=values, errors=error.errors)
    except reminders.ReminderSent as error:
        return _reminder_page(session, ws, meeting, error.status,
                              conflict=_('%(reason)s Your words were not saved.') % {'reason': error.message})
    done = 'reset' if fields.get('reset') else 'saved'
    return redirect(f'/facilitate/circles/{ws.circle.id}/meetings/{meeting_id}/reminder?done={done}')
