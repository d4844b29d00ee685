"""Reminders as data: when each meeting's reminder is due (48 h before, the previous-meeting
rule, never after the start, never for drafts, cancelled meetings or unpublished circles, DST
weeks), how due times follow edits without losing the facilitator's words, and what the
learners read (current facts, the circle's language, one SMS with the link)."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from chalicelib.reminders import change_notices
from chalicelib.facilitators import circle_admin
from chalicelib.circles import circles
from chalicelib.reminders import render
from chalicelib.reminders import schedule as reminders
from chalicelib.reminders.sync import sync_reminders
from chalicelib.messaging import sms_text
from chalicelib.models import MeetingReminder
from chalicelib.core import i18n
from tests.support.factories import make_circle
from tests.facilitators.test_dialog import dee  # noqa: F401 - a signed-in facilitator with a confirmed email

UTC = timezone.utc
BERLIN = dict(city='Berlin', region='Berlin', country='Germany', latitude=52.52, longitude=13.405,
              timezone_name='Europe/Berlin')
SHORT = 'http://circles.test/r/AbCdEfGhIjKl'     # as long as a real short RSVP link


def links_for(signup=None):
    """A stand-in for rsvp.learner_links: the same keys, URLs of realistic length."""
    return {'yes': 'http://circles.test/rsvp/yes-token', 'no': 'http://circles.test/rsvp/no-token',
            'withdraw': 'http://circles.test/withdraw/token', 'unsubscribe': 'http://circles.test/unsubscribe/token',
            'short': SHORT}


def learner(name='Grace Hopper', email='grace@example.org', mobile='+13125550101'):
    return SimpleNamespace(name=name, email=email, mobile=mobile, signup_id='s1')


def at(instant):
    return datetime.fromisoformat(instant).astimezone(UTC)


def stored(circle):
    return {r.meeting_id: r for r in reminders.reminders_of(circle.id)}


def due_queue(until):
    """What the job would find: the `by_due` index up to `until`, one Query."""
    return list(MeetingReminder.by_due.query('REMINDER', MeetingReminder.due_sk <= f'{until.isoformat()}#~'))


def local(instant, tz_name):
    return instant.astimezone(ZoneInfo(tz_name))


# --- when ---------------------------------------------------------------------------------

def test_the_reminder_is_due_48_hours_before_the_meeting(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=3)     # Tuesdays 18:00 in Chicago
    sync_reminders(circle)
    saved = stored(circle)
    assert len(saved) == 3
    for meeting in circle.meetings:
        reminder = saved[meeting.meeting_id]
        assert reminder.state == 'scheduled'
        assert reminder.due_at == meeting.starts_at - timedelta(hours=48)
        assert reminder.due_pk == 'REMINDER'
        assert reminder.due_sk == f'{reminder.due_at.isoformat()}#{circle.id}#{meeting.meeting_id}'
    first = circle.meetings[0]
    assert local(saved[first.meeting_id].due_at, 'America/Chicago').strftime('%a %H:%M') == 'Sun 18:00'
    assert due_queue(first.starts_at - timedelta(hours=48, seconds=1)) == []
    assert [r.meeting_id for r in due_queue(first.starts_at - timedelta(hours=48))] == [first.meeting_id]


def test_the_lead_time_is_a_deployment_setting(monkeypatch):
    from chalicelib.core.settings import get_settings
    circle = make_circle(first_date='2027-02-02', weeks=2, save=False)
    monkeypatch.setenv('CIRCLES_REMINDER_LEAD_HOURS', '24')
    get_settings.cache_clear()
    try:
        assert reminders.send_time(circle, circle.meetings[1]) == circle.meetings[1].starts_at - timedelta(hours=24)
    finally:
        monkeypatch.delenv('CIRCLES_REMINDER_LEAD_HOURS')
        get_settings.cache_clear()


def test_not_before_the_previous_meeting_has_ended(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=1, duration=90)
    circle_admin.add_meeting(circle, {'date': '2027-02-03', 'time': '18:00'})   # the day after
    circle_admin.save(circle)
    tuesday, wednesday = circles.active_meetings(circle)
    saved = stored(circle)
    assert saved[tuesday.meeting_id].due_at == tuesday.starts_at - timedelta(hours=48)
    # 48 h before Wednesday is Monday, but Tuesday's meeting runs until 19:30.
    assert saved[wednesday.meeting_id].due_at == tuesday.starts_at + timedelta(minutes=90)
    assert local(saved[wednesday.meeting_id].due_at, 'America/Chicago').strftime('%a %H:%M') == 'Tue 19:30'


def test_a_cancelled_previous_meeting_does_not_hold_the_next_reminder_back(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=1)
    circle_admin.add_meeting(circle, {'date': '2027-02-03', 'time': '18:00'})
    circle_admin.save(circle)
    tuesday, wednesday = circles.active_meetings(circle)
    circle_admin.cancel_meeting(circle, tuesday.meeting_id)
    circle_admin.save(circle)
    assert stored(circle)[wednesday.meeting_id].due_at == wednesday.starts_at - timedelta(hours=48)


def test_never_at_or_after_the_start(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=1, duration=90, save=False)
    overlapping = circles.new_meeting(date(2027, 2, 2), datetime.strptime('19:00', '%H:%M').time(), 60,
                                      'America/Chicago')
    circle.meetings = [*circle.meetings, overlapping]
    # The previous meeting ends (19:30) after this one starts (19:00): no moment is right.
    assert reminders.send_time(circle, overlapping) is None


def test_nothing_after_the_start_and_late_publication_sends_at_once(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=2)
    sync_reminders(circle)
    first, second = circle.meetings
    time_machine.move_to(first.starts_at + timedelta(minutes=1), tick=False)
    sync_reminders(circle)
    saved = stored(circle)
    assert saved[first.meeting_id].state == 'skipped'
    assert saved[first.meeting_id].due_pk is None and saved[first.meeting_id].due_sk is None
    assert saved[second.meeting_id].state == 'scheduled'
    assert [r.meeting_id for r in due_queue(second.starts_at)] == [second.meeting_id]

    # Published 10 hours before its first meeting: the reminder is due already, so the next run sends it.
    late = make_circle(first_date='2027-02-09', weeks=1)
    time_machine.move_to(late.meetings[0].starts_at - timedelta(hours=10), tick=False)
    sync_reminders(late)
    reminder = stored(late)[late.meetings[0].meeting_id]
    assert reminder.state == 'scheduled' and reminder.due_at < circles.utcnow() < late.meetings[0].starts_at


def test_nothing_for_drafts(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    draft = make_circle(first_date='2027-02-02', published=False)
    assert sync_reminders(draft) == []
    assert stored(draft) == {} and due_queue(at('2028-01-01T00:00:00+00:00')) == []


def test_nothing_for_cancelled_meetings(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=3)
    sync_reminders(circle)
    cancelled = circle.meetings[1]
    circle_admin.cancel_meeting(circle, cancelled.meeting_id)
    circle_admin.save(circle)
    reminder = stored(circle)[cancelled.meeting_id]
    assert reminder.state == 'skipped' and reminder.due_at is None and reminder.due_pk is None
    assert cancelled.meeting_id not in [r.meeting_id for r in due_queue(at('2028-01-01T00:00:00+00:00'))]
    assert len(due_queue(at('2028-01-01T00:00:00+00:00'))) == 2


def test_unpublishing_takes_every_reminder_off_the_queue_and_publishing_again_brings_them_back(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=3)
    sync_reminders(circle)
    circle_admin.unpublish(circle)
    circle_admin.save(circle)
    assert due_queue(at('2028-01-01T00:00:00+00:00')) == []
    assert {r.state for r in stored(circle).values()} == {'skipped'}
    circle.published = True
    circle_admin.save(circle)
    assert len(due_queue(at('2028-01-01T00:00:00+00:00'))) == 3


@pytest.mark.parametrize('place, meeting_day, meeting_time, expected_due_utc, hours_before', [
    # Chicago springs forward on Sunday 2027-03-14: Saturday 18:00 CST is Monday 18:00 CDT minus 47 h.
    (None, '2027-03-15', '18:00', '2027-03-14T00:00:00+00:00', 47),
    # Berlin springs forward on Sunday 2027-03-28: Saturday 19:00 CET, Monday 19:00 CEST.
    (BERLIN, '2027-03-29', '19:00', '2027-03-27T18:00:00+00:00', 47),
    # Chicago falls back on Sunday 2027-11-07: Saturday 18:00 CDT, Monday 18:00 CST, 49 h apart.
    (None, '2027-11-08', '18:00', '2027-11-06T23:00:00+00:00', 49),
    # A week without a change: exactly 48 h.
    (BERLIN, '2027-04-05', '19:00', '2027-04-03T17:00:00+00:00', 48),
])
def test_a_meeting_in_a_dst_week_is_reminded_at_the_same_local_time(time_machine, place, meeting_day, meeting_time,
                                                                    expected_due_utc, hours_before):
    time_machine.move_to('2027-03-01T12:00:00+00:00', tick=False)
    circle = make_circle(first_date=meeting_day, weeks=1, meeting_time=meeting_time, **({'place': place} if place else {}))
    sync_reminders(circle)
    meeting = circle.meetings[0]
    reminder = stored(circle)[meeting.meeting_id]
    assert reminder.due_at == at(expected_due_utc)
    assert meeting.starts_at - reminder.due_at == timedelta(hours=hours_before)
    due_local = local(reminder.due_at, circle.timezone)
    assert due_local.strftime('%H:%M') == meeting_time
    assert due_local.date() == date.fromisoformat(meeting_day) - timedelta(days=2)
    assert reminder.due_sk.startswith(expected_due_utc)


# --- edits: due times follow, words stay ---------------------------------------------------------

def test_edits_to_the_circle_move_due_times_but_keep_the_facilitators_words(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=3)
    sync_reminders(circle)
    edited, untouched = circle.meetings[1], circle.meetings[2]
    words = {'subject': 'Chapter 3 this week', 'intro': 'Please read chapter 3.\n\nBring questions!',
             'sms_text': 'Read ch. 3 please'}
    reminders.save_words(circle, edited, stored(circle)[edited.meeting_id], words, editor_id='u-ada')

    circle_admin.move_meeting(circle, edited.meeting_id, {'date': '2027-02-11', 'time': '17:30'})
    circle_admin.save(circle)
    circle_admin.apply_details(circle, {**circle_admin.detail_values(circle), 'name': 'Python, renamed',
                                        'language': 'es'})
    circle_admin.save(circle)

    saved = stored(circle)
    moved = next(m for m in circle.meetings if m.meeting_id == edited.meeting_id)
    assert saved[edited.meeting_id].due_at == moved.starts_at - timedelta(hours=48)
    assert (saved[edited.meeting_id].subject, saved[edited.meeting_id].intro, saved[edited.meeting_id].sms_text) == (
        words['subject'], words['intro'], words['sms_text'])
    assert saved[edited.meeting_id].edited is True and saved[edited.meeting_id].sequence == 1
    # Words never edited follow the circle: its new name, in its new language.
    assert saved[untouched.meeting_id].subject == 'Recordatorio: Python, renamed'
    assert saved[untouched.meeting_id].intro == 'Nuestro próximo encuentro se acerca. ¡Te esperamos!'

    # The facts come from the meeting as it is now.
    subject, text, html, sms = render.render_for_learner(circle, moved, saved[edited.meeting_id], learner(),
                                                            links_for())
    assert subject == 'Chapter 3 this week · jue, 11 feb 17:30'
    assert 'jueves, 11 de febrero de 2027, 17:30–19:00 CST' in text and 'Please read chapter 3.' in text
    assert 'jueves, 11 de febrero de 2027' in html and '<p>Bring questions!</p>' in html


def test_resetting_the_words_goes_back_to_the_defaults_that_follow_the_circle(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=1)
    meeting = circle.meetings[0]
    [reminder] = sync_reminders(circle)
    reminders.save_words(circle, meeting, reminder, {'subject': 'Mine', 'intro': 'My words', 'sms_text': ''})
    reminders.save_words(circle, meeting, stored(circle)[meeting.meeting_id], {'reset': '1'})
    reset = stored(circle)[meeting.meeting_id]
    assert reset.edited is False and reset.subject == 'Reminder: Python for Everybody'


def test_words_cannot_change_once_the_job_has_taken_the_reminder(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=1)
    meeting = circle.meetings[0]
    [reminder] = sync_reminders(circle)
    reminder.update(actions=[MeetingReminder.state.set('sending')])     # as the job claims it
    stale = stored(circle)[meeting.meeting_id]
    stale.state = 'scheduled'                                           # read before the claim
    with pytest.raises(reminders.ReminderSent):
        reminders.save_words(circle, meeting, stale, {'subject': 'Late', 'intro': 'Too late'})
    assert stored(circle)[meeting.meeting_id].subject == 'Reminder: Python for Everybody'


def test_a_sync_never_touches_a_reminder_the_job_has_taken(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=2)
    [first, _] = sync_reminders(circle)
    stale = reminders.reminders_of(circle.id)
    first.update(actions=[MeetingReminder.state.set('sending')])
    circle_admin.apply_details(circle, {**circle_admin.detail_values(circle), 'name': 'Renamed'})
    circles.save(circle)
    sync_reminders(circle, existing=stale)          # works from a copy read before the claim
    taken = stored(circle)[first.meeting_id]
    assert taken.state == 'sending' and taken.subject == 'Reminder: Python for Everybody'
    assert taken.due_pk == 'REMINDER'


def test_publishing_creates_the_reminders(dee):
    from tests.facilitators.test_dialog import walk
    circle_id = walk(dee)
    assert dee.post(f'/facilitate/circles/{circle_id}/publish').status_code == 303
    circle = circles.get_circle(circle_id)
    saved = stored(circle)
    assert len(saved) == len(circle.meetings) == 6
    assert all(saved[m.meeting_id].due_at == reminders.send_time(circle, m) for m in circle.meetings)


# --- what learners read -------------------------------------------------------------------------

def test_the_email_has_the_facts_rsvp_links_withdraw_and_unsubscribe(time_machine):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=1, venue_details='Room 3')
    meeting = circle.meetings[0]
    [reminder] = sync_reminders(circle)
    subject, text, html, sms = render.render_for_learner(circle, meeting, reminder, learner(), links_for())
    assert subject == 'Reminder: Python for Everybody · Tue, Feb 2 18:00'
    assert text.startswith('Hi Grace Hopper,')
    assert 'When: Tuesday, February 2, 2027, 18:00–19:30 CST (America/Chicago)' in text
    assert 'Where: Harold Washington Library, 400 S State St, Chicago' in text and 'Room 3' in text
    for url in links_for().values():
        if url != SHORT:
            assert url in text and f'href="{url}"' in html
    assert "Yes, I'll be there" in text and "Yes, I'll be there" in html     # a translated message is not escaped


def test_the_facilitators_copy_links_to_the_circle_instead_of_rsvp():
    circle = make_circle(first_date='2027-02-02', weeks=1, save=False)
    reminder = reminders.new_reminder(circle, circle.meetings[0], circles.utcnow())
    subject, text, html = render.render_for_facilitator(circle, circle.meetings[0], reminder, 'ADA@example.org')
    assert text.startswith('Hi Ada,')
    assert f'http://circles.test/facilitate/circles/{circle.id}' in text and '/rsvp/' not in text
    assert 'learners get buttons to answer' in html


def test_an_online_circle_gives_its_link():
    circle = make_circle(first_date='2027-02-02', weeks=1, save=False, online=True,
                         online_link='https://meet.example.org/python', venue_name=None)
    reminder = reminders.new_reminder(circle, circle.meetings[0], circles.utcnow())
    _, text, html, sms = render.render_for_learner(circle, circle.meetings[0], reminder, learner(), links_for())
    assert 'Where: Online' in text and 'Join the meeting: https://meet.example.org/python' in text
    assert ', Online.' in sms


@pytest.mark.parametrize('words, name, venue', [
    ('See you soon!', 'Python for Everybody', 'Harold Washington Library'),
    ('x' * 160, 'Python for Everybody', 'Harold Washington Library'),
    ('Please read chapters 3 and 4 before we meet, and bring your laptop, charger and questions!',
     'A very long learning circle name that goes on and on about what we study together',
     'The Harold Washington Library Center, ninth floor, room 9-204 next to the elevators'),
    ('{[curly]} ~ € ^ extension characters count twice ' * 3, 'Python', 'Library'),
])
def test_the_sms_fits_160_gsm7_characters_with_the_date_and_link_whole(words, name, venue):
    circle = make_circle(first_date='2027-02-02', weeks=1, save=False, name=name, venue_name=venue)
    reminder = reminders.new_reminder(circle, circle.meetings[0], circles.utcnow())
    reminder.sms_text = words
    sms = render.render_for_learner(circle, circle.meetings[0], reminder, learner(), links_for())[3]
    encoding, length, segments = sms_text.segments(sms)
    assert encoding == 'GSM-7' and length <= 160 and segments == 1, (length, sms)
    assert sms.endswith(f'Coming? {SHORT} Reply STOP to stop texts')
    assert 'Tue, Feb 2 18:00 CST' in sms
    if len(words) < 40:
        assert words in sms and name in sms and venue in sms      # nothing cut when it fits
    else:
        assert '...' in sms


def test_words_with_an_emoji_make_a_ucs2_sms_of_70_that_still_keeps_date_and_link():
    circle = make_circle(first_date='2027-02-02', weeks=1, save=False)
    reminder = reminders.new_reminder(circle, circle.meetings[0], circles.utcnow())
    reminder.sms_text = 'See you there 🎉 with snacks'
    sms = render.render_for_learner(circle, circle.meetings[0], reminder, learner(), links_for())[3]
    encoding, length, segments = sms_text.segments(sms)
    assert segments == 1 and SHORT in sms and 'Tue, Feb 2 18:00 CST' in sms, sms
    # The emoji did not fit in 70, so it was cut and the text stayed GSM-7.
    assert encoding == 'GSM-7' or length <= 70


@pytest.mark.parametrize('language', sorted(i18n.SHIPPED))
def test_every_language_writes_its_text_messages_fixed_words_and_short_dates_in_gsm7(language):
    """Every weekday and month (a meeting every fifth day of a year), the online place and the
    fixed words of reminders and change notices: GSM-7, so that they never make a text UCS-2."""
    circle = make_circle(first_date='2027-01-04', weeks=1, save=False, language=language, name='Python')
    meeting = circle.meetings[0]
    texts = []
    for days in range(0, 365, 5):
        later = SimpleNamespace(starts_at=meeting.starts_at + timedelta(days=days),
                                duration_minutes=meeting.duration_minutes)
        found = render.facts(circle, later)
        texts.append(found['sms_when'])
    online = make_circle(save=False, language=language, online=True, online_link='https://meet.example.org/x')
    texts += [render.facts(online, online.meetings[0])[key] for key in ('sms_place', 'sms_rsvp', 'sms_stop')]
    for kind in ('moved', 'cancelled'):
        texts.append(change_notices.change_notice(circle, meeting, learner(), links_for(), kind)[3])
    assert all(sms_text.encoding_of(text) == 'GSM-7' for text in texts), [
        text for text in texts if sms_text.encoding_of(text) != 'GSM-7']


def test_a_circle_in_german_gets_its_reminder_in_german():
    circle = make_circle(first_date='2027-03-29', weeks=1, save=False, meeting_time='19:00', place=BERLIN,
                         language='de', name='Python-Lernkreis')
    meeting = circle.meetings[0]
    reminder = reminders.new_reminder(circle, meeting, circles.utcnow())
    subject, text, html, sms = render.render_for_learner(circle, meeting, reminder, learner('Grete'), links_for())
    assert subject == 'Erinnerung: Python-Lernkreis · Mo., 29. März 19:00'
    assert text.startswith('Hallo Grete,') and 'Wann: Montag, 29. März 2027, 19:00–20:30 CEST' in text
    assert '<html lang="de">' in html and 'Ja, ich komme' in html
    assert sms.startswith('Python-Lernkreis: Bis bald! Mo., 29. März 19:00 CEST') and sms.endswith(f'{SHORT} Keine SMS mehr: STOP')


def test_a_change_notice_says_what_changed():
    circle = make_circle(first_date='2027-02-02', weeks=2, save=False)
    meeting = circle.meetings[0]
    circle_admin.move_meeting(circle, meeting.meeting_id, {'date': '2027-02-03', 'time': '17:00'},
                              now=at('2027-01-20T12:00:00+00:00'))
    subject, text, html, sms = change_notices.change_notice(circle, meeting, learner(), links_for(), 'moved')
    assert subject == 'Meeting moved: Python for Everybody'
    assert 'The meeting of Tuesday, February 2, 2027, 18:00 has moved. It is now:' in text
    assert 'Wednesday, February 3, 2027, 17:00–18:30 CST' in text and links_for()['yes'] in text
    # One message: the place gives way to the opt-out words.
    assert sms == (f'Python for Everybody: Tue, Feb 2 18:00 moved to Wed, Feb 3 17:00 CST, Harold Washington L... '
                   f'Coming? {SHORT} Reply STOP to stop texts')
    other = circle.meetings[1]
    circle_admin.cancel_meeting(circle, other.meeting_id, now=at('2027-01-20T12:00:00+00:00'))
    subject, text, html, sms = change_notices.change_notice(circle, other, learner(), links_for(), 'cancelled')
    assert subject == 'Meeting cancelled: Python for Everybody'
    assert 'The meeting of Tuesday, February 9, 2027, 18:00 is cancelled.' in text and '/rsvp/' not in text
    assert sms == f'Python for Everybody: Tue, Feb 9 18:00 cancelled. {SHORT} Reply STOP to stop texts'


# --- change notices after the reminder went out ---------------------------------------------------

def _learners(circle):
    from chalicelib.learners.signup import sign_up
    for name, email, mobile in [('Grace', 'grace@example.org', '+13125550101'),
                                ('Alan', 'alan@example.org', None)]:
        data = {'name': name, 'email': email, 'consent': 'true', 'goals': 'Learn', **({'mobile': mobile} if mobile else {})}
        sign_up(circle.id, data)


def _mark_sent(circle, meeting):
    """What the job does once every delivery of the reminder is final."""
    reminder = stored(circle)[meeting.meeting_id]
    reminder.update(actions=[MeetingReminder.state.set('sent'), MeetingReminder.sent_at.set(circles.utcnow()),
                             MeetingReminder.due_pk.remove(), MeetingReminder.due_sk.remove()])


def _reminded(time_machine):
    """A circle with two learners whose first meeting's reminder went out; (circle, meeting)."""
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=2)
    _learners(circle)
    sync_reminders(circle)
    meeting = circle.meetings[0]
    time_machine.move_to('2027-01-31T12:00:00+00:00', tick=False)
    _mark_sent(circle, meeting)
    circle = circles.get_circle(circle.id)
    return circle, meeting


