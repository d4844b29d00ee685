"""RSVP links and pages, short SMS links and one-click unsubscribe, against the real app and moto.

Following a link (a GET, as mail scanners do) never records anything: the page shows the
meeting with the link's answer selected and the learner's tap POSTs it. Moving a meeting
clears its answers and the change notice asks again."""
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
    return circle_admin.rsvp_answers(TableItem.query(f'CIRCLE#{circle.id}'), circles.get_circle(circle.id).meetings)


def rsvp_items(circle):
    return list(Rsvp.query(f'CIRCLE#{circle.id}', Rsvp.sk.startswith('RSVP#')))


def form_action(response):
    return re.search(r'<form[^>]* method="post"[^>]* action="([^"]+)"', response.body.decode()).group(1)


def selected(response):
    """The answer the page's form has selected (None when neither)."""
    found = re.search(r'name="answer" value="(yes|no)"[^>]* checked', text(response))
    return found and found.group(1)


def tap(client, page, answer=None):
    """The learner's one tap on the page's button (the selected answer unless `answer`)."""
    sequence = re.search(r'name="sequence" value="(\d+)"', text(page)).group(1)
    return client.http.post(form_action(page), headers=FORM,
                            body=urlencode({'answer': answer or selected(page), 'sequence': sequence}))


def answer_by_link(client, signup, meeting, answer):
    """Follow the reminder's yes or no link and tap the button."""
    page = client.http.get(path(rsvp.learner_links(signup, meeting)[answer]))
    assert page.status_code == 200, page.body
    return tap(client, page)


def text(response):
    return response.body.decode()


# --- links -----------------------------------------------------------------------------

def test_learner_links_are_signed_urls_for_each_purpose():
    circle = make_circle()
    signup = learner(circle)
    found = rsvp.learner_links(signup, circle.meetings[0])
    assert set(found) == {'yes', 'no', 'withdraw', 'unsubscribe', 'texts', 'short'}
    assert found['texts'] is None        # no mobile number: no texts to stop
    assert found['withdraw'].startswith(f'{BASE}/withdraw/')     # as withdraw_link(signup) makes it
    assert links.unsign(links.WITHDRAW, found['withdraw'].rsplit('/', 1)[1]) == {'c': circle.id, 's': signup.signup_id}
    assert links.unsign(links.UNSUBSCRIBE, found['unsubscribe'].rsplit('/', 1)[1]) == {
        'c': circle.id, 's': signup.signup_id}
    assert found['yes'].startswith(f'{BASE}/rsvp/') and found['no'].startswith(f'{BASE}/rsvp/')
    assert found['unsubscribe'].startswith(f'{BASE}/unsubscribe/')
    assert rsvp.answer_from_token(found['yes'].rsplit('/', 1)[1]) == 'yes'
    assert rsvp.answer_from_token(found['no'].rsplit('/', 1)[1]) == 'no'


def test_yes_link_shows_the_meeting_with_yes_selected_and_records_nothing(client):
    circle = make_circle(meeting_time='18:30')
    signup = learner(circle)
    meeting = circle.meetings[1]
    yes = path(rsvp.learner_links(signup, meeting)['yes'])
    aws_calls.reset()
    page = client.http.get(yes)

    assert page.status_code == 200, page.body
    assert aws_calls.dynamodb_calls() == {'BatchGetItem': 1}
    body = text(page)
    assert meeting_when(meeting, 'America/Chicago') in body
    assert 'at 18:30 (C' in body and 'America/Chicago' in body
    assert 'Harold Washington Library' in body and '400 S State St' in body
    assert 'You have not answered yet' in body and selected(page) == 'yes'
    assert 'Nothing is recorded until you send it' in body
    assert rsvp_items(circle) == []
    assert page.headers['Cache-Control'] == 'no-store'


def test_the_tap_records_the_answer(client):
    circle = make_circle()
    signup = learner(circle)
    meeting = circle.meetings[1]
    page = client.http.get(path(rsvp.learner_links(signup, meeting)['yes']))
    aws_calls.reset()
    answered = tap(client, page)
    assert answered.status_code == 200
    assert aws_calls.dynamodb_calls() == {'BatchGetItem': 1, 'PutItem': 1}
    assert "Thanks! You said you'll be there" in text(answered)
    assert answers(circle) == {(meeting.meeting_id, signup.signup_id): 'yes'}
    item = rsvp_items(circle)[0]
    assert (item.sk, item.answer, item.circle_id, item.sequence) == (
        f'RSVP#{meeting.meeting_id}#{signup.signup_id}', 'yes', circle.id, 0)


