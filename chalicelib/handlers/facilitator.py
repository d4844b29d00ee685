"""Facilitator pages: the dashboard and running a circle (its page, signups export, editing,
meetings, signup open or closed, unpublishing, co-facilitators and their invitations).

Cancelling a meeting, unpublishing and removing a facilitator ask first: a GET of the same
path shows what will happen and a form that POSTs to do it.

Every circle route reads the circle through `auth.with_workspace`, which answers 404 to
anyone who neither facilitates the circle nor organizes its team, the same as for a circle
that does not exist. Forms re-render with 400 and the errors in place; a save that lost a
race with someone else's re-reads the circle and asks to check and submit again (409).
"""
from chalice import Blueprint, Response

from chalicelib.core.errors import NotFound, Refusal, ValidationFailed
from chalicelib.core.i18n import _, N_, ngettext
from chalicelib.handlers.auth import current_session, signed_in, signed_in_context, with_workspace
from chalicelib.handlers.web import form_fields, page, redirect, refusal_page

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']

# Shown after a change; the query string only names one of these, so no text is reflected.
DONE = {
    'details': N_('Your changes are saved.'),
    'added': N_('The meeting is added.'),
    'moved': N_('The meeting is moved. Learners will be told about the new date and time.'),
    'cancelled': N_('The meeting is cancelled. Learners will be told.'),
    'signup-opened': N_('Signup is open again.'),
    'signup-closed': N_('Signup is closed: the circle takes no new learners.'),
    'unpublished': N_('The circle is unpublished: it is no longer listed and takes no signups. '
                      'It waits among your drafts on the dashboard. Its learners are told by email.'),
    'invited': N_('The invitation is on its way. They become a co-facilitator when they accept it '
                  '(signing in, or registering, with that address); the link works for 7 days.'),
    'invitation-accepted': N_('You co-facilitate this circle now.'),
    'facilitator-removed': N_('The facilitator is removed from this circle.'),
}


def _done_notice():
    params = bp.current_request.query_params or {}
    notice = DONE.get(params.get('done'))
    return _(notice) if notice else None


def _reread(session, ws):
    from chalicelib.facilitators.access import workspace
    return workspace(session, ws.circle.id)


# --- dashboard -------------------------------------------------------------------

@bp.route('/dashboard', methods=['GET'])
@signed_in(bp)
def dashboard(session):
    from chalicelib.facilitators.dashboard import dashboard_context
    return page('dashboard.html', **signed_in_context(session), **dashboard_context(session))


# --- the circle's page --------------------------------------------------------------

def _circle_page(session, ws, status=200, errors=None, values=None, conflict=None):
    from chalicelib.facilitators.circle_admin import page_context
    return page('facilitator/circle.html', status, **signed_in_context(session), **page_context(ws),
                 notice=_done_notice() if status == 200 else None, conflict=conflict,
                 errors=errors or {}, values=values or {})


def _to_circle(ws, done):
    return redirect(f'/facilitate/circles/{ws.circle.id}?done={done}')


@bp.route('/facilitate/circles/{circle_id}', methods=['GET'])
@signed_in(bp)
@with_workspace
def facilitator_circle(session, ws):
    return _circle_page(session, ws)


@bp.route('/facilitate/circles/{circle_id}/signups.csv', methods=['GET'])
@signed_in(bp)
@with_workspace
def facilitator_signups_csv(session, ws):
    from chalicelib.facilitators.circle_admin import signups_csv as build_csv
    return Response(body=build_csv(ws), status_code=200, headers={
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': f'attachment; filename="signups-{ws.circle.id}.csv"',
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
    })


def _change_circle(session, ws, change, done, on_error):
    """Apply `change(circle)` and save. Errors re-render through `on_error(ws, status, errors, conflict)`."""
    from chalicelib.facilitators.circle_admin import CircleChanged, save
    try:
        change(ws.circle)
        save(ws.circle)
    except ValidationFailed as error:
        return on_error(_reread(session, ws), error.status, error.errors, None)
    except CircleChanged as error:
        return on_error(_reread(session, ws), error.status, {}, error.message)
    return _to_circle(ws, done)


