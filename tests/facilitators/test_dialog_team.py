"""Which team a new circle belongs to (step 1 of the dialog).

The choice: a circle created by a member of a team belongs to a team. One team: that one, said
on the page, with nothing to choose. Several: the person chooses, and "no team" is not offered
(the issue: circles created by a team member belong to the team). No team: a personal circle.
The teams are the person's memberships read now, not the session's copy."""
from chalicelib.teams import invitations, teams
from tests.facilitators.test_dialog import COURSE, dee, make_team, page_of, start, stored  # noqa: F401
from tests.facilitators.test_facilitator_pages import account


def test_someone_in_no_team_creates_a_personal_circle(dee):
    page = page_of(dee.get('/facilitate/circles/new'))
    assert 'name="team_id"' not in page and 'part of your team' not in page
    assert stored(start(dee)).team_id is None


def test_a_member_of_one_team_creates_its_circle_without_choosing(dee):
    team_id = make_team('Chicago Public Library', [(dee.user, 'facilitator')])
    page = page_of(dee.get('/facilitate/circles/new'))
    assert 'This circle will be part of your team, Chicago Public Library.' in page and 'name="team_id"' not in page
    assert stored(start(dee, team_id='another-team')).team_id == team_id     # a posted team_id is ignored


def test_with_several_teams_no_team_is_not_a_choice(dee):
    make_team('Chicago Public Library', [(dee.user, 'facilitator')])
    evanston = make_team('Evanston Library', [(dee.user, 'organizer')])
    page = page_of(dee.get('/facilitate/circles/new'))
    options = page[page.index('<select id="team_id"'):page.index('</select>')]
    assert options.count('<option value="">') == 1 and 'Choose a team' in options      # a prompt, refused
    refused = dee.post('/facilitate/circles/new', {**COURSE, 'team_id': ''})
    assert refused.status_code == 400 and 'Please choose the team this circle belongs to.' in page_of(refused)
    assert stored(start(dee, team_id=evanston)).team_id == evanston


def test_a_team_of_which_one_is_not_a_member_cannot_be_chosen(dee):
    make_team('Chicago Public Library', [(dee.user, 'facilitator')])
    make_team('Evanston Library', [(dee.user, 'facilitator')])
    outsider = account('Olu Organizer')
    other = teams.create_team('Not Dee Team', outsider.email).team
    refused = dee.post('/facilitate/circles/new', {**COURSE, 'team_id': other.team_id})
    assert refused.status_code == 400 and 'id="team_id-error"' in page_of(refused)


def test_a_team_joined_after_signing_in_is_offered_at_once_and_a_team_left_is_not(dee):
    organizer = account('Olu Organizer')
    team = teams.create_team('Chicago Public Library', organizer.email).team
    team = invitations.set_join_link(team.team_id, organizer.user_id, on=True)
    invitations.join_with_link(invitations.join_path(team).rsplit('/', 1)[1], dee.user)
    assert 'part of your team, Chicago Public Library' in page_of(dee.get('/facilitate/circles/new'))
    circle_id = start(dee)
    teams.leave_team(team.team_id, dee.user.user_id)
    assert 'part of your team' not in page_of(dee.get('/facilitate/circles/new'))
    assert stored(start(dee)).team_id is None
    assert stored(circle_id).team_id == team.team_id           # the earlier circle stays in the team
