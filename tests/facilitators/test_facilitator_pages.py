"""The facilitator's dashboard and circle pages: grouping, signups and their export, editing,
meetings, signup open/closed, unpublishing, co-facilitators, and the DynamoDB calls they cost."""
import csv
import functools
import io
import re
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest

from chalicelib.accounts import accounts
from chalicelib.facilitators import circle_admin
from chalicelib.circles import circles
from chalicelib.facilitators import dashboard
from chalicelib.facilitators import access as facilitation
from chalicelib.accounts import sessions
from chalicelib.core.formatting import meeting_when_short
from chalicelib.core.ids import new_id
from chalicelib.models import Circle, CircleFacilitator, EmailClaim, Team, TeamMember, User
from chalicelib.learners.signup import sign_up, withdraw
from tests.support import aws_calls
from tests.support.factories import local_today, make_circle

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}
PASSWORD = 'a long enough password'


# --- small worlds ------------------------------------------------------------------

@functools.cache
def _password_hash():
    return accounts.hash_password(PASSWORD)


def account(name='Dee Facilitator', email=None, confirmed=True):
    """An account written directly (hashing once per process keeps the role matrix fast)."""
    user_id = new_id()
    email = email or f'{user_id}@example.org'
    now = circles.utcnow()
    user = User(*User.key(user_id), user_id=user_id, name=name, first_name=name.split()[0], email=email,
                password_hash=_password_hash(), email_confirmed=confirmed, created_at=now, updated_at=now)
    user.save()
    EmailClaim(*EmailClaim.key(email), user_id=user_id, created_at=now).save()
    return user


def organizer_of(team_id, name='Olu Organizer'):
    user = account(name)
    Team(*Team.key(team_id), team_id=team_id, name='Chicago Public Library').save()
    TeamMember(f'TEAM#{team_id}', f'MEMBER#{user.user_id}', team_id=team_id, user_id=user.user_id,
               role='organizer', user_pk=f'USER#{user.user_id}', user_sk=f'TEAM#{team_id}').save()
    return user


class Browser:
    """A signed-in user's cookie and CSRF token."""
    def __init__(self, user):
        session, set_cookie = sessions.start(user)
        self.user = user
        self.cookie = set_cookie.split(';')[0]
        self.csrf = sessions.csrf_token(session)


def run_by(*users, **fields):
    """A circle facilitated by `users` (the first created it), with their link items."""
    circle = make_circle(facilitator_ids=[u.user_id for u in users],
                         facilitator_names=[u.first_name for u in users],
                         facilitator_emails=[u.email for u in users], **fields)
    for n, user in enumerate(users):
        facilitation.facilitator_link(circle, user, 'facilitator' if n == 0 else 'co-facilitator').save()
    return circle


def learner(circle, name='Grace Hopper', email=None, **answers):
    data = {'name': name, 'email': email or f'{new_id()}@example.org', 'consent': 'true', 'goals': 'Learn',
            **answers}
    signup, _, _ = sign_up(circle.id, data)
    return signup


def get(client, path, browser=None):
    headers = {'Cookie': browser.cookie} if browser else {}
    return client.http.get(path, headers=headers)


def post(client, path, body=None, browser=None, csrf=True):
    headers = dict(FORM, **({'Cookie': browser.cookie} if browser else {}))
    body = dict(body or {})
    if browser and csrf:
        body['csrf_token'] = browser.csrf
    return client.http.post(path, headers=headers, body=urlencode(body))


def fresh(circle):
    return circles.get_circle(circle.id)


def text(response):
    return response.body.decode()


# --- dashboard ---------------------------------------------------------------------

def test_dashboard_groups_my_circles_with_next_meeting_and_signups(client):
    dee = account()
    today = local_today('America/Chicago')
    draft = run_by(dee, name='Draft circle', published=False)
    upcoming = run_by(dee, name='Upcoming circle', starts_in_days=10)
    running = run_by(dee, name='Running circle', first_date=today - timedelta(days=14), weeks=6)
    finished = run_by(dee, name='Finished circle', first_date=today - timedelta(days=70), weeks=4)
    run_by(account('Somebody Else'), name='Not mine')
    learner(upcoming), learner(upcoming)
    browser = Browser(dee)
    aws_calls.reset()
    response = get(client, '/dashboard', browser)
    calls = aws_calls.dynamodb_calls()
    page = text(response)
    assert response.status_code == 200
    assert calls.get('Query', 0) <= 2 and calls == {'GetItem': 1, 'Query': 1, 'BatchGetItem': 1}, calls
    headings = [page.index(h) for h in ('>Drafts', '>Upcoming', '>Running', '>Finished')]
    names = [page.index(c.name) for c in (draft, upcoming, running, finished)]
    assert headings == sorted(headings) and names == sorted(names)
    assert all(h < n for h, n in zip(headings, names)) and names[0] < headings[1]
    assert 'Not mine' not in page
    assert f'/facilitate/circles/{draft.id}/step/1' in page
    assert f'/facilitate/circles/{upcoming.id}"' in page
    assert '2 learners signed up' in page
    next_meeting = circles.next_meeting(upcoming, circles.utcnow())
    assert f'Next meeting: {meeting_when_short(next_meeting, "America/Chicago")}' in page