def _notices(moto, subject_start):
    return [m for m in moto.sent_emails() if str(m['Subject']).startswith(subject_start)]


def _ics(message):
    from icalendar import Calendar
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == 'text/calendar']
    return Calendar.from_ical(part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode())


def test_a_meeting_moved_after_its_reminder_went_out_is_announced_once_by_email_and_sms(time_machine, moto, twilio):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=2)
    _learners(circle)
    sync_reminders(circle)
    meeting = circle.meetings[0]
    time_machine.move_to('2027-01-31T12:00:00+00:00', tick=False)      # the reminder went out today
    _mark_sent(circle, meeting)
    circle = circles.get_circle(circle.id)
    circle_admin.move_meeting(circle, meeting.meeting_id, {'date': '2027-02-03', 'time': '17:00'})
    circle_admin.save(circle)

    emails = _notices(moto, 'Meeting moved')
    assert sorted(str(m['To']) for m in emails) == ['alan@example.org', 'grace@example.org']
    grace = next(m for m in emails if str(m['To']) == 'grace@example.org')
    text = grace.get_body(('plain',)).get_content()
    assert 'The meeting of Tuesday, February 2, 2027, 18:00 has moved.' in text
    assert 'Wednesday, February 3, 2027, 17:00' in text
    assert grace['List-Unsubscribe-Post'] == 'List-Unsubscribe=One-Click'
    event = next(c for c in _ics(grace).walk('VEVENT'))
    assert str(event['UID']) == f'{meeting.meeting_id}@circles' and int(event['SEQUENCE']) == 1
    [sms] = [s for s in twilio.sent() if s['To'] == '+13125550101']
    assert 'moved to Wed, Feb 3 17:00 CST' in sms['Body'] and '/r/' in sms['Body']
    assert sms_text.segments(sms['Body'])[1] <= 160
    assert stored(circle)[meeting.meeting_id].sequence == 1

    # Saving the circle again (any edit) sends nothing more.
    circle_admin.set_signup_open(circle, False)
    circle_admin.save(circle)
    change_notices.notify_change(circle, circle.meetings[0], 'moved', circles.utcnow())
    assert len(_notices(moto, 'Meeting moved')) == 2 and len(twilio.sent()) == 1


