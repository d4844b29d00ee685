"""The figures of a circle's insights report, from ONE Query of its partition.

`read_partition(circle_id)` reads `CIRCLE#<id>` once (raw JSON, every page, consistently) and
keeps what the report needs: the circle, its signups, RSVPs, meeting feedback, learner and
facilitator survey answers, the report and the closing (`ENDING`) if they exist, and whether the
report's emails were queued (the outbox fan-out item). Outbox items, reminders and the rest are
skipped without building a model.

`snapshot(partition, now)` is the report: a plain dict, stored whole as `InsightsReport.figures`,
which the public page and every email render. What it holds, and what it never holds:

- no learner's name, email address or mobile number: only counts, distributions, and the words
  of learners who said they may be quoted (`may_quote`), with any name, address or number of a
  learner of the circle (and any address or phone number at all) replaced (`Redactor`). The
  facilitators' first names are public already (the circle's page shows them).
- small counts: a question fewer than MIN_ANSWERS learners answered keeps only its number of
  answers, shown as "too few answers"; its distribution, mean and quotes are not stored at all,
  so no page or email can show them by mistake.
- goals are personal words: a learner's goal is quoted only with their consent; otherwise only how
  far goals were reached (1-5) is counted.
- the facilitators' reflections on meetings are included only for the meetings they chose in their
  survey (`FacilitatorSurvey.shared_reflections`); their course rating as a mean.
"""
import re
from dataclasses import dataclass, field

from chalicelib.core import i18n
from chalicelib.core.i18n import N_, _
from chalicelib.models import (Circle, CircleEnding, Delivery, FacilitatorSurvey, InsightsReport, LearnerSurvey,
                               MeetingFeedback, Rsvp, Signup, TableItem)
from chalicelib.models import raw as reads
from chalicelib.models.rsvp import answer_holds

MIN_ANSWERS = 3             # fewer answers to a question than this: "too few answers"
FAN_OUT_PURPOSE = 'insights'
# Stored in the snapshot in English (N_), translated where shown (`_(label)`).
GOAL_LABELS = {1: N_('Not at all'), 2: N_('A little'), 3: N_('Halfway'), 4: N_('Mostly'), 5: N_('Completely')}
RECOMMEND_VALUES = range(0, 11)
TEXT_QUESTIONS = ('worked_well', 'improve', 'next_step')
_KINDS = {'Signup', 'Rsvp', 'MeetingFeedback', 'LearnerSurvey', 'FacilitatorSurvey', 'InsightsReport',
          'CircleEnding'}
SNAPSHOT_VERSION = 1


def fan_out_sk(circle_id):
    """The sort key of the report's outbox fan-out: its existence means the emails were queued."""
    return Delivery.key(f'CIRCLE#{circle_id}', FAN_OUT_PURPOSE, 'all', 'fan-out')[1]


@dataclass
class Partition:
    circle: Circle
    signups: list = field(default_factory=list)
    rsvps: list = field(default_factory=list)
    feedback: dict = field(default_factory=dict)            # meeting id -> MeetingFeedback
    surveys: list = field(default_factory=list)
    facilitator_surveys: list = field(default_factory=list)
    report: InsightsReport = None
    ending: CircleEnding = None
    emails_queued: bool = False

    @property
    def active_signups(self):
        return [s for s in self.signups if s.active]


def read_partition(circle_id):
    """The circle's partition as the report needs it (one Query, every page), or None when
    there is no such circle."""
    items = reads.query('pk', f'CIRCLE#{circle_id}', consistent_read=True)
    return partition_of(circle_id, items)


def partition_of(circle_id, items):
    """A `Partition` from the raw items of `CIRCLE#<id>` (as `raw.query` returns them)."""
    circle_sk, fan_out = Circle.key(circle_id)[1], fan_out_sk(circle_id)
    found, others, queued = None, [], False
    for item in items:
        sk, kind = item['sk'].get('S'), (item.get('kind') or {}).get('S')
        if sk == circle_sk:
            found = Circle.from_raw_data(item)
        elif sk == fan_out:
            queued = True
        elif kind in _KINDS:
            others.append(TableItem.from_raw_data(item))
    if found is None:
        return None
    part = Partition(found, emails_queued=queued)
    for item in others:
        if isinstance(item, Signup):
            part.signups.append(item)
        elif isinstance(item, Rsvp):
            part.rsvps.append(item)
        elif isinstance(item, MeetingFeedback):
            part.feedback[item.meeting_id] = item
        elif isinstance(item, LearnerSurvey):
            part.surveys.append(item)
        elif isinstance(item, FacilitatorSurvey):
            part.facilitator_surveys.append(item)
        elif isinstance(item, InsightsReport):
            part.report = item
        elif isinstance(item, CircleEnding):
            part.ending = item
    return part


