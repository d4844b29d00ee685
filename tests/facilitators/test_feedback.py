"""Meeting feedback: only once a meeting has started, validated in place, editable, the recap
email sent once however often the feedback is saved, roles and CSRF on every route, and
feedback not shared with organizers kept from them (page, form, edit)."""
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.circles import circles
from chalicelib.facilitators import access as facilitation
from chalicelib.facilitators import feedback
from chalicelib.accounts import sessions
from chalicelib.models import Circle, MeetingFeedback
from tests.accounts.test_account_pages import csrf_from
from tests.facilitators.test_messages import FORM, build_world, organizer, stranger

GOOD = {'attendance': '7', 'rating': '4', 'reflection': 'We got the loops working.\r\nNext: functions.',
        'share_with_organizers': 'on'}


@pytest.fixture
def world(moto):
    # Weekly from 8 days ago: meetings 1 and 2 have started, 3 to 6 have not.
    return build_world(moto, starts_in_days=-8)


def log_in(client, email):
    """A session cookie for the account with `email` (the login form has its own tests)."""
    from chalicelib.accounts import accounts
    _, set_cookie = sessions.start(accounts.user_for_email(email))
    return set_cookie.split(';')[0]


def log_in_as(client, moto, world, email):
    """The facilitator, the co-facilitator, the team's organizer (Olu) or the stranger (Eve)."""
    if email == 'olu@example.org':
        organizer(moto)
    elif email == 'eve@example.org':
        stranger(moto, world)
    return log_in(client, email)


def meetings_of(circle):
    return feedback.schedule(circle)


def feedback_path(circle, meeting):
    return f'/facilitate/circles/{circle.id}/meetings/{meeting.meeting_id}/feedback'


def open_form(client, cookie, circle, meeting):
    page = client.http.get(feedback_path(circle, meeting), headers={'Cookie': cookie})
    assert page.status_code == 200, page.body
    return page.body.decode()


def submit(client, cookie, circle, meeting, fields, token=None):
    token = token or csrf_from(open_form(client, cookie, circle, meeting))
    return client.http.post(feedback_path(circle, meeting), headers={**FORM, 'Cookie': cookie},
                            body=urlencode({'csrf_token': token, **fields}))


def stored(circle, meeting):
    return MeetingFeedback.get(*MeetingFeedback.key(circle.id, meeting.meeting_id))


def recaps(moto, circle):
    return [m for m in moto.sent_emails() if m['Subject'].startswith(f'Recap: {circle.name}')]


def test_the_facilitator_records_feedback_on_a_meeting_that_has_started(client, world):
    cookie = log_in(client, 'ada@example.org')
    first = meetings_of(world.circle)[0]
    response = submit(client, cookie, world.circle, first, GOOD)
    assert response.status_code == 303, response.body
    assert response.headers['Location'] == feedback_path(world.circle, first) + '?saved=yes'
    saved = stored(world.circle, first)
    assert (saved.attendance, saved.rating, saved.reflection) == (7, 4, 'We got the loops working.\nNext: functions.')
    assert saved.share_with_organizers is True and saved.share_with_learners is False
    assert saved.prompt == feedback.PROMPTS[0] and saved.author_id == world.facilitator.user_id
    assert saved.recap_claimed_at is None
    page = open_form(client, cookie, world.circle, first)
    assert 'value="7"' in page and 'value="4" checked' in page and 'We got the loops working.' in page
    assert 'Save changes' in page


def test_no_feedback_before_the_meeting_starts(client, world):
    cookie = log_in(client, 'ada@example.org')
    future = meetings_of(world.circle)[2]
    page = open_form(client, cookie, world.circle, future)
    assert 'once it has started' in page and 'name="reflection"' not in page
    token = csrf_from(open_form(client, cookie, world.circle, meetings_of(world.circle)[0]))
    response = submit(client, cookie, world.circle, future, GOOD, token=token)
    assert response.status_code == 400 and 'once it has started' in response.body.decode()
    with pytest.raises(MeetingFeedback.DoesNotExist):
        stored(world.circle, future)


def test_feedback_opens_at_the_instant_the_meeting_starts(world):
    session, _ = sessions.start(world.facilitator)
    meeting = meetings_of(world.circle)[2]
    ws = facilitation.Workspace(world.circle)
    form = feedback.validate(GOOD)
    with pytest.raises(feedback.TooEarly):
        feedback.record(ws, session, meeting.meeting_id, form, now=meeting.starts_at - timedelta(seconds=1))
    saved, recap_sent = feedback.record(ws, session, meeting.meeting_id, form, now=meeting.starts_at)
    assert saved.meeting_id == meeting.meeting_id and recap_sent is False


