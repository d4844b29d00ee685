"""The OpenAPI 3.1 document served at `/api/openapi.json`.

Partner websites build search and signup forms against the public endpoints,
so this document is their reference. It is a plain dict: limits and choices
come from the modules that enforce them (browse, signup, pages), and
`tests/test_openapi.py` checks every route and real responses against it.
"""
from chalicelib.settings import get_settings

JSON = 'application/json'
FORM = 'application/x-www-form-urlencoded'
HTML = 'text/html; charset=utf-8'
WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
STATUSES = ['upcoming', 'in_progress', 'closed', 'completed']
LOCAL_TIME = {'type': 'string', 'pattern': r'^\d{2}:\d{2}$', 'description': 'HH:MM, local time.'}


# --- small helpers --------------------------------------------------------------

def ref(name):
    return {'$ref': f'#/components/schemas/{name}'}


def nullable(schema):
    """The same schema that also allows null (OpenAPI 3.1 uses JSON Schema's type lists)."""
    kind = schema['type']
    return {**schema, 'type': [*kind, 'null'] if isinstance(kind, list) else [kind, 'null']}


def string(description=None, **extra):
    return _described({'type': 'string', **extra}, description)


def obj(properties, required=(), description=None):
    schema = {'type': 'object', 'properties': properties}
    if required:
        schema['required'] = list(required)
    return _described(schema, description)


def _described(schema, description):
    return {**schema, 'description': description} if description else schema


def query(name, schema, description, **extra):
    return {'name': name, 'in': 'query', 'required': False, 'schema': schema,
            'description': description, **extra}


def path_parameter(name, description):
    return {'name': name, 'in': 'path', 'required': True, 'schema': {'type': 'string'},
            'description': description}


def json_response(description, schema):
    return {'description': description, 'content': {JSON: {'schema': schema}}}


def html_response(description):
    return {'description': description, 'content': {HTML: {'schema': {'type': 'string'}}}}


def api_error(description):
    return json_response(description, ref('Error'))


def form_body(properties, required=()):
    return {'required': True, 'content': {FORM: {'schema': obj(properties, required)}}}


def see_other(description, sets_cookie=False):
    headers = {'Location': {'schema': {'type': 'string'}, 'description': 'Where the browser goes next.'}}
    if sets_cookie:
        headers['Set-Cookie'] = {'schema': {'type': 'string'}, 'description': 'The session cookie.'}
    return {'description': description, 'headers': headers}


def operation(operation_id, summary, tags, responses, description=None, parameters=None,
              request_body=None):
    """One operation; `operation_id` is the name of the Chalice view function that serves it."""
    op = {'operationId': operation_id, 'summary': summary, 'tags': tags, 'responses': responses}
    if description:
        op['description'] = description
    if parameters:
        op['parameters'] = parameters
    if request_body:
        op['requestBody'] = request_body
    return op


# --- schemas --------------------------------------------------------------------

def _item_properties():
    """Fields of `chalicelib.circles.to_api_item`, the P2PU-compatible list item."""
    text = {'type': 'string'}
    return {
        'id': string('Short random id; also the last segment of `url`.'),
        'name': text,
        'course': ref('Course'),
        'facilitator': nullable(string('First facilitator\'s name.')),
        'facilitators': {'type': 'array', 'items': text},
        'venue': nullable(text),
        'venue_address': nullable(text),
        'venue_website': nullable(text),
        'city': nullable(text),
        'region': nullable(text),
        'country': nullable(text),
        'latitude': nullable({'type': 'number'}),
        'longitude': nullable({'type': 'number'}),
        'online': {'type': 'boolean'},
        'language': string('Language code, e.g. `en`.'),
        'day': nullable(string('Weekday of the first meeting.', enum=WEEKDAY_NAMES)),
        'start_date': nullable(string('First meeting, local date.', format='date')),
        'start_datetime': nullable(string('First meeting, local time with UTC offset.', format='date-time')),
        'meeting_time': nullable(LOCAL_TIME),
        'time_zone': string('IANA timezone of the circle, e.g. `America/Chicago`.'),
        'last_meeting_date': nullable(string('Last meeting, local date.', format='date')),
        'end_time': nullable(LOCAL_TIME),
        'weeks': {'type': 'integer', 'minimum': 0, 'description': 'Number of meetings.'},
        'url': string('The circle\'s public page, with its signup form.', format='uri'),
        'report_url': {'type': 'null', 'description': 'Always null; kept for P2PU clients.'},
        'draft': {'type': 'boolean', 'description': 'Always false in public answers.'},
        'signup_limit': nullable({'type': 'integer', 'minimum': 0}),
        'signup_count': {'type': 'integer', 'minimum': 0},
        'signup_open': {'type': 'boolean',
                        'description': 'Signup is open and the circle has not finished (it may still be full).'},
        'status': string('`upcoming` (open, not started), `in_progress` (open, started), '
                         '`closed` (signup closed, not finished), `completed` (finished).', enum=STATUSES),
        'signup_question': string('Present when the facilitator asks one; signups must answer it.'),
        'image_url': string('Present when the circle has an image.'),
        'next_meeting_date': string('Present while a meeting is ahead (local date, today included).',
                                    format='date'),
        'distance_km': {'type': 'number', 'minimum': 0,
                        'description': 'Present when searching by `latitude`/`longitude`.'},
    }


ITEM_OPTIONAL = ('signup_question', 'image_url', 'next_meeting_date', 'distance_km')


