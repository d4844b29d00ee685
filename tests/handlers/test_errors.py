"""The one error seam: every kind of Refusal answers its status, as a page and as the API's JSON;
paths no route serves answer 404 (HTML, or JSON under /api/); an unexpected error answers a 500
that says nothing about it and is logged without its text.

The refusing and failing routes live on a small app built here, wired like the real one with
`install_error_pages`; the product has no test-only routes.
"""
import html
import logging

import pytest
from chalice import Blueprint, Chalice
from chalice.test import Client

from chalicelib.core.errors import NotFound, Refusal, SignupRefused, ValidationFailed
from chalicelib.core.links import BadLink
from chalicelib.facilitators.circle_admin import CONFLICT, CircleChanged
from chalicelib.facilitators.feedback import TooEarly
from chalicelib.handlers.web import (SERVER_ERROR_JSON, answers_refusals, api_errors, error_pages,
                                     install_error_pages, refusal_page, without_exception_text)
from chalicelib.reminders.schedule import ReminderSent
from tests.facilitators.test_facilitator_pages import Browser, account, run_by

SECRET = 'grace@example.org typed this'
FORM = {'Content-Type': 'application/x-www-form-urlencoded'}

# (refusal, its status, the API's `errors`)
KINDS = {
    'validation': (ValidationFailed({'email': ['Please give an email address.']}), 400,
                   {'email': ['Please give an email address.']}),
    'not-found': (NotFound('No such learning circle.'), 404, {'learning_circle': ['No such learning circle.']}),
    'signup-refused': (SignupRefused('This circle is full.'), 400, {'learning_circle': ['This circle is full.']}),
    'too-early': (TooEarly('This meeting has not started yet.'), 400,
                  {'learning_circle': ['This meeting has not started yet.']}),
    'circle-changed': (CircleChanged(CONFLICT), 409, {'learning_circle': [CONFLICT]}),
    'reminder-sent': (ReminderSent('This reminder has been sent already.'), 409,
                      {'learning_circle': ['This reminder has been sent already.']}),
    'bad-link': (BadLink('not an RSVP token'), 400, {'learning_circle': [BadLink.message]}),
}


def text(response):
    return html.unescape(response.body.decode())


@pytest.fixture
def small_app():
    """An app with a route per refusal kind (page and API) and two routes that fail."""
    app = Chalice(app_name='errors-test', configure_logs=False)
    install_error_pages(app)
    bp = Blueprint(__name__)

    @bp.route('/refused/{kind}', methods=['GET'])
    @answers_refusals(refusal_page)
    def refused_page(kind):
        raise KINDS[kind][0]

    @bp.route('/api/refused/{kind}', methods=['GET'])
    @api_errors
    def refused_api(kind):
        raise KINDS[kind][0]

    @bp.route('/broken', methods=['GET'])
    def broken_page():
        raise RuntimeError(SECRET)

    @bp.route('/api/broken', methods=['GET'])
    def broken_api():
        return {}[SECRET]

    app.register_blueprint(bp)
    with Client(app) as client:
        yield client


# --- refusals --------------------------------------------------------------------------

def test_every_refusal_kind_is_a_refusal_with_a_status_and_a_sentence():
    for refusal, status, _ in KINDS.values():
        assert isinstance(refusal, Refusal)
        assert refusal.status == status
        assert refusal.message.endswith('.')


def test_a_bad_link_tells_people_only_the_readable_sentence():
    error = BadLink('not an RSVP token')
    assert str(error) == 'not an RSVP token'
    assert 'RSVP token' not in error.message


@pytest.mark.parametrize('kind', KINDS)
def test_each_refusal_kind_answers_its_status_as_a_page(small_app, kind):
    refusal, status, _ = KINDS[kind]
    response = small_app.http.get(f'/refused/{kind}')
    assert response.status_code == status
    assert response.headers['Content-Type'] == 'text/html; charset=utf-8'
    if status == 404:
        assert '<title>Not found · Circles</title>' in text(response)
    else:
        assert refusal.message in text(response)


@pytest.mark.parametrize('kind', KINDS)
def test_each_refusal_kind_answers_its_status_as_the_apis_json(small_app, kind):
    _, status, errors = KINDS[kind]
    response = small_app.http.get(f'/api/refused/{kind}')
    assert response.status_code == status
    assert response.headers['Content-Type'] == 'application/json'
    assert response.json_body == {'status': 'error', 'errors': errors}


