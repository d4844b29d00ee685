"""The OpenAPI document at /api/openapi.json tells the truth about the app.

Every route is documented and nothing else is; answers from the real app (statuses,
content types, JSON bodies) are checked against the documented responses, with
undocumented JSON fields treated as errors, so the document cannot drift from the code.
"""
import copy
import dataclasses
import json
import re
from urllib.parse import urlencode

import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.support.factories import make_circle

HTTP_METHODS = {'get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'}
FORM = 'application/x-www-form-urlencoded'


@pytest.fixture
def doc(client):
    response = client.http.get('/api/openapi.json')
    assert response.status_code == 200, response.body
    assert response.headers['Content-Type'] == 'application/json'
    return response.json_body


# The catch-alls (chalicelib/handlers/pages.py) answer only 404 for paths no route serves:
# they are no operation a client can call, so the document leaves them out, as it does /local/.
CATCH_ALLS = {'/{proxy+}', '/api/{proxy+}'}


def app_routes():
    """(path, method) -> Chalice RouteEntry for every public route (not OPTIONS, not /local/,
    not the catch-alls)."""
    from app import app
    return {(path, method.lower()): entry
            for path, methods in app.routes.items() for method, entry in methods.items()
            if method != 'OPTIONS' and not path.startswith('/local/') and path not in CATCH_ALLS}


def documented_operations(doc):
    return {(path, method): operation
            for path, item in doc['paths'].items() for method, operation in item.items()
            if method in HTTP_METHODS}


def forbid_undocumented_fields(schema):
    """Every object schema with listed properties refuses other properties (in place)."""
    if isinstance(schema, dict):
        if 'properties' in schema and 'additionalProperties' not in schema:
            schema['additionalProperties'] = False
        for value in schema.values():
            forbid_undocumented_fields(value)
    elif isinstance(schema, list):
        for value in schema:
            forbid_undocumented_fields(value)


def strict_validator(doc, schema):
    """A JSON Schema validator for `schema` (which may $ref the document's components)."""
    root = {**copy.deepcopy(schema), 'components': copy.deepcopy(doc['components'])}
    forbid_undocumented_fields(root)
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def assert_documented(doc, path, method, response):
    """The answer's status is documented for this operation, with its content type and body shape."""
    operation = doc['paths'][path][method]
    status = str(response.status_code)
    assert status in operation['responses'], f'{method.upper()} {path} answered undocumented {status}'
    documented = operation['responses'][status]
    if 'content' not in documented:
        return
    content_type = response.headers.get('Content-Type')
    assert content_type in documented['content'], (
        f'{method.upper()} {path} {status} answered {content_type}, documented {list(documented["content"])}')
    if content_type == 'application/json':
        strict_validator(doc, documented['content'][content_type]['schema']).validate(response.json_body)


def request_schema(doc, path, method, content_type):
    return doc['paths'][path][method]['requestBody']['content'][content_type]['schema']


# --- the document itself ---------------------------------------------------------

def test_document_is_valid_openapi_served_for_this_deployment(doc):
    validate(doc)
    assert doc['servers'] == [{'url': 'http://circles.test'}]


def test_every_route_is_documented_and_every_documented_operation_is_a_route(doc):
    assert set(documented_operations(doc)) == set(app_routes())


def test_operation_ids_name_the_view_functions_that_serve_them(doc):
    routes = app_routes()
    for key, operation in documented_operations(doc).items():
        assert operation['operationId'] == routes[key].view_name, key


def test_path_parameters_are_exactly_the_route_placeholders(doc):
    for (path, method), operation in documented_operations(doc).items():
        in_path = {p['name'] for p in operation.get('parameters', []) if p['in'] == 'path'}
        assert in_path == set(re.findall(r'{(\w+)}', path)), (path, method)


def test_request_bodies_are_documented_in_the_content_types_the_routes_accept(doc):
    for (path, method), entry in app_routes().items():
        operation = doc['paths'][path][method]
        if method == 'post':
            assert set(operation['requestBody']['content']) == set(entry.content_types), path
        else:
            assert 'requestBody' not in operation, path


