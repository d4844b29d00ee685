"""Meetings as iCalendar, parsed back with `icalendar`: the attachment, the public feed and a
learner's own feed."""
import base64
import binascii
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar

from chalicelib.circles import calendar_ics
from chalicelib.facilitators import circle_admin
from chalicelib.circles import circles
from chalicelib.core import links
from chalicelib.learners import rsvp
from chalicelib.learners.signup import sign_up, withdraw
from chalicelib.models import Signup
from tests.support import aws_calls
from tests.support.factories import make_circle

BASE = 'http://circles.test'
NAIROBI = dict(city='Nairobi', region='Nairobi', country='Kenya', latitude=-1.2864, longitude=36.8172,
               timezone_name='Africa/Nairobi')


def parse(data):
    return Calendar.from_ical(data)


def events(calendar):
    return {str(event['UID']): event for event in calendar.walk('VEVENT')}


def timezones(calendar):
    return sorted(str(tz['TZID']) for tz in calendar.walk('VTIMEZONE'))


def learner(circle, email='grace@example.org'):
    signup, _, _ = sign_up(circle.id, {'name': 'Grace Hopper', 'email': email, 'consent': 'true'})
    return signup


def move(circle, meeting, new_date, new_time):
    circle = circles.get_circle(circle.id)
    moved = circle_admin.move_meeting(circle, meeting.meeting_id, {'date': new_date, 'time': new_time})
    circle_admin.save(circle)
    return circle, moved


# --- one meeting (the attachment) --------------------------------------------------------

def test_meeting_event_has_a_vtimezone_stable_uid_and_local_start():
    circle = make_circle(meeting_time='18:30', duration=90)
    meeting = circle.meetings[0]
    calendar = parse(calendar_ics.meeting_event_ics(circle, meeting))

    assert str(calendar['METHOD']) == 'PUBLISH' and str(calendar['VERSION']) == '2.0'
    assert timezones(calendar) == ['America/Chicago']
    (event,) = calendar.walk('VEVENT')
    assert str(event['UID']) == f'{meeting.meeting_id}@circles'
    assert event['SEQUENCE'] == 0 and str(event['STATUS']) == 'CONFIRMED'
    assert event['DTSTART'].params['TZID'] == 'America/Chicago'
    start, end = event['DTSTART'].dt, event['DTEND'].dt
    assert (start.strftime('%H:%M'), start.date().isoformat()) == ('18:30', meeting.local_date)
    assert start.astimezone(timezone.utc) == meeting.starts_at
    assert end - start == timedelta(minutes=90)
    assert str(event['SUMMARY']) == circle.name
    assert 'Harold Washington Library' in str(event['LOCATION'])
    assert str(event['URL']) == f'{BASE}/circles/{circle.id}'
    assert b'TZID=America/Chicago:' in calendar_ics.meeting_event_ics(circle, meeting)


def test_a_moved_meeting_keeps_its_uid_with_a_higher_sequence():
    circle = make_circle()
    meeting = circle.meetings[1]
    before = events(parse(calendar_ics.meeting_event_ics(circle, meeting)))
    new_date = (date.fromisoformat(meeting.local_date) + timedelta(days=1)).isoformat()
    circle, moved = move(circle, meeting, new_date, '19:00')
    after = events(parse(calendar_ics.meeting_event_ics(circle, moved)))

    assert set(before) == set(after) == {f'{meeting.meeting_id}@circles'}
    (old,), (new,) = before.values(), after.values()
    assert new['SEQUENCE'] > old['SEQUENCE']
    assert new['DTSTART'].dt.strftime('%Y-%m-%d %H:%M') == f'{new_date} 19:00'
    assert 'LAST-MODIFIED' in new


def test_a_cancelled_meeting_is_sent_with_status_cancelled_not_dropped():
    circle = circles.get_circle(make_circle().id)
    meeting = circle.meetings[2]
    circle_admin.cancel_meeting(circle, meeting.meeting_id)
    circle_admin.save(circle)
    for method in ('PUBLISH', 'CANCEL'):
        calendar = parse(calendar_ics.meeting_event_ics(circle, meeting, method=method))
        (event,) = calendar.walk('VEVENT')
        assert str(calendar['METHOD']) == method
        assert str(event['STATUS']) == 'CANCELLED' and event['SEQUENCE'] == 1
        assert str(event['UID']) == f'{meeting.meeting_id}@circles'


