"""Team pages: a team's public page, answering a team invitation, the join link, leaving a team,
and the organizer's members page. The widget is `team_widget`, creating a team `site_admin`.

`/teams/{slug}` is public. `/teams/invitations/{token}` and `/teams/join/{token}`
show their team to whoever holds the link; accepting or joining needs a session (the login
page's `next` brings the person back), declining only the link. `/organize/{team_id}/members`
and its forms answer 404 to anyone who does not organize the team now (the membership is read
on every request, not the session's copy).
"""
from urllib.parse import quote

from chalice import Blueprint

from chalicelib.core.errors import NotFound, Refusal, ValidationFailed
from chalicelib.core.i18n import N_, _
from chalicelib.handlers.auth import anonymous_form, current_session, signed_in, signed_in_context
from chalicelib.handlers.web import form_fields, page, redirect, refusal_page

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']

DONE = {     # translated where shown (`_members_page`)
    'invited': N_('The invitation is on its way; the link works for 7 days.'),
    'revoked': N_('The invitation is revoked: its link no longer works.'),
    'resent': N_('The invitation is sent again, with a new link that works for 7 days.'),
    'role': N_('The role is changed.'),
    'removed': N_('They no longer belong to the team. Their circles stay in the team: you still see and manage them.'),
    'join-on': N_('The join link is on: anyone signed in who opens it joins as a facilitator.'),
    'join-off': N_('The join link is off: it no longer works.'),
    'join-rotated': N_('The join link is new: the old one no longer works.'),
    'joined': N_('Welcome to the team.'),
}


def _context(session):
    return signed_in_context(session) if session else {'session': None}


# --- invitations --------------------------------------------------------------------------

def _invitation_page(form_token, token, status=200, error=None, answered=None):
    from chalicelib.teams import invitations
    session = current_session(bp.current_request)
    try:
        team, invitation = invitations.read_invitation(token)
    except Refusal as refusal:
        return refusal_page(refusal, **_context(session))
    return page('teams/invitation.html', status, **_context(session), form_token=form_token, team=team,
                invitation=invitation, state=invitations.state_of(invitation), token=token, error=error,
                answered=answered, login_url=f'/login?next={quote(f"/teams/invitations/{token}")}',
                register_url=f'/register?next={quote(f"/teams/invitations/{token}")}')


@bp.route('/teams/invitations/{token}', methods=['GET'])
@anonymous_form(bp)
def team_invitation(form_token, token):
    return _invitation_page(form_token, token)


@bp.route('/teams/invitations/{token}', methods=['POST'], content_types=FORM)
@signed_in(bp)
def team_accept_invitation(session, token):
    from chalicelib.accounts import accounts
    from chalicelib.teams import invitations
    try:
        team, member = invitations.accept(token, accounts.get_user(session.user_id))
    except invitations.InvitationRefused as refusal:
        return _invitation_page(None, token, refusal.status, error=refusal.message)
    except Refusal as refusal:
        return refusal_page(refusal, **signed_in_context(session))
    return _joined(session, team, member)


