"""The organizer's week page: a team's meetings of one week by local day, RSVP tallies, feedback as
shared, the "No feedback yet" flag, week navigation, who may see it, and its fixed DynamoDB cost."""
import re
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from chalicelib.circles import circles
from chalicelib.facilitators import circle_admin, feedback
from chalicelib.learners import rsvp
from chalicelib.models import TeamMember
from chalicelib.reminders.sync import sync_reminders
from chalicelib.teams import week as weeks
from chalicelib.teams.organizing import organized_team
from tests.facilitators.test_facilitator_pages import Browser, account, get, learner, organizer_of, run_by
from tests.support import aws_calls
from tests.support.factories import local_today

TEAM = 't-week'
AUCKLAND = dict(city='Auckland', region='Auckland', country='New Zealand', latitude=-36.85, longitude=174.76,
                timezone_name='Pacific/Auckland')


def team_circle(facilitator, name, first_date, weeks=3, team_id=TEAM, **fields):
    circle = run_by(facilitator, name=name, team_id=team_id, first_date=first_date, weeks=weeks, **fields)
    sync_reminders(circle)
    return circle


def give_feedback(circle, meeting, by, shared, rating=4, attendance=7, reflection='They paired up well.'):
    ws = SimpleNamespace(circle=circle, of_kind=lambda kind: [])
    form = feedback.validate({'attendance': str(attendance), 'rating': str(rating), 'reflection': reflection,
                              'share_with_organizers': 'on' if shared else ''})
    feedback.record(ws, SimpleNamespace(user_id=by.user_id, name=by.name), meeting.meeting_id, form)


def answer(signup, meeting, said):
    token = rsvp.rsvp_url(signup, meeting).rsplit('/', 1)[1]
    rsvp.record_answer(rsvp.open_rsvp(token), said)


def monday_of(day):
    return day - timedelta(days=day.weekday())


def body(response):
    return response.body.decode()


@pytest.fixture
def world():
    olu = organizer_of(TEAM)
    fay = account('Fay Facilitator')
    today = local_today('America/Chicago')
    # A circle that met last week (and meets this week and next), one that starts next week.
    running = team_circle(fay, 'Python at the library', today - timedelta(days=7))
    later = team_circle(fay, 'Spanish for beginners', today + timedelta(days=7))
    return SimpleNamespace(olu=olu, fay=fay, running=running, later=later, today=today)


def test_the_week_lists_each_meeting_of_the_team_on_its_local_day_with_facts_and_rsvps(client, world):
    lea, ben = learner(world.running, 'Lea Learner'), learner(world.running, 'Ben Learner')
    this_week = world.running.meetings[1]
    answer(lea, this_week, 'yes')
    answer(ben, this_week, 'no')
    page = body(get(client, f'/organize/{TEAM}?week={this_week.local_date}', Browser(world.olu)))
    assert '<h1>Chicago Public Library: the week of' in page
    day = re.search(rf'id="day-{this_week.local_date}">.*?</section>', page, re.S).group(0)
    assert 'Python at the library' in day and f'href="/facilitate/circles/{world.running.id}"' in day
    assert '18:00 C' in day and 'meeting 2 of 3' in day and 'Facilitated by Fay' in day
    assert 'RSVPs: 1 coming, 1 not coming' in day
    assert 'Spanish for beginners' not in page          # it starts next week