def _item_schema():
    properties = _item_properties()
    return obj(properties, [name for name in properties if name not in ITEM_OPTIONAL],
               'A published learning circle as listed by `GET /api/learningcircles`.')


def _details_schema():
    """`public_details`: the list item plus the description and every meeting."""
    properties = {
        **_item_properties(),
        'description': nullable({'type': 'string'}),
        'venue_details': nullable(string('How to find the room.')),
        'welcome_message': nullable({'type': 'string'}),
        'meetings': {'type': 'array', 'items': ref('Meeting'),
                     'description': 'Every meeting in time order, cancelled ones included.'},
    }
    required = [name for name in properties if name not in ITEM_OPTIONAL]
    return obj(properties, required, 'One published learning circle in full.')


def _schemas():
    from chalicelib.signup import MAX_LENGTHS
    text = {'type': 'string'}
    return {
        'Course': obj({
            'id': {'type': 'null', 'description': 'Always null; kept for P2PU clients.'},
            'title': text,
            'provider': nullable(text),
            'link': nullable(text),
            'topics': {'type': 'array', 'items': text},
        }, ['id', 'title', 'provider', 'link', 'topics']),
        'Meeting': obj({
            'id': text,
            'date': string('Local date.', format='date'),
            'time': LOCAL_TIME,
            'duration_minutes': {'type': 'integer', 'minimum': 0},
            'starts_at': string('The UTC instant.', format='date-time'),
            'cancelled': {'type': 'boolean'},
        }, ['id', 'date', 'time', 'duration_minutes', 'starts_at', 'cancelled']),
        'LearningCircle': _item_schema(),
        'LearningCircleDetails': _details_schema(),
        'BrowseResult': obj({
            'count': {'type': 'integer', 'minimum': 0,
                      'description': 'Circles matching every filter (after `signup`, before paging).'},
            'signup_open_count': {'type': 'integer', 'minimum': 0,
                                  'description': 'Matching circles that take signups (ignoring `signup`).'},
            'signup_closed_count': {'type': 'integer', 'minimum': 0,
                                    'description': 'Matching circles that do not (ignoring `signup`).'},
            'offset': {'type': 'integer', 'minimum': 0, 'description': 'Present when paging.'},
            'limit': {'type': 'integer', 'minimum': 1, 'description': 'Present when paging.'},
            'items': {'type': 'array', 'items': ref('LearningCircle')},
        }, ['count', 'signup_open_count', 'signup_closed_count', 'items']),
        'SignupRequest': obj({
            'learning_circle': {'type': ['string', 'integer'], 'description': 'The circle\'s `id`.'},
            'name': string(maxLength=MAX_LENGTHS['name']),
            'email': string(maxLength=MAX_LENGTHS['email'], format='email'),
            'mobile': nullable(string('Mobile number; without a `+` country code the service\'s '
                                      'default region applies. Stored in E.164.')),
            'consent': {'type': 'boolean', 'const': True,
                        'description': 'The learner agrees to be contacted about this circle.'},
            'communications_opt_in': nullable({'type': 'boolean', 'description': 'News from the organizers.'}),
            'signup_questions': obj({
                'goals': nullable(string('What the learner hopes to get out of it.',
                                         maxLength=MAX_LENGTHS['goals'])),
                'support': nullable(string('What would help them succeed.', maxLength=MAX_LENGTHS['support'])),
                'custom_question': nullable(string('Answer to the circle\'s `signup_question`; required '
                                                   'when it has one.', maxLength=MAX_LENGTHS['custom_answer'])),
            }),
        }, ['learning_circle', 'name', 'email', 'consent'],
            'A signup. A second signup with the same email for the same circle updates the first '
            '(one signup, one welcome email) and answers the same.'),
        'SignupCreated': obj({'status': {'const': 'created'}}, ['status']),
        'Error': obj({
            'status': {'const': 'error'},
            'errors': {'type': 'object', 'additionalProperties': {'type': 'array', 'items': text},
                       'description': 'Messages per field (a query parameter or a body field, or `body`).'},
        }, ['status', 'errors']),
    }


# --- operations -----------------------------------------------------------------

def _browse_parameters():
    from chalicelib.browse import (DEFAULT_DISTANCE_KM, DEFAULT_LIMIT, MAX_DISTANCE_KM, MAX_LIMIT,
                                   ORDERS, SCOPES)
    true_false = {'type': 'boolean'}
    comma_list = {'style': 'form', 'explode': False}
    return [
        query('q', {'type': 'string'}, 'Words; each must start a word of the name, course title, provider, '
              'topics, venue, city or a facilitator\'s name (case and accents ignored).'),
        query('latitude', {'type': 'number', 'minimum': -90, 'maximum': 90},
              'With `longitude`: circles within `distance` km of this point, nearest first. '
              'Online circles are left out.'),
        query('longitude', {'type': 'number', 'minimum': -180, 'maximum': 180}, 'With `latitude`.'),
        query('distance', {'type': 'number', 'exclusiveMinimum': 0, 'maximum': MAX_DISTANCE_KM,
                           'default': DEFAULT_DISTANCE_KM}, 'Radius in km around `latitude`/`longitude`.'),
        query('city', {'type': 'string'}, 'City name (case and accents ignored).'),
        query('team_id', {'type': 'string'}, 'Circles of one team.'),
        query('topics', {'type': 'array', 'items': {'type': 'string'}},
              'Comma-separated; a circle matches if any of its course topics contains any of these.',
              **comma_list),
        query('weekdays', {'type': 'array', 'items': {'type': 'integer', 'minimum': 0, 'maximum': 6}},
              'Comma-separated weekdays of the first meeting, Monday = 0.', **comma_list),
        query('online', true_false, '`true`: online circles only; `false`: in person only.'),
        query('active', true_false, '`true`: not finished yet; `false`: finished.'),
        query('scope', {'type': 'string', 'enum': list(SCOPES)},
              '`active` (not finished), `upcoming` (not started), `current` (started, not finished), '
              '`completed` (finished), each judged in the circle\'s own timezone.'),
        query('signup', {'type': 'string', 'enum': ['open', 'closed']},
              'Only circles that do (or do not) take signups now.'),
        query('order', {'type': 'string', 'enum': list(ORDERS)},
              'Sort order. Default: nearest first with a location, else oldest created first. '
              '`start_date`, `created_at` and `last_meeting_date` sort newest first.'),
        query('limit', {'type': 'integer', 'minimum': 1, 'maximum': MAX_LIMIT, 'default': DEFAULT_LIMIT},
              'Page size. With `limit` or `offset` the answer includes both.'),
        query('offset', {'type': 'integer', 'minimum': 0, 'default': 0}, 'Items to skip.'),
    ]