def test_dashboard_for_someone_without_circles(client):
    response = get(client, '/dashboard', Browser(account()))
    assert response.status_code == 200 and 'You do not run any learning circle yet' in text(response)


def test_organizers_also_see_their_teams_circles_within_two_queries(client):
    olu = organizer_of('t1')
    own = run_by(olu, name='My own circle')
    team_circle = run_by(account(), name='A team circle', team_id='t1')
    run_by(account(), name='Another team circle', team_id='t2')
    run_by(account(), name='A team draft', team_id='t1', published=False)
    browser = Browser(olu)
    aws_calls.reset()
    page = text(get(client, '/dashboard', browser))
    assert aws_calls.dynamodb_calls()['Query'] == 2
    assert own.name in page and team_circle.name in page
    assert "Your team's circles" in page and page.index(own.name) < page.index("Your team's circles") < page.index(team_circle.name)
    assert 'Another team circle' not in page and 'A team draft' not in page


AUCKLAND = dict(city='Auckland', region='Auckland', country='New Zealand', latitude=-36.85, longitude=174.76,
                timezone_name='Pacific/Auckland')


@pytest.mark.parametrize('now, group', [
    (datetime(2030, 3, 3, 10, 0, tzinfo=timezone.utc), 'upcoming'),    # 23:00 on March 3 in Auckland
    (datetime(2030, 3, 3, 20, 0, tzinfo=timezone.utc), 'running'),     # 09:00 on March 4 there: the day it meets
    (datetime(2030, 3, 4, 12, 0, tzinfo=timezone.utc), 'finished'),    # 01:00 on March 5 there
])
def test_groups_follow_the_circles_own_timezone(now, group):
    circle = make_circle(place=AUCKLAND, first_date=date(2030, 3, 4), meeting_time='09:00', weeks=1, save=False)
    assert dashboard.group_of(circle, now) == group


def test_a_published_circle_whose_meetings_are_all_cancelled_is_finished():
    circle = make_circle(save=False)
    for meeting in circle.meetings:
        meeting.cancelled = True
    assert dashboard.group_of(circle, circles.utcnow()) == 'finished'


# --- the circle's page -----------------------------------------------------------------

def test_circle_page_shows_learners_and_meetings_in_one_query(client):
    dee = account()
    circle = run_by(dee, signup_question='Which laptop do you have?')
    grace = learner(circle, 'Grace Hopper', 'grace@example.org', mobile='+1 312 555 0100', goals='Write a game',
                    support='A quiet corner', custom_answer='A Thinkpad')
    gone = learner(circle, 'Vanished Person', 'vanished@example.org', goals='Secret goal', custom_answer='x')
    withdraw(gone)
    browser = Browser(dee)
    aws_calls.reset()
    response = get(client, f'/facilitate/circles/{circle.id}', browser)
    calls = aws_calls.dynamodb_calls()
    page = text(response)
    assert response.status_code == 200
    assert calls == {'GetItem': 1, 'Query': 1}, calls
    for value in ('Grace Hopper', 'grace@example.org', '+13125550100', 'Write a game', 'A quiet corner',
                  'Which laptop do you have?', 'A Thinkpad'):
        assert value in page
    signed_up = circle_admin.local_datetime(grace.created_at, 'America/Chicago')
    assert signed_up in page
    assert 'Vanished' not in page and 'vanished@example.org' not in page and 'Secret goal' not in page
    assert '1 learner withdrew' in page
    assert page.count('No answer: 1') == len(circle.meetings)
    assert 'Learners (1)' in page


