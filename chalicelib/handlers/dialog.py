"""The creation dialog's pages: start a circle, walk its steps, review and publish.

`/facilitate/circles/new` is step 1 before a draft exists; from then on every step of the
draft is `/facilitate/circles/{id}/step/{n}` (6 = review), so a draft can be resumed from
any step. Every page reads the draft with `facilitation.workspace` (one Query, role check:
strangers get 404); every Next or Back writes it with one transaction.
"""
from chalice import Blueprint

from chalicelib.core.i18n import _
from chalicelib.handlers.auth import signed_in
from chalicelib.handlers.web import form_fields, page, redirect

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
STEP_TEMPLATES = {1: 'facilitator/step_1.html', 2: 'facilitator/step_2.html', 3: 'facilitator/step_3.html',
                  4: 'facilitator/step_4.html', 5: 'facilitator/step_5.html'}
MIN_CITY_QUERY = 2


def _not_found():
    return page('not_found.html', 404)


def _step_url(circle_id, step):
    return f'/facilitate/circles/{circle_id}/step/{step}'


def _circle_page_url(circle_id):
    return f'/facilitate/circles/{circle_id}'


def _meetings_page_url(circle_id):
    return f'/facilitate/circles/{circle_id}/meetings'


def _elsewhere(circle, setup, number):
    """Where a step is edited instead, if not in the dialog: a published circle on its own page,
    and the meetings of a circle published before on the meetings page (learners may have been
    told about them, so they are moved or cancelled one by one there)."""
    from chalicelib.facilitators import dialog
    if circle.published:
        return _circle_page_url(circle.id)
    if number == 3 and dialog.was_published(setup):
        return _meetings_page_url(circle.id)
    return None


def _step_number(step):
    """The step from the path, or None: only 1 to 6 exist."""
    from chalicelib.facilitators.dialog import STEPS
    return int(step) if step.isdigit() and int(step) in STEPS else None


def _workspace(session, circle_id):
    from chalicelib.facilitators import access as facilitation
    from chalicelib.core.errors import NotFound
    try:
        return facilitation.workspace(session, circle_id)
    except NotFound:
        return None


def _draft_changed():
    return page('message.html', 409, title=_('This draft changed meanwhile'),
                 message=_('It was saved from another window, or published. Please open it again from your '
                           'dashboard and repeat your last change.'))


def _step_page(session, step, status=200, *, circle=None, setup=None, values, errors=None, **extra):
    """Render a form step; `values` are what the fields show (saved answers or the posted form)."""
    from chalicelib.facilitators import dialog
    from chalicelib.accounts import sessions
    done = set(map(int, setup.steps_done)) if setup else set()
    context = dict(session=session, csrf_token=sessions.csrf_token(session), step=step, steps=dialog.step_names(),
                   circle=circle, done=done, values=values, errors=errors or {}, going_back=False,
                   action_url=_step_url(circle.id, step) if circle else '/facilitate/circles/new',
                   back_url=_step_url(circle.id, step - 1) if circle and step > 1 else None)
    if step == 1:
        context.setdefault('teams', [])
    if step == 2:
        context.update(city_results=[], chosen_city=None)
    if step == 3:
        context.update(rows=[], timezones=dialog.timezone_names())
    if step == 4:
        context.update(languages=dialog.language_options())
    context.update(extra)
    return page(STEP_TEMPLATES[step], status, **context)


# --- step 1 before a draft exists ---------------------------------------------------

@bp.route('/facilitate/circles/new', methods=['GET'])
@signed_in(bp)
def new_circle_page(session):
    from chalicelib.facilitators import dialog
    return _step_page(session, 1, values={}, teams=dialog.user_teams(session.user_id))


@bp.route('/facilitate/circles/new', methods=['POST'], content_types=FORM)
@signed_in(bp)
def start_circle(session):
    from chalicelib.facilitators import dialog
    from chalicelib.core.errors import ValidationFailed
    fields = form_fields(bp.current_request)
    teams = dialog.user_teams(session.user_id)
    errors, clean, team_id = {}, None, None
    try:
        clean = dialog.validate_course(fields)
    except ValidationFailed as error:
        errors.update(error.errors)
    try:
        team_id = dialog.choose_team(fields, teams)
    except ValidationFailed as error:
        errors.update(error.errors)
    if errors:
        return _step_page(session, 1, 400, values=fields, errors=errors, teams=teams)
    circle = dialog.start_draft(session, clean, team_id)
    return redirect(_step_url(circle.id, 2))