def _api_paths():
    tags = ['Public API']
    circle_id = path_parameter('circle_id', 'The circle\'s `id`.')
    return {
        '/api/learningcircles': {'get': operation(
            'list_learning_circles', 'Search published learning circles', tags,
            description='Compatible with P2PU\'s `GET /api/learningcircles/` (a trailing slash is accepted). '
                        'CORS is open, so partner pages on any origin can call it.',
            parameters=_browse_parameters(),
            responses={'200': json_response('Matching circles.', ref('BrowseResult')),
                       '400': api_error('A parameter is invalid; `errors` names it.')})},
        '/api/learningcircles/{circle_id}': {'get': operation(
            'learning_circle', 'One published learning circle', tags, parameters=[circle_id],
            responses={'200': json_response('The circle.', ref('LearningCircleDetails')),
                       '404': api_error('No published circle has this id.')})},
        '/api/signup': {'post': operation(
            'signup', 'Sign a learner up for a circle', tags,
            description='Compatible with P2PU\'s `POST /api/signup/`. Beyond the original, signup must be '
                        'open, the circle published and not full. `text/plain` bodies (JSON text) are '
                        'accepted so that browsers can post without a CORS preflight.',
            request_body={'required': True, 'content': {
                JSON: {'schema': ref('SignupRequest')}, 'text/plain': {'schema': ref('SignupRequest')}}},
            responses={'200': json_response('Signed up (or an earlier signup updated).', ref('SignupCreated')),
                       '400': api_error('Invalid fields, or the circle takes no signup now '
                                        '(then `errors.learning_circle` says why).'),
                       '404': api_error('No published circle has this id.')})},
        '/api/openapi.json': {'get': operation(
            'openapi_document', 'This document', ['Documentation'],
            responses={'200': json_response('OpenAPI 3.1 document.', {'type': 'object'})})},
    }


def _signup_form():
    from chalicelib.handlers.pages import HONEYPOT
    from chalicelib.signup import MAX_LENGTHS
    checkbox = {'type': 'string', 'enum': ['true'], 'description': 'Sent only when ticked.'}
    return obj({
        'name': string(maxLength=MAX_LENGTHS['name']),
        'email': string(maxLength=MAX_LENGTHS['email']),
        'mobile': string('Optional mobile number.'),
        'goals': string(maxLength=MAX_LENGTHS['goals']),
        'support': string(maxLength=MAX_LENGTHS['support']),
        'custom_answer': string('Answer to the circle\'s signup question, when it has one.',
                                maxLength=MAX_LENGTHS['custom_answer']),
        'consent': checkbox,
        'communications_opt_in': checkbox,
        HONEYPOT: string('Hidden from people and left empty; a form with this filled in is answered '
                         'as a success and nothing is saved.'),
    }, ['name', 'email', 'consent'])


