"""RSVP links and pages, short SMS links and one-click unsubscribe, against the real app and moto."""
import re
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

from chalicelib.facilitators import circle_admin
from chalicelib.circles import circles
from chalicelib.facilitators import access as facilitation
from chalicelib.core import links
from chalicelib.learners import rsvp
from chalicelib.core.formatting import meeting_when
from chalicelib.models import Rsvp, ShortLink, Signup, TableItem
from chalicelib.learners.signup import sign_up, withdraw, withdraw_link
from tests.support import aws_calls
from tests.support.factories import make_circle

BASE = 'http://circles.test'
FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


def learner(circle, email='grace@example.org', **fields):
    signup, _, _ = sign_up(circle.id, {'name': 'Grace Hopper', 'email': email, 'consent': 'true', **fields})
    return signup


def path(url):
    assert url.startswith(BASE), url
    return url.removeprefix(BASE)


def answers(circle):
    """The answers as the facilitator's page counts them, from the circle's partition."""
    return circle_admin.rsvp_answers(TableItem.query(f'CIRCLE#{circle.id}'))


def rsvp_items(circle):
    return list(Rsvp.query(f'CIRCLE#{circle.id}', Rsvp.sk.startswith('RSVP#')))


def form_action(response):
    return re.search(r'<form[^>]* method="post"[^>]* action="([^"]+)"', response.body.decode()).group(1)


def text(response):
    return response.body.decode()


# --- links -----------------------------------------------------------------------------

def test_learner_links_are_signed_urls_for_each_purpose():
    circle = make_circle()
    signup = learner(circle)
    found = rsvp.learner_links(signup, circle.meetings[0])
    assert set(found) == {'yes', 'no', 'withdraw', 'unsubscribe', 'short'}
    assert found['withdraw'].startswith(f'{BASE}/withdraw/')     # as withdraw_link(signup) makes it
    assert links.unsign(links.WITHDRAW, found['withdraw'].rsplit('/', 1)[1]) == {'c': circle.id, 's': signup.signup_id}
    assert links.unsign(links.UNSUBSCRIBE, found['unsubscribe'].rsplit('/', 1)[1]) == {
        'c': circle.id, 's': signup.signup_id}
    assert found['yes'].startswith(f'{BASE}/rsvp/') and found['no'].startswith(f'{BASE}/rsvp/')
    assert found['unsubscribe'].startswith(f'{BASE}/unsubscribe/')
    assert rsvp.answer_from_token(found['yes'].rsplit('/', 1)[1]) == 'yes'
    assert rsvp.answer_from_token(found['no'].rsplit('/', 1)[1]) == 'no'


def test_yes_link_records_the_answer_and_shows_the_meeting_in_local_time(client):
    circle = make_circle(meeting_time='18:30')
    signup = learner(circle)
    meeting = circle.meetings[1]
    yes = path(rsvp.learner_links(signup, meeting)['yes'])
    aws_calls.reset()
    page = client.http.get(yes)

    assert page.status_code == 200, page.body
    assert aws_calls.dynamodb_calls() == {'BatchGetItem': 1, 'PutItem': 1}
    body = text(page)
    assert meeting_when(meeting, 'America/Chicago') in body
    assert 'at 18:30 (C' in body and 'America/Chicago' in body
    assert 'Harold Washington Library' in body and '400 S State St' in body
    assert "You said you'll be there" in body
    feed_token = re.search(rf'href="{BASE}/calendar/([^/"]+)/circles.ics"', body).group(1)
    assert rsvp.email_from_feed_token(feed_token) == signup.email
    assert answers(circle) == {(meeting.meeting_id, signup.signup_id): 'yes'}
    item = rsvp_items(circle)[0]
    assert (item.sk, item.answer, item.circle_id) == (f'RSVP#{meeting.meeting_id}#{signup.signup_id}', 'yes', circle.id)