@pytest.mark.parametrize('fields, errors', [
    ({'attendance': '', 'rating': '', 'reflection': ''}, {'attendance', 'rating', 'reflection'}),
    ({**GOOD, 'attendance': '-1'}, {'attendance'}),
    ({**GOOD, 'attendance': str(feedback.MAX_ATTENDANCE + 1)}, {'attendance'}),
    ({**GOOD, 'attendance': 'seven'}, {'attendance'}),
    ({**GOOD, 'attendance': '2.5'}, {'attendance'}),
    ({**GOOD, 'rating': '0'}, {'rating'}),
    ({**GOOD, 'rating': '6'}, {'rating'}),
    ({**GOOD, 'reflection': '   '}, {'reflection'}),
    ({**GOOD, 'reflection': 'x' * (feedback.MAX_REFLECTION + 1)}, {'reflection'}),
])
def test_invalid_feedback_is_shown_in_place_with_the_input_kept(client, world, fields, errors):
    cookie = log_in(client, 'ada@example.org')
    first = meetings_of(world.circle)[0]
    response = submit(client, cookie, world.circle, first, fields)
    page = response.body.decode()
    assert response.status_code == 400
    assert set(re.findall(r'id="(\w+)-error"', page)) == errors
    if fields['attendance']:
        assert f'value="{fields["attendance"]}"' in page
    with pytest.raises(MeetingFeedback.DoesNotExist):
        stored(world.circle, first)


def test_limits_are_accepted(client, world):
    cookie = log_in(client, 'ada@example.org')
    first, second = meetings_of(world.circle)[:2]
    assert submit(client, cookie, world.circle, first, {**GOOD, 'attendance': '0', 'rating': '1'}).status_code == 303
    assert submit(client, cookie, world.circle, second, {**GOOD, 'attendance': str(feedback.MAX_ATTENDANCE),
                                                                'rating': '5'}).status_code == 303


def test_prompts_rotate_with_the_meeting_number():
    assert [feedback.prompt_for(n) for n in range(6)] == [*feedback.PROMPTS, *feedback.PROMPTS[:2]]
    assert len(set(feedback.PROMPTS)) == 4


def test_each_meeting_asks_its_own_prompt(client, world):
    cookie = log_in(client, 'ada@example.org')
    first, second = meetings_of(world.circle)[:2]
    assert feedback.PROMPTS[0] in open_form(client, cookie, world.circle, first)
    assert feedback.PROMPTS[1] in open_form(client, cookie, world.circle, second)
    submit(client, cookie, world.circle, second, GOOD)
    assert stored(world.circle, second).prompt == feedback.PROMPTS[1]


def test_the_recap_goes_to_current_learners_once_even_when_feedback_is_edited(client, moto, world):
    cookie = log_in(client, 'ada@example.org')
    first = meetings_of(world.circle)[0]
    response = submit(client, cookie, world.circle, first, {**GOOD, 'share_with_learners': 'on'})
    assert response.headers['Location'].endswith('?saved=recap')
    sent = recaps(moto, world.circle)
    assert sorted(m['To'] for m in sent) == ['alan@example.org', 'grace@example.org', 'linus@example.org']
    for message in sent:
        text = message.get_body(('plain',)).get_content()
        assert 'We got the loops working.' in text and feedback.PROMPTS[0] in text
        assert message['Reply-To'] == 'ada@example.org, bo@example.org' and message['Cc'] is None
    claimed = stored(world.circle, first).recap_claimed_at
    from chalicelib.models import Delivery
    recap_items = Delivery.query(f'CIRCLE#{world.circle.id}', Delivery.sk.startswith(f'DELIVERY#recap#{first.meeting_id}#'))
    assert sorted(d.state for d in recap_items if d.channel == 'email') == ['sent'] * 3

    # Edited twice, by the facilitator and the co-facilitator, still shared: no second recap.
    again = submit(client, cookie, world.circle, first, {**GOOD, 'reflection': 'Edited', 'share_with_learners': 'on'})
    assert again.headers['Location'].endswith('?saved=yes')
    co = log_in(client, 'bo@example.org')
    submit(client, co, world.circle, first, {**GOOD, 'reflection': 'Edited again', 'share_with_learners': 'on'})
    assert len(recaps(moto, world.circle)) == 3
    edited = stored(world.circle, first)
    assert edited.reflection == 'Edited again' and edited.recap_claimed_at == claimed
    assert edited.author_id == world.facilitator.user_id
    assert 'already sent' in open_form(client, cookie, world.circle, first)


def test_sharing_with_learners_later_sends_the_recap_then(client, moto, world):
    cookie = log_in(client, 'ada@example.org')
    first = meetings_of(world.circle)[0]
    submit(client, cookie, world.circle, first, GOOD)
    assert recaps(moto, world.circle) == []
    submit(client, cookie, world.circle, first, {**GOOD, 'reflection': 'Now shared', 'share_with_learners': 'on'})
    sent = recaps(moto, world.circle)
    assert len(sent) == 3 and 'Now shared' in sent[0].get_body(('plain',)).get_content()