def _page_paths():
    from chalicelib.handlers.pages import STATIC_FILES
    tags = ['Pages']
    circle_id = path_parameter('circle_id', 'The circle\'s `id`.')
    token = path_parameter('token', 'The signed token from the withdraw link in the welcome email.')
    not_found = html_response('No published circle has this id.')
    bad_link = html_response('The link was altered, has expired, or its signup is gone.')
    return {
        '/': {'get': operation(
            'browse_page', 'Browse page: active circles with filters', tags,
            description='The filter form submits every field, empty ones included.',
            parameters=[
                query('q', {'type': 'string'}, 'Search words (as `q` in the API).'),
                query('city', {'type': 'string'}, 'City name.'),
                query('weekday', {'type': 'string', 'pattern': '^[0-6]?$'}, 'Empty (any day) or 0-6, Monday = 0.'),
                query('online', {'type': 'string', 'enum': ['', 'yes', 'no']}, 'Online, in person, or either.'),
                query('latitude', {'type': 'string'}, 'Filled in by "near me" (a number), else empty.'),
                query('longitude', {'type': 'string'}, 'Filled in by "near me" (a number), else empty.'),
                query('distance', {'type': 'string'}, 'Radius in km, used with a location.'),
            ],
            responses={'200': html_response('The page.'),
                       '400': html_response('The page with the filter errors shown.')})},
        '/circles/{circle_id}': {'get': operation(
            'circle_page', 'A circle\'s page and signup form', tags, parameters=[circle_id],
            responses={'200': html_response('The page.'), '404': not_found})},
        '/circles/{circle_id}/signup': {'post': operation(
            'circle_signup', 'Submit the signup form', tags, parameters=[circle_id],
            request_body={'required': True, 'content': {FORM: {'schema': _signup_form()}}},
            responses={'303': see_other('Signed up: to `/circles/{circle_id}/thanks`.'),
                       '400': html_response('The form again, with the errors or the reason signup is refused.'),
                       '404': not_found})},
        '/circles/{circle_id}/thanks': {'get': operation(
            'thanks_page', 'Thanks after signing up', tags, parameters=[circle_id],
            responses={'200': html_response('The page.'), '404': not_found})},
        '/withdraw/{token}': {
            'get': operation(
                'withdraw_page', 'Ask the learner to confirm leaving the circle', tags, parameters=[token],
                description='Following a link never changes anything (mail scanners open links).',
                responses={'200': html_response('The confirmation form, or "you have left" if done before.'),
                           '400': bad_link}),
            'post': operation(
                'withdraw_confirm', 'Leave the circle: erase the learner\'s data and stop all messages',
                tags, parameters=[token],
                request_body={'required': False, 'content': {FORM: {'schema': obj({})}}},
                responses={'200': html_response('Done.'), '400': bad_link})},
        '/static/{name}': {'get': operation(
            'static_file', 'Stylesheet and script of the pages', tags,
            parameters=[{**path_parameter('name', 'File name.'),
                         'schema': {'type': 'string', 'enum': sorted(STATIC_FILES)}}],
            responses={'200': {'description': 'The file (cached for an hour).', 'content': {
                           content_type: {'schema': {'type': 'string'}}
                           for content_type in sorted(set(STATIC_FILES.values()))}},
                       '404': {'description': 'No such file.',
                               'content': {'text/plain': {'schema': {'type': 'string'}}}}})},
    }


def _rsvp_paths():
    """Links in reminders: RSVP, one-click unsubscribe, calendars (chalicelib/handlers/rsvp.py)."""
    from chalicelib.calendar_ics import CONTENT_TYPE as ICS
    from chalicelib.handlers.rsvp import ONE_CLICK
    tags = ['Pages']
    rsvp_token = path_parameter('token', 'The signed token of an RSVP link (learner and meeting).')
    unsubscribe_token = path_parameter('token', 'The signed token of the `List-Unsubscribe` link.')
    closed = html_response('The link was altered, made for something else, its learner or meeting is gone, '
                           'or the meeting has started (answers close then).')
    rsvp_page = html_response('The meeting (local date, time, timezone, place) with the learner\'s answer '
                              'and a form to change it.')
    calendar = {'description': 'iCalendar: one VEVENT per meeting (stable UID, SEQUENCE, STATUS:CANCELLED '
                               'for cancelled meetings) with a VTIMEZONE.',
                'content': {ICS: {'schema': {'type': 'string'}}}}
    no_calendar = {'description': 'No such calendar (or its link was altered).',
                   'content': {'text/plain; charset=utf-8': {'schema': {'type': 'string'}}}}
    one_click = obj({'List-Unsubscribe': {'type': 'string', 'enum': ['One-Click']}})
    return {
        '/rsvp/{token}': {
            'get': operation(
                'rsvp_page', 'Open an RSVP link: a yes/no link records its answer', tags, parameters=[rsvp_token],
                description='Answering again keeps one answer per learner and meeting. No CSRF token: the '
                            'signed token is the credential.',
                responses={'200': rsvp_page, '400': closed}),
            'post': operation(
                'rsvp_change', 'Change the answer', tags, parameters=[rsvp_token],
                request_body=form_body({'answer': {'type': 'string', 'enum': ['yes', 'no']}}, ['answer']),
                responses={'200': rsvp_page, '400': closed})},
        '/r/{code}': {'get': operation(
            'short_rsvp_page', 'Short RSVP link (from an SMS): the RSVP page', tags,
            parameters=[path_parameter('code', 'The 12-character code of the short link.')],
            responses={'200': rsvp_page, '400': closed})},
        '/unsubscribe/{token}': {
            'get': operation(
                'unsubscribe_page', 'Ask to confirm stopping reminder emails', tags, parameters=[unsubscribe_token],
                description='Following the link changes nothing (mail scanners open links).',
                responses={'200': html_response('The confirmation button, or "done" if stopped before.'),
                           '400': html_response('The link was altered or made for something else.')}),
            'post': operation(
                'unsubscribe', 'One-click unsubscribe (RFC 8058): stop reminder emails for this signup', tags,
                parameters=[unsubscribe_token],
                description='Takes effect at once; the learner stays signed up.',
                request_body={'required': False, 'content': {ct: {'schema': one_click} for ct in ONE_CLICK}},
                responses={'200': html_response('Done.'),
                           '400': html_response('The link was altered or made for something else.')})},
        '/circles/{circle_id}/calendar.ics': {'get': operation(
            'circle_calendar', 'A published circle\'s meetings as a calendar feed', tags,
            parameters=[path_parameter('circle_id', 'The circle\'s `id`.')],
            responses={'200': calendar, '404': no_calendar})},
        '/calendar/{token}/circles.ics': {'get': operation(
            'learner_calendar', 'A learner\'s own feed: every meeting of every circle they signed up to', tags,
            parameters=[path_parameter('token', 'The signed token of the learner\'s feed link.')],
            responses={'200': calendar, '404': no_calendar})},
    }