def test_a_meeting_in_the_week_after_the_dst_change_keeps_its_local_time():
    # Chicago springs forward on 2027-03-14: the meetings before and after both start at 18:00 local.
    circle = make_circle(first_date='2027-03-09', weeks=2, meeting_time='18:00')
    calendar = parse(calendar_ics.circle_feed_ics(circle))
    starts = sorted(event['DTSTART'].dt for event in calendar.walk('VEVENT'))
    assert [s.strftime('%H:%M') for s in starts] == ['18:00', '18:00']
    assert [s.astimezone(timezone.utc).hour for s in starts] == [0, 23]      # CST -6, then CDT -5
    (vtimezone,) = calendar.walk('VTIMEZONE')
    assert {c.name for c in vtimezone.subcomponents} == {'STANDARD', 'DAYLIGHT'}


def test_the_vtimezone_covers_only_the_meetings_span():
    circle = make_circle()
    data = calendar_ics.meeting_event_ics(circle, circle.meetings[0])
    assert len(data) < 2500, len(data)


def test_an_unknown_method_is_refused():
    circle = make_circle(save=False)
    try:
        calendar_ics.meeting_event_ics(circle, circle.meetings[0], method='PUBLISHED')
    except ValueError as error:
        assert 'PUBLISHED' in str(error)
    else:
        raise AssertionError('an unknown METHOD was accepted')


# --- the public feed ----------------------------------------------------------------------

def test_public_feed_lists_every_meeting_of_a_published_circle(client):
    circle = circles.get_circle(make_circle(weeks=4).id)
    circle_admin.cancel_meeting(circle, circle.meetings[3].meeting_id)
    circle_admin.save(circle)
    aws_calls.reset()
    response = client.http.get(f'/circles/{circle.id}/calendar.ics')

    assert response.status_code == 200
    assert aws_calls.dynamodb_calls() == {'GetItem': 1}
    assert response.headers['Content-Type'] == 'text/calendar; charset=utf-8'
    calendar = parse(response.body)
    assert str(calendar['X-WR-CALNAME']) == circle.name
    assert timezones(calendar) == ['America/Chicago']
    found = events(calendar)
    assert set(found) == {f'{m.meeting_id}@circles' for m in circle.meetings}
    assert [str(found[f'{m.meeting_id}@circles']['STATUS']) for m in circle.meetings] == [
        'CONFIRMED', 'CONFIRMED', 'CONFIRMED', 'CANCELLED']


def test_public_feed_keeps_the_online_link_for_learners(client):
    circle = make_circle(online=True, online_link='https://meet.example.org/secret-room')
    public = client.http.get(f'/circles/{circle.id}/calendar.ics').body.decode()
    assert 'secret-room' not in public and 'LOCATION:Online' in public
    attachment = calendar_ics.meeting_event_ics(circle, circle.meetings[0]).decode()
    assert 'https://meet.example.org/secret-room' in attachment


def test_no_feed_for_drafts_or_unknown_circles(client):
    draft = make_circle(published=False)
    for url in (f'/circles/{draft.id}/calendar.ics', '/circles/nope/calendar.ics'):
        response = client.http.get(url)
        assert response.status_code == 404


def test_the_circle_page_links_to_its_calendar(client):
    circle = make_circle()
    page = client.http.get(f'/circles/{circle.id}').body.decode()
    assert f'href="/circles/{circle.id}/calendar.ics"' in page


# --- a learner's own feed -------------------------------------------------------------------------

def test_learner_feed_has_every_meeting_of_their_circles_in_three_reads(client):
    chicago = make_circle(weeks=3)
    nairobi = make_circle(name='Kiswahili kwa Wote', place=NAIROBI, weeks=2, online=True,
                          online_link='https://meet.example.org/kiswahili')
    left = make_circle(name='Left behind', weeks=2)
    draft_later = make_circle(name='Unpublished later', weeks=2)
    someone_else = make_circle(name='Not mine', weeks=2)
    grace = learner(chicago)
    for circle in (nairobi, left, draft_later):
        learner(circle)
    learner(someone_else, email='ada@example.org')
    withdraw(learner(left))
    draft = circles.get_circle(draft_later.id)
    circle_admin.unpublish(draft)
    circle_admin.save(draft)

    url = rsvp.learner_feed_url(grace)
    assert url.startswith(f'{BASE}/calendar/') and url.endswith('/circles.ics')
    aws_calls.reset()
    response = client.http.get(url.removeprefix(BASE))

    assert response.status_code == 200
    assert aws_calls.dynamodb_calls() == {'GetItem': 1, 'Query': 1, 'BatchGetItem': 1}
    assert response.headers['Content-Type'] == 'text/calendar; charset=utf-8'
    assert response.headers['Cache-Control'] == 'no-store'
    calendar = parse(response.body)
    assert timezones(calendar) == ['Africa/Nairobi', 'America/Chicago']
    found = events(calendar)
    assert set(found) == {f'{m.meeting_id}@circles' for c in (chicago, nairobi) for m in c.meetings}
    kiswahili = found[f'{nairobi.meetings[0].meeting_id}@circles']
    assert kiswahili['DTSTART'].params['TZID'] == 'Africa/Nairobi'
    assert 'https://meet.example.org/kiswahili' in str(kiswahili['LOCATION'])


