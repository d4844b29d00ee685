"""Learner links from reminders: RSVP pages (and their short SMS form), one-click unsubscribe,
and the calendar feeds.

No CSRF tokens here: these pages belong to no session, and the signed token in the URL is
the credential, exactly as in the link the learner was sent. A GET never changes anything
(mail scanners follow links): answers and unsubscribing are POSTs. A link that was altered,
made for something else, or whose meeting has started gets a page saying so (400), never an
error. Every page and feed here is about one learner: `Cache-Control: no-store`.
"""
from chalice import Blueprint, Response

from chalicelib.core import i18n
from chalicelib.core.i18n import N_, _
from chalicelib.handlers.web import SECURITY_HEADERS, form_fields, page

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']
# RFC 8058: mail providers POST `List-Unsubscribe=One-Click` as either of these.
ONE_CLICK = ['application/x-www-form-urlencoded', 'multipart/form-data']


NO_STORE = {'Cache-Control': 'no-store'}


def _calendar(body, filename, cache_control):
    from chalicelib.circles.calendar_ics import CONTENT_TYPE
    return Response(body=body.decode('utf-8'), status_code=200, headers={
        'Content-Type': CONTENT_TYPE, 'Content-Disposition': f'inline; filename="{filename}"',
        'Cache-Control': cache_control, 'X-Content-Type-Options': 'nosniff'})


def _learner_page(template, status=200, **context):
    response = page(template, status, **context)
    response.headers.update(NO_STORE)
    return response


def _not_found():
    return Response(body=_('No such calendar.'), status_code=404,
                    headers={'Content-Type': 'text/plain; charset=utf-8', **SECURITY_HEADERS, **NO_STORE})


# --- RSVP -------------------------------------------------------------------------------

@bp.route('/rsvp/{token}', methods=['GET'])
def rsvp_page(token):
    """The meeting, with the link's answer selected: the learner's tap (the POST) records it."""
    from chalicelib.learners import rsvp
    return _rsvp(lambda: rsvp.open_rsvp(token))


@bp.route('/rsvp/{token}', methods=['POST'], content_types=FORM)
def rsvp_answer(token):
    """Record the answer. `sequence` is the meeting's as the page showed it: an answer to a
    meeting that moved since is not recorded, the page shows the new time and asks again."""
    from chalicelib.learners import rsvp
    from chalicelib.models.rsvp import ANSWERS
    fields = form_fields(bp.current_request)
    answer = fields.get('answer')
    if answer not in ANSWERS:
        return _rsvp(lambda: rsvp.open_rsvp(token), status=400,
                     error=N_('Please choose one of the two answers.'))
    return _rsvp(lambda: rsvp.open_rsvp(token), answer=answer, seen=fields.get('sequence'))


@bp.route('/r/{code}', methods=['GET'])
def short_rsvp_page(code):
    """The short link from an SMS: the same page, where the learner taps their answer."""
    from chalicelib.learners import rsvp
    return _rsvp(lambda: rsvp.open_short_link(code))


MOVED_MEANWHILE = N_('This meeting moved after you opened the page. Here is its new time: please answer again.')


def _rsvp(open_page, answer=None, status=200, error=None, seen=None):
    """The RSVP page, in the circle's language unless the visitor chose one; with `answer` (a
    POST), recorded first unless the meeting moved since `seen`. `error`: an English message
    (N_), translated here."""
    from chalicelib.learners import rsvp
    from chalicelib.core.formatting import meeting_when
    from chalicelib.core.links import BadLink
    try:
        view = open_page()
    except BadLink:
        return _learner_page('rsvp_invalid.html', 400, started=False)
    except rsvp.MeetingStarted:
        return _learner_page('rsvp_invalid.html', 400, started=True)
    i18n.prefer(view.circle.language)
    saved = False
    if answer and not view.cancelled:
        try:
            rsvp.record_answer(view, answer, seen_sequence=seen)
            saved, view.offered = True, None
        except rsvp.MeetingMoved:
            view.offered, status, error = answer, 409, MOVED_MEANWHILE
    return _learner_page('rsvp.html', status, page=view, circle=view.circle, meeting=view.meeting,
                         when=meeting_when(view.meeting, view.circle.timezone), saved=saved, error=error and _(error),
                         withdraw_url=_withdraw_url(view.signup), feed_url=rsvp.learner_feed_url(view.signup))


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
        return _learner_page('link_invalid.html', 400)
    if circle is None or signup is None:
        return _learner_page('link_invalid.html', 400)
    i18n.prefer(circle.language)
    stopped = bool(signup.reminders_stopped) or not signup.active
    return _learner_page('unsubscribe.html', circle=circle, done=stopped, token=token)


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
        return _learner_page('link_invalid.html', 400)
    circle = circles.get_circle(circle_id)
    if circle is not None:
        i18n.prefer(circle.language)
    return _learner_page('unsubscribe.html', circle=circle, done=True, token=token)


# --- calendars --------------------------------------------------------------------------------

@bp.route('/circles/{circle_id}/calendar.ics', methods=['GET'])
def circle_calendar(circle_id):
    from chalicelib.circles import calendar_ics
    from chalicelib.circles import circles
    circle = circles.get_circle(circle_id)
    if circle is None or not circle.published:
        return _not_found()
    i18n.prefer(circle.language)
    return _calendar(calendar_ics.circle_feed_ics(circle), f'{circle_id}.ics', 'public, max-age=300')


@bp.route('/calendar/{token}/circles.ics', methods=['GET'])
def learner_calendar(token):
    """A learner's own feed (API Gateway takes path parameters only as whole segments,
    hence `/calendar/<token>/circles.ics` rather than `/calendar/<token>.ics`)."""
    from chalicelib.circles import calendar_ics
    from chalicelib.learners import rsvp
    from chalicelib.core.links import BadLink
    try:
        signup = rsvp.signup_from_feed_token(token)
    except BadLink:
        return _not_found()
    return _calendar(calendar_ics.learner_feed_ics(signup.email), 'circles.ics', 'no-store')