def _account_paths():
    """Facilitators' and organizers' accounts. Pages marked with the `session` cookie send
    anonymous visitors to `/login?next=...`; their form posts also need `csrf_token`."""
    from chalicelib.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
    tags = ['Accounts']
    signed_in = [{'session': []}]
    password = string(minLength=MIN_PASSWORD_LENGTH, maxLength=MAX_PASSWORD_LENGTH)
    email = string(maxLength=254)
    csrf = string('The token printed in the signed-in page\'s forms.')
    page = html_response('The page.')
    to_login = see_other('Not signed in: to `/login?next=<this path>`.')
    expired_form = html_response('`csrf_token` is missing or wrong; nothing changed.')
    bad_link = html_response('The link was altered, has expired or was used already.')
    token = path_parameter('token', 'The signed token from the emailed link.')

    def signed_in_operation(*args, **kwargs):
        op = operation(*args, **kwargs)
        op['security'] = signed_in
        return op

    return {
        '/register': {
            'get': operation('register_page', 'Registration form', tags, {'200': page}),
            'post': operation(
                'register', 'Create an account (confirmed by an emailed link)', tags,
                request_body=form_body({'name': string(maxLength=200), 'email': email, 'password': password},
                                       ['name', 'email', 'password']),
                responses={'200': html_response('"Check your email".'),
                           '400': html_response('The form again, with the errors.')})},
        '/confirm/{token}': {'get': operation(
            'confirm', 'Confirm an email address (a new account\'s, or a changed one)', tags,
            parameters=[token],
            responses={'200': html_response('Confirmed.'), '400': bad_link,
                       '409': html_response('Another account took this address meanwhile.')})},
        '/login': {
            'get': operation('login_page', 'Login form', tags, parameters=[
                query('next', {'type': 'string'}, 'Same-site path to return to after logging in.')],
                responses={'200': page}),
            'post': operation(
                'login', 'Log in (throttled per account and per client)', tags,
                request_body=form_body({'email': email, 'password': {'type': 'string'},
                                        'next': string('Same-site path; anything else means `/dashboard`.')},
                                       ['email', 'password']),
                responses={'303': see_other('Logged in: to `next`.', sets_cookie=True),
                           '400': html_response('Wrong email or password, or too many attempts.')})},
        '/logout': {'post': signed_in_operation(
            'logout', 'Log out (ends the session everywhere it is stored)', tags,
            request_body=form_body({'csrf_token': csrf}, ['csrf_token']),
            responses={'303': see_other('Logged out, or not signed in: to `/login`.', sets_cookie=True),
                       '403': expired_form})},
        '/password/forgot': {
            'get': operation('forgot_page', 'Ask for a password reset link', tags, {'200': page}),
            'post': operation(
                'forgot', 'Email a single-use reset link (the answer is the same for unknown addresses)',
                tags, request_body=form_body({'email': email}, ['email']),
                responses={'200': html_response('"Check your email".'),
                           '400': html_response('The form again, with the errors.')})},
        '/password/reset/{token}': {
            'get': operation('reset_page', 'Choose a new password', tags, parameters=[token],
                             responses={'200': page, '400': bad_link}),
            'post': operation(
                'reset', 'Set the new password and sign out every device', tags, parameters=[token],
                request_body=form_body({'password': password}, ['password']),
                responses={'200': html_response('Password changed.'), '400': html_response(
                    'The form again with the errors, or the link is not valid.')})},
        '/account': {'get': signed_in_operation(
            'account_page', 'Account settings', tags, {'200': page, '303': to_login})},
        '/account/password': {'post': signed_in_operation(
            'change_password', 'Change the password (other sessions end)', tags,
            request_body=form_body({'csrf_token': csrf, 'current_password': {'type': 'string'},
                                    'new_password': password}, ['csrf_token', 'current_password', 'new_password']),
            responses={'303': see_other('Changed: to `/account?changed=password` with a new session, '
                                        'or not signed in: to the login page.', sets_cookie=True),
                       '400': html_response('The account page with the errors.'), '403': expired_form})},
        '/account/email': {'post': signed_in_operation(
            'change_email', 'Change the email address (confirmed by a link sent to the new one)', tags,
            request_body=form_body({'csrf_token': csrf, 'password': {'type': 'string'}, 'new_email': email},
                                   ['csrf_token', 'password', 'new_email']),
            responses={'200': html_response('"Check your new inbox".'), '303': to_login,
                       '400': html_response('The account page with the errors.'), '403': expired_form})},
        '/dashboard': {'get': signed_in_operation(
            'dashboard', 'The signed-in home page', tags, {'200': page, '303': to_login})},
    }