def test_rsvp_answers_are_counted_per_meeting_among_current_learners():
    items = [SimpleNamespace(sk='RSVP#m1#s1', answer='yes'), SimpleNamespace(sk='RSVP#m1#s2', answer='no'),
             SimpleNamespace(sk='RSVP#m2#s1', answer='no'), SimpleNamespace(sk='RSVP#m1#gone', answer='yes'),
             SimpleNamespace(sk='MESSAGE#x', answer='yes'), SimpleNamespace(sk='RSVP#m1#s3', answer='maybe')]
    answers = circle_admin.rsvp_answers(items)
    learners = ['s1', 's2', 's3']
    assert circle_admin.rsvp_counts('m1', learners, answers) == {'yes': 1, 'no': 1, 'no_answer': 1}
    assert circle_admin.rsvp_counts('m2', learners, answers) == {'yes': 0, 'no': 1, 'no_answer': 2}
    assert circle_admin.rsvp_counts('m3', learners, answers) == {'yes': 0, 'no': 0, 'no_answer': 3}


def test_signups_export_is_quoted_csv_that_cannot_run_formulas(client):
    dee = account()
    circle = run_by(dee, signup_question='Anything else?')
    learner(circle, '=HYPERLINK("http://evil.example","click")', 'eve@example.org',
            goals='+1 more, "quoted"\nand a new line', support='-2', custom_answer='@SUM(A1)')
    learner(circle, 'Ada Lovelace', 'ada@example.org', goals='Plain goals', custom_answer='Nothing')
    withdraw(learner(circle, 'Gone Away', 'gone@example.org', custom_answer='x'))
    response = get(client, f'/facilitate/circles/{circle.id}/signups.csv', Browser(dee))
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'text/csv; charset=utf-8'
    assert response.headers['Content-Disposition'] == f'attachment; filename="signups-{circle.id}.csv"'
    rows = list(csv.reader(io.StringIO(response.body.decode('utf-8-sig'))))
    assert rows[0] == ['Name', 'Email', 'Mobile', 'Goals', 'Support wanted', 'Anything else?', 'Signed up',
                       'Messages opt-in']
    by_email = {row[1]: row for row in rows[1:]}
    assert set(by_email) == {'eve@example.org', 'ada@example.org'}
    eve = by_email['eve@example.org']
    assert eve[0] == '\'=HYPERLINK("http://evil.example","click")'
    assert eve[3] == '\'+1 more, "quoted"\nand a new line'
    assert eve[4] == "'-2" and eve[5] == "'@SUM(A1)"
    assert by_email['ada@example.org'][:6] == ['Ada Lovelace', 'ada@example.org', '', 'Plain goals', '', 'Nothing']
    assert circle_admin.safe_cell('\tcmd') == "'\tcmd" and circle_admin.safe_cell(None) == ''


# --- editing ----------------------------------------------------------------------

def _edit_form(client, circle, browser):
    import re
    page = text(get(client, f'/facilitate/circles/{circle.id}/edit', browser))
    version = re.search(r'name="version" value="([^"]*)"', page).group(1)
    values = circle_admin.detail_values(fresh(circle))
    return {**values, 'version': version}


def test_editing_every_detail_of_a_published_circle(client):
    dee = account()
    circle = run_by(dee)
    browser = Browser(dee)
    form = _edit_form(client, circle, browser)
    form.update(name='Python, slowly', description='New words', course_title='Py4E', course_provider='P2PU',
                course_link='https://example.org/py4e', online='yes', online_link='https://meet.example.org/x',
                language='es', welcome_message='Bienvenidos', signup_question='Your laptop?', capacity='12',
                venue_details='Room 3')
    response = post(client, f'/facilitate/circles/{circle.id}/edit', form, browser)
    assert response.status_code == 303
    assert response.headers['Location'] == f'/facilitate/circles/{circle.id}?done=details'
    saved = fresh(circle)
    assert (saved.name, saved.description, saved.course.title, saved.course.provider, saved.course.link) == (
        'Python, slowly', 'New words', 'Py4E', 'P2PU', 'https://example.org/py4e')
    assert saved.online and saved.online_link == 'https://meet.example.org/x' and saved.geohash is None
    assert (saved.language, saved.welcome_message, saved.signup_question, saved.capacity) == (
        'es', 'Bienvenidos', 'Your laptop?', 12)
    listed = client.http.get(f'/api/learningcircles/{circle.id}').json_body
    assert listed['name'] == 'Python, slowly' and listed['signup_limit'] == 12
    assert 'Your changes are saved.' in text(get(client, response.headers['Location'], browser))


