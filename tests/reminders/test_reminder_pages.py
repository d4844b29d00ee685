"""The facilitator's reminder pages: preview as email and as SMS, editing the words until the
reminder goes out, the reminder states on the circle's page, roles, CSRF and DynamoDB calls."""
import html
import re

from chalicelib.facilitators import circle_admin
from chalicelib.circles import circles
from chalicelib.reminders import schedule as reminders
from chalicelib.reminders.sync import sync_reminders
from chalicelib.messaging import sms_text
from chalicelib.models import MeetingReminder
from tests.support import aws_calls
from tests.facilitators.test_facilitator_pages import Browser, account, get, learner, post, run_by

NOW = '2027-01-20T12:00:00+00:00'


def world(time_machine, **fields):
    time_machine.move_to(NOW, tick=False)
    dee = account('Dee Facilitator')
    circle = run_by(dee, first_date='2027-02-02', weeks=3, **fields)
    sync_reminders(circle)
    return dee, circles.get_circle(circle.id)


def page_url(circle, meeting):
    return f'/facilitate/circles/{circle.id}/meetings/{meeting.meeting_id}/reminder'


def text(response):
    return html.unescape(response.body.decode())


def stored(circle, meeting):
    return MeetingReminder.get(*MeetingReminder.key(circle.id, meeting.meeting_id))


def test_the_preview_shows_the_email_and_the_sms_as_learners_get_them(client, time_machine):
    dee, circle = world(time_machine)
    learner(circle, 'Grace Hopper')
    meeting = circle.meetings[0]
    browser = Browser(dee)
    aws_calls.reset()
    response = get(client, page_url(circle, meeting), browser)
    calls = aws_calls.dynamodb_calls()
    page = text(response)
    assert response.status_code == 200
    assert calls == {'GetItem': 1, 'Query': 1}, calls
    assert 'Goes out Sun, Jan 31, 18:00 CST.' in page
    assert 'Reminder: Python for Everybody · Tue, Feb 2 18:00' in page
    assert 'Hi Grace Hopper,' in page and 'Tuesday, February 2, 2027, 18:00–19:30 CST' in page
    sms = re.search(r'<p class="card sms-preview" id="sms-preview">(.*?)</p>', page).group(1)
    assert sms.startswith('Python for Everybody: See you soon! Tue, Feb 2 18:00 CST, Harold Washington Library.')
    assert re.search(r'/r/\w{12} Reply STOP to stop texts$', sms) and sms_text.segments(sms)[1] <= 160
    assert f'{len(sms)} of 160 characters (GSM-7)' in page
    # The live counter: sms-counter.js counts, reminder-sms.js puts the words between the facts.
    assert '<script src="/static/sms-counter.js" defer></script><script src="/static/reminder-sms.js" defer></script>' in page
    prefix = re.search(r'data-prefix="([^"]*)"', response.body.decode()).group(1)
    suffix = re.search(r'data-suffix="([^"]*)"', response.body.decode()).group(1)
    assert html.unescape(prefix) + 'See you soon!' + html.unescape(suffix) == sms
    script = client.http.get('/static/reminder-sms.js')
    assert script.status_code == 200 and 'window.smsSegments' in script.body.decode()


def test_the_facilitator_edits_the_words_and_a_later_move_keeps_them(client, time_machine):
    dee, circle = world(time_machine)
    meeting = circle.meetings[1]
    browser = Browser(dee)
    words = {'subject': 'Chapter 2: loops', 'intro': 'Read chapter 2 before we meet.\r\n\r\nBring questions!',
             'sms_text': 'Read ch. 2!'}
    response = post(client, page_url(circle, meeting), words, browser)
    assert response.status_code == 303 and response.headers['Location'] == page_url(circle, meeting) + '?done=saved'
    page = text(get(client, response.headers['Location'], browser))
    assert 'Your words are saved.' in page and 'your words' in page
    assert 'Chapter 2: loops · Tue, Feb 9 18:00' in page and 'Bring questions!' in page
    assert 'Python for Everybody: Read ch. 2! Tue, Feb 9 18:00 CST' in page

    moved = post(client, f'/facilitate/circles/{circle.id}/meetings/{meeting.meeting_id}/move',
                 {'date': '2027-02-10', 'time': '17:00'}, browser)
    assert moved.status_code == 303
    reminder = stored(circle, meeting)
    assert reminder.subject == 'Chapter 2: loops' and reminder.intro == 'Read chapter 2 before we meet.\n\nBring questions!'
    assert reminder.due_at == circles.get_circle(circle.id).meetings[1].starts_at - reminders.lead_time()
    page = text(get(client, page_url(circle, meeting), browser))
    assert 'Chapter 2: loops · Wed, Feb 10 17:00' in page and 'Goes out Mon, Feb 8, 17:00 CST.' in page

    reset = post(client, page_url(circle, meeting), {'reset': '1'}, browser)
    assert reset.status_code == 303 and stored(circle, meeting).edited is False


