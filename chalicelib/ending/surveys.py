"""The end-of-circle surveys: what a learner and a facilitator answer, and how it is stored.

- A learner answers through their signed survey link (`survey_link`, its own purpose: a
  withdraw or RSVP token never opens it, nor this one them), with no account. The page restates
  the goal they wrote at signup. Answering again overwrites their one `LearnerSurvey`
  (`SURVEY#<signup id>`). The link works from when the surveys went out until they close
  (`CircleEnding.surveys_close_at`); after that the page says the survey has closed.
- A facilitator answers signed in, on their circle's survey page: did the circle happen (no:
  a reason, and that is all), their goal from the creation dialog restated and how far they
  reached it, a course rating with a reason, what worked, what to improve, and which of the
  circle's meeting reflections (`MeetingFeedback`) the report may share with learners. One
  `FacilitatorSurvey` per facilitator (`FSURVEY#<user id>`), overwritten by a second answer.

Reading a learner's survey page is one BatchGetItem (circle, signup, closing, answer); saving
it one TransactWriteItems (the answer, on the condition that the learner is still signed up).
The insights report reads the answers with `learner_answers` and `facilitator_answers`.
"""
from dataclasses import dataclass, field

from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles
from chalicelib.core import fields as rules
from chalicelib.core import links
from chalicelib.core.errors import NotFound, Refusal, ValidationFailed
from chalicelib.core.i18n import N_, _
from chalicelib.models import Circle, CircleSetup, MeetingFeedback, Signup, TableItem
from chalicelib.models.ending import CircleEnding, FacilitatorSurvey, LearnerSurvey
from chalicelib.models.transactions import condition_failed, transact_write

GOAL_REACHED = rules.Number(1, 5)
RECOMMEND = rules.Number(0, 10)
COURSE_RATING = rules.Number(1, 5)
ANSWER = rules.Text(2000, multiline=True)
LEARNER_TEXTS = ('worked_well', 'improve', 'next_step')
FACILITATOR_TEXTS = ('course_rating_reason', 'worked_well', 'improve')


class SurveyRefusal(Refusal):
    """A refusal of the survey: its `message` (the class's, marked N_) translated when raised, in
    the language of the moment; `text()` translates it again once the page has chosen its
    language (the circle's, `language`, when it is known: a survey page is a circle's page)."""

    def __init__(self, language=None):
        self.language = language
        super().__init__(_(type(self).message))

    def text(self):
        return _(type(self).message)


class SurveyClosed(SurveyRefusal):
    """The survey closed (or has not opened yet): answers are no longer taken."""
    status = 410
    message = N_('This survey has closed: answers are no longer taken. Thank you all the same.')


class SurveyNotOpen(SurveyRefusal):
    status = 400
    message = N_('This survey opens when the circle\'s last meeting has ended.')


class NoLongerSignedUp(SurveyRefusal):
    status = 400
    message = N_('You are no longer signed up for this learning circle, so there is no survey to answer.')


# --- links and reading --------------------------------------------------------------------------

def survey_link(signup):
    """The learner's signed survey link (purpose `links.SURVEY`)."""
    return links.url('/survey', links.SURVEY, [signup.circle_id, signup.signup_id])


def token_of(url):
    return url.rsplit('/', 1)[1]


def is_open(ending, now):
    """Whether answers are taken now: the surveys went out and have not closed."""
    return bool(ending is not None and ending.surveys_sent_at is not None and ending.surveys_close_at is not None
                and now < ending.surveys_close_at)


def check_open(ending, now, language=None):
    if ending is None or ending.surveys_sent_at is None:
        raise SurveyNotOpen(language)
    if not is_open(ending, now):
        raise SurveyClosed(language)


@dataclass
class LearnerSurveyView:
    token: str
    circle: Circle
    signup: Signup
    ending: CircleEnding
    answer: LearnerSurvey = None


def open_learner_survey(token, now=None):
    """The survey page's facts for a learner's link: one consistent BatchGetItem. Raises
    links.BadLink (tampered, foreign purpose), NoLongerSignedUp, SurveyNotOpen or SurveyClosed."""
    now = now or circles.utcnow()
    payload = links.unsign(links.SURVEY, token)
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)):
        raise links.BadLink('not a survey payload')
    circle_id, signup_id = payload
    keys = [Circle.key(circle_id), Signup.key(circle_id, signup_id), CircleEnding.key(circle_id),
            LearnerSurvey.key(circle_id, signup_id)]
    found = {(i.pk, i.sk): i for i in TableItem.batch_get(keys, consistent_read=True)}
    circle, signup = found.get(keys[0]), found.get(keys[1])
    if circle is None or signup is None or not signup.active:
        raise NoLongerSignedUp(circle.language if circle is not None else None)
    ending = found.get(keys[2])
    check_open(ending, now, circle.language)
    return LearnerSurveyView(token, circle, signup, ending, found.get(keys[3]))


def learner_answers(circle_id):
    """Every learner's answer of the circle: one Query of its partition (for the insights report)."""
    return list(LearnerSurvey.query(f'CIRCLE#{circle_id}', LearnerSurvey.sk.startswith('SURVEY#'),
                                    consistent_read=True))


def facilitator_answers(circle_id):
    """Every facilitator's answer of the circle: one Query of its partition."""
    return list(FacilitatorSurvey.query(f'CIRCLE#{circle_id}', FacilitatorSurvey.sk.startswith('FSURVEY#'),
                                        consistent_read=True))