def test_edit_errors_are_shown_in_place_and_input_is_kept(client):
    dee = account()
    circle = run_by(dee)
    learner(circle), learner(circle), learner(circle)
    browser = Browser(dee)
    form = _edit_form(client, circle, browser)
    form.update(name='', description='Kept text', capacity='2', course_link='javascript:alert(1)',
                online='yes', online_link='')
    response = post(client, f'/facilitate/circles/{circle.id}/edit', form, browser)
    page = text(response)
    assert response.status_code == 400
    for field in ('name', 'capacity', 'course_link', 'online_link'):
        assert f'id="{field}-error"' in page, field
    assert '3 learners have signed up already' in page and 'Kept text' in page
    assert fresh(circle).name == circle.name


def test_an_edit_form_shown_before_someone_elses_save_is_not_written(client):
    dee, ann = account(), account('Ann Cofacilitator')
    circle = run_by(dee, ann)
    dee_browser, ann_browser = Browser(dee), Browser(ann)
    dee_form = _edit_form(client, circle, dee_browser)
    ann_form = _edit_form(client, circle, ann_browser)
    assert post(client, f'/facilitate/circles/{circle.id}/edit', {**ann_form, 'name': 'Ann was here'},
                ann_browser).status_code == 303
    response = post(client, f'/facilitate/circles/{circle.id}/edit', {**dee_form, 'description': 'Dee writes'},
                    dee_browser)
    assert response.status_code == 409 and circle_admin.CONFLICT in text(response)
    assert 'Dee writes' in text(response)             # their input is kept to submit again
    saved = fresh(circle)
    assert saved.name == 'Ann was here' and saved.description == circle.description


def test_a_save_that_loses_a_race_raises_circle_changed_and_writes_nothing():
    dee = account()
    circle = run_by(dee)
    session = SimpleNamespace(user_id=dee.user_id, organizer_team_ids=[])
    mine = facilitation.workspace(session, circle.id)
    theirs = facilitation.workspace(session, circle.id)
    theirs.circle.name = 'Theirs'
    circle_admin.save(theirs.circle)
    mine.circle.name = 'Mine'
    with pytest.raises(circle_admin.CircleChanged):
        circle_admin.save(mine.circle)
    learner(circle)          # a signup changes signup_count on the item: a stale copy must not write it back
    stale = facilitation.workspace(session, circle.id)
    learner(circle)
    stale.circle.signup_open = False
    with pytest.raises(circle_admin.CircleChanged):
        circle_admin.save(stale.circle)
    assert fresh(circle).name == 'Theirs' and fresh(circle).signup_count == 2


# --- meetings ---------------------------------------------------------------------

def test_add_move_and_cancel_meetings_keep_what_reminders_need(client):
    dee = account()
    circle = run_by(dee, starts_in_days=7, weeks=3)
    browser = Browser(dee)
    base = f'/facilitate/circles/{circle.id}/meetings'
    assert get(client, base, browser).status_code == 200
    last = date.fromisoformat(circle.meetings[-1].local_date)

    added_date = (last + timedelta(days=7)).isoformat()
    response = post(client, base, {'date': added_date, 'time': '18:30', 'duration': '60'}, browser)
    assert response.status_code == 303 and response.headers['Location'] == f'{base}?done=added'
    added = next(m for m in fresh(circle).meetings if m.local_date == added_date)
    assert (added.local_time, added.duration_minutes, added.sequence) == ('18:30', 60, 0)
    assert [(c.kind, c.to_date, c.to_time) for c in added.changes] == [('added', added_date, '18:30')]

    first = circle.meetings[0]
    moved_to = (date.fromisoformat(first.local_date) + timedelta(days=1)).isoformat()
    response = post(client, f'{base}/{first.meeting_id}/move', {'date': moved_to, 'time': '19:15'}, browser)
    assert response.status_code == 303
    moved = next(m for m in fresh(circle).meetings if m.meeting_id == first.meeting_id)
    assert (moved.local_date, moved.local_time, moved.sequence) == (moved_to, '19:15', 1)
    change = moved.changes[-1]
    assert (change.kind, change.from_date, change.from_time, change.to_date, change.to_time) == (
        'moved', first.local_date, first.local_time, moved_to, '19:15')
    expected = circles.local_start(date.fromisoformat(moved_to), datetime.strptime('19:15', '%H:%M').time(),
                                   'America/Chicago').astimezone(timezone.utc)
    assert moved.starts_at == expected

    response = post(client, f'{base}/{first.meeting_id}/cancel', {}, browser)
    assert response.status_code == 303
    saved = fresh(circle)
    cancelled = next(m for m in saved.meetings if m.meeting_id == first.meeting_id)
    assert cancelled.cancelled and cancelled.cancelled_at is not None and cancelled.sequence == 2
    assert [c.kind for c in cancelled.changes] == ['moved', 'cancelled']
    assert len(saved.meetings) == 4 and saved.start_date == circle.meetings[1].local_date
    public = client.http.get(f'/api/learningcircles/{circle.id}').json_body
    assert [m['cancelled'] for m in public['meetings'] if m['id'] == first.meeting_id] == [True]
    assert 'cancelled' in text(get(client, f'/facilitate/circles/{circle.id}', browser))


