"""Facilitator pages: the dashboard and running a circle (its page, signups export, editing,
meetings, signup open or closed, unpublishing, co-facilitators).

Every circle route reads the circle through `auth.with_workspace`, which answers 404 to
anyone who neither facilitates the circle nor organizes its team, the same as for a circle
that does not exist. Forms re-render with 400 and the errors in place; a save that lost a
race with someone else's re-reads the circle and asks to check and submit again (409).
"""
from chalice import Blueprint, Response

from chalicelib.core.errors import ValidationFailed
from chalicelib.handlers.auth import signed_in, signed_in_context, with_workspace
from chalicelib.handlers.web import form_fields, page, redirect

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']

# Shown after a change; the query string only names one of these, so no text is reflected.
DONE = {
    'details': 'Your changes are saved.',
    'added': 'The meeting is added.',
    'moved': 'The meeting is moved. Learners will be told about the new date and time.',
    'cancelled': 'The meeting is cancelled. Learners will be told.',
    'signup-opened': 'Signup is open again.',
    'signup-closed': 'Signup is closed: the circle takes no new learners.',
    'unpublished': 'The circle is unpublished: it is no longer listed and takes no signups. '
                   'It waits among your drafts on the dashboard.',
    'facilitator-added': 'The co-facilitator is added. They see this circle on their dashboard now.',
    'facilitator-removed': 'The facilitator is removed from this circle.',
}


def _done_notice():
    params = bp.current_request.query_params or {}
    return DONE.get(params.get('done'))


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


@bp.route('/facilitate/circles/{circle_id}/unpublish', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_unpublish(session, ws):
    from chalicelib.facilitators import circle_admin
    return _change_circle(session, ws, circle_admin.unpublish, 'unpublished',
                          lambda fresh, status, errors, conflict: _circle_page(
                              session, fresh, status, errors=errors, conflict=conflict))


# --- co-facilitators ------------------------------------------------------------------

@bp.route('/facilitate/circles/{circle_id}/facilitators', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_add_cofacilitator(session, ws):
    from chalicelib.facilitators import circle_admin
    fields = form_fields(bp.current_request)
    try:
        circle_admin.add_facilitator(ws, fields.get('email'))
    except ValidationFailed as error:
        return _circle_page(session, _reread(session, ws), error.status, errors=error.errors, values=fields)
    except circle_admin.CircleChanged as error:
        return _circle_page(session, _reread(session, ws), error.status, values=fields, conflict=error.message)
    return _to_circle(ws, 'facilitator-added')


@bp.route('/facilitate/circles/{circle_id}/facilitators/{user_id}/remove', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_remove_cofacilitator(session, ws, user_id):
    from chalicelib.facilitators import circle_admin
    from chalicelib.facilitators.access import can_manage
    try:
        circle_admin.remove_facilitator(ws, user_id)
    except ValidationFailed as error:
        return _circle_page(session, _reread(session, ws), error.status, errors=error.errors)
    except circle_admin.CircleChanged as error:
        return _circle_page(session, _reread(session, ws), error.status, conflict=error.message)
    if not can_manage(session, ws.circle):
        return redirect('/dashboard')      # they took themselves off the circle
    return _to_circle(ws, 'facilitator-removed')


# --- editing the details -------------------------------------------------------------

def _edit_page(session, ws, status=200, values=None, errors=None, conflict=None):
    from chalicelib.facilitators import circle_admin
    return page('facilitator/edit.html', status, **signed_in_context(session), circle=ws.circle,
                 values=values or circle_admin.detail_values(ws.circle), errors=errors or {},
                 version=circle_admin.version_of(ws.circle), languages=circle_admin.LANGUAGES,
                 conflict=conflict)


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
        return _edit_page(session, ws, 409, values=fields, conflict=circle_admin.CONFLICT)
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


@bp.route('/facilitate/circles/{circle_id}/meetings/{meeting_id}/cancel', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def facilitator_cancel_meeting(session, ws, meeting_id):
    from chalicelib.facilitators import circle_admin
    return _change_meetings(session, ws, lambda circle, fields: circle_admin.cancel_meeting(circle, meeting_id),
                            'cancelled', meeting_id)