def test_the_public_apis_error_bytes_are_unchanged(client):
    missing = client.http.get('/api/learningcircles/nope')
    assert missing.status_code == 404
    assert missing.body == b'{"status": "error", "errors": {"learning_circle": ["No such learning circle."]}}'


def test_a_stranger_on_a_facilitator_route_gets_the_404_page_still_signed_in(client):
    owner, stranger = account('Fay Facilitator'), account('Sam Stranger')
    circle = run_by(owner, name='The secret circle name')
    browser = Browser(stranger)
    for path in (f'/facilitate/circles/{circle.id}', f'/facilitate/circles/{circle.id}/messages/new',
                 f'/facilitate/circles/{circle.id}/meetings/{circle.meetings[0].meeting_id}/reminder'):
        response = client.http.get(path, headers={'Cookie': browser.cookie})
        assert response.status_code == 404, path
        assert '<title>Not found · Circles</title>' in text(response)
        assert 'Sam Stranger' in text(response) and 'secret circle' not in text(response)


def test_a_message_or_meeting_that_is_not_there_is_not_found_for_its_facilitator(client):
    owner = account('Fay Facilitator')
    circle = run_by(owner)
    browser = Browser(owner)
    for path in (f'/facilitate/circles/{circle.id}/messages/nope',
                 f'/facilitate/circles/{circle.id}/meetings/nope/feedback',
                 f'/facilitate/circles/{circle.id}/meetings/nope/reminder'):
        response = client.http.get(path, headers={'Cookie': browser.cookie})
        assert response.status_code == 404, path
        assert 'Fay Facilitator' in text(response)


# --- paths no route serves ---------------------------------------------------------------

def test_an_unknown_path_answers_the_not_found_page(client):
    for response in (client.http.get('/nope'),
                     client.http.post('/nope', body='a=b', headers=FORM),
                     client.http.request('DELETE', '/wp-login.php')):
        assert response.status_code == 404
        assert response.headers['Content-Type'] == 'text/html; charset=utf-8'
        assert '<title>Not found · Circles</title>' in text(response)


def test_the_not_found_page_keeps_the_nav_signed_in(client):
    browser = Browser(account('Dee Facilitator'))
    response = client.http.get('/nope', headers={'Cookie': browser.cookie})
    assert response.status_code == 404 and 'Dee Facilitator' in text(response)


def test_specific_routes_still_win_over_the_catch_all(client):
    assert client.http.get('/').status_code == 200
    login = client.http.get('/login')
    assert login.status_code == 200 and '<title>Not found' not in text(login)
    assert client.http.get('/api/openapi.json').status_code == 200
    assert client.http.get('/api/learningcircles').status_code == 200


def test_an_unknown_api_path_answers_json_404(client):
    for response in (client.http.get('/api/nope'),
                     client.http.post('/api/nope', body='{}', headers={'Content-Type': 'application/json'})):
        assert response.status_code == 404
        assert response.headers['Content-Type'] == 'application/json'
        assert response.json_body == {'status': 'error', 'errors': {'path': ['There is no such endpoint in this API.']}}


# --- unexpected errors ---------------------------------------------------------------------

def test_an_unexpected_error_answers_a_500_page_that_says_nothing_about_it(small_app):
    response = small_app.http.get('/broken')
    assert response.status_code == 500
    assert response.headers['Content-Type'] == 'text/html; charset=utf-8'
    body = text(response)
    assert 'Something went wrong' in body
    for leak in (SECRET, 'RuntimeError', 'Traceback', 'broken_page'):
        assert leak not in body


def test_an_unexpected_error_in_the_api_answers_json_500_without_its_text(small_app):
    response = small_app.http.get('/api/broken')
    assert response.status_code == 500
    assert response.json_body == SERVER_ERROR_JSON
    assert SECRET not in response.body.decode()


def test_an_unexpected_error_is_logged_with_the_route_and_where_but_not_its_text(small_app, caplog):
    with caplog.at_level(logging.ERROR):
        small_app.http.get('/broken')
    record, = [r for r in caplog.records if r.levelno == logging.ERROR]
    logged = record.getMessage()
    assert '/broken' in logged and 'RuntimeError' in logged and 'broken_page' in logged
    assert SECRET not in logged and SECRET not in caplog.text
    assert record.exc_info is None


def test_the_real_app_answers_errors_with_pages_and_never_runs_in_debug_mode():
    from app import app
    assert app.debug is False
    assert (error_pages, 'http') in app.middleware_handlers
    assert without_exception_text in app.log.filters