def test_the_facilitator_page_names_who_answered_among_current_learners(client):
    circle = make_circle()
    grace = learner(circle)
    alan = learner(circle, email='alan@example.org', name='Alan Turing')
    ada = learner(circle, email='ada@example.org', name='Ada Lovelace')
    meeting = circle.meetings[0]
    for signup, answer in ((grace, 'yes'), (alan, 'no'), (ada, 'yes')):
        client.http.get(path(rsvp.learner_links(signup, meeting)[answer]))
    withdraw(ada)
    facilitator = SimpleNamespace(user_id='u-ada', organizer_team_ids=[])     # make_circle's facilitator
    row = circle_admin.page_context(facilitation.workspace(facilitator, circle.id))['meetings'][0]
    assert row['rsvp'] == {'yes': 1, 'no': 1, 'no_answer': 0}
    assert row['rsvp_names'] == {'yes': ['Grace Hopper'], 'no': ['Alan Turing']}    # Ada withdrew


def test_answering_twice_keeps_one_answer_and_writes_once(client):
    circle = make_circle()
    signup = learner(circle)
    yes = path(rsvp.learner_links(signup, circle.meetings[0])['yes'])
    assert client.http.get(yes).status_code == 200
    aws_calls.reset()
    again = client.http.get(yes)
    assert again.status_code == 200 and "You said you'll be there" in text(again)
    assert aws_calls.dynamodb_calls() == {'BatchGetItem': 1}
    assert len(rsvp_items(circle)) == 1


def test_learner_changes_their_answer_on_the_page(client):
    circle = make_circle()
    signup = learner(circle)
    meeting = circle.meetings[0]
    page = client.http.get(path(rsvp.learner_links(signup, meeting)['yes']))
    assert 'value="no"' in text(page) and 'value="yes"' not in text(page)

    changed = client.http.post(form_action(page), headers=FORM, body=urlencode({'answer': 'no'}))
    assert changed.status_code == 200
    assert "You said you can't make it" in text(changed)
    assert answers(circle) == {(meeting.meeting_id, signup.signup_id): 'no'}

    back = client.http.post(form_action(changed), headers=FORM, body=urlencode({'answer': 'yes'}))
    assert "You said you'll be there" in text(back)
    assert [item.answer for item in rsvp_items(circle)] == ['yes']


def test_the_no_link_after_yes_changes_the_answer_and_each_meeting_has_its_own(client):
    circle = make_circle()
    signup = learner(circle)
    first, second = circle.meetings[0], circle.meetings[1]
    client.http.get(path(rsvp.learner_links(signup, first)['yes']))
    client.http.get(path(rsvp.learner_links(signup, second)['no']))
    client.http.get(path(rsvp.learner_links(signup, first)['no']))
    assert answers(circle) == {(first.meeting_id, signup.signup_id): 'no',
                               (second.meeting_id, signup.signup_id): 'no'}


def test_a_form_without_a_valid_answer_records_nothing(client):
    circle = make_circle()
    signup = learner(circle)
    page_url = path(rsvp.rsvp_url(signup, circle.meetings[0]))
    response = client.http.post(page_url, headers=FORM, body=urlencode({'answer': 'maybe'}))
    assert response.status_code == 400 and 'Please choose one of the two answers' in text(response)
    assert rsvp_items(circle) == []


def test_the_page_link_without_an_answer_only_shows_the_question(client):
    circle = make_circle()
    signup = learner(circle)
    page = client.http.get(path(rsvp.rsvp_url(signup, circle.meetings[0])))
    assert page.status_code == 200 and 'You have not answered yet' in text(page)
    assert 'value="yes"' in text(page) and 'value="no"' in text(page)
    assert rsvp_items(circle) == []


# --- when links stop working ------------------------------------------------------------

def test_links_stop_working_when_the_meeting_starts(client, time_machine):
    circle = make_circle()
    signup = learner(circle)
    meeting = circle.meetings[0]
    yes = path(rsvp.learner_links(signup, meeting)['yes'])

    time_machine.move_to(meeting.starts_at - timedelta(minutes=1), tick=False)
    assert client.http.get(yes).status_code == 200
    time_machine.move_to(meeting.starts_at, tick=False)
    started = client.http.get(yes)
    assert started.status_code == 400
    assert 'This meeting has started' in text(started)
    posted = client.http.post(yes, headers=FORM, body=urlencode({'answer': 'no'}))
    assert posted.status_code == 400
    assert answers(circle) == {(meeting.meeting_id, signup.signup_id): 'yes'}


