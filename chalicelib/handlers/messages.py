"""Facilitator pages: messages to a circle's learners, and feedback on its meetings.

Every view reads the circle through `auth.with_workspace` (one Query, role check):
anyone who does not facilitate the circle or organize its team gets 404, as for a message
or meeting that is not there.
"""
from chalice import Blueprint

from chalicelib.core.i18n import _
from chalicelib.handlers.auth import signed_in, signed_in_context, with_workspace
from chalicelib.handlers.web import form_fields, page, redirect

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']


# --- messages -------------------------------------------------------------------

def _message_form(session, ws, status=200, values=None, errors=None):
    from chalicelib.facilitators import messages
    from chalicelib.messaging import sms_text
    values = values or {'message_key': messages.new_message_key()}
    prefix, suffix = messages.sms_frame(ws.circle, session.name)     # counted with the facilitator's words
    words = sms_text.normalise(values.get('sms_text'))
    return page('facilitator/message_form.html', status, ws=ws, values=values, errors=errors or {},
                 email_count=len(messages.email_recipients(ws)), sms_count=len(messages.sms_recipients(ws)),
                 max_segments=sms_text.MAX_SEGMENTS, sms_prefix=prefix, sms_suffix=suffix,
                 sms_summary=sms_text.segments(prefix + words + suffix if words else ''),
                 **signed_in_context(session))


@bp.route('/facilitate/circles/{circle_id}/messages/new', methods=['GET'])
@signed_in(bp)
@with_workspace
def compose_message(session, ws):
    return _message_form(session, ws)


@bp.route('/facilitate/circles/{circle_id}/messages/new', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def send_circle_message(session, ws):
    from chalicelib.facilitators import messages
    from chalicelib.core.errors import ValidationFailed
    fields = form_fields(bp.current_request)
    try:
        draft = messages.validate(fields, ws.circle, session.name)
    except ValidationFailed as error:
        values = {name: fields.get(name, '') for name in ('subject', 'body', 'sms_text', 'message_key')}
        if 'message_key' in error.errors:
            values['message_key'] = messages.new_message_key()
        return _message_form(session, ws, 400, values, error.errors)
    message, sent_now = messages.send_message(ws, session, draft)
    suffix = '' if sent_now else '?already=1'
    return redirect(f'/facilitate/circles/{ws.circle.id}/messages/{message.message_key}{suffix}')


@bp.route('/facilitate/circles/{circle_id}/messages/{message_key}', methods=['GET'])
@signed_in(bp)
@with_workspace
def circle_message_page(session, ws, message_key):
    from chalicelib.facilitators import messages
    from chalicelib.core.errors import NotFound
    from chalicelib.models import CircleMessage
    message = next((m for m in ws.of_kind(CircleMessage) if m.message_key == message_key), None)
    if message is None:
        raise NotFound(_('No such message.'))
    already = (bp.current_request.query_params or {}).get('already') == '1'
    return page('facilitator/message_sent.html', ws=ws, report=messages.message_report(ws, message),
                 already=already, **signed_in_context(session))


# --- meeting feedback -------------------------------------------------------------

def _feedback_form(session, ws, meeting_id, status=200, values=None, errors=None, refusal=None, saved=None):
    from chalicelib.facilitators import feedback as feedback_
    from chalicelib.core.formatting import meeting_when
    number, meeting = feedback_.find_meeting(ws.circle, meeting_id)
    try:
        existing = feedback_.feedback_for(ws, session, meeting_id)
    except feedback_.NotShared as private:     # the page says so, and shows nothing of it
        existing, values, errors, refusal, status, saved = None, {}, None, private.message, private.status, None
    if values is None:
        values = {}
        if existing:
            values = {'attendance': str(int(existing.attendance)), 'rating': str(int(existing.rating)),
                      'reflection': existing.reflection,
                      'share_with_learners': 'on' if existing.share_with_learners else '',
                      'share_with_organizers': 'on' if existing.share_with_organizers else ''}
    return page('facilitator/feedback_form.html', status, ws=ws, meeting=meeting, number=number + 1,
                 when=meeting_when(meeting, ws.circle.timezone), existing=existing,
                 prompt=feedback_.prompt_text(existing.prompt if existing else feedback_.prompt_for(number)),
                 values=values, errors=errors or {}, refusal=refusal, saved=saved,
                 max_attendance=feedback_.MAX_ATTENDANCE, **signed_in_context(session))


@bp.route('/facilitate/circles/{circle_id}/meetings/{meeting_id}/feedback', methods=['GET'])
@signed_in(bp)
@with_workspace
def meeting_feedback_form(session, ws, meeting_id):
    from chalicelib.circles import circles
    from chalicelib.facilitators import feedback
    meeting = feedback.find_meeting(ws.circle, meeting_id)[1]
    try:
        feedback.check_started(ws.circle, meeting, circles.utcnow())
    except feedback.TooEarly as early:
        return _feedback_form(session, ws, meeting_id, refusal=early.message)
    query = bp.current_request.query_params or {}
    # `?rating=N` (the wrap-up email's links) chooses that rating on a form with no feedback yet.
    prefill = ({'rating': query['rating']} if query.get('rating') in ('1', '2', '3', '4', '5')
               and feedback.existing_feedback(ws, meeting_id) is None else None)
    return _feedback_form(session, ws, meeting_id, values=prefill, saved=query.get('saved'))


@bp.route('/facilitate/circles/{circle_id}/meetings/{meeting_id}/feedback', methods=['POST'], content_types=FORM)
@signed_in(bp)
@with_workspace
def save_meeting_feedback(session, ws, meeting_id):
    from chalicelib.circles import circles
    from chalicelib.facilitators import feedback
    from chalicelib.core.errors import ValidationFailed
    meeting = feedback.find_meeting(ws.circle, meeting_id)[1]
    fields = form_fields(bp.current_request)
    try:
        feedback.check_started(ws.circle, meeting, circles.utcnow())
        form = feedback.validate(fields)
        _saved, recap_sent = feedback.record(ws, session, meeting_id, form)
    except feedback.TooEarly as early:
        return _feedback_form(session, ws, meeting_id, early.status, fields, refusal=early.message)
    except ValidationFailed as error:
        return _feedback_form(session, ws, meeting_id, error.status, fields, error.errors)
    except feedback.NotShared as private:
        return _feedback_form(session, ws, meeting_id, private.status, {}, refusal=private.message)
    outcome = 'recap' if recap_sent else 'yes'
    return redirect(f'/facilitate/circles/{ws.circle.id}/meetings/{meeting_id}/feedback?saved={outcome}')
