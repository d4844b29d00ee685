"""The end of a circle: wrap-up prompts, surveys and the insights report, beside the circle.

- `CIRCLE#<id>` / `WRAPUP#<meeting id>`: the wrap-up prompt of one meeting. While it must still
  go out it is on the `by_due` queue `WRAPUP` (`due_sk='<meeting end ISO>#<circle>#<meeting>'`),
  written when the circle is published or its meetings change and moved with the meeting; the
  job takes it off the queue when it sends (or skips) it, in the one transaction that writes the
  facilitators' outbox items.
- `CIRCLE#<id>` / `ENDING`: the circle's closing, one item that moves through the queues
  `SURVEY` (due at the last meeting's end), `SURVEY_REMINDER` (3 days later) and `INSIGHTS`
  (when the surveys close), one at a time: `stage` names the step it waits for
  (`due_sk='<instant ISO>#<circle>'`). Each step is taken by one transaction that moves the item
  on (conditional on the stage and `due_sk` it was read with) and writes its outbox fan-out, so
  two runs never both send it. Until the surveys go out it follows the last meeting; after, it
  stays where it is.
- `CIRCLE#<id>` / `SURVEY#<signup id>`: a learner's survey answer (personal data: exported and
  erased with the learner). Answering again overwrites it.
- `CIRCLE#<id>` / `FSURVEY#<user id>`: a facilitator's survey answer.
- `CIRCLE#<id>` / `INSIGHTS`: the published report: a snapshot of its figures and quotes (JSON,
  no learner names, emails or mobiles), so the public page is one GetItem.
"""
from pynamodb.attributes import (BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute,
                                 UTCDateTimeAttribute)

from chalicelib.models.base import DueIndex, TableItem

WRAPUP_QUEUE, SURVEY_QUEUE, SURVEY_REMINDER_QUEUE, INSIGHTS_QUEUE = 'WRAPUP', 'SURVEY', 'SURVEY_REMINDER', 'INSIGHTS'


class MeetingWrapUp(TableItem, discriminator='MeetingWrapUp'):
    circle_id = UnicodeAttribute()
    meeting_id = UnicodeAttribute()
    due_at = UTCDateTimeAttribute(null=True)     # the meeting's end; None: no prompt (cancelled, draft)
    state = UnicodeAttribute(default='scheduled')   # scheduled, sent, skipped
    sent_at = UTCDateTimeAttribute(null=True)

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    by_due = DueIndex()

    @staticmethod
    def key(circle_id, meeting_id):
        return f'CIRCLE#{circle_id}', f'WRAPUP#{meeting_id}'

    @staticmethod
    def due_key(due_at, circle_id, meeting_id):
        return f'{due_at.isoformat()}#{circle_id}#{meeting_id}'


class CircleEnding(TableItem, discriminator='CircleEnding'):
    circle_id = UnicodeAttribute()
    stage = UnicodeAttribute()                   # SURVEY, SURVEY_REMINDER, INSIGHTS, done
    last_meeting_ends_at = UTCDateTimeAttribute(null=True)
    surveys_sent_at = UTCDateTimeAttribute(null=True)
    reminders_sent_at = UTCDateTimeAttribute(null=True)
    surveys_close_at = UTCDateTimeAttribute(null=True)

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    by_due = DueIndex()

    @staticmethod
    def key(circle_id):
        return f'CIRCLE#{circle_id}', 'ENDING'

    @staticmethod
    def due_key(due_at, circle_id):
        return f'{due_at.isoformat()}#{circle_id}'


class LearnerSurvey(TableItem, discriminator='LearnerSurvey'):
    circle_id = UnicodeAttribute()
    signup_id = UnicodeAttribute()
    goal = UnicodeAttribute(null=True)           # the goal the learner wrote at signup, as restated
    goal_reached = NumberAttribute()             # 1-5
    worked_well = UnicodeAttribute(null=True)
    improve = UnicodeAttribute(null=True)
    next_step = UnicodeAttribute(null=True)
    recommend = NumberAttribute()                # 0-10
    may_quote = BooleanAttribute(default=False)  # their words may be quoted publicly, without their name
    answered_at = UTCDateTimeAttribute()

    @staticmethod
    def key(circle_id, signup_id):
        return f'CIRCLE#{circle_id}', f'SURVEY#{signup_id}'


class FacilitatorSurvey(TableItem, discriminator='FacilitatorSurvey'):
    circle_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    happened = BooleanAttribute()
    not_happened_reason = UnicodeAttribute(null=True)
    goal = UnicodeAttribute(null=True)           # from the creation dialog, as restated
    goal_reached = NumberAttribute(null=True)    # 1-5
    course_rating = NumberAttribute(null=True)   # 1-5
    course_rating_reason = UnicodeAttribute(null=True)
    worked_well = UnicodeAttribute(null=True)
    improve = UnicodeAttribute(null=True)
    shared_reflections = ListAttribute(of=UnicodeAttribute, default=list)   # meeting ids whose reflection goes in the report
    answered_at = UTCDateTimeAttribute()

    @staticmethod
    def key(circle_id, user_id):
        return f'CIRCLE#{circle_id}', f'FSURVEY#{user_id}'


class InsightsReport(TableItem, discriminator='InsightsReport'):
    circle_id = UnicodeAttribute()
    generated_at = UTCDateTimeAttribute()
    generated_by = UnicodeAttribute(null=True)   # a user id when the facilitator generated it early
    figures = JSONAttribute()                    # the snapshot the page and the emails render

    @staticmethod
    def key(circle_id):
        return f'CIRCLE#{circle_id}', 'INSIGHTS'