def test_a_meeting_cancelled_after_its_reminder_went_out_sends_a_cancelled_event(time_machine, moto, twilio):
    circle, meeting = _reminded(time_machine)
    circle_admin.cancel_meeting(circle, meeting.meeting_id)
    circle_admin.save(circle)
    emails = _notices(moto, 'Meeting cancelled')
    assert len(emails) == 2
    event = next(c for c in _ics(emails[0]).walk('VEVENT'))
    assert str(event['STATUS']) == 'CANCELLED' and int(event['SEQUENCE']) == 1
    assert [s['Body'] for s in twilio.sent()] and 'cancelled' in twilio.sent()[0]['Body']


def test_before_the_reminder_went_out_a_move_is_told_once_and_the_reminder_stays_due(time_machine, moto, twilio):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=2)
    _learners(circle)
    circle = circles.get_circle(circle.id)
    sync_reminders(circle)
    meeting = circle.meetings[0]
    circle_admin.move_meeting(circle, meeting.meeting_id, {'date': '2027-02-03', 'time': '17:00'})
    circle_admin.save(circle)
    emails = _notices(moto, 'Meeting moved')
    assert sorted(str(m['To']) for m in emails) == ['alan@example.org', 'grace@example.org']
    assert int(_ics(emails[0]).walk('VEVENT')[0]['SEQUENCE']) == 1
    assert len(twilio.sent()) == 1 and 'moved to Wed, Feb 3 17:00' in twilio.sent()[0]['Body']
    reminder = stored(circle)[meeting.meeting_id]
    assert reminder.sequence == 1 and reminder.state == 'scheduled'
    assert reminder.due_at == meeting.starts_at - timedelta(hours=48) and reminder.due_pk == 'REMINDER'
    circle_admin.save(circles.get_circle(circle.id))                       # a later save: no repeat
    assert len(_notices(moto, 'Meeting moved')) == 2 and len(twilio.sent()) == 1


