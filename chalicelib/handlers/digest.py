"""The Monday digest's web version and its one-click unsubscribe.

`/organize/{team_id}/digest/{week}`: the digest of the week starting on Monday `week`, for a
signed-in current member of the team (organizer or facilitator, each seeing what their role may
read); 404 for anyone else, as for a team that does not exist.

`/digest/unsubscribe/{token}`: the signed link of one member's digest of one team. GET only
asks (mail scanners follow links); the POST unsubscribes (RFC 8058: the body is
`List-Unsubscribe=One-Click`, no session, no CSRF token: the signed token is the credential),
or with `digest=on` (the page's button) subscribes again.
"""
from datetime import timedelta

from chalice import Blueprint

from chalicelib.core.errors import NotFound, Refusal
from chalicelib.core.i18n import _
from chalicelib.handlers.auth import signed_in, signed_in_context
from chalicelib.handlers.web import form_fields, page, refusal_page

bp = Blueprint(__name__)
ONE_CLICK = ['application/x-www-form-urlencoded', 'multipart/form-data']     # = digest_job.ONE_CLICK (RFC 8058)
NO_STORE = {'Cache-Control': 'no-store'}


@bp.route('/organize/{team_id}/digest/{week}', methods=['GET'])
@signed_in(bp)
def team_digest(session, team_id, week):
    from chalicelib.core.clock import utcnow
    from chalicelib.teams import digest
    from chalicelib.teams.digest_job import web_digest
    monday = digest.parse_week(week)
    try:
        if monday is None:
            raise NotFound(_('There is no such week: a digest covers a week from Monday, as in /digest/2026-11-23.'))
        view, sent = web_digest(team_id, monday, session.user_id)
    except Refusal as refusal:
        return refusal_page(refusal, **signed_in_context(session))
    following = monday + timedelta(days=7)
    response = page('digest.html', **signed_in_context(session), digest=view, sent=sent, base_url='',
                    previous_week=(monday - timedelta(days=7)).isoformat(),
                    next_week=following.isoformat() if following <= digest.week_of(utcnow()) else None)
    response.headers.update(NO_STORE)
    return response


def _unsubscribe_page(token, stopped=None, status=200):
    from chalicelib.core.links import BadLink
    from chalicelib.teams.digest_job import unsubscribe_status
    try:
        team, member = unsubscribe_status(token)
    except BadLink:
        return _private(page('link_invalid.html', 400))
    if team is None:
        return _private(page('link_invalid.html', 400))
    if stopped is None:
        stopped = member is None or member.digest_opted_out_at is not None
    return _private(page('digest_unsubscribe.html', status, team=team, member=member, stopped=stopped, token=token))


def _private(response):
    response.headers.update(NO_STORE)
    return response


@bp.route('/digest/unsubscribe/{token}', methods=['GET'])
def digest_unsubscribe_page(token):
    """Only asks: a GET never unsubscribes anyone."""
    return _unsubscribe_page(token)


@bp.route('/digest/unsubscribe/{token}', methods=['POST'], content_types=ONE_CLICK)
def digest_unsubscribe(token):
    """RFC 8058 one-click (or the page's button): the write comes first, before anything is read."""
    from chalicelib.core.links import BadLink
    from chalicelib.teams.digest_job import set_digest
    wanted = form_fields(bp.current_request).get('digest') == 'on'
    try:
        set_digest(token, wanted)
    except BadLink:
        return _private(page('link_invalid.html', 400))
    return _unsubscribe_page(token, stopped=not wanted)