def test_following_links_however_often_records_nothing(client):
    circle = make_circle()
    signup = learner(circle, mobile='+1 312 555 0101')
    found = rsvp.learner_links(signup, circle.meetings[0])
    aws_calls.reset()
    for url in (found['yes'], found['no'], found['short'], found['yes']):
        assert client.http.get(path(url)).status_code == 200
    writes = {name for name in aws_calls.dynamodb_calls() if not name.startswith(('Get', 'BatchGet', 'Query'))}
    assert writes == set()
    assert rsvp_items(circle) == [] and answers(circle) == {}


def test_the_facilitator_page_names_who_answered_among_current_learners(client):
    circle = make_circle()
    grace = learner(circle)
    alan = learner(circle, email='alan@example.org', name='Alan Turing')
    ada = learner(circle, email='ada@example.org', name='Ada Lovelace')
    meeting = circle.meetings[0]
    for signup, answer in ((grace, 'yes'), (alan, 'no'), (ada, 'yes')):
        answer_by_link(client, signup, meeting, answer)
    withdraw(ada)
    facilitator = SimpleNamespace(user_id='u-ada', organizer_team_ids=[])     # make_circle's facilitator
    row = circle_admin.page_context(facilitation.workspace(facilitator, circle.id))['meetings'][0]
    assert row['rsvp'] == {'yes': 1, 'no': 1, 'no_answer': 0}
    assert row['rsvp_names'] == {'yes': ['Grace Hopper'], 'no': ['Alan Turing']}    # Ada withdrew


def test_answering_twice_keeps_one_answer_and_writes_once(client):
    circle = make_circle()
    signup = learner(circle)
    page = client.http.get(path(rsvp.learner_links(signup, circle.meetings[0])['yes']))
    assert tap(client, page).status_code == 200
    aws_calls.reset()
    again = tap(client, page)
    assert again.status_code == 200 and "You said you'll be there" in text(again)
    assert aws_calls.dynamodb_calls() == {'BatchGetItem': 1}
    assert len(rsvp_items(circle)) == 1


def test_learner_changes_their_answer_on_the_page(client):
    circle = make_circle()
    signup = learner(circle)
    meeting = circle.meetings[0]
    page = answer_by_link(client, signup, meeting, 'yes')
    assert selected(page) == 'yes' and 'value="no"' in text(page)

    changed = tap(client, page, 'no')
    assert changed.status_code == 200
    assert "You said you can't make it" in text(changed) and selected(changed) == 'no'
    assert answers(circle) == {(meeting.meeting_id, signup.signup_id): 'no'}

    back = tap(client, changed, 'yes')
    assert "You said you'll be there" in text(back)
    assert [item.answer for item in rsvp_items(circle)] == ['yes']


def test_the_no_link_after_yes_selects_no_and_each_meeting_has_its_own_answer(client):
    circle = make_circle()
    signup = learner(circle)
    first, second = circle.meetings[0], circle.meetings[1]
    answer_by_link(client, signup, first, 'yes')
    answer_by_link(client, signup, second, 'no')
    page = client.http.get(path(rsvp.learner_links(signup, first)['no']))
    assert "You said you'll be there" in text(page) and selected(page) == 'no'
    assert answers(circle)[(first.meeting_id, signup.signup_id)] == 'yes'     # until the tap
    tap(client, page)
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
    assert 'value="yes"' in text(page) and 'value="no"' in text(page) and selected(page) is None
    assert rsvp_items(circle) == []


# --- when links stop working ------------------------------------------------------------

def test_links_stop_working_when_the_meeting_starts(client, time_machine):
    circle = make_circle()
    signup = learner(circle)
    meeting = circle.meetings[0]
    yes = path(rsvp.learner_links(signup, meeting)['yes'])

    time_machine.move_to(meeting.starts_at - timedelta(minutes=1), tick=False)
    page = client.http.get(yes)
    assert page.status_code == 200 and tap(client, page).status_code == 200
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


def move(circle, meeting, days=1, at='18:00'):
    """The facilitator moves `meeting` by `days` (as their page does: re-read, change, save)."""
    circle = circles.get_circle(circle.id)
    later = (meeting.starts_at + timedelta(days=days)).astimezone(circles.ZoneInfo(circle.timezone))
    circle_admin.move_meeting(circle, meeting.meeting_id, {'date': later.date().isoformat(), 'time': at})
    circle_admin.save(circle)
    return circles.get_circle(circle.id)


