"""A team's public page, its embeddable widget, and the snippet an organizer copies.

Cost: a page reads the team by its slug (two GetItems: the slug's claim, then the team) and
its circles from the container's in-memory catalog (`catalog.current().grouped('tm')`), so
no DynamoDB call per circle and none at all for the circles between two catalog refreshes.
The catalog holds published circles only; the page lists those not finished yet (upcoming and
running), soonest first.

The widget's signup form, and why it carries its own token
-----------------------------------------------------------
The widget is our page inside an `<iframe>` on a partner's site, so every request it makes is
cross-site: browsers send no SameSite=Lax or Strict cookie with it (and many send no
third-party cookie at all). The anonymous forms' CSRF token is bound to the pre-session cookie
(`chalicelib.accounts.sessions.form_token`), so it cannot work there. The circle page's own
signup form carries no CSRF token: a signup uses no one's session or rights, so a forged post
could do nothing a direct post could not, and the rate limits (per client and per circle,
spent by `learners.signup.sign_up` whoever posts) bound both.

The widget's form still carries a token that needs no cookie: `embed_signup_token`, signed
with the app's secret (itsdangerous), with a purpose of its own (no other signed link of the
app works here, nor this one elsewhere), bound to the one circle the form is for, and expiring
after EMBED_TOKEN_MAX_AGE. A page on another origin cannot read our embed page (no CORS on
HTML), so it cannot get a fresh token into a forged post made from its visitors' browsers; a
script that fetches tokens itself gains nothing over posting the public form directly, which
the rate limits already bound. A missing, altered or other-circle token refuses the signup
(nothing written, 400); an expired one (a form left open for hours) shows the same form again,
answers kept, with a fresh token and a sentence asking to send it again.
"""
from types import SimpleNamespace
from typing import NamedTuple
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import escape

from chalicelib.core.errors import NotFound, Refusal
from chalicelib.core.i18n import N_, _
from chalicelib.core.settings import get_settings
from chalicelib.teams import teams

EMBED_TOKEN_PURPOSE = 'circles.embed-signup'
EMBED_TOKEN_MAX_AGE = 12 * 3600             # seconds a widget's form may stay open
EMBED_SCRIPT = 'team-embed.js'              # in templates/static, served by /static/{name}
EMBED_HEIGHT = 640                          # the iframe's height before the script resizes it
STATUS_WORDS = {'upcoming': N_('Starting soon'), 'in_progress': N_('Running, join in'),
                'closed': N_('Signup closed'), 'completed': N_('Finished')}


def status_words():
    """STATUS_WORDS in the language of the moment (the cards' badges)."""
    return {status: _(words) for status, words in STATUS_WORDS.items()}


class _TranslatedRefusal(Refusal):
    """A refusal whose default `message` is marked (N_) and translated when raised."""

    def __init__(self, message=None, errors=None):
        super().__init__(message or _(type(self).message), errors)


class EmbedFormExpired(_TranslatedRefusal):
    """The widget's form was open longer than EMBED_TOKEN_MAX_AGE: show it again to be sent again."""
    status = 400
    message = N_('This form was open for a long time: please check your answers and send it again.')


class EmbedFormRefused(_TranslatedRefusal):
    """The widget's form token is missing, altered, or made for another circle."""
    status = 400
    message = N_('This form could not be sent. Please reload the page and try again.')


class TeamPage(NamedTuple):
    team: object
    circles: list           # public list items (dicts), soonest first


class EmbedCircle(NamedTuple):
    team: object
    item: dict              # the circle's public list item


# --- reading -------------------------------------------------------------------------------

def team_or_404(slug):
    """The team that owns `slug` (two GetItems); NotFound otherwise."""
    team = teams.team_for_slug(slug) if slug and len(slug) <= teams.MAX_SLUG else None
    if team is None:
        raise NotFound(_('There is no team at this address.'))
    return team