def _facilitator_paths():
    """Running a circle: only its facilitators and the organizers of its team get these pages;
    anyone else (and a circle, meeting or facilitator that does not exist) gets 404."""
    from chalicelib.circle_admin import MAX_LENGTHS
    tags = ['Facilitators']
    circle_id = path_parameter('circle_id', 'The circle\'s id.')
    meeting_id = path_parameter('meeting_id', 'The meeting\'s permanent id.')
    csrf = string('The token printed in the signed-in page\'s forms.')
    to_login = see_other('Not signed in: to `/login?next=<this path>`.')
    not_found = html_response('No such circle (or meeting), or not one of the caller\'s circles.')
    expired_form = html_response('`csrf_token` is missing or wrong; nothing changed.')
    changed = html_response('Someone else saved the circle meanwhile; nothing changed. The page asks '
                            'to check and submit again.')
    invalid = html_response('The page again, with the errors next to the fields.')

    def op(operation_id, summary, responses, parameters=(circle_id,), request_body=None):
        result = operation(operation_id, summary, tags, {**responses, '303': responses.get('303', to_login),
                                                          '404': not_found}, parameters=list(parameters),
                           request_body=request_body)
        result['security'] = [{'session': []}]
        return result

    def post(operation_id, summary, fields=None, required=(), done='Done: back to the page, with a notice.',
             parameters=(circle_id,), extra=None):
        body = form_body({'csrf_token': csrf, **(fields or {})}, ['csrf_token', *required])
        return op(operation_id, summary, {'303': see_other(f'{done} Or not signed in: to the login page.'),
                                          '403': expired_form, **(extra or {})},
                  parameters=parameters, request_body=body)

    when = {'date': string('Local date, YYYY-MM-DD.', format='date'), 'time': LOCAL_TIME}
    details = {name: string(maxLength=limit) for name, limit in MAX_LENGTHS.items()}
    details.update({'version': string('The circle\'s `updated_at` when the form was shown.'),
                    'online': string('`yes` when the circle meets online.'),
                    'language': string('Language code.'),
                    'capacity': string('Whole number, or empty for no limit.')})
    return {
        '/facilitate/circles/{circle_id}': {'get': op(
            'facilitator_circle', 'The circle for its facilitators: learners, meetings with RSVP answers, '
            'messages, feedback, facilitators', {'200': html_response('The page.')})},
        '/facilitate/circles/{circle_id}/signups.csv': {'get': op(
            'facilitator_signups_csv', 'Current learners as CSV (cells that could run as formulas are '
            'prefixed with a single quote)', {'200': {'description': 'The CSV file (UTF-8 with BOM).', 'content': {
                'text/csv; charset=utf-8': {'schema': {'type': 'string'}}}}})},
        '/facilitate/circles/{circle_id}/edit': {
            'get': op('facilitator_edit_page', 'Edit the circle\'s details', {'200': html_response('The form.')}),
            'post': post('facilitator_edit', 'Save the circle\'s details', details,
                         ['version', 'name', 'course_title'], extra={'400': invalid, '409': changed})},
        '/facilitate/circles/{circle_id}/meetings': {
            'get': op('facilitator_meetings_page', 'Add, move or cancel meetings',
                      {'200': html_response('The meetings with their forms.')}),
            'post': post('facilitator_add_meeting', 'Add a meeting',
                         {**when, 'duration': string('Minutes; empty for the usual length.')}, ['date', 'time'],
                         extra={'400': invalid, '409': changed})},
        '/facilitate/circles/{circle_id}/meetings/{meeting_id}/move': {'post': post(
            'facilitator_move_meeting', 'Move a meeting that has not started (its sequence grows, the change '
            'is kept for the reminders)', when, ['date', 'time'], parameters=(circle_id, meeting_id),
            extra={'400': invalid, '409': changed})},
        '/facilitate/circles/{circle_id}/meetings/{meeting_id}/cancel': {'post': post(
            'facilitator_cancel_meeting', 'Cancel a meeting that has not started (it stays listed, cancelled)',
            parameters=(circle_id, meeting_id), extra={'400': invalid, '409': changed})},
        '/facilitate/circles/{circle_id}/meetings/{meeting_id}/reminder': {
            'get': op('meeting_reminder_page', 'Preview a meeting\'s reminder as email and as SMS (facts from the '
                      'meeting as it is now) and edit its words until it goes out',
                      {'200': html_response('The preview, with the form while the reminder can change.')},
                      parameters=(circle_id, meeting_id)),
            'post': post('save_meeting_reminder', 'Save the reminder\'s words (or go back to the standard words)',
                         {'subject': string(maxLength=150), 'intro': string(maxLength=3000),
                          'sms_text': string('Shortened to what fits one SMS beside the date, place and link.',
                                             maxLength=160),
                          'reset': string('Any value: use the standard words again (the others are ignored).')},
                         done='Saved: back to the preview, with a notice.', parameters=(circle_id, meeting_id),
                         extra={'400': invalid, '409': html_response('The reminder has gone out already; '
                                                                     'nothing changed.')})},
        '/facilitate/circles/{circle_id}/signup': {'post': post(
            'facilitator_set_signup_open', 'Close or reopen signup',
            {'open': {'type': 'string', 'enum': ['yes', 'no']}}, ['open'], extra={'409': changed})},
        '/facilitate/circles/{circle_id}/unpublish': {'post': post(
            'facilitator_unpublish', 'Take the circle off every listing (it becomes a draft)',
            extra={'409': changed})},
        '/facilitate/circles/{circle_id}/facilitators': {'post': post(
            'facilitator_add_cofacilitator', 'Add a co-facilitator by the email of their account',
            {'email': string(maxLength=254)}, ['email'], extra={'400': invalid, '409': changed})},
        '/facilitate/circles/{circle_id}/facilitators/{user_id}/remove': {'post': post(
            'facilitator_remove_cofacilitator', 'Take a facilitator off the circle (never the last one)',
            done='Done: back to the circle, or to the dashboard for someone who left it.',
            parameters=(circle_id, path_parameter('user_id', 'The facilitator\'s account id.')),
            extra={'400': invalid, '409': changed})},
    }


