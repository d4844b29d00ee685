"""The demo's finished circle: six meetings that ended three weeks before `now`, its learners'
RSVPs, the facilitator's feedback, survey answers from learners and facilitator, and its
published insights report, so that `make run` shows one (chalicelib/ops/demo.py calls this).

Written through the app's own functions (signup, RSVP page, feedback form, the publish job's step),
each at the instant it would have happened; the survey answers and the closing are written as
the surveys' code writes them. Content is fixed; only ids are random.
"""
from datetime import time, timedelta
from typing import NamedTuple

from chalicelib.circles import circles
from chalicelib.core.clock import zone_info
from chalicelib.models import CircleEnding, Course, FacilitatorSurvey, LearnerSurvey
from chalicelib.models.ending import INSIGHTS_QUEUE

NAME = 'Web Design Basics at Bezazian'
# (name, email, goal, (goal reached 1-5, recommend 0-10, may quote), worked well, improve, next step)
LEARNERS = [
    ('Rosa Delgado', 'rosa@example.org', 'Make a simple website for my catering business.',
     (5, 10, True), 'Building one page a week, and showing it to the group.', 'More time for questions.',
     'Put my menu online this month.'),
    ('Kwame Mensah', 'kwame@example.org', 'Understand how HTML and CSS fit together.',
     (4, 9, True), 'The facilitator never gave the answer, we found it together.', 'A shorter first meeting.',
     'Take the next course on JavaScript.'),
    ('Elena Petrova', 'elena@example.org', 'Update my church group\'s page myself.',
     (4, 8, False), 'Pairs.', 'Snacks!', 'Show the pastor.'),
    ('Jamal Carter', 'jamal@example.org', 'Learn enough to talk to the web designer we hired.',
     (3, 7, True), 'Learning the words for things.', 'Some weeks went too fast for me.',
     'Ask better questions at work.'),
    ('Mei Lin', 'mei@example.org', 'Make a portfolio of my drawings.',
     (5, 10, True), 'Everyone helped me with the image gallery.', 'A meeting about hosting.',
     'Publish my portfolio.'),
    ('Samuel Okoro', 'samuel@example.org', 'Get back into learning after many years.',
     (4, 9, False), 'Being in a group.', 'Nothing.', 'Join another circle.'),
    ('Grace Kim', 'grace@example.org', 'See if web design could be a job for me.',
     (2, 6, True), 'The library space.', 'I needed more practice between meetings.',
     'Try a longer online course first.'),
    ('Ana Souza', 'ana@example.org', 'Build a page for our tenants\' association.', None, None, None, None),
]
ATTENDANCE = [8, 7, 7, 6, 7, 6]
REFLECTIONS = [
    'Everyone built their first page and changed its colours. We spent too long on installing an editor: '
    'next time I will have them use the browser\'s own tools first.',
    'The group got stuck on boxes and margins. Drawing the boxes on paper helped more than the videos.',
    'A learner showed her menu page and three others asked how she made the table: the best twenty '
    'minutes of the circle so far.',
    'Quieter week. We reviewed instead of starting the forms chapter, and nobody minded.',
    'Forms. Two learners paired up and finished early, then helped the rest.',
    'Last meeting: everyone showed what they built. Some want to keep meeting on their own.',
]


class _Facilitating(NamedTuple):
    """Who records the feedback: the circle's facilitator (the workspace checks the id)."""
    user_id: str
    name: str
    organizer_team_ids: tuple = ()