@bp.route('/teams/invitations/{token}/decline', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def team_decline_invitation(form_token, token):
    from chalicelib.teams import invitations
    try:
        invitations.decline(token)
    except invitations.InvitationRefused as refusal:
        return _invitation_page(form_token, token, refusal.status, error=refusal.message)
    except Refusal as refusal:
        return refusal_page(refusal, **_context(current_session(bp.current_request)))
    return _invitation_page(form_token, token, answered='declined')


# --- the join link ----------------------------------------------------------------------------

def _join_page(token, status=200, error=None):
    from chalicelib.teams import invitations
    session = current_session(bp.current_request)
    try:
        team = invitations.read_join_link(token)
    except Refusal as refusal:
        return refusal_page(refusal, **_context(session))
    return page('teams/join.html', status, **_context(session), team=team, token=token, error=error,
                login_url=f'/login?next={quote(f"/teams/join/{token}")}')


@bp.route('/teams/join/{token}', methods=['GET'])
def team_join_page(token):
    return _join_page(token)


@bp.route('/teams/join/{token}', methods=['POST'], content_types=FORM)
@signed_in(bp)
def team_join(session, token):
    from chalicelib.accounts import accounts
    from chalicelib.teams import invitations
    try:
        team, member = invitations.join_with_link(token, accounts.get_user(session.user_id))
    except Refusal as refusal:
        return refusal_page(refusal, **signed_in_context(session))
    return _joined(session, team, member)


def _joined(session, team, member):
    """Where a new member lands; the browser's session cookie learns the team, so its role
    counts from the next request (see chalicelib.accounts.sessions)."""
    from chalicelib.accounts import sessions
    from chalicelib.teams.teams import ORGANIZER
    response = redirect(f'/organize/{team.team_id}/members?done=joined' if member.role == ORGANIZER
                        else '/dashboard')
    cookie = sessions.cookie_with_team(session, team.team_id)
    if cookie:
        response.headers['Set-Cookie'] = cookie
    return response


# --- the organizer's members page ---------------------------------------------------------

def _members_page(session, team_id, status=200, errors=None, values=None, problem=None):
    from chalicelib.teams import invitations, team_page, teams
    try:
        teams.require_organizer(team_id, session.user_id)
    except Refusal as refusal:
        return refusal_page(refusal, session=session)
    partition = teams.team_partition(team_id)
    done = (bp.current_request.query_params or {}).get('done') if status == 200 else None
    rows = [{'invitation': i, 'state': invitations.state_of(i)} for i in partition.invitations]
    return page('teams/members.html', status, **signed_in_context(session), team=partition.team,
                members=teams.member_rows(partition.members), invitations=rows,
                join_url=invitations.join_url(partition.team), notice=_(DONE[done]) if done in DONE else None,
                problem=problem,
                snippet=team_page.embed_snippet(partition.team), team_url=team_page.team_url(partition.team),
                errors=errors or {}, values=values or {})


def _organizer_form(session, team_id, act, done):
    """Run `act(fields)` for an organizer's form; the page again with the refusal, or a redirect."""
    fields = form_fields(bp.current_request)
    try:
        act(fields)
    except ValidationFailed as error:
        return _members_page(session, team_id, error.status, errors=error.errors, values=fields,
                             problem=error.message)
    except Refusal as refusal:
        if refusal.status != 404:
            return _members_page(session, team_id, refusal.status, values=fields, problem=refusal.message)
        from chalicelib.teams import teams
        member = teams.membership(team_id, session.user_id)
        if member is None or member.role != teams.ORGANIZER:
            return refusal_page(refusal, session=session)
        # An organizer's form named a member or an invitation that is not (or no longer) there.
        return _members_page(session, team_id, 400, values=fields, problem=refusal.message)
    return redirect(f'/organize/{team_id}/members?done={done(fields) if callable(done) else done}')


@bp.route('/organize/{team_id}/members', methods=['GET'])
@signed_in(bp)
def organize_members(session, team_id):
    return _members_page(session, team_id)


@bp.route('/organize/{team_id}/invitations', methods=['POST'], content_types=FORM)
@signed_in(bp)
def organize_invite(session, team_id):
    from chalicelib.teams import invitations
    return _organizer_form(session, team_id, lambda f: invitations.invite(
        team_id, f.get('email'), session.user_id, role=f.get('role') or 'facilitator'), 'invited')


@bp.route('/organize/{team_id}/invitations/revoke', methods=['POST'], content_types=FORM)
@signed_in(bp)
def organize_revoke_invitation(session, team_id):
    from chalicelib.teams import invitations
    return _organizer_form(session, team_id, lambda f: invitations.revoke(team_id, f.get('email'), session.user_id),
                           'revoked')


@bp.route('/organize/{team_id}/invitations/resend', methods=['POST'], content_types=FORM)
@signed_in(bp)
def organize_resend_invitation(session, team_id):
    from chalicelib.teams import invitations
    return _organizer_form(session, team_id, lambda f: invitations.resend(team_id, f.get('email'), session.user_id),
                           'resent')


@bp.route('/organize/{team_id}/members/role', methods=['POST'], content_types=FORM)
@signed_in(bp)
def organize_change_role(session, team_id):
    from chalicelib.teams import teams
    return _organizer_form(session, team_id, lambda f: teams.change_role(
        team_id, session.user_id, f.get('user_id', ''), f.get('role')), 'role')


@bp.route('/organize/{team_id}/members/remove', methods=['POST'], content_types=FORM)
@signed_in(bp)
def organize_remove_member(session, team_id):
    from chalicelib.teams import teams
    return _organizer_form(session, team_id, lambda f: teams.remove_member(
        team_id, session.user_id, f.get('user_id', '')), 'removed')


JOIN_ACTIONS = {'on': 'join-on', 'off': 'join-off', 'rotate': 'join-rotated'}


@bp.route('/organize/{team_id}/join-link', methods=['POST'], content_types=FORM)
@signed_in(bp)
def organize_join_link(session, team_id):
    from chalicelib.teams import invitations

    def act(fields):
        action = fields.get('action')
        if action not in JOIN_ACTIONS:
            raise ValidationFailed({'action': [_('Choose on, off or rotate.')]})
        if action == 'rotate':
            invitations.rotate_join_link(team_id, session.user_id)
        else:
            invitations.set_join_link(team_id, session.user_id, on=action == 'on')
    return _organizer_form(session, team_id, act, lambda fields: JOIN_ACTIONS[fields['action']])


# --- a team's public page, and leaving the team ------------------------------------------

@bp.route('/teams/{slug}', methods=['GET'])
def team_public_page(slug):
    """The team's introduction and its upcoming and running circles (two GetItems for the team,
    the circles from the in-memory catalog). A member also sees how to leave the team."""
    from chalicelib.teams import team_page
    session = current_session(bp.current_request)
    try:
        shown = team_page.team_page(slug)
    except Refusal as refusal:
        return refusal_page(refusal, **_context(session))
    member = bool(session and shown.team.team_id in (getattr(session, 'team_ids', None) or []))
    return page('teams/page.html', **_context(session), team=shown.team, circles=shown.circles, member=member,
                status_words=team_page.status_words())


def _leave_page(session, slug, status=200, error=None):
    from chalicelib.teams import team_page, teams
    try:
        team = team_page.team_or_404(slug)
    except Refusal as refusal:
        return refusal_page(refusal, **signed_in_context(session)), None
    member = teams.membership(team.team_id, session.user_id)
    if member is None:
        return refusal_page(NotFound(_('You are not a member of this team.')), **signed_in_context(session)), None
    return page('teams/leave.html', status, **signed_in_context(session), team=team, member=member,
                error=error, left=None, kept=_(teams.KEPT_CIRCLES)), team


@bp.route('/teams/{slug}/leave', methods=['GET'])
@signed_in(bp)
def team_leave_page(session, slug):
    """Asks first: only the button (a POST) takes the member out of the team."""
    return _leave_page(session, slug)[0]


@bp.route('/teams/{slug}/leave', methods=['POST'], content_types=FORM)
@signed_in(bp)
def team_leave(session, slug):
    from chalicelib.teams import teams
    response, team = _leave_page(session, slug)
    if team is None:
        return response
    try:
        left = teams.leave_team(team.team_id, session.user_id)
    except teams.LastOrganizer as refusal:
        return _leave_page(session, slug, refusal.status, error=refusal.message)[0]
    return page('teams/leave.html', **signed_in_context(session), team=team, member=left.membership,
                error=None, left=left.message, kept=_(teams.KEPT_CIRCLES))