def _messages_paths():
    """Messages to a circle's learners and feedback on its meetings (facilitators and organizers
    of the circle's team only; anyone else gets 404, like a circle that does not exist)."""
    from chalicelib.feedback import MAX_ATTENDANCE, MAX_REFLECTION
    from chalicelib.messages import MAX_BODY, MAX_SUBJECT, MESSAGE_KEY_LENGTH
    from chalicelib.sms_text import MAX_SEGMENTS
    tags = ['Facilitators']
    circle_id = path_parameter('circle_id', 'The circle\'s id.')
    meeting_id = path_parameter('meeting_id', 'The meeting\'s permanent id.')
    message_key = path_parameter('message_key', 'The key the compose form was rendered with.')
    csrf = string('The token printed in the signed-in page\'s forms.')
    checkbox = {'type': 'string', 'enum': ['on'], 'description': 'Sent only when ticked.'}
    to_login = see_other('Not signed in: to `/login?next=<this path>`.')
    not_found = html_response('No such circle, meeting or message, or not one of the caller\'s circles.')
    expired_form = html_response('`csrf_token` is missing or wrong; nothing changed.')

    def op(operation_id, summary, parameters, responses, request_body=None, description=None):
        result = operation(operation_id, summary, tags, {'303': to_login, '404': not_found, **responses},
                           parameters=parameters, request_body=request_body, description=description)
        result['security'] = [{'session': []}]
        return result

    compose = '/facilitate/circles/{circle_id}/messages/new'
    feedback = '/facilitate/circles/{circle_id}/meetings/{meeting_id}/feedback'
    return {
        compose: {
            'get': op('compose_message', 'Write a message to the circle\'s current learners', [circle_id],
                      {'200': html_response('The form, with a fresh `message_key`.')}),
            'post': op(
                'send_circle_message', 'Send the message now: one email per learner, SMS to those who accept them',
                [circle_id], description='Exactly once per `message_key`: submitting the same form again sends '
                'nothing and leads to the message sent the first time.',
                request_body=form_body({
                    'csrf_token': csrf,
                    'message_key': string('Random key from the form.', pattern=f'^[a-z0-9]{{{MESSAGE_KEY_LENGTH}}}$'),
                    'subject': string(maxLength=MAX_SUBJECT), 'body': string(maxLength=MAX_BODY),
                    'sms_text': string(f'Optional; at most {MAX_SEGMENTS} SMS segments (160 GSM-7 or 70 UCS-2 '
                                       'characters in one, 153 or 67 per segment when split).'),
                }, ['csrf_token', 'message_key', 'subject', 'body']),
                responses={'303': see_other('Sent (or sent before): to the message\'s page. Or not signed in: '
                                            'to the login page.'),
                           '400': html_response('The form again, with the errors next to the fields.'),
                           '403': expired_form})},
        '/facilitate/circles/{circle_id}/messages/{message_key}': {'get': op(
            'circle_message_page', 'A sent message and its delivery state per learner and channel',
            [circle_id, message_key], {'200': html_response('The page.')})},
        feedback: {
            'get': op('meeting_feedback_form', 'Feedback on a meeting (new or to edit)', [circle_id, meeting_id],
                      {'200': html_response('The form, or a note that the meeting has not started yet.')}),
            'post': op(
                'save_meeting_feedback', 'Save feedback on a meeting that has started', [circle_id, meeting_id],
                description='The recap email goes to the current learners once, the first time sharing with '
                'learners is chosen; editing never sends it again.',
                request_body=form_body({
                    'csrf_token': csrf,
                    'attendance': string(f'Whole number from 0 to {MAX_ATTENDANCE}.'),
                    'rating': {'type': 'string', 'enum': [str(n) for n in range(1, 6)]},
                    'reflection': string(maxLength=MAX_REFLECTION),
                    'share_with_learners': checkbox, 'share_with_organizers': checkbox,
                }, ['csrf_token', 'attendance', 'rating', 'reflection']),
                responses={'303': see_other('Saved: back to the form with a notice. Or not signed in: to the '
                                            'login page.'),
                           '400': html_response('The form again with the errors, or the meeting has not started.'),
                           '403': expired_form})},
    }