def schedule(circle):
    """The meetings that took place (not cancelled), in order."""
    return sorted((m for m in circle.meetings if not m.cancelled), key=lambda m: m.starts_at)


def did_not_happen(part):
    """True when the facilitators answered their survey and every one said the circle did not happen."""
    return bool(part.facilitator_surveys) and not any(f.happened for f in part.facilitator_surveys)


# --- the snapshot ---------------------------------------------------------------------------

def snapshot(part, now):
    """The report's figures (see the module docstring): JSON-ready, no learner's personal data."""
    circle = part.circle
    active = {s.signup_id: s for s in part.active_signups}
    # Answers of learners who left are not counted (leaving erases a learner's data).
    surveys = sorted((s for s in part.surveys if s.signup_id in active), key=lambda s: s.signup_id)
    redactor = Redactor(part.signups, circle.language)
    goals = [(s.goal or active[s.signup_id].goals or '').strip() for s in surveys]
    return {
        'version': SNAPSHOT_VERSION,
        'generated_at': now.isoformat(),
        'min_answers': MIN_ANSWERS,
        'circle': circle_facts(circle),
        'learners': {'signed_up': len(active), 'answered': len(surveys)},
        'attendance': attendance(circle, part.rsvps, part.feedback, set(active)),
        'goal_reached': scale([int(s.goal_reached) for s in surveys if s.goal_reached is not None], GOAL_LABELS),
        'recommend': recommendation([int(s.recommend) for s in surveys if s.recommend is not None]),
        'goals': quoted([(text, s.may_quote) for text, s in zip(goals, surveys)], redactor),
        **{name: quoted([((getattr(s, name) or '').strip(), s.may_quote) for s in surveys], redactor)
           for name in TEXT_QUESTIONS},
        'reflections': reflections(circle, part.feedback, part.facilitator_surveys, redactor),
        'course_rating': course_rating(part.facilitator_surveys),
    }


def circle_facts(circle):
    meetings = schedule(circle)
    return {
        'id': circle.id, 'name': circle.name, 'language': circle.language,
        'course_title': circle.course.title, 'course_provider': circle.course.provider,
        'course_link': circle.course.link,
        'place': 'Online' if circle.online else ', '.join(p for p in (circle.city, circle.country) if p),
        'facilitators': list(circle.facilitator_names or []),
        'first_date': meetings[0].local_date if meetings else None,
        'last_date': meetings[-1].local_date if meetings else None,
        'meetings': len(meetings),
    }


def attendance(circle, rsvps, feedback, active_ids):
    """Per meeting: the learners who said they would come (RSVP yes, still holding for the meeting
    as it took place, among the current learners) and how many came (the facilitator's feedback;
    None when no feedback was given)."""
    meetings = schedule(circle)
    by_id = {m.meeting_id: m for m in meetings}
    yes = dict.fromkeys(by_id, 0)
    for answer in rsvps:
        meeting = by_id.get(answer.meeting_id)
        if (meeting is not None and answer.answer == 'yes' and answer.signup_id in active_ids
                and answer_holds(answer, meeting)):
            yes[answer.meeting_id] += 1
    rows = []
    for number, meeting in enumerate(meetings, start=1):
        given = feedback.get(meeting.meeting_id)
        rows.append({'number': number, 'date': meeting.local_date, 'rsvp_yes': yes[meeting.meeting_id],
                     'attended': int(given.attendance) if given is not None else None})
    recorded = [row['attended'] for row in rows if row['attended'] is not None]
    return {'meetings': rows, 'recorded': len(recorded),
            'mean_attended': round(sum(recorded) / len(recorded), 1) if recorded else None}


def scale(values, labels):
    """A 1-5 question: the number of answers; with enough of them, each value's count and the mean."""
    result = {'answers': len(values), 'enough': len(values) >= MIN_ANSWERS}
    if result['enough']:
        result['counts'] = [{'value': value, 'label': label, 'count': values.count(value)}
                            for value, label in labels.items()]
        result['mean'] = round(sum(values) / len(values), 1)
    return result