def test_a_meeting_cancelled_weeks_ahead_is_told_and_never_reminded(time_machine, moto, twilio):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=3)
    _learners(circle)
    circle = circles.get_circle(circle.id)
    sync_reminders(circle)
    last = circle.meetings[2]
    circle_admin.cancel_meeting(circle, last.meeting_id)
    circle_admin.save(circle)
    emails = _notices(moto, 'Meeting cancelled')
    assert len(emails) == 2 and str(_ics(emails[0]).walk('VEVENT')[0]['STATUS']) == 'CANCELLED'
    reminder = stored(circle)[last.meeting_id]
    assert reminder.state == 'skipped' and reminder.sequence == 1 and reminder.due_pk is None
    assert last.meeting_id not in [r.meeting_id for r in due_queue(at('2028-01-01T00:00:00+00:00'))]


def test_a_meeting_without_a_due_reminder_is_still_told_when_it_moves(time_machine, moto, twilio):
    """Meeting 2 starts before meeting 1 ends, so it gets no reminder; its learners still hear of a move."""
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=1)
    _learners(circle)
    circle = circles.get_circle(circle.id)
    circle_admin.add_meeting(circle, {'date': '2027-02-02', 'time': '19:00'})
    circle_admin.save(circle)
    close = next(m for m in circle.meetings if m.local_time == '19:00')
    assert stored(circle)[close.meeting_id].due_at is None
    circle_admin.move_meeting(circle, close.meeting_id, {'date': '2027-02-09', 'time': '19:00'})
    circle_admin.save(circle)
    assert len(_notices(moto, 'Meeting moved')) == 2