def test_the_deadline_follows_a_moved_meeting(client, time_machine):
    circle = make_circle()
    signup = learner(circle)
    meeting = circle.meetings[0]
    old_start = meeting.starts_at
    no = path(rsvp.learner_links(signup, meeting)['no'])
    circle = circles.get_circle(circle.id)     # as the facilitator's page reads it, after the signup
    meeting = circle.meetings[0]
    later = (old_start + timedelta(days=1)).astimezone(circles.ZoneInfo('America/Chicago'))
    circle_admin.move_meeting(circle, meeting.meeting_id, {'date': later.date().isoformat(), 'time': '18:00'})
    circle_admin.save(circle)

    time_machine.move_to(old_start + timedelta(hours=1), tick=False)
    page = client.http.get(no)
    assert page.status_code == 200
    assert meeting_when(meeting, 'America/Chicago') in text(page)


def test_tampered_and_foreign_purpose_tokens_get_a_clear_page(client):
    circle = make_circle()
    signup = learner(circle)
    yes = rsvp.learner_links(signup, circle.meetings[0])['yes']
    token = yes.rsplit('/', 1)[1]
    payload = {'c': circle.id, 's': signup.signup_id, 'm': circle.meetings[0].meeting_id, 'a': 'yes'}
    bad = [
        token[:-4] + ('AAAA' if not token.endswith('AAAA') else 'BBBB'),     # altered signature
        links.sign(links.WITHDRAW, payload),                                   # signed for another purpose
        links.sign(links.UNSUBSCRIBE, payload),
        links.URLSafeTimedSerializer('another-secret', salt='circles.rsvp').dumps(payload),
        links.sign(links.RSVP, {**payload, 'm': 'no-such-meeting'}),
        links.sign(links.RSVP, {'c': circle.id}),
        'garbage',
    ]
    for candidate in bad:
        for response in (client.http.get(f'/rsvp/{candidate}'),
                         client.http.post(f'/rsvp/{candidate}', headers=FORM, body='answer=yes')):
            assert response.status_code == 400, candidate
            assert 'This link does not work' in text(response)
    assert rsvp_items(circle) == []
    # and an RSVP token opens nothing else
    assert client.http.get(f'/withdraw/{token}').status_code == 400
    assert client.http.post(f'/unsubscribe/{token}', headers=FORM, body='').status_code == 400
    assert Signup.get(*Signup.key(circle.id, signup.signup_id)).reminders_stopped is False


def test_links_of_a_learner_who_withdrew_no_longer_work(client):
    circle = make_circle()
    signup = learner(circle)
    yes = path(rsvp.learner_links(signup, circle.meetings[0])['yes'])
    withdraw(signup)
    assert client.http.get(yes).status_code == 400
    assert rsvp_items(circle) == []


def test_a_cancelled_meeting_shows_so_and_records_nothing(client):
    circle = make_circle()
    signup = learner(circle)
    meeting = circle.meetings[2]
    yes = path(rsvp.learner_links(signup, meeting)['yes'])
    circle = circles.get_circle(circle.id)
    circle_admin.cancel_meeting(circle, meeting.meeting_id)
    circle_admin.save(circle)
    page = client.http.get(yes)
    assert page.status_code == 200
    assert 'This meeting is cancelled' in text(page) and '<form' not in text(page)
    assert rsvp_items(circle) == []


# --- short links for SMS --------------------------------------------------------------------

def test_short_link_opens_the_rsvp_page_and_the_answer_is_a_tap_away(client):
    circle = make_circle()
    signup = learner(circle, mobile='+1 312 555 0101')
    meeting = circle.meetings[0]
    short = rsvp.learner_links(signup, meeting)['short']
    assert re.fullmatch(rf'{BASE}/r/[a-z2-7]{{12}}', short)
    assert rsvp.learner_links(signup, meeting)['short'] == short    # a retried reminder sends the same link
    other = rsvp.learner_links(signup, circle.meetings[1])['short']
    assert other != short

    aws_calls.reset()
    page = client.http.get(path(short))
    assert page.status_code == 200 and 'You have not answered yet' in text(page)
    assert aws_calls.dynamodb_calls() == {'GetItem': 1, 'BatchGetItem': 1}
    assert rsvp_items(circle) == []
    answered = client.http.post(form_action(page), headers=FORM, body='answer=yes')
    assert answered.status_code == 200
    assert answers(circle) == {(meeting.meeting_id, signup.signup_id): 'yes'}

    link = ShortLink.get(*ShortLink.key(short.rsplit('/', 1)[1]))
    assert link.expires_at > meeting.starts_at