def _team_entries(team_id, now=None):
    """The team's catalog entries that are not finished, soonest first (no DynamoDB call
    between catalog refreshes). Each item also has `weekday`: the index (Monday = 0) of its
    `day`, the English weekday word of the public API, so a page names it in its own language
    (the `weekday_name` filter); None when the circle meets on no regular day."""
    from chalicelib.circles import catalog
    listing = catalog.current(now)
    with listing.lock:
        entries = [e for e in listing.grouped('tm').get(team_id, []) if not e.finished]
        return [e.item() for e in sorted(entries, key=lambda e: (e.card['fs'] or 0, e.id))]


def team_page(slug, now=None):
    """The team and its upcoming and running circles."""
    team = team_or_404(slug)
    return TeamPage(team, _team_entries(team.team_id, now))


def embed_circle(slug, circle_id, now=None):
    """The team and one of its listed, unfinished circles; NotFound for a circle of another
    team (the widget of one team never signs anyone up to another's circle)."""
    team = team_or_404(slug)
    item = next((i for i in _team_entries(team.team_id, now) if i['id'] == circle_id), None)
    if item is None:
        raise NotFound(_('This learning circle is not listed by this team.'))
    return EmbedCircle(team, item)


def signup_closed_reason(item):
    """Why the listing says the circle takes no signup now, or None (the signup itself checks
    again against the stored circle)."""
    from chalicelib.learners.signup import FULL
    if not item['signup_open']:
        return _('Signup for this learning circle is closed.')
    if item['signup_limit'] is not None and item['signup_count'] >= item['signup_limit']:
        return _(FULL)
    return None


def mobile_example(item):
    """How a mobile number is written in the circle's country (see learners.phone)."""
    from chalicelib.learners.phone import example_number
    return example_number(SimpleNamespace(online=item['online'], country=item['country']))


# --- the widget's form token -------------------------------------------------------------

def _serializer():
    return URLSafeTimedSerializer(get_settings().secret_key, salt=EMBED_TOKEN_PURPOSE)


def embed_signup_token(circle_id):
    """The token of the widget's signup form for `circle_id` (see the module's docstring)."""
    return _serializer().dumps({'c': circle_id})


def check_embed_signup_token(token, circle_id):
    """Nothing if `token` is a current token for `circle_id`; EmbedFormExpired if it was one
    and has expired; EmbedFormRefused otherwise."""
    if not token or not isinstance(token, str) or len(token) > 200:
        raise EmbedFormRefused()
    try:
        payload = _serializer().loads(token, max_age=EMBED_TOKEN_MAX_AGE)
    except SignatureExpired as expired:
        payload = expired.payload
        try:
            payload = _serializer().load_payload(payload) if isinstance(payload, bytes) else payload
        except BadSignature:
            raise EmbedFormRefused() from None
        if isinstance(payload, dict) and payload.get('c') == circle_id:
            raise EmbedFormExpired() from None
        raise EmbedFormRefused() from None
    except BadSignature:
        raise EmbedFormRefused() from None
    if not isinstance(payload, dict) or payload.get('c') != circle_id:
        raise EmbedFormRefused()


# --- the snippet -------------------------------------------------------------------------

def team_url(team):
    return f'{get_settings().public_base_url}/teams/{quote(team.slug)}'


def embed_url(team):
    return f'{team_url(team)}/embed'


def embed_snippet(team):
    """The HTML an organizer pastes into their website: the widget's iframe, our small script
    that resizes it to its content (through `postMessage`; without it the iframe keeps
    EMBED_HEIGHT and scrolls), and a plain link to the team page for browsers that show no
    iframe (or a site that strips it)."""
    base = get_settings().public_base_url
    title = escape(_('Learning circles of %(team)s') % {'team': team.name})
    link = escape(_('Learning circles of %(team)s: see them and sign up') % {'team': team.name})
    return (f'<iframe src="{escape(embed_url(team))}" title="{title}" width="100%" height="{EMBED_HEIGHT}" '
            f'style="border:0;max-width:100%" loading="lazy" data-circles-embed></iframe>\n'
            f'<script src="{escape(base)}/static/{EMBED_SCRIPT}" async></script>\n'
            f'<p><a href="{escape(team_url(team))}">{link}</a></p>')
