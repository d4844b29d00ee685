"""The end-of-circle surveys (learners by signed link, facilitators signed in) and the jobs
that send wrap-up prompts and surveys.

Learners answer at `/survey/{token}` with no account: the signed token (its own purpose) is
who they are, and the form carries the anonymous-form CSRF token (`auth.anonymous_form`), so no
other site can post answers in a learner's name. Facilitators answer at
`/facilitate/circles/{circle_id}/survey`, signed in (`auth.signed_in`): only the circle's
facilitators, everyone else gets the 404 of a circle that is not there. A GET never changes
anything; errors re-render the form with their messages (400); a closed survey, a foreign or
altered link, a learner who has left get a page that says so (4xx), never an error.

The survey pages are the circle's: in its language (`i18n.prefer`) unless the visitor chose one.

The two jobs live here so that their Lambda's cold start imports no page: when this module is
the Lambda's handler (`_HANDLER`), the job's module is loaded in the init phase (see jobs.py).
"""
import functools
import os

from chalice import Blueprint, Rate

from chalicelib.core import i18n, observability, tracing
from chalicelib.core.i18n import _
from chalicelib.handlers.auth import anonymous_form, signed_in, signed_in_context, with_workspace
from chalicelib.handlers.web import form_fields, page, redirect

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
NO_STORE = {'Cache-Control': 'no-store'}
LEARNER_SCALES = {'goal_reached': 1, 'recommend': 0}
FACILITATOR_SCALES = {'goal_reached': 1, 'course_rating': 1, 'happened': 'yes'}

_HANDLER = os.environ.get('_HANDLER', '')
if _HANDLER == f'{__name__}.send_meeting_wrapups_job':
    from chalicelib.ending import wrapups  # noqa: F401
elif _HANDLER == f'{__name__}.send_end_of_circle_surveys_job':
    from chalicelib.ending import survey_job  # noqa: F401
if _HANDLER.startswith(f'{__name__}.send_'):
    from chalicelib.handlers.lambda_init import prepare_job_lambda
    prepare_job_lambda()


# --- the jobs ------------------------------------------------------------------------------

@bp.schedule(Rate(5, unit=Rate.MINUTES), name='send-meeting-wrapups')
@observability.job('send-meeting-wrapups')
def send_meeting_wrapups_job(event):
    from chalicelib.ending.wrapups import send_meeting_wrapups
    tracing.ensure_patched()
    return send_meeting_wrapups()


@bp.schedule(Rate(5, unit=Rate.MINUTES), name='send-end-of-circle-surveys')
@observability.job('send-end-of-circle-surveys')
def send_end_of_circle_surveys_job(event):
    from chalicelib.ending.survey_job import send_end_of_circle_surveys
    tracing.ensure_patched()
    return send_end_of_circle_surveys()


# --- the learner's survey -------------------------------------------------------------------

def _learner_page(template, status=200, **context):
    response = page(template, status, **context)
    response.headers.update(NO_STORE)
    return response


def _refusal_text(refusal):
    """A survey's refusal in the page's language (the circle's, when it is known)."""
    from chalicelib.ending import surveys
    if isinstance(refusal, surveys.SurveyRefusal):
        i18n.prefer(refusal.language)
        return refusal.text()
    return refusal.message


def _unavailable(refusal):
    from chalicelib.core.links import BadLink
    from chalicelib.ending import surveys
    message = _refusal_text(refusal)
    if isinstance(refusal, surveys.SurveyClosed):
        heading = _('This survey has closed')
    elif isinstance(refusal, BadLink):
        heading = _('This link does not work')
    else:
        heading = _('This survey is not open')
    return _learner_page('surveys/unavailable.html', refusal.status, heading=heading, message=message)


def _open(token):
    """(view, None) or (None, the page that says why the survey cannot be answered). The page
    is in the circle's language from here on, unless the visitor chose one."""
    from chalicelib.core.errors import Refusal
    from chalicelib.ending import surveys
    try:
        view = surveys.open_learner_survey(token)
    except Refusal as refusal:
        return None, _unavailable(refusal)
    i18n.prefer(view.circle.language)
    return view, None


def _closes(view):
    from chalicelib.core.formatting import local_moment
    return local_moment(view.ending.surveys_close_at, view.circle.timezone)


def _learner_form(csrf_token, view, status=200, values=None, errors=None):
    from chalicelib.core.formatting import local_moment
    answer = view.answer
    if values is None:
        values = {}
        if answer is not None:
            values = {'goal_reached': str(int(answer.goal_reached)), 'recommend': str(int(answer.recommend)),
                      'worked_well': answer.worked_well, 'improve': answer.improve, 'next_step': answer.next_step,
                      'may_quote': 'on' if answer.may_quote else ''}
    return _learner_page('surveys/learner.html', status, csrf_token=csrf_token, token=view.token, circle=view.circle,
                         goal=view.signup.goals, values=values, errors=errors or {}, scales=LEARNER_SCALES,
                         answered=answer and local_moment(answer.answered_at, view.circle.timezone),
                         closes=_closes(view))