def test_bad_words_are_refused_with_the_errors_in_place(client, time_machine):
    dee, circle = world(time_machine)
    meeting = circle.meetings[0]
    response = post(client, page_url(circle, meeting), {'subject': '', 'intro': 'x', 'sms_text': 'y' * 161},
                    Browser(dee))
    page = text(response)
    assert response.status_code == 400
    assert 'Please write a subject.' in page and 'under 160 characters' in page
    assert stored(circle, meeting).edited is False


def test_after_it_went_out_the_reminder_is_shown_but_cannot_change(client, time_machine):
    dee, circle = world(time_machine)
    meeting = circle.meetings[0]
    stored(circle, meeting).update(actions=[MeetingReminder.state.set('sent'),
                                            MeetingReminder.sent_at.set(circles.utcnow())])
    browser = Browser(dee)
    page = text(get(client, page_url(circle, meeting), browser))
    assert 'Sent Wed, Jan 20, 06:00 CST.' in page and 'name="subject"' not in page
    response = post(client, page_url(circle, meeting), {'subject': 'Late', 'intro': 'Too late'}, browser)
    assert response.status_code == 409 and 'has been sent already' in text(response)
    assert stored(circle, meeting).subject == 'Reminder: Python for Everybody'


def test_strangers_get_404_anonymous_visitors_the_login_and_posts_need_the_csrf_token(client, time_machine):
    dee, circle = world(time_machine)
    meeting = circle.meetings[0]
    stranger = Browser(account('Sam Stranger'))
    assert get(client, page_url(circle, meeting), stranger).status_code == 404
    assert post(client, page_url(circle, meeting), {'subject': 'Mine', 'intro': 'Mine'}, stranger).status_code == 404
    anonymous = get(client, page_url(circle, meeting))
    assert anonymous.status_code == 303 and anonymous.headers['Location'].startswith('/login?next=')
    refused = post(client, page_url(circle, meeting), {'subject': 'Mine', 'intro': 'Mine'}, Browser(dee), csrf=False)
    assert refused.status_code == 403
    assert get(client, f'/facilitate/circles/{circle.id}/meetings/nosuchmeeting/reminder', Browser(dee)).status_code == 404
    assert stored(circle, meeting).subject == 'Reminder: Python for Everybody'


def test_the_circle_page_shows_each_meetings_reminder_in_its_one_query(client, time_machine):
    dee, circle = world(time_machine)
    first, second, third = circle.meetings
    reminders.save_words(circle, second, stored(circle, second), {'subject': 'Mine', 'intro': 'My words'})
    stored(circle, first).update(actions=[MeetingReminder.state.set('sent'), MeetingReminder.sent_at.set(circles.utcnow())])
    circle_admin.cancel_meeting(circle, third.meeting_id)
    circle_admin.save(circle)
    browser = Browser(dee)
    aws_calls.reset()
    response = get(client, f'/facilitate/circles/{circle.id}', browser)
    assert aws_calls.dynamodb_calls() == {'GetItem': 1, 'Query': 1}
    page = text(response)
    section = page[page.index('id="reminders"'):page.index('id="messages"')]
    items = re.findall(r'<li id="reminder-(\w+)">(.*?)</li>', section, re.S)
    by_meeting = {meeting_id: ' '.join(re.sub(r'<(?!a )[^>]+>', '', body).split()) for meeting_id, body in items}
    assert 'sent Wed, Jan 20, 06:00 CST' in by_meeting[first.meeting_id]
    assert 'goes out Sun, Feb 7, 18:00 CST' in by_meeting[second.meeting_id] and 'your words' in by_meeting[second.meeting_id]
    assert 'no reminder (cancelled)' in by_meeting[third.meeting_id]
    assert page_url(circle, second) in by_meeting[second.meeting_id]
    assert page_url(circle, third) not in by_meeting[third.meeting_id]