def seed_finished_circle(now, facilitator, team_id=None, language='en'):
    """Write the finished circle of `facilitator` (a User), of `team_id` if given, with its published
    report and the report's emails in the outbox. Returns the circle."""
    from chalicelib.facilitators import access, feedback
    from chalicelib.insights import publish
    from chalicelib.learners import rsvp
    from chalicelib.learners.signup import sign_up
    from chalicelib.reminders.sync import sync_reminders
    tz_name = 'America/Chicago'
    today = now.astimezone(zone_info(tz_name)).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=8) + timedelta(days=3)   # a Thursday
    meetings = circles.weekly_meetings(first, time(18, 0), len(ATTENDANCE), 90, tz_name)
    course = Course(title='Learn to Code: HTML & CSS', provider='GCFGlobal',
                    link='https://edu.gcfglobal.org/en/learn-to-code/', topics=['web design', 'html'])
    circle = circles.new_circle(
        name=NAME, course=course, timezone_name=tz_name, meetings=meetings, published=True, language=language,
        city='Chicago', region='Illinois', country='United States', latitude=41.8858, longitude=-87.7263,
        venue_name='Bezazian Branch Library', venue_address='1226 W Ainslie St, Chicago, IL 60640',
        description='Six evenings to build your first web pages, together, at your own pace.',
        facilitator_ids=[facilitator.user_id], facilitator_names=[facilitator.first_name],
        facilitator_emails=[facilitator.email], team_id=team_id)
    circles.create(circle)
    sync_reminders(circle, existing=[], now=now, entries=[])
    access.facilitator_link(circle, facilitator, now=now).save()

    signups = []
    for name, email, goal, *_ in LEARNERS:
        signup, _, _ = sign_up(circle.id, {'name': name, 'email': email, 'consent': True, 'goals': goal},
                               meetings[0].starts_at - timedelta(days=5))
        signups.append(signup)
    for n, signup in enumerate(signups):
        for number, meeting in enumerate(meetings):
            asked_at = meeting.starts_at - timedelta(days=1)
            answer = 'no' if (n + number) % 5 == 4 else 'yes'
            page = rsvp.open_rsvp(rsvp.rsvp_url(signup, meeting).rsplit('/', 1)[1], now=asked_at)
            rsvp.record_answer(page, answer, now=asked_at)
    session = _Facilitating(facilitator.user_id, facilitator.first_name)
    for meeting, came, reflection in zip(meetings, ATTENDANCE, REFLECTIONS):
        form = feedback.validate({'attendance': str(came), 'rating': '4', 'reflection': reflection,
                                  'share_with_organizers': 'yes'})
        ended = meeting.starts_at + timedelta(minutes=int(meeting.duration_minutes) + 30)
        feedback.record(access.workspace(session, circle.id), session, meeting.meeting_id, form, now=ended)

    last_end = meetings[-1].starts_at + timedelta(minutes=int(meetings[-1].duration_minutes))
    for signup, (_, _, goal, answers, worked, improve, next_step) in zip(signups, LEARNERS):
        if answers is None:
            continue        # one learner never answered
        reached, recommend, may_quote = answers
        LearnerSurvey(*LearnerSurvey.key(circle.id, signup.signup_id), circle_id=circle.id,
                      signup_id=signup.signup_id, goal=goal, goal_reached=reached, recommend=recommend,
                      worked_well=worked, improve=improve, next_step=next_step, may_quote=may_quote,
                      answered_at=last_end + timedelta(days=2), created_at=last_end + timedelta(days=2)).save()
    FacilitatorSurvey(*FacilitatorSurvey.key(circle.id, facilitator.user_id), circle_id=circle.id,
                      user_id=facilitator.user_id, happened=True, goal='Help neighbours make their own web pages.',
                      goal_reached=4, course_rating=4, course_rating_reason='Clear lessons; the forms chapter is long.',
                      worked_well='Showing work at the start of each meeting.', improve='Less setup in week one.',
                      shared_reflections=[meetings[2].meeting_id, meetings[5].meeting_id],
                      answered_at=last_end + timedelta(days=1)).save()
    closes = last_end + timedelta(days=7)
    CircleEnding(*CircleEnding.key(circle.id), circle_id=circle.id, stage=INSIGHTS_QUEUE,
                 last_meeting_ends_at=last_end, surveys_sent_at=last_end, surveys_close_at=closes,
                 due_pk=INSIGHTS_QUEUE, due_sk=f'{closes.isoformat()}#{circle.id}', created_at=last_end).save()
    publish.publish_at_close(circle.id, closes + timedelta(minutes=5))
    return circle
