"""A finished circle for the report's tests, built through the app's own functions: signups
(`sign_up`), RSVPs (the RSVP page's `record_answer`), feedback (`feedback.record`), each at the
instant it would have happened; survey answers and the closing written as their models (the
surveys' own code writes them the same way)."""
from dataclasses import dataclass, field
from datetime import timedelta

from chalicelib.accounts import sessions
from chalicelib.facilitators import access as facilitation
from chalicelib.facilitators import feedback
from chalicelib.learners import rsvp
from chalicelib.learners.signup import sign_up
from chalicelib.models import CircleEnding, FacilitatorSurvey, LearnerSurvey, Signup
from chalicelib.models.ending import INSIGHTS_QUEUE
from tests.facilitators.test_facilitator_pages import account, organizer_of, run_by
from tests.support.factories import local_today

TEAM = 't-insights'


@dataclass
class Finished:
    circle: object
    facilitator: object
    organizer: object
    signups: list
    closes_at: object
    people: list = field(default_factory=list)     # every learner's name, email and mobile, as given

    @property
    def ended_at(self):
        last = self.circle.meetings[-1]
        return last.starts_at + timedelta(minutes=int(last.duration_minutes))


def learner_data(n):
    first = ['Zorabel', 'Quentin', 'Marisol', 'Tobiah', 'Wilhelmina', 'Ignatius', 'Perpetua', 'Lysander',
             'Ottoline', 'Barnaby'][n % 10]
    return {'name': f'{first} Vantasselmoor{n}', 'email': f'{first.lower()}.{n}@example.org',
            'mobile': f'+1 312 555 {1000 + n:04d}'}


def build(learners=5, weeks=4, consent=lambda n: n % 2 == 0, answers=None, team=True, rsvps=True,
          survey=lambda n: True, weeks_ago=8, feedback_for=None, shared=None, mobile_only=()):
    """A circle of `learners` that met weekly `weeks` times, `weeks_ago` weeks ago, with their
    RSVPs (yes for even learners), the facilitator's feedback on each meeting (`feedback_for`:
    which meeting numbers, default all), and a survey answer from each learner `survey(n)` says."""
    facilitator = account('Fay Facilitator', email='fay.facilitator@example.org')
    organizer = organizer_of(TEAM, name='Olu Organizer') if team else None
    first = local_today('America/Chicago') - timedelta(weeks=weeks_ago)
    circle = run_by(facilitator, name='The Quillmoor circle', first_date=first, weeks=weeks,
                    **({'team_id': TEAM} if team else {}))
    before = circle.meetings[0].starts_at - timedelta(days=2)
    signups, people = [], []
    for n in range(learners):
        data = learner_data(n)
        people.append(data)
        fields = {'name': data['name'], 'consent': 'true', 'goals': f'Goal of {data["name"]}: build a website',
                  'email': data['email'], 'mobile': data['mobile']}
        signup, _, _ = sign_up(circle.id, fields, now=before)
        if n in mobile_only:
            # Today's signup form asks for an email; a learner with only a mobile is kept as the
            # stored item would be (the surveys' issue text them too).
            signup.update(actions=[Signup.email.remove(), Signup.email_pk.remove(), Signup.email_sk.remove()])
        signups.append(signup)
    if rsvps:
        for n, signup in enumerate(signups):
            for meeting in circle.meetings:
                token = rsvp.rsvp_url(signup, meeting).rsplit('/', 1)[1]
                page = rsvp.open_rsvp(token, now=before)
                rsvp.record_answer(page, 'yes' if n % 2 == 0 else 'no', now=before)
    session, _ = sessions.start(facilitator)
    for number, meeting in enumerate(circle.meetings, start=1):
        if feedback_for is not None and number not in feedback_for:
            continue
        ws = facilitation.workspace(session, circle.id)
        form = feedback.FeedbackForm(attendance=min(number + 1, learners), rating=4,
                                     reflection=f'Meeting {number} went well. Zorabel Vantasselmoor0 helped '
                                                f'everyone; reach her at zorabel.0@example.org.',
                                     share_with_learners=False, share_with_organizers=False)
        feedback.record(ws, session, meeting.meeting_id, form,
                        now=meeting.starts_at + timedelta(minutes=int(meeting.duration_minutes)))
    ended = circle.meetings[-1].starts_at + timedelta(minutes=int(circle.meetings[-1].duration_minutes))
    for n, signup in enumerate(signups):
        if not survey(n):
            continue
        given = (answers or default_answers)(n)
        LearnerSurvey(*LearnerSurvey.key(circle.id, signup.signup_id), circle_id=circle.id,
                      signup_id=signup.signup_id, may_quote=consent(n), answered_at=ended + timedelta(days=1),
                      **given).save()
    FacilitatorSurvey(*FacilitatorSurvey.key(circle.id, facilitator.user_id), circle_id=circle.id,
                      user_id=facilitator.user_id, happened=True, goal='Run a friendly circle', goal_reached=4,
                      course_rating=4, course_rating_reason='Clear videos, but the quizzes were hard.',
                      worked_well='Pairs', improve='Shorter breaks',
                      shared_reflections=shared if shared is not None else [circle.meetings[0].meeting_id],
                      answered_at=ended + timedelta(days=1)).save()
    closes = ended + timedelta(days=7)
    CircleEnding(*CircleEnding.key(circle.id), circle_id=circle.id, stage=INSIGHTS_QUEUE,
                 last_meeting_ends_at=ended, surveys_sent_at=ended, surveys_close_at=closes,
                 due_pk=INSIGHTS_QUEUE, due_sk=f'{closes.isoformat()}#{circle.id}').save()
    return Finished(circle, facilitator, organizer, signups, closes, people)


def default_answers(n):
    return {'goal_reached': [5, 4, 4, 3, 2, 5, 1, 4, 3, 5][n % 10], 'recommend': [10, 9, 8, 7, 3, 10, 6, 9, 9, 0][n % 10],
            'worked_well': f'Worked: the pairs, said learner {n}. Ask Quentin Vantasselmoor1 or call 312-555-1001.',
            'improve': f'Improve: more breaks ({n})', 'next_step': f'Next: a project ({n})',
            'goal': None}