@pytest.mark.parametrize('fields, field', [
    ({'date': 'next tuesday', 'time': '18:00'}, 'date-error'),
    ({'date': '2030-01-01', 'time': '25:00'}, 'time-error'),
    ({'date': '2001-01-01', 'time': '18:00'}, 'has not passed'),
])
def test_meeting_form_errors(client, fields, field):
    dee = account()
    circle = run_by(dee)
    response = post(client, f'/facilitate/circles/{circle.id}/meetings', fields, Browser(dee))
    assert response.status_code == 400 and field in text(response)
    assert len(fresh(circle).meetings) == len(circle.meetings)


def test_meetings_that_started_or_are_cancelled_cannot_change_and_slots_do_not_clash(client):
    dee = account()
    today = local_today('America/Chicago')
    circle = run_by(dee, first_date=today - timedelta(days=7), weeks=3)
    browser = Browser(dee)
    base = f'/facilitate/circles/{circle.id}/meetings'
    past, upcoming, later = circle.meetings
    response = post(client, f'{base}/{past.meeting_id}/cancel', {}, browser)
    assert response.status_code == 400 and 'has started already' in text(response)
    response = post(client, f'{base}/{upcoming.meeting_id}/move',
                    {'date': later.local_date, 'time': later.local_time}, browser)
    assert response.status_code == 400 and 'Another meeting is already at that date and time' in text(response)
    assert post(client, f'{base}/{upcoming.meeting_id}/cancel', {}, browser).status_code == 303
    response = post(client, f'{base}/{upcoming.meeting_id}/move', {'date': later.local_date, 'time': '10:00'},
                    browser)
    assert response.status_code == 400 and 'This meeting is cancelled' in text(response)
    assert post(client, f'{base}/nope/cancel', {}, browser).status_code == 404


# --- signup and publication ------------------------------------------------------------

def test_close_and_reopen_signup(client):
    dee = account()
    circle = run_by(dee)
    browser = Browser(dee)
    response = post(client, f'/facilitate/circles/{circle.id}/signup', {'open': 'no'}, browser)
    assert response.status_code == 303 and response.headers['Location'].endswith('?done=signup-closed')
    assert fresh(circle).signup_open is False
    refused = client.http.post('/api/signup', headers={'Content-Type': 'application/json'},
                               body='{"learning_circle": "%s", "name": "A", "email": "a@example.org", '
                                    '"consent": true}' % circle.id)
    assert refused.status_code == 400
    assert 'Reopen signup' in text(get(client, f'/facilitate/circles/{circle.id}', browser))
    post(client, f'/facilitate/circles/{circle.id}/signup', {'open': 'yes'}, browser)
    assert fresh(circle).signup_open is True


def test_unpublish_asks_first_then_takes_the_circle_off_listings_and_tells_its_learners(client, moto):
    dee = account()
    circle = run_by(dee)
    learner(circle, 'Grace Hopper', 'grace@example.org')
    browser = Browser(dee)
    assert client.http.get('/api/learningcircles').json_body['count'] == 1
    ask = get(client, f'/facilitate/circles/{circle.id}/unpublish', browser)
    assert ask.status_code == 200 and 'Its 1 learner will be told by email' in text(ask)
    assert fresh(circle).published is True                                      # the GET changes nothing
    response = post(client, f'/facilitate/circles/{circle.id}/unpublish', {}, browser)
    assert response.status_code == 303
    saved = fresh(circle)
    assert saved.published is False and saved.team_pk is None and saved.card == circles.EMPTY_CARD
    assert client.http.get('/api/learningcircles').json_body['count'] == 0
    assert get(client, f'/circles/{circle.id}').status_code == 404
    assert get(client, f'/facilitate/circles/{circle.id}', browser).status_code == 200
    page = text(get(client, '/dashboard', browser))
    assert page.index('>Drafts') < page.index(circle.name) < page.index('>Upcoming')
    [told] = [m for m in moto.sent_emails() if 'no longer published' in str(m['Subject'])]
    assert str(told['To']) == 'grace@example.org' and '/withdraw/' in told.get_body(('plain',)).get_content()