def test_unknown_or_expired_short_links_get_a_clear_page(client, time_machine):
    circle = make_circle()
    signup = learner(circle, mobile='+1 312 555 0101')
    meeting = circle.meetings[0]
    short = path(rsvp.learner_links(signup, meeting)['short'])
    for unknown in ('/r/aaaaaaaaaaaa', '/r/short', short[:-1] + ('a' if short[-1] != 'a' else 'b')):
        response = client.http.get(unknown)
        assert response.status_code == 400 and 'This link does not work' in text(response)
    time_machine.move_to(meeting.starts_at + timedelta(minutes=5), tick=False)
    assert 'This meeting has started' in text(client.http.get(short))


def test_learners_without_a_mobile_get_the_long_page_link_and_no_short_link_item(client):
    circle = make_circle()
    signup = learner(circle)
    aws_calls.reset()
    found = rsvp.learner_links(signup, circle.meetings[0])
    assert aws_calls.dynamodb_calls() == {}
    assert found['short'].startswith(f'{BASE}/rsvp/')
    assert rsvp.answer_from_token(found['short'].rsplit('/', 1)[1]) is None
    assert client.http.get(path(found['short'])).status_code == 200


# --- one-click unsubscribe -----------------------------------------------------------------------

def stopped(signup):
    return Signup.get(*Signup.key(signup.circle_id, signup.signup_id)).reminders_stopped


def test_one_click_post_stops_reminder_emails_at_once_and_answers_200(client):
    circle = make_circle()
    signup = learner(circle)
    unsubscribe = path(rsvp.learner_links(signup, circle.meetings[0])['unsubscribe'])
    aws_calls.reset()
    response = client.http.post(unsubscribe, headers=FORM, body='List-Unsubscribe=One-Click')
    assert response.status_code == 200
    assert 'No more reminder emails' in text(response) and circle.name in text(response)
    assert aws_calls.dynamodb_calls() == {'UpdateItem': 1, 'GetItem': 1}
    assert stopped(signup) is True
    fresh = Signup.get(*Signup.key(circle.id, signup.signup_id))
    assert fresh.active and fresh.email == 'grace@example.org'    # still signed up

    again = client.http.post(unsubscribe, headers=FORM, body='List-Unsubscribe=One-Click')
    assert again.status_code == 200 and stopped(signup) is True


def test_one_click_post_as_multipart_form_data_also_works(client):
    """RFC 8058 lets mail providers send the body as multipart/form-data."""
    circle = make_circle()
    signup = learner(circle)
    unsubscribe = path(rsvp.unsubscribe_url(signup))
    boundary = 'xYzZY'
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            f'One-Click\r\n--{boundary}--\r\n')
    response = client.http.post(unsubscribe, body=body,
                                headers={'Content-Type': f'multipart/form-data; boundary={boundary}'})
    assert response.status_code == 200
    assert stopped(signup) is True


def test_get_shows_a_confirmation_page_and_changes_nothing(client):
    circle = make_circle()
    signup = learner(circle)
    unsubscribe = path(rsvp.unsubscribe_url(signup))
    page = client.http.get(unsubscribe)
    assert page.status_code == 200
    assert f'Stop reminder emails for {circle.name}?' in text(page)
    assert form_action(page) == unsubscribe
    assert 'name="List-Unsubscribe" value="One-Click"' in text(page)
    assert stopped(signup) is False

    client.http.post(form_action(page), headers=FORM, body='List-Unsubscribe=One-Click')
    done = client.http.get(unsubscribe)
    assert done.status_code == 200 and 'No more reminder emails' in text(done) and '<form' not in text(done)