def test_a_circle_without_learners_sends_no_change_notice(time_machine, moto, twilio):
    time_machine.move_to('2027-01-20T12:00:00+00:00', tick=False)
    circle = make_circle(first_date='2027-02-02', weeks=2)
    sync_reminders(circle)
    circle_admin.move_meeting(circle, circle.meetings[0].meeting_id, {'date': '2027-02-03', 'time': '17:00'})
    circle_admin.save(circle)
    assert moto.sent_emails() == [] and twilio.sent() == []
    assert stored(circle)[circle.meetings[0].meeting_id].sequence == 1     # nobody to tell: it follows


def test_the_demo_circles_have_their_reminders_scheduled():
    from chalicelib.ops import demo
    demo.load_demo_data()
    queued = due_queue(circles.utcnow() + timedelta(days=400))
    assert queued and {r.state for r in queued} == {'scheduled'}
    for reminder in queued[:5]:
        circle = circles.get_circle(reminder.circle_id)
        meeting = next(m for m in circle.meetings if m.meeting_id == reminder.meeting_id)
        assert circle.published and reminder.due_at == reminders.send_time(circle, meeting)


def test_a_change_notice_failing_at_twilio_is_retried_by_the_sweep_once(time_machine, moto, twilio):
    """Twilio fails while the sender delivers the notice: the SMS is retried by the outbox sweep
    after its backoff, and the emails are not repeated."""
    from chalicelib.messaging import sender
    from chalicelib.ops.outbox_templates import templates
    circle, meeting = _reminded(time_machine)
    circle_admin.move_meeting(circle, meeting.meeting_id, {'date': '2027-02-03', 'time': '17:00'})
    twilio.answer_next(500)
    circle_admin.save(circle)
    assert len(_notices(moto, 'Meeting moved')) == 2 and twilio.sent() == []
    assert sender.sweep(templates(), circles.utcnow()) == {}                    # its backoff is not over
    time_machine.move_to('2027-01-31T12:05:00+00:00', tick=False)
    assert sender.sweep(templates(), circles.utcnow()) == {'sent': 1}
    assert len(twilio.sent()) == 1 and len(_notices(moto, 'Meeting moved')) == 2
    assert sender.sweep(templates(), circles.utcnow() + timedelta(hours=1)) == {}


