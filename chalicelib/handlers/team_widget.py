"""The widget: a team's circles and their signup forms inside a partner website's iframe.

`/teams/{slug}/embed...` are public, and the only pages other sites may frame (`web.embeddable`).
"""
from urllib.parse import quote

from chalice import Blueprint

from chalicelib.core.errors import Refusal, ValidationFailed
from chalicelib.core.i18n import _
from chalicelib.handlers.web import embeddable, form_fields, page, redirect, with_retry_after

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']


# --- the widget: the team's circles inside another site's iframe --------------------------
# Every answer here, refusals included, may be framed by any site (`embeddable`), and reads no
# cookie: inside a cross-site iframe the browser sends none (see chalicelib.teams.team_page).

def _embed_refusal(refusal):
    status = refusal.status
    response = page('teams/embed_message.html', status, title=_('Not found') if status == 404 else
                    _('We could not do that'), message=refusal.message)
    return embeddable(with_retry_after(response, refusal))


@bp.route('/teams/{slug}/embed', methods=['GET'])
def team_embed(slug):
    from chalicelib.teams import team_page
    try:
        shown = team_page.team_page(slug)
    except Refusal as refusal:
        return _embed_refusal(refusal)
    return embeddable(page('teams/embed.html', team=shown.team, circles=shown.circles,
                           status_words=team_page.status_words(), team_url=team_page.team_url(shown.team)))


def _embed_form(slug, circle_id, status=200, values=None, errors=None, problem=None):
    from chalicelib.learners.signup import CONSENT_TEXT
    from chalicelib.teams import team_page
    try:
        shown = team_page.embed_circle(slug, circle_id)
    except Refusal as refusal:
        return _embed_refusal(refusal)
    item = shown.item
    return embeddable(page(
        'teams/embed_signup.html', status, team=shown.team, item=item, values=values or {}, errors=errors or {},
        problem=problem, closed=team_page.signup_closed_reason(item), consent_text=CONSENT_TEXT,
        mobile_example=team_page.mobile_example(item), embed_token=team_page.embed_signup_token(item['id'])))


@bp.route('/teams/{slug}/embed/{circle_id}', methods=['GET'])
def team_embed_signup_form(slug, circle_id):
    return _embed_form(slug, circle_id)


@bp.route('/teams/{slug}/embed/{circle_id}', methods=['POST'], content_types=FORM)
def team_embed_signup(slug, circle_id):
    """A signup from the widget: the same `sign_up` (and rate limits) as the circle page's form;
    its token stands in for the cookie-bound CSRF token the iframe cannot have."""
    from chalicelib.core.errors import SignupRefused
    from chalicelib.handlers.auth import client_ip
    from chalicelib.handlers.pages import HONEYPOT
    from chalicelib.learners.signup import sign_up
    from chalicelib.models import consent
    from chalicelib.teams import team_page
    request = bp.current_request
    fields = form_fields(request)
    thanks = redirect(f'/teams/{quote(slug)}/embed/{quote(circle_id)}/thanks')
    try:
        team_page.embed_circle(slug, circle_id)
        team_page.check_embed_signup_token(fields.get('embed_token'), circle_id)
    except team_page.EmbedFormExpired as refusal:
        return _embed_form(slug, circle_id, refusal.status, values=fields, problem=refusal.message)
    except Refusal as refusal:
        return _embed_refusal(refusal)
    if fields.get(HONEYPOT):
        return thanks               # a bot filled the field people cannot see: nothing written
    try:
        sign_up(circle_id, fields, client=client_ip(request), channel=consent.TEAM_WIDGET)
    except ValidationFailed as error:
        return _embed_form(slug, circle_id, 400, values=fields, errors=error.errors)
    except SignupRefused as refusal:
        return _embed_form(slug, circle_id, 400, values=fields, problem=refusal.message)
    except Refusal as refusal:      # NotFound (unpublished meanwhile), RateLimited (429)
        return _embed_refusal(refusal)
    return thanks


@bp.route('/teams/{slug}/embed/{circle_id}/thanks', methods=['GET'])
def team_embed_thanks(slug, circle_id):
    from chalicelib.teams import team_page
    try:
        shown = team_page.embed_circle(slug, circle_id)
    except Refusal as refusal:
        return _embed_refusal(refusal)
    return embeddable(page('teams/embed_thanks.html', team=shown.team, item=shown.item))