@bp.route('/facilitate/circles/{circle_id}/signup', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_set_signup_open(session, ws):
    from chalicelib.facilitators import circle_admin
    is_open = form_fields(bp.current_request).get('open') == 'yes'
    return _change_circle(session, ws, lambda circle: circle_admin.set_signup_open(circle, is_open),
                          'signup-opened' if is_open else 'signup-closed',
                          lambda fresh, status, errors, conflict: _circle_page(
                              session, fresh, status, errors=errors, conflict=conflict))


def _confirm_page(session, ws, title, explanation, action, button, back):
    return page('facilitator/confirm.html', **signed_in_context(session), circle=ws.circle, title=title,
                explanation=explanation, action=action, button=button, back=back)


@bp.route('/facilitate/circles/{circle_id}/unpublish', methods=['GET'])
@signed_in(bp)
@with_workspace
def facilitator_unpublish_confirm(session, ws):
    circle = ws.circle
    if not circle.published:
        return _to_circle(ws, 'unpublished')
    learners = len(ws.active_signups)
    if learners:
        explanation = ngettext('It leaves every listing, takes no new signups and sends no more reminders. '
                               'Its %(num)d learner will be told by email; they keep their place.',
                               'It leaves every listing, takes no new signups and sends no more reminders. '
                               'Its %(num)d learners will be told by email; they keep their place.',
                               learners) % {'num': learners}
    else:
        explanation = _('It leaves every listing, takes no new signups and sends no more reminders. '
                        'Nobody has signed up yet.')
    return _confirm_page(session, ws, _('Unpublish %(name)s?') % {'name': circle.name}, explanation,
                         f'/facilitate/circles/{circle.id}/unpublish', _('Unpublish this circle'),
                         f'/facilitate/circles/{circle.id}')


@bp.route('/facilitate/circles/{circle_id}/unpublish', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_unpublish(session, ws):
    from chalicelib.facilitators import circle_admin
    try:
        circle_admin.save(ws.circle, messages=circle_admin.unpublish(ws.circle))
    except circle_admin.CircleChanged as error:
        return _circle_page(session, _reread(session, ws), error.status, conflict=error.message)
    return _to_circle(ws, 'unpublished')


# --- co-facilitators ------------------------------------------------------------------

@bp.route('/facilitate/circles/{circle_id}/facilitators', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_add_cofacilitator(session, ws):
    """Invite a co-facilitator: the same answer whether or not the address has an account."""
    from chalicelib.accounts import accounts
    from chalicelib.facilitators import circle_admin
    fields = form_fields(bp.current_request)
    try:
        circle_admin.invite_facilitator(ws, fields.get('email'), accounts.get_user(session.user_id))
    except ValidationFailed as error:
        return _circle_page(session, ws, error.status, errors=error.errors, values=fields)
    except Refusal as refusal:          # RateLimited
        return _circle_page(session, ws, refusal.status, errors={'email': [refusal.message]}, values=fields)
    return _to_circle(ws, 'invited')


def _facilitator_named(ws, user_id):
    from chalicelib.facilitators.circle_admin import facilitator_rows
    person = next((row for row in facilitator_rows(ws) if row['user_id'] == user_id), None)
    if person is None:
        raise NotFound(_('No such facilitator.'))
    return person


@bp.route('/facilitate/circles/{circle_id}/facilitators/{user_id}/remove', methods=['GET'])
@signed_in(bp)
@with_workspace
def facilitator_remove_confirm(session, ws, user_id):
    person = _facilitator_named(ws, user_id)
    circle = ws.circle
    if user_id == session.user_id:
        title, button = _('Leave %(name)s?') % {'name': circle.name}, _('Leave this circle')
        explanation = _('The circle leaves your dashboard and you can no longer run it, unless someone invites '
                        'you again.')
    else:
        title = _('Remove %(person)s from %(name)s?') % {'person': person['name'], 'name': circle.name}
        button = _('Remove %(person)s') % {'person': person['name']}
        explanation = _('%(person)s can no longer see or run this circle.') % {'person': person['name']}
    return _confirm_page(session, ws, title, explanation,
                         f'/facilitate/circles/{circle.id}/facilitators/{user_id}/remove', button,
                         f'/facilitate/circles/{circle.id}')


@bp.route('/facilitate/circles/{circle_id}/facilitators/{user_id}/remove', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_remove_cofacilitator(session, ws, user_id):
    from chalicelib.facilitators import circle_admin
    from chalicelib.facilitators.access import can_manage
    try:
        circle_admin.remove_facilitator(ws, user_id, by=session.user_id)
    except ValidationFailed as error:
        return _circle_page(session, _reread(session, ws), error.status, errors=error.errors)
    except circle_admin.CircleChanged as error:
        return _circle_page(session, _reread(session, ws), error.status, conflict=error.message)
    if not can_manage(session, ws.circle):
        return redirect('/dashboard')      # they took themselves off the circle
    return _to_circle(ws, 'facilitator-removed')


def _invitation_page(token, status=200, error=None):
    """The invitation as its link shows it: the same page whether or not the address has an
    account; accepting needs a session of the invited address."""
    from chalicelib.facilitators import circle_admin
    request = bp.current_request
    session = current_session(request)
    try:
        circle, address = circle_admin.read_invitation(token)
    except Refusal as refusal:
        return refusal_page(refusal, **(signed_in_context(session) if session else {}))
    context = signed_in_context(session) if session else {'session': None}
    next_path = f'/invitations/{token}'
    return page('facilitator/invitation.html', status, **context, circle=circle, address=address,
                token=token, next_path=next_path, error=error)


@bp.route('/invitations/{token}', methods=['GET'])
def facilitator_invitation(token):
    return _invitation_page(token)


@bp.route('/invitations/{token}', methods=['POST'], content_types=FORM)
@signed_in(bp)
def facilitator_accept_invitation(session, token):
    from chalicelib.accounts import accounts
    from chalicelib.facilitators import circle_admin
    try:
        circle = circle_admin.accept_invitation(token, accounts.get_user(session.user_id))
    except circle_admin.InvitationRefused as refusal:
        return _invitation_page(token, refusal.status, error=refusal.message)
    except circle_admin.CircleChanged as refusal:
        return _invitation_page(token, refusal.status, error=refusal.message)
    except Refusal as refusal:
        return refusal_page(refusal, **signed_in_context(session))
    return redirect(f'/facilitate/circles/{circle.id}?done=invitation-accepted')


# --- editing the details -------------------------------------------------------------

def _edit_page(session, ws, status=200, values=None, errors=None, conflict=None):
    from chalicelib.facilitators import circle_admin
    return page('facilitator/edit.html', status, **signed_in_context(session), circle=ws.circle,
                 values=values or circle_admin.detail_values(ws.circle), errors=errors or {},
                 version=circle_admin.version_of(ws.circle), languages=_edit_languages(),
                 timezones=circle_admin.timezone_names(), conflict=conflict)


def _edit_languages():
    """The language select of the edit form: {code: name in the language of the moment}; a
    language the circle has that is no longer listed is added by the template (its code)."""
    from chalicelib.facilitators.dialog import language_options
    return dict(language_options())


@bp.route('/facilitate/circles/{circle_id}/edit', methods=['GET'])
@signed_in(bp)
@with_workspace
def facilitator_edit_page(session, ws):
    return _edit_page(session, ws)


@bp.route('/facilitate/circles/{circle_id}/edit', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_edit(session, ws):
    from chalicelib.facilitators import circle_admin
    fields = form_fields(bp.current_request)
    if fields.get('version') != circle_admin.version_of(ws.circle):
        # Someone saved the circle after this form was shown: writing it now would undo their change.
        return _edit_page(session, ws, 409, values=fields, conflict=_(circle_admin.CONFLICT))
    return _change_circle(session, ws, lambda circle: circle_admin.apply_details(circle, fields), 'details',
                          lambda fresh, status, errors, conflict: _edit_page(
                              session, fresh, status, values=fields, errors=errors, conflict=conflict))


# --- meetings --------------------------------------------------------------------------

def _meetings_page(session, ws, status=200, errors=None, values=None, form=None, conflict=None):
    """`form` names the form the errors belong to: 'add' or a meeting id (its move form)."""
    from chalicelib.facilitators.circle_admin import meeting_rows
    from chalicelib.circles.circles import utcnow
    now = utcnow()
    return page('facilitator/meetings.html', status, **signed_in_context(session), circle=ws.circle,
                 meetings=meeting_rows(ws.circle, [], {}, now), errors=errors or {}, values=values or {},
                 active_form=form, conflict=conflict, notice=_done_notice() if status == 200 else None)


def _meetings_redirect(ws, done):
    return redirect(f'/facilitate/circles/{ws.circle.id}/meetings?done={done}')


def _change_meetings(session, ws, change, done, form):
    from chalicelib.facilitators.circle_admin import CircleChanged, save
    fields = form_fields(bp.current_request)
    try:
        change(ws.circle, fields)
        save(ws.circle)
    except ValidationFailed as error:
        return _meetings_page(session, _reread(session, ws), error.status, errors=error.errors, values=fields,
                              form=form)
    except CircleChanged as error:
        return _meetings_page(session, _reread(session, ws), error.status, values=fields, form=form,
                              conflict=error.message)
    return _meetings_redirect(ws, done)


@bp.route('/facilitate/circles/{circle_id}/meetings', methods=['GET'])
@signed_in(bp)
@with_workspace
def facilitator_meetings_page(session, ws):
    return _meetings_page(session, ws)


@bp.route('/facilitate/circles/{circle_id}/meetings', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_add_meeting(session, ws):
    from chalicelib.facilitators import circle_admin
    return _change_meetings(session, ws, circle_admin.add_meeting, 'added', 'add')


@bp.route('/facilitate/circles/{circle_id}/meetings/{meeting_id}/move', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_move_meeting(session, ws, meeting_id):
    from chalicelib.facilitators import circle_admin
    return _change_meetings(session, ws, lambda circle, fields: circle_admin.move_meeting(circle, meeting_id, fields),
                            'moved', meeting_id)


@bp.route('/facilitate/circles/{circle_id}/meetings/{meeting_id}/cancel', methods=['GET'])
@signed_in(bp)
@with_workspace
def facilitator_cancel_meeting_confirm(session, ws, meeting_id):
    from chalicelib.core.formatting import meeting_when_short
    meeting = next((m for m in ws.circle.meetings if m.meeting_id == meeting_id), None)
    if meeting is None:
        raise NotFound(_('No such meeting.'))
    circle = ws.circle
    back = f'/facilitate/circles/{circle.id}/meetings'
    if meeting.cancelled:
        return redirect(f'{back}?done=cancelled')
    learners = len(ws.active_signups)
    if learners:
        explanation = ngettext('The meeting stays in the list as cancelled and gets no reminder. Its %(num)d '
                               'learner will be told by email and text message, with an updated calendar entry.',
                               'The meeting stays in the list as cancelled and gets no reminder. Its %(num)d '
                               'learners will be told by email and text message, with an updated calendar entry.',
                               learners) % {'num': learners}
    else:
        explanation = _('The meeting stays in the list as cancelled and gets no reminder. Nobody has signed up yet.')
    return _confirm_page(session, ws, _('Cancel the meeting of %(when)s?')
                         % {'when': meeting_when_short(meeting, circle.timezone)}, explanation,
                         f'{back}/{meeting_id}/cancel', _('Cancel this meeting'), back)


@bp.route('/facilitate/circles/{circle_id}/meetings/{meeting_id}/cancel', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_cancel_meeting(session, ws, meeting_id):
    from chalicelib.facilitators import circle_admin
    return _change_meetings(session, ws, lambda circle, fields: circle_admin.cancel_meeting(circle, meeting_id),
                            'cancelled', meeting_id)
