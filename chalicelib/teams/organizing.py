"""What every organizer page under `/organize/{team_id}/` starts with: the team, for a current organizer.

The role is read as stored now, never the session's copy: one BatchGetItem reads the team and the
caller's membership together, so the check costs no call beyond the team the page shows anyway.
Anyone who does not organize the team now (a facilitator of it, an organizer of another team, an
organizer removed or demoted since signing in) gets the same NotFound as for a team that does
not exist.

Feedback on these pages follows one rule (`visible_feedback`): an organizer reads a meeting's
feedback, attendance and rating included, only when its facilitator shared it with the team's
organizers. The feedback form promises exactly that ("otherwise only this circle's facilitators
can read or change it"). That unshared feedback exists is shown on the week page (the meeting
is not flagged as missing feedback), never what it says.
"""
from chalicelib.core.errors import NotFound
from chalicelib.core.i18n import _
from chalicelib.models import TableItem, Team, TeamMember

ORGANIZER = 'organizer'


def organized_team(team_id, user_id):
    """The Team if `user_id` organizes it now; NotFound otherwise. One BatchGetItem."""
    if not team_id or not user_id or len(team_id) > 64:
        raise NotFound(_('We could not find that team.'))
    found = list(TableItem.batch_get([Team.key(team_id), (f'TEAM#{team_id}', f'MEMBER#{user_id}')]))
    team = next((item for item in found if isinstance(item, Team)), None)
    member = next((item for item in found if isinstance(item, TeamMember)), None)
    if team is None or member is None or member.user_id != user_id or member.role != ORGANIZER:
        raise NotFound(_('We could not find that team.'))
    return team


def visible_feedback(feedback):
    """The feedback if an organizer may read it (shared with organizers), else None."""
    from chalicelib.facilitators.feedback import shared_with_organizers
    return feedback if feedback is not None and shared_with_organizers([feedback]) else None