def test_unpublishing_a_circle_without_learners_sends_nothing(client, moto):
    dee = account()
    circle = run_by(dee)
    assert post(client, f'/facilitate/circles/{circle.id}/unpublish', {}, Browser(dee)).status_code == 303
    assert [m for m in moto.sent_emails() if 'no longer published' in str(m['Subject'])] == []


# --- co-facilitators -----------------------------------------------------------------

def _invitation_link(moto, to):
    [message] = [m for m in moto.sent_emails() if str(m['To']) == to and 'co-facilitate' in str(m['Subject'])]
    body = message.get_body(('plain',)).get_content()
    return re.search(r'https?://\S+(/invitations/\S+)', body).group(1)


def test_an_invited_co_facilitator_accepts_by_signing_in_with_that_address_and_then_runs_the_circle(client, moto):
    dee, ann = account(), account('Ann Cofacilitator', 'ann@example.org')
    circle = run_by(dee)
    response = post(client, f'/facilitate/circles/{circle.id}/facilitators', {'email': ' Ann@Example.org '},
                    Browser(dee))
    assert response.status_code == 303 and response.headers['Location'].endswith('done=invited')
    assert fresh(circle).facilitator_ids == [dee.user_id]                 # nothing until accepted
    path = _invitation_link(moto, 'ann@example.org')
    anonymous = get(client, path)
    assert anonymous.status_code == 200 and circle.name in text(anonymous)
    assert '/login?next=' in text(anonymous) and 'Register with ann@example.org' in text(anonymous)
    ann_browser = Browser(ann)
    assert 'Accept and co-facilitate' in text(get(client, path, ann_browser))
    response = post(client, path, {}, ann_browser)
    assert response.status_code == 303 and response.headers['Location'].endswith('done=invitation-accepted')
    saved = fresh(circle)
    assert saved.facilitator_ids == [dee.user_id, ann.user_id]
    assert saved.facilitator_names == ['Dee', 'Ann'] and saved.facilitator_emails[1] == 'ann@example.org'
    link = CircleFacilitator.get(*CircleFacilitator.key(circle.id, ann.user_id))
    assert link.role == 'co-facilitator' and link.user_pk == f'USER#{ann.user_id}'
    assert circle.name in text(get(client, '/dashboard', ann_browser))
    assert post(client, f'/facilitate/circles/{circle.id}/signup', {'open': 'no'}, ann_browser).status_code == 303
    assert client.http.get(f'/api/learningcircles/{circle.id}').json_body['facilitators'] == ['Dee', 'Ann']
    assert post(client, path, {}, ann_browser).status_code == 303                # accepting twice: no change
    assert fresh(circle).facilitator_ids == [dee.user_id, ann.user_id]


def test_the_invitation_answers_the_same_whether_or_not_the_address_has_an_account(client, moto):
    dee = account()
    account('Ann Cofacilitator', 'ann@example.org')
    circle = run_by(dee)
    browser = Browser(dee)
    answers = [post(client, f'/facilitate/circles/{circle.id}/facilitators', {'email': email}, browser)
               for email in ('ann@example.org', 'nobody@example.org')]
    assert [(r.status_code, r.headers['Location'].split('?')[1]) for r in answers] == [(303, 'done=invited')] * 2
    pages = []
    for email in ('ann@example.org', 'nobody@example.org'):
        path = _invitation_link(moto, email)
        page = text(get(client, path)).replace(email, 'X').replace(path, 'P').replace(quote(path, safe=''), 'P')
        pages.append(page.replace(path.rsplit('/', 1)[1], 'T'))
    assert pages[0] == pages[1]


def test_an_invitation_is_accepted_only_by_the_invited_confirmed_address_and_not_after_it_expires(
        client, moto, time_machine):
    dee, ann = account(), account('Ann Cofacilitator', 'ann@example.org')
    sam = account('Sam Stranger', 'sam@example.org')
    circle = run_by(dee)
    post(client, f'/facilitate/circles/{circle.id}/facilitators', {'email': 'ann@example.org'}, Browser(dee))
    path = _invitation_link(moto, 'ann@example.org')
    refused = post(client, path, {}, Browser(sam))
    assert refused.status_code == 403 and 'sent to another address' in text(refused)
    assert get(client, path[:-3] + 'xyz').status_code == 400                     # tampered
    time_machine.move_to(circles.utcnow() + timedelta(days=8))
    assert post(client, path, {}, Browser(ann)).status_code == 400                # expired
    assert fresh(circle).facilitator_ids == [dee.user_id]