def test_a_week_is_monday_to_sunday_of_each_circles_own_dates_and_any_day_picks_it(world):
    monday = monday_of(date(2030, 3, 6))
    # Sunday 23:30 in Auckland is Sunday morning UTC; it is on the Sunday of the week there.
    sunday = team_circle(world.fay, 'Late in Auckland', monday + timedelta(days=6), weeks=1, meeting_time='23:30',
                         place=AUCKLAND)
    team_circle(world.fay, 'The Monday after', monday + timedelta(days=7), weeks=1)
    for any_day in range(7):
        assert weeks.week_start((monday + timedelta(days=any_day)).isoformat(), None) == monday
    week = weeks.team_week(TEAM, monday, now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert [(d.day.weekday(), [m.entry.circle_name for m in d.meetings]) for d in week.days if d.meetings] == \
        [(6, ['Late in Auckland'])]
    assert week.days[6].meetings[0].local_clock == '23:30 NZDT'
    assert sunday.meetings[0].starts_at.weekday() == 6


def test_the_default_week_is_this_week_in_utc_and_a_bad_date_is_refused_in_place(client, world):
    now = datetime.now(timezone.utc)
    page = get(client, f'/organize/{TEAM}', Browser(world.olu))
    assert page.status_code == 200
    assert f'value="{monday_of(now.date()).isoformat()}"' in body(page)
    bad = get(client, f'/organize/{TEAM}?week=next-tuesday', Browser(world.olu))
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in body(bad) and 'YYYY-MM-DD' in body(bad) and 'value="next-tuesday"' in body(bad)


def test_previous_and_next_links_and_the_date_picker_form(client, world):
    monday = monday_of(date.fromisoformat(world.later.meetings[0].local_date))
    page = body(get(client, f'/organize/{TEAM}?week={(monday + timedelta(days=3)).isoformat()}', Browser(world.olu)))
    assert f'href="?week={(monday - timedelta(days=7)).isoformat()}" rel="prev"' in page
    assert f'href="?week={(monday + timedelta(days=7)).isoformat()}" rel="next"' in page
    assert f'<form method="get" action="/organize/{TEAM}"' in page
    assert '<label for="week">Show the week of</label>' in page and 'type="date"' in page
    assert 'Spanish for beginners' in page


def test_past_meetings_show_shared_feedback_say_that_private_feedback_exists_and_flag_none(client, world):
    other = team_circle(world.fay, 'Data basics', date.fromisoformat(world.running.meetings[0].local_date))
    quiet = team_circle(world.fay, 'Quiet circle', date.fromisoformat(world.running.meetings[0].local_date))
    give_feedback(world.running, world.running.meetings[0], world.fay, shared=True, rating=5, attendance=9,
                  reflection='Everyone finished the first chapter.')
    give_feedback(other, other.meetings[0], world.fay, shared=False, rating=1, attendance=2,
                  reflection='Secret: the room was cold.')
    page = body(get(client, f'/organize/{TEAM}?week={world.running.meetings[0].local_date}', Browser(world.olu)))
    assert '9 came' in page and 'rated 5 of 5' in page and 'Everyone finished the first chapter.' in page
    assert 'Secret' not in page and '2 came' not in page and 'rated 1 of 5' not in page
    assert "Feedback given, kept for the circle's facilitators." in page
    quiet_card = re.search(r'<li class="card">\s*<h3><a[^>]*>Quiet circle</a>.*?</li>', page, re.S).group(0)
    assert 'No feedback yet' in quiet_card
    assert page.count('No feedback yet') == 1 and '1 without feedback yet' in page


def test_a_meeting_that_has_not_ended_is_not_flagged_and_a_cancelled_one_says_so(client, world):
    circle = circles.get_circle(world.later.id)
    circle_admin.cancel_meeting(circle, circle.meetings[1].meeting_id)
    circle_admin.save(circle)
    week = weeks.team_week(TEAM, monday_of(date.fromisoformat(circle.meetings[1].local_date)))
    found = [m for d in week.days for m in d.meetings if m.entry.circle_id == circle.id]
    assert [(m.entry.cancelled, m.feedback_state) for m in found] == [(True, weeks.NOT_YET)]
    page = body(get(client, f'/organize/{TEAM}?week={circle.meetings[1].local_date}', Browser(world.olu)))
    assert '<span class="badge">cancelled</span>' in page and 'RSVPs' not in page.split('Spanish')[1]


def test_only_a_current_organizer_of_the_team_sees_it(client, world):
    path = f'/organize/{TEAM}'
    anonymous = get(client, path)
    assert anonymous.status_code == 303 and anonymous.headers['Location'] == f'/login?next={path}'
    assert get(client, path, Browser(world.fay)).status_code == 404
    TeamMember(f'TEAM#{TEAM}', f'MEMBER#{world.fay.user_id}', team_id=TEAM, user_id=world.fay.user_id,
               role='facilitator', user_pk=f'USER#{world.fay.user_id}', user_sk=f'TEAM#{TEAM}').save()
    assert get(client, path, Browser(world.fay)).status_code == 404         # a facilitator of the team
    assert get(client, path, Browser(organizer_of('t-other', 'Oz Other'))).status_code == 404
    assert get(client, '/organize/no-such-team', Browser(world.olu)).status_code == 404
    signed_in = Browser(world.olu)
    assert get(client, path, signed_in).status_code == 200
    TeamMember.get(f'TEAM#{TEAM}', f'MEMBER#{world.olu.user_id}').delete()
    assert get(client, path, signed_in).status_code == 404                  # revoked since signing in


def _calls_of_a_week_page(client, browser, day):
    aws_calls.reset()
    response = get(client, f'/organize/{TEAM}?week={day}', browser)
    assert response.status_code == 200
    return aws_calls.dynamodb_calls()


def test_the_week_costs_the_same_dynamodb_calls_for_2_and_for_12_circles(client, world):
    first = world.running.meetings[0].local_date
    browser = Browser(world.olu)
    give_feedback(world.running, world.running.meetings[0], world.fay, shared=True)
    two = _calls_of_a_week_page(client, browser, first)
    for n in range(10):
        circle = team_circle(account(f'Fac {n}'), f'Circle {n}', date.fromisoformat(first), weeks=2)
        give_feedback(circle, circle.meetings[0], world.fay, shared=n % 2 == 0)
    twelve = _calls_of_a_week_page(client, browser, first)
    # The team has 2 circles, then 12; all but the one starting next week meet that week.
    assert body(get(client, f'/organize/{TEAM}?week={first}', browser)).count('<li class="card') == 11
    # The session with its memberships, the team with the caller's membership, M# and F#.
    assert two == twelve == {'BatchGetItem': 2, 'Query': 2}


def test_organized_team_is_one_batch_get_and_refuses_a_facilitator(world):
    aws_calls.reset()
    assert organized_team(TEAM, world.olu.user_id).name == 'Chicago Public Library'
    assert aws_calls.dynamodb_calls() == {'BatchGetItem': 1}
    from chalicelib.core.errors import NotFound
    with pytest.raises(NotFound):
        organized_team(TEAM, world.fay.user_id)


def test_the_dashboard_links_an_organizer_to_their_teams_pages_and_a_facilitator_to_the_team_page(client, world):
    from chalicelib.models import Team
    Team(*Team.key(TEAM)).update(actions=[Team.slug.set('chicago-public-library')])
    TeamMember(f'TEAM#{TEAM}', f'MEMBER#{world.fay.user_id}', team_id=TEAM, user_id=world.fay.user_id,
               role='facilitator', user_pk=f'USER#{world.fay.user_id}', user_sk=f'TEAM#{TEAM}').save()
    page = body(get(client, '/dashboard', Browser(world.olu)))
    assert 'You organize this team.' in page and '<h3>Chicago Public Library</h3>' in page
    for path in ('', '/feedback', '/circles', '/members'):
        assert f'href="/organize/{TEAM}{path}"' in page
    facilitator = body(get(client, '/dashboard', Browser(world.fay)))
    assert '/organize/' not in facilitator and 'You facilitate in this team.' in facilitator
    assert 'href="/teams/chicago-public-library"' in facilitator
    assert 'href="/teams/chicago-public-library/leave"' in facilitator