def test_a_cancelled_or_unknown_meeting_is_not_found(client, world):
    cookie = log_in(client, 'ada@example.org')
    circle = Circle.get(*Circle.key(world.circle.id))
    first = meetings_of(circle)[0]
    first.cancelled = True
    circles.save(circle)
    assert client.http.get(feedback_path(circle, first), headers={'Cookie': cookie}).status_code == 404
    assert client.http.get(f'/facilitate/circles/{circle.id}/meetings/nope/feedback',
                           headers={'Cookie': cookie}).status_code == 404


def test_the_circle_page_partial_offers_feedback_for_started_meetings_and_shows_what_was_recorded(client, world):
    from chalicelib.core.rendering import render
    from chalicelib.accounts.sessions import from_cookie_header
    cookie = log_in(client, 'ada@example.org')
    first, second, third = meetings_of(world.circle)[:3]
    submit(client, cookie, world.circle, first, {**GOOD, 'share_with_learners': 'on'})
    from tests.support.outbox import drain
    drain()     # the stream sender delivers the recap
    session = from_cookie_header(cookie)
    ws = facilitation.workspace(session, world.circle.id)
    html = render('facilitator/_feedback.html', ws=ws, session=session, csrf_token='t', now=circles.utcnow())
    assert 'We got the loops working.' in html and '7 came' in html and 'rated 4 of 5' in html
    assert 'Recap emailed to 3 learners' in html and 'Shared with organizers.' in html
    assert f'href="{feedback_path(world.circle, first)}">Edit feedback' in html
    assert f'href="{feedback_path(world.circle, second)}">Give feedback' in html
    assert feedback_path(world.circle, third) not in html


# --- roles and CSRF ---------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_login(client, world):
    path = feedback_path(world.circle, meetings_of(world.circle)[0])
    for response in (client.http.get(path), client.http.post(path, headers=FORM, body=urlencode(GOOD))):
        assert response.status_code == 303 and response.headers['Location'].startswith('/login?next=')


def test_another_facilitator_gets_404_and_changes_nothing(client, moto, world):
    first = meetings_of(world.circle)[0]
    stranger = log_in_as(client, moto, world, 'eve@example.org')
    token = csrf_from(client.http.get(f'/facilitate/circles/{world.other_circle.id}/messages/new',
                                      headers={'Cookie': stranger}).body.decode())
    assert client.http.get(feedback_path(world.circle, first), headers={'Cookie': stranger}).status_code == 404
    response = submit(client, stranger, world.circle, first, {**GOOD, 'share_with_learners': 'on'}, token=token)
    assert response.status_code == 404
    with pytest.raises(MeetingFeedback.DoesNotExist):
        stored(world.circle, first)
    assert recaps(moto, world.circle) == []


@pytest.mark.parametrize('email', ['ada@example.org', 'bo@example.org', 'olu@example.org'])
def test_facilitators_co_facilitators_and_team_organizers_can_give_feedback(client, moto, world, email):
    cookie = log_in_as(client, moto, world, email)
    first = meetings_of(world.circle)[0]
    assert submit(client, cookie, world.circle, first, GOOD).status_code == 303
    assert stored(world.circle, first).author_name == 'Dee Facilitator'


def test_a_post_without_the_csrf_token_is_refused(client, world):
    cookie = log_in(client, 'ada@example.org')
    first = meetings_of(world.circle)[0]
    for fields in (GOOD, {**GOOD, 'csrf_token': 'forged'}):
        response = client.http.post(feedback_path(world.circle, first), headers={**FORM, 'Cookie': cookie},
                                    body=urlencode(fields))
        assert response.status_code == 403
    with pytest.raises(MeetingFeedback.DoesNotExist):
        stored(world.circle, first)


# --- feedback not shared with organizers ----------------------------------------------------

PRIVATE = {**GOOD, 'reflection': 'Alan struggled and asked me not to tell anyone.', 'share_with_organizers': ''}


def test_an_organizer_sees_only_that_unshared_feedback_is_private_on_the_circle_page(client, moto, world):
    first, second = meetings_of(world.circle)[:2]
    ada = log_in(client, 'ada@example.org')
    submit(client, ada, world.circle, first, PRIVATE)
    submit(client, ada, world.circle, second, {**GOOD, 'reflection': 'Shared with the team.'})
    olu = log_in_as(client, moto, world, 'olu@example.org')
    page = client.http.get(f'/facilitate/circles/{world.circle.id}', headers={'Cookie': olu})
    assert page.status_code == 200
    body = page.body.decode()
    assert 'Alan struggled' not in body and 'Private: the facilitator did not share this feedback' in body
    assert f'href="{feedback_path(world.circle, first)}"' not in body
    assert 'Shared with the team.' in body and f'href="{feedback_path(world.circle, second)}">Edit feedback' in body
    # The facilitator still sees all of it, and that it is private.
    own = client.http.get(f'/facilitate/circles/{world.circle.id}', headers={'Cookie': ada}).body.decode()
    assert 'Alan struggled' in own and 'Private: not shared with organizers.' in own