def test_browse_parameters_are_exactly_the_ones_the_api_parses(doc):
    from chalicelib.circles.browse import BrowseQuery
    documented = {p['name'] for p in doc['paths']['/api/learningcircles']['get']['parameters']}
    assert documented == {f.name for f in dataclasses.fields(BrowseQuery)}


def test_documented_choices_are_accepted_and_others_refused(doc, client):
    make_circle()
    for parameter in doc['paths']['/api/learningcircles']['get']['parameters']:
        choices = parameter['schema'].get('enum')
        if not choices:
            continue
        for choice in choices:
            response = client.http.get(f'/api/learningcircles?{parameter["name"]}={choice}')
            assert response.status_code == 200, (parameter['name'], choice, response.body)
        response = client.http.get(f'/api/learningcircles?{parameter["name"]}=not-a-choice')
        assert response.status_code == 400
        assert parameter['name'] in response.json_body['errors']


def test_documented_limits_of_paging_are_the_enforced_ones(doc, client):
    limit = next(p for p in doc['paths']['/api/learningcircles']['get']['parameters'] if p['name'] == 'limit')
    maximum = limit['schema']['maximum']
    assert client.http.get(f'/api/learningcircles?limit={maximum}').status_code == 200
    refused = client.http.get(f'/api/learningcircles?limit={maximum + 1}')
    assert refused.status_code == 400 and 'limit' in refused.json_body['errors']


# --- real answers against the documented responses -------------------------------

def test_browse_answers_match_the_documented_schema(doc, client):
    make_circle(signup_question='What would you like to build?', image_url='https://example.org/a.png',
                capacity=12)
    make_circle(name='Writing Club', online=True, signup_open=False)
    for query in ('', '?latitude=41.88&longitude=-87.63&distance=25&limit=10&offset=0',
                  '?q=python&scope=upcoming&order=name', '?online=true&signup=closed'):
        response = client.http.get(f'/api/learningcircles{query}')
        assert response.status_code == 200, response.body
        assert_documented(doc, '/api/learningcircles', 'get', response)
        assert response.json_body['items'], query

    near = client.http.get('/api/learningcircles?latitude=41.88&longitude=-87.63&limit=5').json_body
    # The optional parts of the schema were exercised, not just the required ones.
    assert {'offset', 'limit'} <= set(near)
    assert {'signup_question', 'image_url', 'next_meeting_date', 'distance_km'} <= set(near['items'][0])


def test_one_circle_answer_matches_the_documented_schema(doc, client):
    circle = make_circle(signup_question='Why?', welcome_message='See you there!')
    response = client.http.get(f'/api/learningcircles/{circle.id}')
    assert response.status_code == 200, response.body
    assert_documented(doc, '/api/learningcircles/{circle_id}', 'get', response)
    assert len(response.json_body['meetings']) == 6

    missing = client.http.get('/api/learningcircles/no-such-circle')
    assert missing.status_code == 404
    assert_documented(doc, '/api/learningcircles/{circle_id}', 'get', missing)


def test_invalid_browse_parameters_answer_the_documented_error(doc, client):
    response = client.http.get('/api/learningcircles?latitude=91&weekdays=8')
    assert response.status_code == 400
    assert_documented(doc, '/api/learningcircles', 'get', response)


def test_a_signup_in_the_documented_shape_is_accepted(doc, client):
    circle = make_circle(signup_question='What would you like to build?')
    body = {'learning_circle': circle.id, 'name': 'Grace', 'email': 'grace@example.org',
            'mobile': '+1 312 555 0100', 'consent': True, 'communications_opt_in': False,
            'signup_questions': {'goals': 'Automate my spreadsheets', 'support': 'Patience',
                                 'custom_question': 'A budget tracker'}}
    strict_validator(doc, request_schema(doc, '/api/signup', 'post', 'application/json')).validate(body)
    for content_type in ('application/json', 'text/plain'):
        response = client.http.post('/api/signup', body=json.dumps(body),
                                    headers={'Content-Type': content_type})
        assert response.status_code == 200, response.body
        assert_documented(doc, '/api/signup', 'post', response)