def test_tampered_or_foreign_unsubscribe_links_get_a_clear_page(client):
    circle = make_circle()
    signup = learner(circle)
    token = rsvp.unsubscribe_url(signup).rsplit('/', 1)[1]
    withdraw_token = withdraw_link(signup).rsplit('/', 1)[1]
    for bad in (token[:-3] + ('abc' if not token.endswith('abc') else 'xyz'), withdraw_token, 'garbage'):
        assert client.http.get(f'/unsubscribe/{bad}').status_code == 400
        response = client.http.post(f'/unsubscribe/{bad}', headers=FORM, body='List-Unsubscribe=One-Click')
        assert response.status_code == 400 and 'This link does not work' in text(response)
    assert stopped(signup) is False
    # the unsubscribe token withdraws nobody either
    assert client.http.post(f'/withdraw/{token}', headers=FORM, body='').status_code == 400
    assert Signup.get(*Signup.key(circle.id, signup.signup_id)).active


def test_answers_match_the_openapi_document(client):
    from tests.handlers.test_openapi import assert_documented
    doc = client.http.get('/api/openapi.json').json_body
    circle = make_circle()
    signup = learner(circle, mobile='+1 312 555 0101')
    found = rsvp.learner_links(signup, circle.meetings[0])
    checks = [
        ('/rsvp/{token}', 'get', path(found['yes']), None), ('/rsvp/{token}', 'get', '/rsvp/nope', None),
        ('/rsvp/{token}', 'post', path(found['no']), 'answer=no'), ('/rsvp/{token}', 'post', '/rsvp/nope', 'answer=no'),
        ('/r/{code}', 'get', path(found['short']), None), ('/r/{code}', 'get', '/r/nope', None),
        ('/unsubscribe/{token}', 'get', path(found['unsubscribe']), None),
        ('/unsubscribe/{token}', 'get', '/unsubscribe/nope', None),
        ('/unsubscribe/{token}', 'post', path(found['unsubscribe']), 'List-Unsubscribe=One-Click'),
        ('/unsubscribe/{token}', 'post', '/unsubscribe/nope', 'List-Unsubscribe=One-Click'),
        ('/circles/{circle_id}/calendar.ics', 'get', f'/circles/{circle.id}/calendar.ics', None),
        ('/circles/{circle_id}/calendar.ics', 'get', '/circles/nope/calendar.ics', None),
        ('/calendar/{token}/circles.ics', 'get', path(rsvp.learner_feed_url('grace@example.org')), None),
        ('/calendar/{token}/circles.ics', 'get', '/calendar/nope/circles.ics', None),
    ]
    statuses = set()
    for documented_path, method, url, body in checks:
        if method == 'get':
            response = client.http.get(url)
        else:
            response = client.http.post(url, headers=FORM, body=body)
        assert_documented(doc, documented_path, method, response)
        statuses.add((documented_path, method, response.status_code))
    assert len(statuses) == len(checks)     # each check reached a different documented answer


# --- with the reminder job ----------------------------------------------------------------------

def test_links_from_a_real_reminder_email_work_and_one_click_stops_the_next_reminder(client, moto):
    from chalicelib.reminders import job as reminder_job
    from chalicelib.reminders import schedule as reminders
    from chalicelib.reminders.sync import sync_reminders
    circle = make_circle(weeks=3)
    grace = learner(circle)
    learner(circle, email='alan@example.org')
    circle = circles.get_circle(circle.id)
    sync_reminders(circle)
    first, second = circle.meetings[0], circle.meetings[1]

    before = len(moto.sent_emails())
    reminder_job.send_due_reminders(reminders.send_time(circle, first) + timedelta(minutes=1))
    email = next(m for m in moto.sent_emails()[before:] if str(m['To']) == 'grace@example.org')
    text_part = email.get_body(('plain',)).get_content()
    yes = re.search(rf'{BASE}(/rsvp/\S+)', text_part).group(1)
    assert rsvp.answer_from_token(yes.rsplit('/', 1)[1]) == 'yes'
    assert client.http.get(yes).status_code == 200
    assert answers(circle) == {(first.meeting_id, grace.signup_id): 'yes'}

    unsubscribe = path(email['List-Unsubscribe'].strip('<>'))
    assert email['List-Unsubscribe-Post'] == 'List-Unsubscribe=One-Click'
    assert client.http.post(unsubscribe, headers=FORM, body='List-Unsubscribe=One-Click').status_code == 200

    before = len(moto.sent_emails())
    reminder_job.send_due_reminders(reminders.send_time(circle, second) + timedelta(minutes=1))
    to = sorted(str(m['To']) for m in moto.sent_emails()[before:])
    assert 'alan@example.org' in to and 'grace@example.org' not in to