def test_learner_feed_follows_a_moved_meeting(client):
    circle = make_circle(weeks=2)
    url = rsvp.learner_feed_url(learner(circle)).removeprefix(BASE)
    meeting = circle.meetings[1]
    before = events(parse(client.http.get(url).body))[f'{meeting.meeting_id}@circles']
    move(circle, meeting, meeting.local_date, '20:00')
    after = events(parse(client.http.get(url).body))[f'{meeting.meeting_id}@circles']
    assert after['SEQUENCE'] == before['SEQUENCE'] + 1
    assert after['DTSTART'].dt.strftime('%H:%M') == '20:00'


def test_the_feed_link_is_opaque_and_names_no_email():
    circle = make_circle()
    token = rsvp.learner_feed_url(learner(circle)).split('/')[-2]
    assert 'grace' not in token.lower() and 'example' not in token.lower()
    for part in token.split('.'):
        padded = part.upper() + '=' * (-len(part) % 8)
        for decode in (lambda p: base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)), lambda p: base64.b32decode(padded)):
            try:
                assert b'grace' not in decode(part).lower()
            except (ValueError, binascii.Error):
                pass


def test_the_feed_link_stops_working_when_the_learner_withdraws(client):
    circle = make_circle()
    other = make_circle(name='Still here', weeks=2)
    signup = learner(circle)
    learner(other)
    url = rsvp.learner_feed_url(signup).removeprefix(BASE)
    assert client.http.get(url).status_code == 200
    withdraw(signup)
    response = client.http.get(url)
    assert response.status_code == 404 and 'BEGIN:VCALENDAR' not in response.body.decode()
    assert rsvp.learner_feed_url(Signup.get(*Signup.key(circle.id, signup.signup_id))) is None


def test_signing_up_again_after_withdrawing_gives_a_new_feed_link_and_the_old_stays_dead(client):
    circle = make_circle()
    signup = learner(circle)
    old = rsvp.learner_feed_url(signup).removeprefix(BASE)
    withdraw(signup)
    again = learner(circle)
    assert again.signup_id == signup.signup_id        # the same key: the signup id follows the email
    new = rsvp.learner_feed_url(again).removeprefix(BASE)
    assert new != old
    assert client.http.get(old).status_code == 404
    assert client.http.get(new).status_code == 200


def test_a_learner_without_circles_left_gets_an_empty_calendar(client):
    circle = make_circle()
    signup = learner(circle)
    url = rsvp.learner_feed_url(signup).removeprefix(BASE)
    unpublished = circles.get_circle(circle.id)
    circle_admin.unpublish(unpublished)
    circle_admin.save(unpublished)
    response = client.http.get(url)
    assert response.status_code == 200
    assert events(parse(response.body)) == {}


def test_tampered_or_foreign_feed_tokens_get_nothing(client):
    circle = make_circle()
    signup = learner(circle)
    ada = learner(circle, email='ada@example.org')
    token = rsvp.learner_feed_url(signup).split('/')[-2]
    circle_id, signup_id, mac = token.split('.')
    for bad in (token[:-3] + ('abc' if not token.endswith('abc') else 'xyz'),
                f'{circle_id}.{ada.signup_id}.{mac}',                        # another learner's id, this MAC
                f'{circle_id}.{signup_id}',
                f'nope.{signup_id}.{mac}',
                links.sign(links.UNSUBSCRIBE, {'e': 'grace@example.org'}),
                links.sign(links.CALENDAR, {'e': 'grace@example.org'}),       # the old, readable kind
                rsvp.unsubscribe_url(signup).rsplit('/', 1)[1]):
        response = client.http.get(f'/calendar/{bad}/circles.ics')
        assert response.status_code == 404, bad
        assert 'BEGIN:VCALENDAR' not in response.body.decode()


def test_feed_links_do_not_expire_while_the_learner_stays(client, time_machine):
    circle = make_circle()
    url = rsvp.learner_feed_url(learner(circle)).removeprefix(BASE)
    time_machine.move_to(datetime.now(timezone.utc) + timedelta(days=800))
    assert client.http.get(url).status_code == 200


def test_event_times_are_in_the_circles_zone_not_the_servers():
    circle = make_circle(place=NAIROBI, meeting_time='17:45')
    (event,) = parse(calendar_ics.meeting_event_ics(circle, circle.meetings[0])).walk('VEVENT')
    start = event['DTSTART'].dt
    assert start.utcoffset() == ZoneInfo('Africa/Nairobi').utcoffset(start.replace(tzinfo=None))
    assert start.strftime('%H:%M') == '17:45'