def test_a_change_left_unannounced_by_a_crash_is_announced_by_the_job_exactly_once(time_machine, moto, twilio):
    """The request saved the moved meeting and queued it on CHANGE, then died before announcing."""
    circle, meeting = _reminded(time_machine)
    circle_admin.move_meeting(circle, meeting.meeting_id, {'date': '2027-02-03', 'time': '17:00'})
    circles.save(circle)
    change_notices.queue_change_notice(stored(circle)[meeting.meeting_id], circles.utcnow())
    assert _notices(moto, 'Meeting moved') == []
    assert change_notices.send_due_change_notices(circles.utcnow()) == 0          # not due yet
    time_machine.move_to('2027-01-31T13:00:00+00:00', tick=False)
    assert change_notices.send_due_change_notices(circles.utcnow()) == 1
    assert len(twilio.sent()) == 1 and len(_notices(moto, 'Meeting moved')) == 2
    assert list(MeetingReminder.by_due.query(change_notices.CHANGE_QUEUE)) == []
    assert change_notices.send_due_change_notices(circles.utcnow() + timedelta(hours=1)) == 0
    circle_admin.save(circles.get_circle(circle.id))                              # a later save: no repeat
    assert len(twilio.sent()) == 1 and len(_notices(moto, 'Meeting moved')) == 2
