"""Signing up through the team widget: the same `sign_up` as the circle page (welcome email,
rate limits), errors shown again inside the widget, and the form's cookie-less token."""
import re
import time
from urllib.parse import urlencode

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from chalicelib.circles import circles
from chalicelib.core.settings import get_settings
from chalicelib.models import Signup
from chalicelib.teams import team_page, teams
from tests.facilitators.test_facilitator_pages import account, get
from tests.support.factories import make_circle

FORM = {'Content-Type': 'application/x-www-form-urlencoded'}
SLUG = 'chicago-library'


def _world(**circle_fields):
    organizer = account('Olu Organizer')
    team = teams.create_team('Chicago Public Library', organizer.email, slug=SLUG).team
    return team, make_circle(name='Python next week', team_id=team.team_id, **circle_fields)


def _form_token(client, circle):
    """The token in the widget's form, as a browser inside the iframe gets it (no cookie)."""
    body = get(client, f'/teams/{SLUG}/embed/{circle.id}').body.decode()
    return re.search(r'name="embed_token" value="([^"]+)"', body).group(1)


def _post(client, circle, fields, token=None):
    body = {'name': 'Lea Learner', 'email': 'lea@example.org', 'consent': 'true', **fields}
    if token is not None:
        body['embed_token'] = token
    return client.http.post(f'/teams/{SLUG}/embed/{circle.id}', headers=FORM, body=urlencode(body))


def _signups(circle):
    return list(Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#')))


def _framable(response):
    return ('X-Frame-Options' not in response.headers
            and 'frame-ancestors *' in response.headers['Content-Security-Policy'])


def test_a_learner_signs_up_through_the_widget_without_any_cookie_and_gets_the_welcome(client, moto):
    _, circle = _world()
    form = get(client, f'/teams/{SLUG}/embed/{circle.id}')
    assert form.status_code == 200 and _framable(form) and 'Set-Cookie' not in form.headers
    assert '<label for="email">Email</label>' in form.body.decode()
    answer = _post(client, circle, {}, _form_token(client, circle))
    assert answer.status_code == 303
    assert answer.headers['Location'] == f'/teams/{SLUG}/embed/{circle.id}/thanks'
    thanks = get(client, answer.headers['Location'])
    assert thanks.status_code == 200 and _framable(thanks) and 'signed up for' in thanks.body.decode()
    assert [s.email for s in _signups(circle)] == ['lea@example.org']
    assert circles.get_circle(circle.id).signup_count == 1
    assert [m['Subject'] for m in moto.sent_emails() if m['To'] == 'lea@example.org']


def test_a_form_with_problems_is_shown_again_inside_the_widget_with_the_answers(client):
    _, circle = _world()
    answer = _post(client, circle, {'consent': '', 'goals': 'Learn loops'}, _form_token(client, circle))
    body = answer.body.decode()
    assert answer.status_code == 400 and _framable(answer)
    assert 'error-summary' in body and 'Learn loops' in body and 'name="embed_token"' in body
    assert _signups(circle) == []


def test_without_the_token_or_with_another_circles_token_nothing_is_written(client):
    team, circle = _world()
    other = make_circle(name='Spanish', team_id=team.team_id)
    for token in (None, '', 'forged.token.value', team_page.embed_signup_token(other.id)):
        answer = _post(client, circle, {}, token)
        assert answer.status_code == 400 and _framable(answer), token
        assert 'could not be sent' in answer.body.decode()
    assert _signups(circle) == []


def test_an_expired_token_shows_the_form_again_with_a_fresh_token_and_the_answers(client):
    _, circle = _world()
    class LongAgo(TimestampSigner):      # stamps tokens an hour past their maximum age
        def get_timestamp(self):
            return int(time.time()) - team_page.EMBED_TOKEN_MAX_AGE - 3600
    stale = URLSafeTimedSerializer(get_settings().secret_key, salt=team_page.EMBED_TOKEN_PURPOSE,
                                   signer=LongAgo).dumps({'c': circle.id})
    answer = _post(client, circle, {'goals': 'Learn loops'}, stale)
    body = answer.body.decode()
    assert answer.status_code == 400 and 'open for a long time' in body and 'Learn loops' in body
    fresh = re.search(r'name="embed_token" value="([^"]+)"', body).group(1)
    assert fresh != stale and _post(client, circle, {}, fresh).status_code == 303
    assert len(_signups(circle)) == 1


def test_a_circle_of_another_team_cannot_be_signed_up_to_through_this_widget(client):
    _world()
    stranger = make_circle(name='Elsewhere', team_id='t-other')
    assert get(client, f'/teams/{SLUG}/embed/{stranger.id}').status_code == 404
    answer = _post(client, stranger, {}, team_page.embed_signup_token(stranger.id))
    assert answer.status_code == 404 and _framable(answer)
    assert _signups(stranger) == []


def test_a_full_circle_says_so_in_the_widget(client):
    _, circle = _world(capacity=1)
    assert _post(client, circle, {}, _form_token(client, circle)).status_code == 303
    body = get(client, f'/teams/{SLUG}/embed/{circle.id}').body.decode()
    assert 'This learning circle is full.' in body and '<form method="post"' not in body
    again = _post(client, circle, {'email': 'ben@example.org'}, team_page.embed_signup_token(circle.id))
    assert again.status_code == 400 and 'full' in again.body.decode() and len(_signups(circle)) == 1


def test_widget_signups_spend_the_same_rate_limit_and_get_429_inside_the_widget(client):
    _, circle = _world()
    token = team_page.embed_signup_token(circle.id)
    for n in range(10):
        assert _post(client, circle, {'email': f'learner{n}@example.org'}, token).status_code == 303
    answer = _post(client, circle, {'email': 'eleventh@example.org'}, token)
    assert answer.status_code == 429 and 0 < int(answer.headers['Retry-After']) <= 3600
    assert _framable(answer) and 'Too many requests' in answer.body.decode()
    assert len(_signups(circle)) == 10


def test_a_bot_that_fills_the_hidden_field_is_thanked_and_nothing_is_written(client):
    _, circle = _world()
    answer = _post(client, circle, {'website': 'http://spam.example'}, _form_token(client, circle))
    assert answer.status_code == 303 and _signups(circle) == []


def test_the_documented_widget_form_names_the_honeypot_field_the_handler_checks():
    from chalicelib.handlers.pages import HONEYPOT
    from chalicelib.openapi.teams import _widget_signup_form
    assert HONEYPOT in _widget_signup_form()['properties']