def recommendation(values):
    """0-10 "would you recommend a learning circle": the distribution and an NPS-like summary
    (promoters 9-10, passives 7-8, detractors 0-6; the score is % promoters - % detractors)."""
    result = {'answers': len(values), 'enough': len(values) >= MIN_ANSWERS}
    if result['enough']:
        promoters = sum(1 for v in values if v >= 9)
        detractors = sum(1 for v in values if v <= 6)
        result.update(counts=[{'value': v, 'count': values.count(v)} for v in RECOMMEND_VALUES],
                      promoters=promoters, passives=len(values) - promoters - detractors, detractors=detractors,
                      score=round(100 * (promoters - detractors) / len(values)))
    return result


def quoted(answers, redactor):
    """A free-text question: how many learners answered; with enough answers, the words of those
    who may be quoted (redacted, in alphabetical order so that the order says nothing about who)."""
    given = [(text, consent) for text, consent in answers if text]
    result = {'answers': len(given), 'enough': len(given) >= MIN_ANSWERS}
    if result['enough']:
        result['quotes'] = sorted((redactor.clean(text) for text, consent in given if consent), key=str.casefold)
    return result


def reflections(circle, feedback, facilitator_surveys, redactor):
    """The facilitators' reflections on the meetings they chose to share, in meeting order."""
    shared = {meeting_id for survey in facilitator_surveys if survey.happened
              for meeting_id in (survey.shared_reflections or [])}
    rows = []
    for number, meeting in enumerate(schedule(circle), start=1):
        given = feedback.get(meeting.meeting_id)
        if meeting.meeting_id in shared and given is not None and given.reflection:
            # The prompt is stored in English (facilitators.feedback.PROMPTS): shown translated.
            rows.append({'number': number, 'date': meeting.local_date, 'prompt': _(given.prompt) if given.prompt else '',
                         'text': redactor.clean(given.reflection)})
    return rows


def course_rating(facilitator_surveys):
    """The facilitators' rating of the course (1-5): how many rated it and the mean. Their reasons
    stay out of the public report."""
    ratings = [int(s.course_rating) for s in facilitator_surveys if s.happened and s.course_rating is not None]
    return {'answers': len(ratings), 'mean': round(sum(ratings) / len(ratings), 1) if ratings else None}


# --- keeping personal data out of quoted words ---------------------------------------------

_EMAIL = re.compile(r'[\w.+-]+@[\w-]+(?:\.[\w-]+)+')
_PHONE = re.compile(r'\+?\d(?:[\s().-]*\d){6,}')      # seven digits or more, however written
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Written into the quoted words of the snapshot, in the circle's language.
NAME_REPLACEMENT, CONTACT_REPLACEMENT = N_('[a learner]'), N_('[contact removed]')


class Redactor:
    """Replaces, in quoted words, every learner's name (whole, any case; or each part of three
    letters or more as written or capitalised), email address and mobile number, and any other
    email address or phone number: a quote may name another learner, a reflection may too. The
    replacements are in `language` (the circle's; English by default)."""

    def __init__(self, signups, language=None):
        with i18n.language(language):
            self._name_replacement, self._contact_replacement = _(NAME_REPLACEMENT), _(CONTACT_REPLACEMENT)
        names, parts = set(), set()
        for signup in signups:
            name = ' '.join((signup.name or '').split())
            if name:
                names.add(name)
                for word in _WORD.findall(name):
                    if len(word) >= 3:
                        parts.update({word, word.capitalize(), word.upper()})
        self._names = _alternatives(names, re.IGNORECASE)
        self._parts = _alternatives(parts, 0)

    def clean(self, text):
        # A function as the replacement: its text is taken as it is (no backslash escapes).
        text = _EMAIL.sub(lambda match: self._contact_replacement, text)
        text = _PHONE.sub(lambda match: self._contact_replacement, text)
        for pattern in (self._names, self._parts):
            if pattern is not None:
                text = pattern.sub(lambda match: self._name_replacement, text)
        return text


def _alternatives(words, flags):
    if not words:
        return None
    alternatives = '|'.join(re.escape(w).replace(r'\ ', r'\s+') for w in sorted(words, key=len, reverse=True))
    return re.compile(rf'(?<!\w)(?:{alternatives})(?!\w)', flags)