# --- every step of a draft ------------------------------------------------------------

@bp.route('/facilitate/circles/{circle_id}/step/{step}', methods=['GET'])
@signed_in(bp)
def draft_step_page(session, circle_id, step):
    from chalicelib.facilitators import dialog
    number = _step_number(step)
    workspace = _workspace(session, circle_id) if number else None
    if workspace is None:
        return _not_found()
    circle, setup = workspace.circle, dialog.setup_of(workspace)
    if number == dialog.REVIEW_STEP:
        return _review_page(session, workspace)
    if _elsewhere(circle, setup, number):
        return redirect(_elsewhere(circle, setup, number))
    values = dialog.step_values(number, circle, setup)
    extra = {}
    if number == 2 and setup.city_id:
        from chalicelib.circles import gazetteer
        extra['chosen_city'] = gazetteer.lookup(setup.city_id)
    if number == 3:
        schedule = dialog.stored_schedule(circle, setup)
        extra['rows'] = dialog.preview(schedule) if schedule else []
    return _step_page(session, number, circle=circle, setup=setup, values=values, **extra)


@bp.route('/facilitate/circles/{circle_id}/step/{step}', methods=['POST'], content_types=FORM)
@signed_in(bp)
def save_draft_step(session, circle_id, step):
    """Next saves and moves on; Back saves and goes back; on step 2 "Find city" and on step 3
    "Update preview" only show the page again. Invalid input comes back with the errors."""
    from chalicelib.circles import circles
    from chalicelib.facilitators import dialog
    from chalicelib.core.errors import ValidationFailed
    number = _step_number(step)
    workspace = _workspace(session, circle_id) if number and number in dialog.FORM_STEPS else None
    if workspace is None:
        return _not_found()
    circle, setup = workspace.circle, dialog.setup_of(workspace)
    if _elsewhere(circle, setup, number):
        return redirect(_elsewhere(circle, setup, number))
    fields = form_fields(bp.current_request)
    action = fields.get('action') or 'next'
    step = dict(circle=circle, setup=setup, values=fields)
    if number == 2:
        step.update(_city_choices(fields))
        if step['chosen_city'] and fields.get('coordinates_city_id') != step['chosen_city'].id:
            city = step['chosen_city']     # newly chosen: show its coordinates if the page comes back
            step['values'] = {**fields, 'latitude': f'{city.latitude:g}', 'longitude': f'{city.longitude:g}'}
        if action == 'find_city':
            return _find_city(session, step, fields)
    try:
        clean = dialog.validate_step(number, fields, setup, circles.utcnow())
    except ValidationFailed as error:
        if number == 3:
            step['rows'] = _posted_rows(fields)
        return _step_page(session, number, 400, errors=error.errors, going_back=action == 'back', **step)
    if number == 3 and action == 'preview':
        return _step_page(session, 3, rows=dialog.preview(clean), **step)
    try:
        dialog.save_step(workspace, number, clean)
    except dialog.DraftChanged:
        return _draft_changed()
    return redirect(_step_url(circle.id, number - 1 if action == 'back' and number > 1 else number + 1))


def _city_choices(fields):
    """The cities the Place step lists: the search results for what was typed, or the chosen one."""
    from chalicelib.circles import gazetteer
    chosen = gazetteer.lookup(fields.get('city_id'))
    query = (fields.get('city_query') or '').strip()
    results = gazetteer.search(query) if len(query) >= MIN_CITY_QUERY and chosen is None else []
    return {'chosen_city': chosen, 'city_results': results}


