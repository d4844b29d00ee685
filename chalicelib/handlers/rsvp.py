"""Learner links from reminders: RSVP pages (and their short SMS form), one-click unsubscribe,
and the calendar feeds.

No CSRF tokens here: these pages belong to no session, and the signed token in the URL is
the credential, exactly as in the link the learner was sent. A link that was altered, made
for something else, or whose meeting has started gets a page saying so (400), never an error.
"""
from chalice import Blueprint, Response

from chalicelib.handlers.web import SECURITY_HEADERS, form_fields, page

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
# RFC 8058: mail providers POST `List-Unsubscribe=One-Click` as either of these.
ONE_CLICK = ['application/x-www-form-urlencoded', 'multipart/form-data']


def _calendar(body, filename):
    from chalicelib.circles.calendar_ics import CONTENT_TYPE
    return Response(body=body.decode('utf-8'), status_code=200, headers={
        'Content-Type': CONTENT_TYPE, 'Content-Disposition': f'inline; filename="{filename}"',
        'Cache-Control': 'private, max-age=300', 'X-Content-Type-Options': 'nosniff'})


def _not_found():
    return Response(body='No such calendar.', status_code=404,
                    headers={'Content-Type': 'text/plain; charset=utf-8', **SECURITY_HEADERS})


# --- RSVP -------------------------------------------------------------------------------

@bp.route('/rsvp/{token}', methods=['GET'])
def rsvp_page(token):
    """Following a yes/no link records the answer; the page's own link only shows it."""
    from chalicelib.learners import rsvp
    return _rsvp(lambda: rsvp.open_rsvp(token), lambda: rsvp.answer_from_token(token))


@bp.route('/rsvp/{token}', methods=['POST'], content_types=FORM)
def rsvp_change(token):
    from chalicelib.learners import rsvp
    answer = form_fields(bp.current_request).get('answer')
    if answer not in ('yes', 'no'):
        return _rsvp(lambda: rsvp.open_rsvp(token), lambda: None, status=400,
                     error='Please choose one of the two answers.')
    return _rsvp(lambda: rsvp.open_rsvp(token), lambda: answer)


@bp.route('/r/{code}', methods=['GET'])
def short_rsvp_page(code):
    """The short link from an SMS: the RSVP page, where the learner taps their answer."""
    from chalicelib.learners import rsvp
    return _rsvp(lambda: rsvp.open_short_link(code), lambda: None)


def _rsvp(open_page, wanted_answer, status=200, error=None):
    from chalicelib.learners import rsvp
    from chalicelib.core.formatting import meeting_when
    from chalicelib.core.links import BadLink
    try:
        view = open_page()
        answer = wanted_answer()
    except BadLink:
        return page('rsvp_invalid.html', 400, started=False)
    except rsvp.MeetingStarted:
        return page('rsvp_invalid.html', 400, started=True)
    saved = bool(answer) and not view.cancelled
    if saved:
        rsvp.record_answer(view, answer)
    return page('rsvp.html', status, page=view, circle=view.circle, meeting=view.meeting,
                 when=meeting_when(view.meeting, view.circle.timezone), saved=saved, error=error,
                 withdraw_url=_withdraw_url(view.signup), feed_url=rsvp.learner_feed_url(view.signup.email))


def _withdraw_url(signup):
    from chalicelib.core.settings import get_settings
    from chalicelib.learners.signup import withdraw_link
    return withdraw_link(signup).removeprefix(get_settings().public_base_url)


# --- one-click unsubscribe ------------------------------------------------------------------

@bp.route('/unsubscribe/{token}', methods=['GET'])
def unsubscribe_page(token):
    """Only asks: mail scanners follow links, and a GET must never unsubscribe anyone."""
    from chalicelib.learners import rsvp
    from chalicelib.core.links import BadLink
    try:
        circle, signup = rsvp.unsubscribe_status(token)
    except BadLink:
        return page('link_invalid.html', 400)
    if circle is None or signup is None:
        return page('link_invalid.html', 400)
    stopped = bool(signup.reminders_stopped) or not signup.active
    return page('unsubscribe.html', circle=circle, done=stopped, token=token)


@bp.route('/unsubscribe/{token}', methods=['POST'], content_types=ONE_CLICK)
def unsubscribe(token):
    """RFC 8058 one-click: the body is `List-Unsubscribe=One-Click` (or the confirmation
    page's button); the reminders stop with the first write, before anything is read."""
    from chalicelib.circles import circles
    from chalicelib.learners import rsvp
    from chalicelib.core.links import BadLink
    try:
        circle_id = rsvp.stop_reminders(token)
    except BadLink:
        return page('link_invalid.html', 400)
    return page('unsubscribe.html', circle=circles.get_circle(circle_id), done=True, token=token)


# --- calendars --------------------------------------------------------------------------------

@bp.route('/circles/{circle_id}/calendar.ics', methods=['GET'])
def circle_calendar(circle_id):
    from chalicelib.circles import calendar_ics
    from chalicelib.circles import circles
    circle = circles.get_circle(circle_id)
    if circle is None or not circle.published:
        return _not_found()
    return _calendar(calendar_ics.circle_feed_ics(circle), f'{circle_id}.ics')


@bp.route('/calendar/{token}/circles.ics', methods=['GET'])
def learner_calendar(token):
    """A learner's own feed (API Gateway takes path parameters only as whole segments,
    hence `/calendar/<token>/circles.ics` rather than `/calendar/<token>.ics`)."""
    from chalicelib.circles import calendar_ics
    from chalicelib.learners import rsvp
    from chalicelib.core.links import BadLink
    try:
        email = rsvp.email_from_feed_token(token)
    except BadLink:
        return _not_found()
    return _calendar(calendar_ics.learner_feed_ics(email), 'circles.ics')
