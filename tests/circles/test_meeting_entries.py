"""A team circle's meeting entries: on the team's days while published, tallying RSVPs."""
from types import SimpleNamespace

from chalicelib.circles import circles, meeting_entries
from chalicelib.facilitators import circle_admin, feedback
from chalicelib.learners import rsvp
from chalicelib.learners.signup import sign_up
from chalicelib.models import MeetingEntry, MeetingFeedback, Signup
from chalicelib.models.meeting_entry import team_day_pk
from chalicelib.reminders.sync import sync_reminders
from tests.support import aws_calls
from tests.support.factories import make_circle


def team_days(team_id, prefix='M#'):
    return list(MeetingEntry.by_team_day.query(team_day_pk(team_id), MeetingEntry.td_sk.startswith(prefix)))


def team_circle(**fields):
    circle = make_circle(team_id='t-1', **fields)
    sync_reminders(circle)
    return circle


def answer(circle, signup, meeting, said):
    page = rsvp._open(circle.id, signup.signup_id, meeting.meeting_id, None)
    return rsvp.record_answer(page, said)


def learner(circle, email):
    signup, _, _ = sign_up(circle.id, {'name': 'Grace Hopper', 'email': email, 'consent': 'true'})
    return signup


def entry(circle, meeting):
    return MeetingEntry.get(*MeetingEntry.key(circle.id, meeting.meeting_id))


def test_a_published_team_circle_puts_each_meeting_on_the_teams_days_in_local_date_order():
    circle = team_circle(weeks=3, name='Data Basics')
    found = team_days('t-1')
    assert [e.local_date for e in found] == [m.local_date for m in circle.meetings]
    assert {e.circle_name for e in found} == {'Data Basics'}
    assert [(e.number, e.of) for e in found] == [(1, 3), (2, 3), (3, 3)]
    assert team_days('t-2') == []


def test_circles_outside_a_team_and_drafts_are_on_no_teams_days():
    plain = make_circle()
    sync_reminders(plain)
    assert meeting_entries.entries_of(plain.id) == []
    draft = team_circle(published=False)
    assert team_days('t-1') == [] and len(meeting_entries.entries_of(draft.id)) == 6


def test_a_second_sync_of_an_unchanged_circle_writes_nothing_and_a_rename_rewrites_every_entry():
    circle = team_circle(weeks=2)
    assert meeting_entries.sync_entries(circle) == 0
    circle = circles.get_circle(circle.id)
    circle.name = 'Renamed'
    circle_admin.save(circle)
    assert {e.circle_name for e in team_days('t-1')} == {'Renamed'}


def test_unpublishing_takes_the_meetings_off_the_teams_days():
    circle = team_circle(weeks=2)
    circle = circles.get_circle(circle.id)
    circle_admin.save(circle, messages=circle_admin.unpublish(circle))
    assert team_days('t-1') == []


def test_answers_are_tallied_once_and_a_changed_answer_moves_between_yes_and_no():
    circle = team_circle(weeks=2)
    first = circle.meetings[0]
    ann, bob = learner(circle, 'ann@example.org'), learner(circle, 'bob@example.org')
    answer(circle, ann, first, 'yes')
    answer(circle, bob, first, 'yes')
    answer(circle, bob, first, 'yes')
    assert (entry(circle, first).yes_count, entry(circle, first).no_count) == (2, 0)
    answer(circle, bob, first, 'no')
    assert entry(circle, first).yes == {ann.signup_id} and entry(circle, first).no == {bob.signup_id}


def test_moving_a_meeting_empties_its_tally_and_moves_it_on_the_teams_days():
    circle = team_circle(weeks=2)
    first = circle.meetings[0]
    answer(circle, learner(circle, 'ann@example.org'), first, 'yes')
    circle = circles.get_circle(circle.id)
    moved = circle_admin.move_meeting(circle, first.meeting_id, {'date': first.local_date, 'time': '19:30'})
    circle_admin.save(circle)
    found = entry(circle, moved)
    assert found.yes_count == 0 and found.local_time == '19:30' and found.sequence == 1
    assert found.td_sk.startswith(f'M#{first.local_date}#19:30#')


def test_an_answer_to_a_circle_whose_entry_is_missing_is_kept_without_a_tally():
    circle = make_circle(team_id='t-1')        # saved, but its entries were never written
    ann = learner(circle, 'ann@example.org')
    assert answer(circle, ann, circle.meetings[0], 'yes')
    assert rsvp._open(circle.id, ann.signup_id, circle.meetings[0].meeting_id, None).answer == 'yes'


def test_feedback_and_signups_of_a_team_circle_are_on_the_teams_days():
    circle = team_circle(weeks=3, starts_in_days=-8)
    ann = learner(circle, 'ann@example.org')
    assert [s.signup_id for s in Signup.by_team_day.query(team_day_pk('t-1'), Signup.td_sk.startswith('S#'))] \
        == [ann.signup_id]
    met = circle.meetings[0]
    ws = SimpleNamespace(circle=circle, of_kind=lambda kind: [])
    session = SimpleNamespace(user_id='u-ada', name='Ada')
    form = feedback.validate({'attendance': '4', 'rating': '5', 'reflection': 'Good start.'})
    feedback.record(ws, session, met.meeting_id, form)
    found = list(MeetingFeedback.by_team_day.query(team_day_pk('t-1'), MeetingFeedback.td_sk.startswith('F#')))
    assert [(f.meeting_id, f.td_sk.split('#')[1]) for f in found] == [(met.meeting_id, met.local_date)]


def test_the_team_days_of_a_week_are_one_query_whatever_the_number_of_circles():
    for n in range(5):
        team_circle(weeks=1, name=f'Circle {n}')
    aws_calls.reset()
    assert len(team_days('t-1')) == 5
    assert aws_calls.dynamodb_calls() == {'Query': 1}


def test_a_learner_who_withdraws_leaves_the_tally_of_meetings_to_come():
    from chalicelib.learners.signup import withdraw
    circle = team_circle(weeks=2)
    first, second = circle.meetings
    ann, bob = learner(circle, 'ann@example.org'), learner(circle, 'bob@example.org')
    answer(circle, ann, first, 'yes')
    answer(circle, ann, second, 'no')
    answer(circle, bob, first, 'yes')
    withdraw(Signup.get(*Signup.key(circle.id, ann.signup_id)))
    assert entry(circle, first).yes == {bob.signup_id}
    assert not entry(circle, second).no