@pytest.mark.parametrize('email, message', [
    ('not an email', 'Please give a valid email address.'),
    ('dee@example.org', 'They already facilitate this circle.'),
])
def test_inviting_a_co_facilitator_refusals(client, email, message):
    dee = account(email='dee@example.org')
    circle = run_by(dee)
    response = post(client, f'/facilitate/circles/{circle.id}/facilitators', {'email': email}, Browser(dee))
    assert response.status_code == 400 and message in text(response) and 'id="email-error"' in text(response)
    assert fresh(circle).facilitator_ids == [dee.user_id]


def test_invitations_per_address_are_limited(client, moto):
    dee = account()
    circle = run_by(dee)
    browser = Browser(dee)
    codes = [post(client, f'/facilitate/circles/{circle.id}/facilitators', {'email': 'x@example.org'},
                  browser).status_code for _ in range(4)]
    assert codes == [303, 303, 303, 429]


def test_a_co_facilitator_cannot_remove_the_creator_but_the_creator_can_remove_them(client):
    dee, ann = account(), account('Ann Cofacilitator')
    circle = run_by(dee, ann)
    response = post(client, f'/facilitate/circles/{circle.id}/facilitators/{dee.user_id}/remove', {}, Browser(ann))
    assert response.status_code == 400 and 'cannot remove the facilitator who created' in text(response)
    assert fresh(circle).facilitator_ids == [dee.user_id, ann.user_id]
    assert post(client, f'/facilitate/circles/{circle.id}/facilitators/{ann.user_id}/remove', {},
                Browser(dee)).status_code == 303


def test_removing_asks_first_and_a_get_changes_nothing(client):
    dee, ann = account(), account('Ann Cofacilitator')
    circle = run_by(dee, ann)
    page = get(client, f'/facilitate/circles/{circle.id}/facilitators/{ann.user_id}/remove', Browser(dee))
    assert page.status_code == 200 and 'Remove Ann from' in text(page)
    assert f'action="/facilitate/circles/{circle.id}/facilitators/{ann.user_id}/remove"' in text(page)
    assert fresh(circle).facilitator_ids == [dee.user_id, ann.user_id]
    assert get(client, f'/facilitate/circles/{circle.id}/facilitators/nobody/remove', Browser(dee)).status_code == 404


def test_removing_co_facilitators_but_never_the_last_one(client):
    dee, ann = account(), account('Ann Cofacilitator')
    circle = run_by(dee, ann)
    dee_browser, ann_browser = Browser(dee), Browser(ann)
    response = post(client, f'/facilitate/circles/{circle.id}/facilitators/{ann.user_id}/remove', {}, dee_browser)
    assert response.status_code == 303 and response.headers['Location'].endswith('done=facilitator-removed')
    saved = fresh(circle)
    assert saved.facilitator_ids == [dee.user_id] and saved.facilitator_names == ['Dee']
    with pytest.raises(CircleFacilitator.DoesNotExist):
        CircleFacilitator.get(*CircleFacilitator.key(circle.id, ann.user_id))
    assert get(client, f'/facilitate/circles/{circle.id}', ann_browser).status_code == 404
    assert circle.name not in text(get(client, '/dashboard', ann_browser))
    response = post(client, f'/facilitate/circles/{circle.id}/facilitators/{dee.user_id}/remove', {}, dee_browser)
    assert response.status_code == 400 and 'at least one facilitator' in text(response)
    assert fresh(circle).facilitator_ids == [dee.user_id]


def test_a_co_facilitator_can_leave_and_lands_on_the_dashboard(client):
    dee, ann = account(), account('Ann Cofacilitator')
    circle = run_by(dee, ann)
    response = post(client, f'/facilitate/circles/{circle.id}/facilitators/{ann.user_id}/remove', {}, Browser(ann))
    assert response.status_code == 303 and response.headers['Location'] == '/dashboard'
    assert fresh(circle).facilitator_ids == [dee.user_id]