# --- the learner's answer -----------------------------------------------------------------------

def _number(rule, raw, errors, name, message):
    value, problem = rules.clean_whole_number(rule, raw, message)
    if problem:
        errors[name] = [problem]
    return value


def _texts(fields, names, errors):
    values = {}
    for name in names:
        value, problem = rules.clean_text(ANSWER, fields.get(name))
        if problem:
            errors[name] = [problem]
        values[name] = value or None
    return values


def validate_learner(fields):
    """{answer fields} from the learner's form, or ValidationFailed naming each bad field."""
    errors = {}
    answer = {
        'goal_reached': _number(GOAL_REACHED, fields.get('goal_reached'), errors, 'goal_reached',
                                _('Please choose how far you reached your goal, from 1 to 5.')),
        'recommend': _number(RECOMMEND, fields.get('recommend'), errors, 'recommend',
                             _('Please choose how likely you are to recommend a learning circle, from 0 to 10.')),
        **_texts(fields, LEARNER_TEXTS, errors),
        'may_quote': rules.is_true(fields.get('may_quote')),
    }
    if errors:
        raise ValidationFailed(errors)
    return answer


def save_learner_answer(view, answer, now=None):
    """Store (or overwrite) the learner's answer, with the goal it restated. One transaction,
    on the condition that the learner is still signed up; NoLongerSignedUp otherwise."""
    now = now or circles.utcnow()
    check_open(view.ending, now, view.circle.language)
    signup = view.signup
    item = LearnerSurvey(*LearnerSurvey.key(signup.circle_id, signup.signup_id), circle_id=signup.circle_id,
                         signup_id=signup.signup_id, goal=signup.goals or None, answered_at=now,
                         created_at=view.answer.created_at if view.answer else now, updated_at=now, **answer)

    def write(transaction):
        transaction.condition_check(Signup, signup.pk, signup.sk,
                                    condition=Signup.pk.exists() & Signup.withdrawn_at.does_not_exist())
        transaction.save(item)
    try:
        transact_write(write)
    except TransactWriteError as error:
        if condition_failed(error):
            raise NoLongerSignedUp(view.circle.language) from None
        raise
    view.answer = item
    return item


# --- the facilitator's survey ---------------------------------------------------------------------

@dataclass
class FacilitatorSurveyView:
    circle: Circle
    user_id: str
    ending: CircleEnding
    goal: str = None
    reflections: list = field(default_factory=list)     # [(meeting, feedback)] in meeting order
    answer: FacilitatorSurvey = None


def facilitator_survey(ws, session, now=None):
    """The facilitator's survey from their workspace (read already: no further call). NotFound
    for anyone who does not facilitate the circle (an organizer of its team included);
    SurveyNotOpen or SurveyClosed outside the survey's days."""
    now = now or circles.utcnow()
    circle = ws.circle
    if session.user_id not in (circle.facilitator_ids or []):
        raise NotFound(_('No such survey.'))
    ending = next(iter(ws.of_kind(CircleEnding)), None)
    check_open(ending, now, circle.language)
    setup = next(iter(ws.of_kind(CircleSetup)), None)
    feedback = {f.meeting_id: f for f in ws.of_kind(MeetingFeedback)}
    reflections = [(m, feedback[m.meeting_id]) for m in sorted(circle.meetings, key=lambda m: m.starts_at)
                   if m.meeting_id in feedback]
    answer = next((a for a in ws.of_kind(FacilitatorSurvey) if a.user_id == session.user_id), None)
    return FacilitatorSurveyView(circle, session.user_id, ending, setup.goal if setup else None, reflections, answer)


def validate_facilitator(fields, view):
    """{answer fields} from the facilitator's form, or ValidationFailed. "It did not happen"
    needs only its reason: the rest of the form is not read."""
    errors = {}
    happened = fields.get('happened')
    if happened not in ('yes', 'no'):
        raise ValidationFailed({'happened': [_('Please say whether the circle took place.')]})
    if happened == 'no':
        reason, problem = rules.clean_text(ANSWER, fields.get('not_happened_reason'),
                                           missing=_('Please tell us briefly why it did not take place.'))
        if problem:
            raise ValidationFailed({'not_happened_reason': [problem]})
        return {'happened': False, 'not_happened_reason': reason}
    answer = {
        'happened': True,
        'goal_reached': _number(GOAL_REACHED, fields.get('goal_reached'), errors, 'goal_reached',
                                _('Please choose how far you reached your goal, from 1 to 5.')),
        'course_rating': _number(COURSE_RATING, fields.get('course_rating'), errors, 'course_rating',
                                 _('Please rate the course from 1 to 5.')),
        **_texts(fields, FACILITATOR_TEXTS, errors),
        'shared_reflections': [m.meeting_id for m, _feedback in view.reflections
                               if rules.is_true(fields.get(f'share_{m.meeting_id}'))],
    }
    if errors:
        raise ValidationFailed(errors)
    return answer


def save_facilitator_answer(view, answer, now=None):
    """Store (or overwrite) the facilitator's answer, with the goal it restated: one PutItem."""
    now = now or circles.utcnow()
    check_open(view.ending, now, view.circle.language)
    item = FacilitatorSurvey(*FacilitatorSurvey.key(view.circle.id, view.user_id), circle_id=view.circle.id,
                             user_id=view.user_id, goal=view.goal, answered_at=now,
                             created_at=view.answer.created_at if view.answer else now, updated_at=now, **answer)
    item.save()
    view.answer = item
    return item