def _find_city(session, step, fields):
    from chalicelib.circles import gazetteer
    query = (fields.get('city_query') or '').strip()
    if len(query) < MIN_CITY_QUERY:
        return _step_page(session, 2, 400, errors={'city_query': [_('Please type at least two letters of the city.')]},
                          **step)
    results = gazetteer.search(query)
    step.update(chosen_city=None, city_results=results, values={**fields, 'city_id': ''})
    errors = {} if results else {'city_query': [_('No city starts with these letters. Check the spelling, or try '
                                                  'the name of a larger town nearby.')]}
    return _step_page(session, 2, 200 if results else 400, errors=errors, **step)


def _posted_rows(fields):
    """The preview rows as posted, so moved dates and removals survive an error on the page."""
    import re

    from chalicelib.facilitators.dialog import MAX_WEEKS
    row_field = re.compile(r'meeting_(\d+)_(?:planned|date|remove)$')
    indexes = sorted({int(match.group(1)) for match in map(row_field.match, fields) if match})
    rows = []
    for index in indexes[:MAX_WEEKS]:
        planned = fields.get(f'meeting_{index}_planned') or ''
        rows.append({'index': index, 'planned': planned, 'date': fields.get(f'meeting_{index}_date') or planned,
                     'removed': bool(fields.get(f'meeting_{index}_remove')), 'moved': False, 'when': ''})
    return rows


# --- review and publish ------------------------------------------------------------------

def _review_page(session, workspace, status=200, **extra):
    from chalicelib.accounts import accounts
    from chalicelib.circles import circles
    from chalicelib.facilitators import dialog, publishing
    from chalicelib.accounts import sessions
    from chalicelib.core.formatting import meeting_when_short
    circle, setup = workspace.circle, dialog.setup_of(workspace)
    confirmed = session.email_confirmed or bool(getattr(accounts.get_user(session.user_id), 'email_confirmed', False))
    params = bp.current_request.query_params or {}
    meetings = [meeting_when_short(m, circle.timezone) for m in circles.active_meetings(circle)]
    context = dict(
        session=session, csrf_token=sessions.csrf_token(session), step=dialog.REVIEW_STEP, steps=dialog.step_names(),
        step_words=dialog.step_words(),
        circle=circle, setup=setup, done=set(map(int, setup.steps_done)), errors={}, going_back=False, back_url=None,
        problems={} if circle.published else publishing.publish_problems(circle, setup, circles.utcnow()),
        confirmed=confirmed, confirmation_sent='sent' in params, meetings=meetings,
        team_name=dialog.team_name(circle.team_id) if circle.team_id else None,
        language=dialog.language_name(circle.language), public_url=f'/circles/{circle.id}', circle_page_url=_circle_page_url(circle.id),
        step_url=lambda n: _elsewhere(circle, setup, n) or _step_url(circle.id, n))
    context.update(extra)
    return page('facilitator/review.html', status, **context)


@bp.route('/facilitate/circles/{circle_id}/publish', methods=['POST'], content_types=FORM)
@signed_in(bp)
def publish_circle(session, circle_id):
    from chalicelib.facilitators import dialog, publishing
    from chalicelib.core.errors import ValidationFailed
    workspace = _workspace(session, circle_id)
    if workspace is None:
        return _not_found()
    if workspace.circle.published:
        return redirect(_step_url(circle_id, dialog.REVIEW_STEP))
    try:
        user = publishing.confirmed_user(session)
    except publishing.EmailNotConfirmed:
        return _review_page(session, workspace, 400, confirmed=False)
    try:
        publishing.publish(workspace, user)
    except ValidationFailed as error:
        return _review_page(session, workspace, 400, problems={int(k): v for k, v in error.errors.items()})
    except dialog.DraftChanged:
        return _draft_changed()
    return redirect(_step_url(circle_id, dialog.REVIEW_STEP))


@bp.route('/facilitate/circles/{circle_id}/confirmation', methods=['POST'], content_types=FORM)
@signed_in(bp)
def resend_confirmation(session, circle_id):
    """Send the email confirmation link again, from the review page that asked for it."""
    from chalicelib.facilitators import dialog, publishing
    if _workspace(session, circle_id) is None:
        return _not_found()
    publishing.resend_confirmation(session)
    return redirect(f'{_step_url(circle_id, dialog.REVIEW_STEP)}?sent=1')