def test_moving_a_meeting_clears_its_answers_and_the_change_notice_asks_again(client, moto, time_machine):
    from chalicelib.models import MeetingReminder
    from chalicelib.reminders.sync import sync_reminders
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=2)
    grace = learner(circle)
    first, second = circle.meetings[0], circle.meetings[1]
    answer_by_link(client, grace, first, 'yes')
    answer_by_link(client, grace, second, 'no')
    sync_reminders(circles.get_circle(circle.id))
    MeetingReminder.get(*MeetingReminder.key(circle.id, first.meeting_id)).update(
        actions=[MeetingReminder.state.set('sent'), MeetingReminder.sent_at.set(circles.utcnow()),
                 MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove()])   # the reminder went out

    circle = move(circle, first)
    assert answers(circle) == {(second.meeting_id, grace.signup_id): 'no'}     # the other meeting keeps its answer
    facilitator = SimpleNamespace(user_id='u-ada', organizer_team_ids=[])     # make_circle's facilitator
    rows = {row['meeting'].meeting_id: row for row in
            circle_admin.page_context(facilitation.workspace(facilitator, circle.id))['meetings']}
    assert rows[first.meeting_id]['rsvp'] == {'yes': 0, 'no': 0, 'no_answer': 1}
    assert rows[second.meeting_id]['rsvp'] == {'yes': 0, 'no': 1, 'no_answer': 0}
    moved = next(m for m in circle.meetings if m.meeting_id == first.meeting_id)
    page = client.http.get(path(rsvp.rsvp_url(grace, moved)))
    assert 'You have not answered yet' in text(page) and meeting_when(moved, circle.timezone) in text(page)

    notice = next(m for m in moto.sent_emails() if str(m['Subject']).startswith('Meeting moved'))
    body = notice.get_body(('plain',)).get_content()
    assert 'Will you come? Please let us know:' in body
    yes = re.search(rf'{BASE}(/rsvp/\S+)', body).group(1)
    assert rsvp.answer_from_token(yes.rsplit('/', 1)[1]) == 'yes'
    again = client.http.get(yes)
    assert 'You have not answered yet' in text(again) and selected(again) == 'yes'
    tap(client, again)
    assert answers(circle) == {(first.meeting_id, grace.signup_id): 'yes', (second.meeting_id, grace.signup_id): 'no'}
    assert rsvp.open_rsvp(yes.rsplit('/', 1)[1]).answer == 'yes'


def test_an_answer_from_a_page_opened_before_the_meeting_moved_is_not_recorded(client):
    circle = make_circle()
    signup = learner(circle)
    meeting = circle.meetings[0]
    page = client.http.get(path(rsvp.learner_links(signup, meeting)['yes']))
    circle = move(circle, meeting, days=2, at='19:00')
    late = tap(client, page)
    assert late.status_code == 409
    from tests.handlers.test_openapi import assert_documented
    assert_documented(client.http.get('/api/openapi.json').json_body, '/rsvp/{token}', 'post', late)
    assert 'This meeting moved after you opened the page' in text(late) and selected(late) == 'yes'
    moved = next(m for m in circle.meetings if m.meeting_id == meeting.meeting_id)
    assert meeting_when(moved, circle.timezone) in text(late)
    assert rsvp_items(circle) == []
    assert tap(client, late).status_code == 200       # answered for the new time
    assert answers(circle) == {(meeting.meeting_id, signup.signup_id): 'yes'}


def test_the_page_links_the_learners_own_calendar_feed_without_their_email(client):
    circle = make_circle()
    signup = learner(circle)
    page = client.http.get(path(rsvp.learner_links(signup, circle.meetings[0])['yes']))
    feed_token = re.search(rf'href="{BASE}/calendar/([^/"]+)/circles.ics"', text(page)).group(1)
    assert 'grace' not in feed_token.lower() and 'example' not in feed_token.lower()
    assert rsvp.signup_from_feed_token(feed_token).signup_id == signup.signup_id


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
    posted = client.http.post(yes, headers=FORM, body='answer=yes')
    assert posted.status_code == 200 and 'This meeting is cancelled' in text(posted)
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
    assert rsvp_items(circle) == [] and selected(page) is None
    answered = tap(client, page, 'yes')
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
    # The unsubscribe and its consent record: one transaction.
    assert aws_calls.dynamodb_calls() == {'TransactWriteItems': 1, 'GetItem': 1}
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
        ('/calendar/{token}/circles.ics', 'get', path(rsvp.learner_feed_url(signup)), None),
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
    page = client.http.get(yes)
    assert page.status_code == 200 and answers(circle) == {}
    assert tap(client, page).status_code == 200
    assert answers(circle) == {(first.meeting_id, grace.signup_id): 'yes'}

    unsubscribe = path(email['List-Unsubscribe'].strip('<>'))
    assert email['List-Unsubscribe-Post'] == 'List-Unsubscribe=One-Click'
    assert client.http.post(unsubscribe, headers=FORM, body='List-Unsubscribe=One-Click').status_code == 200

    before = len(moto.sent_emails())
    reminder_job.send_due_reminders(reminders.send_time(circle, second) + timedelta(minutes=1))
    to = sorted(str(m['To']) for m in moto.sent_emails()[before:])
    assert 'alan@example.org' in to and 'grace@example.org' not in to
