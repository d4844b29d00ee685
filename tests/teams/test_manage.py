"""The organizer's circles page: the team's circles by group with signup counts, its facilitators
with their circles, links to the members page, its DynamoDB calls, and who may see it."""
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from chalicelib.circles import circles
from chalicelib.teams import invitations, teams
from tests.facilitators.test_facilitator_pages import Browser, account, get, learner, run_by
from tests.support import aws_calls
from tests.support.factories import local_today


def body(response):
    return response.body.decode()


def section(page, heading_id):
    return re.search(rf'id="{heading_id}">.*?</section>', page, re.S).group(0)


@pytest.fixture
def world():
    olu = account('Olu Organizer')
    team = teams.create_team('Chicago Public Library', olu.email).team
    fay, gus = account('Fay Facilitator'), account('Gus Garcia')
    team = invitations.set_join_link(team.team_id, olu.user_id, on=True)
    token = invitations.join_path(team).rsplit('/', 1)[1]
    for person in (fay, gus):
        invitations.join_with_link(token, person)
    today = local_today('America/Chicago')
    running = run_by(fay, name='Python at the library', team_id=team.team_id, first_date=today - timedelta(days=7))
    upcoming = run_by(gus, fay, name='Spanish for beginners', team_id=team.team_id,
                      first_date=today + timedelta(days=10))
    finished = run_by(gus, name='Knitting basics', team_id=team.team_id, first_date=today - timedelta(days=60),
                      weeks=2)
    draft = run_by(fay, name='A draft of the team', team_id=team.team_id, published=False)
    run_by(account('Ona Outsider'), name='Another team circle', team_id='t-other')
    learner(upcoming, 'Lea Learner')
    learner(upcoming, 'Ben Learner')
    invitations.invite(team.team_id, 'new@example.org', olu.user_id)
    return SimpleNamespace(olu=olu, fay=fay, gus=gus, team=team, running=running, upcoming=upcoming,
                           finished=finished, draft=draft, path=f'/organize/{team.team_id}/circles')


def test_the_teams_circles_by_group_drafts_included_with_signup_counts(client, world):
    page = body(get(client, world.path, Browser(world.olu)))
    assert '<h1>Chicago Public Library: circles and facilitators</h1>' in page
    assert 'Python at the library' in section(page, 'group-running')
    upcoming = section(page, 'group-upcoming')
    assert 'Spanish for beginners' in upcoming and '2 learners signed up' in upcoming
    assert 'Knitting basics' in section(page, 'group-finished')
    assert 'Another team circle' not in page
    assert 'A draft of the team' in section(page, 'group-drafts')
    assert f'href="/facilitate/circles/{world.upcoming.id}"' in page
    assert '4 circles · 3 members · 1 pending invitation' in page


def test_each_facilitator_is_listed_with_their_circles_and_the_members_page_is_linked(client, world):
    page = body(get(client, world.path, Browser(world.olu)))
    people = section(page, 'people-heading')
    fay = re.search(r'<h3>Fay Facilitator</h3>.*?</li>\s*</ul>', people, re.S).group(0)
    assert 'Python at the library' in fay and 'Spanish for beginners' in fay and 'Knitting' not in fay
    gus = re.search(r'<h3>Gus Garcia</h3>.*?</li>\s*</ul>', people, re.S).group(0)
    assert 'Spanish for beginners' in gus and 'Knitting basics' in gus
    assert people.index('Olu Organizer') < people.index('Fay Facilitator')       # organizers first
    assert f'href="/organize/{world.team.team_id}/members"' in page
    nav = re.search(r'<nav class="pages organize-nav".*?</nav>', page, re.S).group(0)
    assert 'aria-current="page"><strong>Circles</strong>' in nav and '/members">Members</a>' in nav


def test_a_removed_member_stays_listed_with_their_circles(client, world):
    teams.remove_member(world.team.team_id, world.olu.user_id, world.gus.user_id)
    page = body(get(client, world.path, Browser(world.olu)))
    people = section(page, 'people-heading')
    # Named as their circles name them (the first name).
    assert 'no longer in the team' in re.search(r'<h3>Gus</h3>.*?</li>\s*</ul>', people, re.S).group(0)


def test_the_page_costs_a_fixed_number_of_calls(client, world):
    browser = Browser(world.olu)
    aws_calls.reset()
    assert get(client, world.path, browser).status_code == 200
    few = aws_calls.dynamodb_calls()
    for n in range(6):
        run_by(world.fay, name=f'More {n}', team_id=world.team.team_id,
               first_date=local_today('America/Chicago') + timedelta(days=3))
    aws_calls.reset()
    assert get(client, world.path, browser).status_code == 200
    # Session + memberships and the users: BatchGetItems; the team's partition and by_team: Queries.
    assert aws_calls.dynamodb_calls() == few == {'BatchGetItem': 2, 'Query': 2}


def test_only_a_current_organizer_sees_it(client, world):
    assert get(client, world.path).status_code == 303
    assert get(client, world.path, Browser(world.fay)).status_code == 404      # a facilitator of the team
    outsider = account('Oz Other')
    teams.create_team('Elsewhere', outsider.email)
    assert get(client, world.path, Browser(outsider)).status_code == 404
    signed_in = Browser(world.fay)
    teams.change_role(world.team.team_id, world.olu.user_id, world.fay.user_id, teams.ORGANIZER)
    assert get(client, world.path, Browser(world.fay)).status_code == 200
    teams.change_role(world.team.team_id, world.olu.user_id, world.fay.user_id, teams.FACILITATOR)
    assert get(client, world.path, signed_in).status_code == 404                # demoted since signing in


def test_an_organizer_manages_any_circle_of_the_team(client, world):
    page = get(client, f'/facilitate/circles/{world.finished.id}', Browser(world.olu))
    assert page.status_code == 200 and 'Knitting basics' in body(page)
    assert circles.get_circle(world.finished.id).team_id == world.team.team_id