def test_signup_refusals_answer_the_documented_errors(doc, client):
    circle = make_circle()
    invalid = client.http.post('/api/signup', headers={'Content-Type': 'application/json'},
                               body=f'{{"learning_circle": "{circle.id}", "name": "", "email": "nope"}}')
    assert invalid.status_code == 400
    assert_documented(doc, '/api/signup', 'post', invalid)
    unknown = client.http.post('/api/signup', headers={'Content-Type': 'application/json'},
                               body='{"learning_circle": "nope", "name": "A", "email": "a@example.org", '
                                    '"consent": true}')
    assert unknown.status_code == 404
    assert_documented(doc, '/api/signup', 'post', unknown)


def test_pages_answer_documented_statuses_and_content_types(doc, client):
    circle = make_circle()
    checks = [
        ('/', 'get', '/'), ('/', 'get', '/?q=python&city=&weekday=&online=&latitude=&longitude=&distance=50'),
        ('/', 'get', '/?latitude=north&longitude=1'),
        ('/circles/{circle_id}', 'get', f'/circles/{circle.id}'),
        ('/circles/{circle_id}', 'get', '/circles/nope'),
        ('/circles/{circle_id}/thanks', 'get', f'/circles/{circle.id}/thanks'),
        ('/circles/{circle_id}/thanks', 'get', '/circles/nope/thanks'),
        ('/withdraw/{token}', 'get', '/withdraw/not-a-token'),
        ('/withdraw/{token}', 'post', '/withdraw/not-a-token'),
        ('/static/{name}', 'get', '/static/nothing.txt'),
        ('/about', 'get', '/about'), ('/privacy', 'get', '/privacy'), ('/run-a-circle', 'get', '/run-a-circle'),
        ('/register', 'get', '/register'), ('/login', 'get', '/login?next=/account'),
        ('/password/forgot', 'get', '/password/forgot'),
        ('/confirm/{token}', 'get', '/confirm/not-a-token'),
        ('/password/reset/{token}', 'get', '/password/reset/not-a-token'),
        ('/account', 'get', '/account'), ('/dashboard', 'get', '/dashboard'),
        ('/logout', 'post', '/logout'), ('/account/email', 'post', '/account/email'),
    ]
    for name in doc['paths']['/static/{name}']['get']['parameters'][0]['schema']['enum']:
        checks.append(('/static/{name}', 'get', f'/static/{name}'))
    for path, method, url in checks:
        if method == 'get':
            response = client.http.get(url)
        else:
            response = client.http.post(url, body='', headers={'Content-Type': FORM})
        assert_documented(doc, path, method, response)
    assert client.http.get('/static/style.css').status_code == 200


def test_the_documented_signup_form_signs_up_and_the_withdraw_link_works(doc, client):
    from chalicelib.models import Signup
    from chalicelib.core.settings import get_settings
    from chalicelib.learners.signup import withdraw_link
    circle = make_circle()
    fields = {'name': 'Grace', 'email': 'grace@example.org', 'mobile': '', 'goals': 'Learn',
              'support': '', 'website': '', 'consent': 'true', 'communications_opt_in': 'true'}
    form_schema = request_schema(doc, '/circles/{circle_id}/signup', 'post', FORM)
    strict_validator(doc, form_schema).validate(fields)
    response = client.http.post(f'/circles/{circle.id}/signup', body=urlencode(fields),
                                headers={'Content-Type': FORM})
    assert response.status_code == 303, response.body
    assert_documented(doc, '/circles/{circle_id}/signup', 'post', response)
    refused = client.http.post(f'/circles/{circle.id}/signup', body=urlencode({**fields, 'consent': ''}),
                               headers={'Content-Type': FORM})
    assert refused.status_code == 400
    assert_documented(doc, '/circles/{circle_id}/signup', 'post', refused)

    signup = next(Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#')))
    path = withdraw_link(signup).removeprefix(get_settings().public_base_url)
    for method in ('get', 'post'):
        if method == 'get':
            answer = client.http.get(path)
        else:
            answer = client.http.post(path, body='', headers={'Content-Type': FORM})
        assert answer.status_code == 200, answer.body
        assert_documented(doc, '/withdraw/{token}', method, answer)
