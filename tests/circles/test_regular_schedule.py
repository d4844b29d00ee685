"""A circle's weekday and time (listing, circle page, API `day`/`meeting_time`, the `weekdays`
filter) come from its regular schedule among the meetings not yet past, not from meeting 1."""
from datetime import date

from chalicelib.circles import circles
from chalicelib.facilitators import circle_admin
from tests.support.factories import make_circle


def _api_item(client, circle_id):
    return client.http.get(f'/api/learningcircles/{circle_id}').json_body


def _weekday_filter(client, weekday):
    return [item['id'] for item in client.http.get(f'/api/learningcircles?weekdays={weekday}').json_body['items']]


def test_moving_the_first_meeting_to_another_day_and_time_keeps_the_circles_weekday_and_time(client, time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=4, meeting_time='18:00')     # Tuesdays
    circle_admin.move_meeting(circle, circle.meetings[0].meeting_id, {'date': '2027-02-04', 'time': '10:00'})
    circle_admin.save(circle)
    saved = circles.get_circle(circle.id)
    assert saved.start_date == '2027-02-04' and saved.meeting_time == '18:00'
    item = _api_item(client, circle.id)
    assert (item['day'], item['meeting_time']) == ('Tuesday', '18:00')
    assert circle.id in _weekday_filter(client, 1) and circle.id not in _weekday_filter(client, 3)
    page = client.http.get(f'/circles/{circle.id}').body.decode()
    assert 'Every Tuesday, 18:00' in page


def test_the_weekday_follows_the_upcoming_meetings_once_most_have_moved(client, time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=3, meeting_time='18:00')     # Tuesdays
    for meeting, day in zip(circle.meetings[1:], ('2027-02-11', '2027-02-18')):     # Thursdays from week 2
        circle_admin.move_meeting(circle, meeting.meeting_id, {'date': day, 'time': '19:00'})
    circle_admin.save(circle)
    item = _api_item(client, circle.id)
    assert (item['day'], item['meeting_time']) == ('Thursday', '19:00')
    assert circle.id in _weekday_filter(client, 3) and circle.id not in _weekday_filter(client, 1)


def test_a_tie_goes_to_the_earliest_meeting_and_past_meetings_do_not_count():
    dates = [date(2027, 2, 1), date(2027, 2, 9), date(2027, 2, 15), date(2027, 2, 23)]   # Mon, Tue, Mon, Tue
    assert circles.regular_weekday(dates, date(2027, 1, 1)) == 0
    assert circles.regular_weekday(dates, date(2027, 2, 2)) == 1           # from Feb 2: Tue, Mon, Tue
    assert circles.regular_weekday(dates, date(2027, 3, 1)) == 0           # all past: all count
    assert circles.regular_weekday([], date(2027, 3, 1)) is None