def test_an_organizer_manages_a_team_circle_without_being_listed_as_facilitator(client):
    olu = organizer_of('t1')
    circle = run_by(account(), team_id='t1')
    browser = Browser(olu)
    assert get(client, f'/facilitate/circles/{circle.id}', browser).status_code == 200
    assert post(client, f'/facilitate/circles/{circle.id}/signup', {'open': 'no'}, browser).status_code == 303
    assert olu.user_id not in fresh(circle).facilitator_ids


def test_circle_item_is_untouched_by_a_stranger(client):
    circle = run_by(account())
    stranger = Browser(account('Sam Stranger'))
    before = Circle.get(*Circle.key(circle.id)).updated_at
    for path, body in [('unpublish', {}), ('signup', {'open': 'no'}), ('facilitators', {'email': stranger.user.email})]:
        assert post(client, f'/facilitate/circles/{circle.id}/{path}', body, stranger).status_code == 404
    assert Circle.get(*Circle.key(circle.id)).updated_at == before


def test_cancelling_a_meeting_asks_first_and_says_who_is_told(client):
    dee = account()
    circle = run_by(dee, starts_in_days=10)
    learner(circle)
    meeting = circle.meetings[0]
    path = f'/facilitate/circles/{circle.id}/meetings/{meeting.meeting_id}/cancel'
    page = get(client, path, Browser(dee))
    assert page.status_code == 200 and 'Its 1 learner will be told by email and text message' in text(page)
    assert f'action="{path}"' in text(page)
    assert not fresh(circle).meetings[0].cancelled                              # the GET changes nothing
    assert f'href="{path}"' in text(get(client, f'/facilitate/circles/{circle.id}/meetings', Browser(dee)))


# --- the timezone of a published circle -------------------------------------------------------

ABIDJAN = dict(city=None, region=None, country=None, latitude=None, longitude=None, timezone_name='Africa/Abidjan')


def test_changing_the_timezone_keeps_local_times_moves_instants_and_tells_learners_of_each_meeting_to_come(
        client, moto, time_machine):
    from zoneinfo import ZoneInfo
    from chalicelib.reminders.sync import sync_reminders
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    dee = account()
    circle = run_by(dee, first_date=date(2027, 1, 12), weeks=4, place=ABIDJAN, online=True,
                    online_link='https://meet.example.org/py', venue_name=None, venue_address=None)
    learner(circle, 'Grace Hopper', 'grace@example.org')
    sync_reminders(fresh(circle))                                                # as publishing does
    past = fresh(circle).meetings[:2]                                            # Jan 12 and 19 are over
    browser = Browser(dee)
    page = text(get(client, f'/facilitate/circles/{circle.id}/edit', browser))
    assert '<option value="Africa/Abidjan" selected>' in page and 'src="/static/timezone.js"' in page
    form = {**_edit_form(client, circle, browser), 'timezone': 'America/Chicago'}
    response = post(client, f'/facilitate/circles/{circle.id}/edit', form, browser)
    assert response.status_code == 303
    saved = fresh(circle)
    assert saved.timezone == 'America/Chicago'
    chicago = ZoneInfo('America/Chicago')
    upcoming = [m for m in saved.meetings if m.starts_at > circles.utcnow()]
    assert [(m.local_date, m.local_time) for m in upcoming] == [('2027-01-26', '18:00'), ('2027-02-02', '18:00')]
    assert all(m.starts_at.astimezone(chicago).strftime('%H:%M') == '18:00' and m.sequence == 1 for m in upcoming)
    kept = [m for m in saved.meetings if m.starts_at <= circles.utcnow()]
    assert [m.starts_at for m in kept] == [m.starts_at for m in past]              # the past stays where it was
    assert [m.local_time for m in kept] == ['12:00', '12:00'] and all(m.sequence == 0 for m in kept)
    notices = [m for m in moto.sent_emails() if str(m['Subject']).startswith('Meeting moved')]
    assert len(notices) == 2 and {str(m['To']) for m in notices} == {'grace@example.org'}
    assert any('12:00 has moved' in m.get_body(('plain',)).get_content() for m in notices)


def test_an_unknown_timezone_is_refused_in_place(client):
    dee = account()
    circle = run_by(dee)
    browser = Browser(dee)
    form = {**_edit_form(client, circle, browser), 'timezone': 'Mars/Olympus_Mons'}
    response = post(client, f'/facilitate/circles/{circle.id}/edit', form, browser)
    assert response.status_code == 400 and 'Please choose a timezone from the list' in text(response)
    assert fresh(circle).timezone == 'America/Chicago'
