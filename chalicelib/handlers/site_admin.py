"""Site administrators (the `CIRCLES_SITE_ADMINS` setting) create teams: `/admin/teams/new`."""
from chalice import Blueprint

from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.handlers.auth import current_session, signed_in_context
from chalicelib.handlers.web import form_fields, page, refusal_page

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']


def _context(session):
    return signed_in_context(session) if session else {'session': None}


# --- site administrators create teams -----------------------------------------------------
# No `signed_in`: anyone who is not a site administrator (anonymous visitors included) gets the
# same 404, so the page's existence is not told.

def _admin_session():
    from chalicelib.core.settings import get_settings
    session = current_session(bp.current_request)
    if session is None or not session.email_confirmed:
        return None
    return session if (session.email or '').lower() in get_settings().site_admin_emails else None


def _admin_page(session, status=200, values=None, errors=None, created=None):
    return page('teams/admin_new.html', status, **signed_in_context(session), values=values or {},
                errors=errors or {}, created=created)


@bp.route('/admin/teams/new', methods=['GET'])
def admin_new_team_page():
    session = _admin_session()
    if session is None:
        return refusal_page(NotFound(), **_context(current_session(bp.current_request)))
    return _admin_page(session)


@bp.route('/admin/teams/new', methods=['POST'], content_types=FORM)
def admin_new_team():
    """The same `teams.create_team` as `python -m chalicelib.cli create-team`."""
    from chalicelib.accounts import sessions
    from chalicelib.handlers.auth import forbidden_page
    from chalicelib.teams import team_page, teams
    session = _admin_session()
    if session is None:
        return refusal_page(NotFound(), **_context(current_session(bp.current_request)))
    fields = form_fields(bp.current_request)
    if not sessions.csrf_ok(session, fields.get('csrf_token')):
        return forbidden_page()
    try:
        created = teams.create_team(fields.get('name'), fields.get('organizer_email'),
                                    slug=(fields.get('slug') or '').strip() or None)
    except ValidationFailed as error:
        errors = dict(error.errors)
        if 'email' in errors:
            errors['organizer_email'] = errors.pop('email')
        return _admin_page(session, error.status, values=fields, errors=errors)
    return _admin_page(session, 201, created={'team': created.team, 'summary': created.summary(),
                                               'url': team_page.team_url(created.team)})