def _dialog_paths():
    """The step-by-step creation dialog (chalicelib/handlers/dialog.py). Drafts are circles with
    `published=false`; every step of a draft is `/facilitate/circles/{circle_id}/step/{step}`."""
    from chalicelib import dialog
    tags = ['Facilitators']
    circle_id = path_parameter('circle_id', 'The draft\'s id.')
    step = {**path_parameter('step', 'The step: 1 course, 2 place, 3 schedule, 4 details, 5 goals, '
                                     '6 review and publish.'), 'schema': {'type': 'string', 'enum': [
        str(n) for n in dialog.STEPS]}}
    csrf = string('The token printed in the signed-in page\'s forms.')
    text = {'type': 'string'}
    to_login = see_other('Not signed in: to `/login?next=<this path>`.')
    not_found = html_response('No such draft, no such step, or not one of the caller\'s circles.')
    expired_form = html_response('`csrf_token` is missing or wrong; nothing changed.')
    changed = html_response('The draft was saved from another window, or published, meanwhile; nothing changed.')
    invalid = html_response('The step again, with the errors next to the fields and the answers kept.')
    fields = {
        'csrf_token': csrf,
        'action': {'type': 'string', 'enum': ['next', 'back', 'find_city', 'preview'], 'description':
                   '`next` (default) saves and goes on, `back` saves and goes back; `find_city` (step 2) lists '
                   'the cities starting with `city_query`; `preview` (step 3) lists the meetings.'},
        'title': string(maxLength=dialog.LIMITS['title']), 'provider': text, 'link': string(format='uri'),
        'topics': string('Comma-separated.'), 'team_id': string('Step 1, when the user is in several teams.'),
        'mode': {'type': 'string', 'enum': ['online', 'in_person']}, 'online_link': text, 'venue_name': text,
        'venue_address': text, 'venue_details': text, 'venue_website': text, 'city_query': text,
        'city_id': string('GeoNames id of a city from the offline gazetteer.'),
        'coordinates_city_id': string('The city the posted coordinates belong to.'),
        'latitude': text, 'longitude': text,
        'first_date': string('YYYY-MM-DD.'), 'meeting_time': LOCAL_TIME,
        'duration': string(f'Minutes, {dialog.MIN_DURATION}-{dialog.MAX_DURATION}.'),
        'weeks': string(f'{dialog.MIN_WEEKS}-{dialog.MAX_WEEKS}.'), 'timezone': string('IANA timezone name.'),
        'name': text, 'description': text, 'language': {'type': 'string', 'enum': list(dialog.LANGUAGES)},
        'welcome_message': text, 'signup_question': text,
        'capacity': string(f'{dialog.MIN_CAPACITY}-{dialog.MAX_CAPACITY}, or empty for no limit.'),
        'goal': text, 'concerns': text,
    }
    body = {'required': True, 'content': {FORM: {'schema': {
        **obj(fields, ['csrf_token']),
        'patternProperties': {r'^meeting_\d+_(date|planned|remove)$': text},
        'description': 'The fields of the step being posted. Step 3 also posts, per previewed meeting n, '
                       '`meeting_<n>_planned` (its date as shown), `meeting_<n>_date` (a different date moves '
                       'it) and `meeting_<n>_remove` (removes it).'}}}}

    def op(operation_id, summary, responses, parameters=(circle_id,), request_body=None):
        result = operation(operation_id, summary, tags, {'303': to_login, **responses, '404': not_found},
                           parameters=list(parameters), request_body=request_body)
        result['security'] = [{'session': []}]
        return result

    csrf_only = form_body({'csrf_token': csrf}, ['csrf_token'])
    return {
        '/facilitate/circles/new': {
            'get': op('new_circle_page', 'Step 1 of a new circle (the course)',
                      {'200': html_response('The form.')}, parameters=()),
            'post': op('start_circle', 'Create the draft from step 1 (with the caller as its facilitator)',
                       {'303': see_other('Saved: to step 2. Or not signed in: to the login page.'),
                        '400': invalid, '403': expired_form}, parameters=(),
                       request_body=form_body({k: fields[k] for k in ('csrf_token', 'title', 'provider', 'link',
                                                                      'topics', 'team_id')},
                                              ['csrf_token', 'title', 'link']))},
        '/facilitate/circles/{circle_id}/step/{step}': {
            'get': op('draft_step_page', 'A step of the draft; step 6 reviews everything (or says it is published)',
                      {'200': html_response('The step.'),
                       '303': see_other('Published circles are edited on their own page, and the meetings of a '
                                        'circle published before on its meetings page. Or not signed in.')},
                      parameters=(circle_id, step)),
            'post': op('save_draft_step', 'Save a step of the draft (steps 1-5)',
                       {'200': html_response('"Find city" or "Update preview": the step with the results.'),
                        '303': see_other('Saved: to the next (or, for `back`, the previous) step; or the circle '
                                         'is edited elsewhere; or not signed in.'),
                        '400': invalid, '403': expired_form, '409': changed},
                       parameters=(circle_id, step), request_body=body)},
        '/facilitate/circles/{circle_id}/publish': {'post': op(
            'publish_circle', 'Publish the draft (needs a confirmed email); the first time, the facilitator\'s '
            'goals are emailed to the team\'s organizers and the support address',
            {'303': see_other('Published: to step 6, which says so. Or not signed in.'),
             '400': html_response('The review page: the email is not confirmed, or steps need attention.'),
             '403': expired_form, '409': changed}, request_body=csrf_only)},
        '/facilitate/circles/{circle_id}/confirmation': {'post': op(
            'resend_confirmation', 'Email the account\'s confirmation link again',
            {'303': see_other('Sent: back to the review page. Or not signed in.'), '403': expired_form},
            request_body=csrf_only)},
    }


def _session_cookie():
    from chalicelib.sessions import COOKIE_NAME
    return {'type': 'apiKey', 'in': 'cookie', 'name': COOKIE_NAME,
            'description': 'Set by `POST /login`; HttpOnly, SameSite=Lax.'}


def document():
    """The whole OpenAPI document, with this deployment's public URL as the server."""
    return {
        'openapi': '3.1.0',
        'info': {
            'title': 'Learning Circles',
            'version': '1.0.0',
            'description': 'Find learning circles (free weekly study groups) and sign up. '
                           'The public API keeps P2PU\'s shapes so that existing partner search and '
                           'signup forms work unchanged. Errors of the JSON API are '
                           '`{"status": "error", "errors": {field: [messages]}}`.',
        },
        'servers': [{'url': get_settings().public_base_url}],
        'tags': [
            {'name': 'Public API', 'description': 'JSON endpoints for partner websites (CORS enabled).'},
            {'name': 'Pages', 'description': 'Server-rendered HTML pages for learners.'},
            {'name': 'Accounts', 'description': 'Pages for facilitators and organizers.'},
            {'name': 'Facilitators', 'description': 'Running a circle: its facilitators and team organizers only.'},
            {'name': 'Documentation'},
        ],
        'paths': {**_api_paths(), **_page_paths(), **_account_paths(), **_dialog_paths(),
                  **_facilitator_paths(), **_messages_paths(), **_rsvp_paths()},
        'components': {'schemas': _schemas(), 'securitySchemes': {'session': _session_cookie()}},
    }