@bp.route('/survey/{token}', methods=['GET'])
@anonymous_form(bp)
def learner_survey(csrf_token, token):
    view, refused = _open(token)
    return refused or _learner_form(csrf_token, view)


@bp.route('/survey/{token}', methods=['POST'], content_types=FORM)
@anonymous_form(bp)
def answer_learner_survey(csrf_token, token):
    from chalicelib.core.errors import Refusal, ValidationFailed
    from chalicelib.ending import surveys
    view, refused = _open(token)
    if refused:
        return refused
    fields = form_fields(bp.current_request)
    try:
        surveys.save_learner_answer(view, surveys.validate_learner(fields))
    except ValidationFailed as error:
        return _learner_form(csrf_token, view, error.status, fields, error.errors)
    except Refusal as refusal:
        return _unavailable(refusal)
    return redirect(f'/survey/{token}/thanks')


@bp.route('/survey/{token}/thanks', methods=['GET'])
def learner_survey_thanks(token):
    view, refused = _open(token)
    if refused:
        return refused
    return _learner_page('surveys/thanks.html', circle=view.circle, closes=_closes(view), happened=None,
                         again_url=f'/survey/{token}', back_url=f'/circles/{view.circle.id}',
                         back_words=_("The circle's page"))


# --- the facilitator's survey -----------------------------------------------------------------

def _facilitator_view(session, ws):
    from chalicelib.ending import surveys
    return surveys.facilitator_survey(ws, session)


def _facilitator_form(session, ws, view, status=200, values=None, errors=None):
    from chalicelib.core.formatting import local_moment
    answer = view.answer
    if values is None:
        values = {}
        if answer is not None:
            values = {'happened': 'yes' if answer.happened else 'no',
                      'not_happened_reason': answer.not_happened_reason,
                      'goal_reached': str(int(answer.goal_reached)) if answer.goal_reached is not None else '',
                      'course_rating': str(int(answer.course_rating)) if answer.course_rating is not None else '',
                      'course_rating_reason': answer.course_rating_reason, 'worked_well': answer.worked_well,
                      'improve': answer.improve,
                      **{f'share_{meeting_id}': 'on' for meeting_id in answer.shared_reflections or []}}
    return page('surveys/facilitator.html', status, circle=view.circle, goal=view.goal, reflections=view.reflections,
                values=values, errors=errors or {}, scales=FACILITATOR_SCALES,
                answered=answer and local_moment(answer.answered_at, view.circle.timezone),
                closes=local_moment(view.ending.surveys_close_at, view.circle.timezone), **signed_in_context(session))


def _facilitator_refusal(session, refusal):
    from chalicelib.core.errors import NotFound
    from chalicelib.handlers.web import refusal_page
    if isinstance(refusal, NotFound):
        return refusal_page(refusal, session=session)
    message = _refusal_text(refusal)
    heading = _('This survey has closed') if refusal.status == 410 else _('This survey is not open yet')
    return page('surveys/unavailable.html', refusal.status, heading=heading, message=message,
                back_url='/dashboard', back_words=_('Your dashboard'), **signed_in_context(session))


def with_facilitator_survey(view_function):
    """`view_function(session, ws, view)` with the facilitator's survey view, in the circle's
    language unless the visitor chose one; its refusal (not theirs, not open yet, closed)
    answered in one place."""
    @functools.wraps(view_function)
    def view_or_refusal(session, ws, **kwargs):
        from chalicelib.core.errors import Refusal
        try:
            view = _facilitator_view(session, ws)
        except Refusal as refusal:
            return _facilitator_refusal(session, refusal)
        i18n.prefer(view.circle.language)
        return view_function(session, ws, view, **kwargs)
    return view_or_refusal


@bp.route('/facilitate/circles/{circle_id}/survey', methods=['GET'])
@signed_in(bp)
@with_workspace
@with_facilitator_survey
def facilitator_survey(session, ws, view):
    return _facilitator_form(session, ws, view)


@bp.route('/facilitate/circles/{circle_id}/survey', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
@with_facilitator_survey
def answer_facilitator_survey(session, ws, view):
    from chalicelib.core.errors import Refusal, ValidationFailed
    from chalicelib.ending import surveys
    fields = form_fields(bp.current_request)
    try:
        surveys.save_facilitator_answer(view, surveys.validate_facilitator(fields, view))
    except ValidationFailed as error:
        return _facilitator_form(session, ws, view, error.status, fields, error.errors)
    except Refusal as refusal:
        return _facilitator_refusal(session, refusal)
    return redirect(f'/facilitate/circles/{ws.circle.id}/survey/thanks')


@bp.route('/facilitate/circles/{circle_id}/survey/thanks', methods=['GET'])
@signed_in(bp)
@with_workspace
@with_facilitator_survey
def facilitator_survey_thanks(session, ws, view):
    from chalicelib.core.formatting import local_moment
    return page('surveys/thanks.html', circle=view.circle, happened=view.answer.happened if view.answer else None,
                closes=local_moment(view.ending.surveys_close_at, view.circle.timezone),
                again_url=f'/facilitate/circles/{view.circle.id}/survey',
                back_url=f'/facilitate/circles/{view.circle.id}', back_words=_("The circle's page"),
                **signed_in_context(session))