def test_an_organizer_can_neither_open_nor_edit_unshared_feedback(client, moto, world):
    first = meetings_of(world.circle)[0]
    ada = log_in(client, 'ada@example.org')
    submit(client, ada, world.circle, first, PRIVATE)
    olu = log_in_as(client, moto, world, 'olu@example.org')
    form = client.http.get(feedback_path(world.circle, first), headers={'Cookie': olu})
    assert form.status_code == 403
    body = form.body.decode()
    assert 'This feedback is private' in body and 'Alan struggled' not in body and 'name="reflection"' not in body

    token = csrf_from(client.http.get(f'/facilitate/circles/{world.circle.id}', headers={'Cookie': olu}).body.decode())
    for fields in ({**GOOD, 'reflection': 'Overwritten by the organizer'}, {**GOOD, 'attendance': 'many'}):
        response = submit(client, olu, world.circle, first, fields, token=token)
        assert response.status_code == 403 and 'This feedback is private' in response.body.decode()
        assert 'Alan struggled' not in response.body.decode()
    saved = stored(world.circle, first)
    assert saved.reflection == PRIVATE['reflection'] and saved.share_with_organizers is False


def test_an_organizer_reads_and_edits_feedback_shared_with_organizers(client, moto, world):
    first = meetings_of(world.circle)[0]
    submit(client, log_in(client, 'ada@example.org'), world.circle, first, GOOD)
    olu = log_in_as(client, moto, world, 'olu@example.org')
    assert 'We got the loops working.' in open_form(client, olu, world.circle, first)
    assert submit(client, olu, world.circle, first, {**GOOD, 'reflection': 'Noted.'}).status_code == 303
    assert stored(world.circle, first).reflection == 'Noted.'


def test_feedback_unshared_after_the_organizer_read_the_circle_refuses_their_edit(moto, world):
    first = meetings_of(world.circle)[0]
    ada_session, _ = sessions.start(world.facilitator)
    ada_ws = facilitation.workspace(ada_session, world.circle.id)
    feedback.record(ada_ws, ada_session, first.meeting_id, feedback.validate(GOOD))
    olu_session, _ = sessions.start(organizer(moto))
    olu_ws = facilitation.workspace(olu_session, world.circle.id)      # read while shared
    feedback.record(facilitation.workspace(ada_session, world.circle.id), ada_session, first.meeting_id,
                    feedback.validate(PRIVATE))
    with pytest.raises(feedback.NotShared):
        feedback.record(olu_ws, olu_session, first.meeting_id, feedback.validate({**GOOD, 'reflection': 'Mine now'}))
    assert stored(world.circle, first).reflection == PRIVATE['reflection']


def test_feedback_written_meanwhile_and_kept_private_refuses_the_organizers_first_feedback(moto, world):
    first = meetings_of(world.circle)[0]
    olu_session, _ = sessions.start(organizer(moto))
    olu_ws = facilitation.workspace(olu_session, world.circle.id)      # no feedback yet
    ada_session, _ = sessions.start(world.facilitator)
    feedback.record(facilitation.workspace(ada_session, world.circle.id), ada_session, first.meeting_id,
                    feedback.validate(PRIVATE))
    with pytest.raises(feedback.NotShared):
        feedback.record(olu_ws, olu_session, first.meeting_id, feedback.validate(GOOD))
    assert stored(world.circle, first).reflection == PRIVATE['reflection']


def test_what_organizers_may_read_is_only_the_feedback_shared_with_them(moto, world):
    first, second = meetings_of(world.circle)[:2]
    ada_session, _ = sessions.start(world.facilitator)
    for meeting, fields in ((first, PRIVATE), (second, GOOD)):
        feedback.record(facilitation.workspace(ada_session, world.circle.id), ada_session, meeting.meeting_id,
                        feedback.validate(fields))
    ws = facilitation.workspace(ada_session, world.circle.id)
    assert [f.meeting_id for f in feedback.shared_with_organizers(ws.others)] == [second.meeting_id]
    olu_session, _ = sessions.start(organizer(moto))
    assert feedback.feedback_for(ws, ada_session, first.meeting_id).reflection == PRIVATE['reflection']
    with pytest.raises(feedback.NotShared):
        feedback.feedback_for(ws, olu_session, first.meeting_id)
    assert feedback.feedback_for(ws, olu_session, second.meeting_id).meeting_id == second.meeting_id
