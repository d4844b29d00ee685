"""The organizer's pages under `/organize/{team_id}/`: the week, the feedback, the team's circles.

Every route answers 404 (the same page as for a team that does not exist) to anyone who does
not organize the team now; anonymous visitors are sent to the login page. The members page
(`/organize/{team_id}/members`) is in `handlers/teams.py`. All three pages are GETs: their
forms (a week's date, the feedback filters) are GET forms and work without JavaScript.
"""
from chalice import Blueprint

from chalicelib.core.errors import Refusal, ValidationFailed
from chalicelib.handlers.auth import signed_in, signed_in_context
from chalicelib.handlers.web import page, refusal_page

bp = Blueprint(__name__)


def _params():
    return bp.current_request.query_params or {}


@bp.route('/organize/{team_id}', methods=['GET'])
@signed_in(bp)
def organize_week(session, team_id):
    from chalicelib.core.clock import utcnow
    from chalicelib.teams import week as weeks
    from chalicelib.teams.organizing import organized_team
    now = utcnow()
    try:
        team = organized_team(team_id, session.user_id)
    except Refusal as refusal:
        return refusal_page(refusal, session=session)
    asked = _params().get('week')
    errors, status = {}, 200
    try:
        monday = weeks.week_start(asked, now)
    except ValidationFailed as error:
        errors, status, monday = error.errors, error.status, weeks.week_start(None, now)
    week = weeks.team_week(team_id, monday, now)
    return page('organize/week.html', status, **signed_in_context(session), team=team, week=week,
                this_week=weeks.week_start(None, now), errors=errors, asked=asked if errors else monday.isoformat(),
                organize_page='week')


@bp.route('/organize/{team_id}/feedback', methods=['GET'])
@signed_in(bp)
def organize_feedback(session, team_id):
    from chalicelib.teams import team_feedback
    from chalicelib.teams.organizing import organized_team
    try:
        team = organized_team(team_id, session.user_id)
    except Refusal as refusal:
        return refusal_page(refusal, session=session)
    params = _params()
    errors, status = {}, 200
    try:
        filters = team_feedback.parse_filters(params)
        after = team_feedback.parse_cursor(params.get('after'))
    except ValidationFailed as error:
        errors, status, filters, after = error.errors, error.status, team_feedback.Filters(), None
    result = team_feedback.feedback_page(team_id, filters, after)
    return page('organize/feedback.html', status, **signed_in_context(session), team=team, result=result,
                filters=filters, choices=team_feedback.filter_choices(team_id), errors=errors,
                first_page=after is None, organize_page='feedback')


@bp.route('/organize/{team_id}/circles', methods=['GET'])
@signed_in(bp)
def organize_circles(session, team_id):
    from chalicelib.core.clock import utcnow
    from chalicelib.core.i18n import _
    from chalicelib.facilitators.dashboard import GROUPS
    from chalicelib.teams import manage
    try:
        result = manage.manage_page(team_id, session.user_id, utcnow())
    except Refusal as refusal:
        return refusal_page(refusal, session=session)
    return page('organize/circles.html', **signed_in_context(session), team=result.team, result=result,
                groups=[(name, _(label)) for name, label in GROUPS], organize_page='circles')
