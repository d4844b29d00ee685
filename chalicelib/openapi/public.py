"""The learner-facing part of the OpenAPI document: the public JSON API (P2PU-compatible),
its schemas, the learner pages, RSVP, unsubscribe and calendar feeds. Lengths and ranges of
what learners post come from the field rules (chalicelib/core/fields.py)."""
from chalicelib.core import fields as rules
from chalicelib.core import i18n
from chalicelib.openapi.helpers import (FORM, JSON, LOCAL_TIME, STATUSES, WEEKDAY_NAMES, api_error,
                                        form_body, html_response, json_response, nullable, obj,
                                        operation, path_parameter, query, rate_limited, ref, see_other, string,
                                        text_field)


# --- schemas --------------------------------------------------------------------

def _item_properties():
    """Fields of `chalicelib.circles.circles.to_api_item`, the P2PU-compatible list item."""
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
        'report_url': {'type': ['string', 'null'], 'format': 'uri',
                       'description': "The circle's insights report page once it is published "
                                      "(`/circles/{id}/insights`), else null."},
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


def schemas():
    signup = rules.SIGNUP
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
            'name': text_field(signup['name']),
            'email': string(maxLength=signup['email'].max_length, format='email'),
            'mobile': nullable(string('Mobile number; without a `+` country code the service\'s '
                                      'default region applies. Stored in E.164.')),
            'consent': {'type': 'boolean', 'const': True,
                        'description': 'The learner agrees to be contacted about this circle.'},
            'communications_opt_in': nullable({'type': 'boolean', 'description': 'News from the organizers.'}),
            'signup_questions': obj({
                'goals': nullable(text_field(signup['goals'], 'What the learner hopes to get out of it.')),
                'support': nullable(text_field(signup['support'], 'What would help them succeed.')),
                'custom_question': nullable(text_field(signup['custom_answer'], 'Answer to the circle\'s '
                                                       '`signup_question`; required when it has one.')),
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
    from chalicelib.circles.browse import (DEFAULT_DISTANCE_KM, DEFAULT_LIMIT, MAX_DISTANCE_KM, MAX_LIMIT,
                                   ORDERS, SCOPES)
    true_false = {'type': 'boolean'}
    comma_list = {'style': 'form', 'explode': False}
    search_text = {'type': 'string', 'maxLength': rules.SEARCH_TEXT.max_length,
                   'description': 'One line: no tabs or other control characters.'}
    return [
        query('q', search_text, 'Words; each must start a word of the name, course title, provider, '
              'topics, venue, city or a facilitator\'s name (case and accents ignored).'),
        query('latitude', {'type': 'number', 'minimum': rules.LATITUDE.low, 'maximum': rules.LATITUDE.high},
              'With `longitude`: circles within `distance` km of this point, nearest first. '
              'Online circles are left out.'),
        query('longitude', {'type': 'number', 'minimum': rules.LONGITUDE.low, 'maximum': rules.LONGITUDE.high},
              'With `latitude`.'),
        query('distance', {'type': 'number', 'exclusiveMinimum': 0, 'maximum': MAX_DISTANCE_KM,
                           'default': DEFAULT_DISTANCE_KM}, 'Radius in km around `latitude`/`longitude`.'),
        query('city', search_text, 'City name (case and accents ignored).'),
        query('team_id', search_text, 'Circles of one team.'),
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


def api_paths():
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
            responses={'200': json_response('Signed up; the same answer when the address was signed up '
                                            'already: then nothing changes, and its owner is emailed a link '
                                            'to change their details.', ref('SignupCreated')),
                       '400': api_error('Invalid fields, or the circle takes no signup now '
                                        '(then `errors.learning_circle` says why).'),
                       '404': api_error('No published circle has this id.'),
                       '429': rate_limited('signups', api=True)})},
        '/api/openapi.json': {'get': operation(
            'openapi_document', 'This document', ['Documentation'],
            responses={'200': json_response('OpenAPI 3.1 document.', {'type': 'object'})})},
    }


def _signup_form():
    from chalicelib.handlers.pages import HONEYPOT
    signup = rules.SIGNUP
    checkbox = {'type': 'string', 'enum': ['true'], 'description': 'Sent only when ticked.'}
    return obj({
        'name': text_field(signup['name']),
        'email': text_field(signup['email']),
        'mobile': string('Optional mobile number.'),
        'goals': text_field(signup['goals']),
        'support': text_field(signup['support']),
        'custom_answer': text_field(signup['custom_answer'], 'Answer to the circle\'s signup question, '
                                                             'when it has one.'),
        'consent': checkbox,
        'communications_opt_in': checkbox,
        HONEYPOT: string('Hidden from people and left empty; a form with this filled in is answered '
                         'as a success and nothing is saved.'),
    }, ['name', 'email', 'consent'])


def _details_form():
    signup = rules.SIGNUP
    return obj({
        'name': text_field(signup['name']),
        'mobile': string('Mobile number; empty to remove it.'),
        'goals': text_field(signup['goals']),
        'support': text_field(signup['support']),
        'custom_answer': text_field(signup['custom_answer'], 'Answer to the circle\'s signup question, '
                                                             'when it has one.'),
        'communications_opt_in': {'type': 'string', 'enum': ['true'], 'description': 'Sent only when ticked.'},
    }, ['name'])


def page_paths():
    from chalicelib.handlers.pages import STATIC_FILES
    tags = ['Pages']
    circle_id = path_parameter('circle_id', 'The circle\'s `id`.')
    token = path_parameter('token', 'The signed token from the withdraw link in the welcome email.')
    not_found = html_response('No published circle has this id.')
    bad_link = html_response('The link was altered, has expired, or its signup is gone.')
    details_link_refused = html_response('The link was altered, has expired, or the learner left the circle.')
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
            responses={'303': see_other('Signed up (or signed up already: the same answer): to '
                                        '`/circles/{circle_id}/thanks`.'),
                       '400': html_response('The form again, with the errors or the reason signup is refused.'),
                       '404': not_found,
                       '429': rate_limited('signups')})},
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
        '/my-details/{token}': {
            'get': operation(
                'details_page', 'A learner\'s own details, to see and change', tags,
                parameters=[path_parameter('token', 'The signed token from the "already signed up" email '
                                                    '(valid for a week).')],
                description='Following the link changes nothing. No CSRF token: the signed token is the '
                            'credential.',
                responses={'200': html_response('The form with the stored name, mobile, answers and opt-in.'),
                           '400': details_link_refused}),
            'post': operation(
                'details_change', 'Change the learner\'s name, mobile, answers and opt-in', tags,
                parameters=[path_parameter('token', 'The signed token from the "already signed up" email.')],
                description='The signup form\'s own rules; the address and the consent stay as they are.',
                request_body={'required': True, 'content': {FORM: {'schema': _details_form()}}},
                responses={'200': html_response('Saved: the form with the new details.'),
                           '400': html_response('The form again with the errors (nothing changed), or the link '
                                                'was altered, has expired, or the learner left the circle.')})},
        '/texts/{token}': {
            'get': operation(
                'texts_page', 'Show whether the learner gets text messages, with a button to stop or restart them',
                tags, parameters=[path_parameter('token', 'The signed token of the "stop text messages" link '
                                                          'in every learner email and on the RSVP page.')],
                description='Following a link never changes anything (mail scanners open links).',
                responses={'200': html_response('The page.'), '400': bad_link}),
            'post': operation(
                'texts_change', 'Stop (`texts=off`) or restart (`texts=on`) text messages for this signup; '
                'the learner stays in the circle and keeps its emails', tags,
                parameters=[path_parameter('token', 'The signed token of the "stop text messages" link.')],
                request_body={'required': True, 'content': {FORM: {'schema': obj({
                    'texts': {'type': 'string', 'enum': ['on', 'off']}}, ['texts'])}}},
                responses={'200': html_response('The page, saying what is now in effect (any other value '
                                                'changes nothing).'), '400': bad_link})},
        '/language/{code}': {'get': operation(
            'choose_language', 'Choose the language of the pages: a `lang` cookie for a year', tags,
            parameters=[{**path_parameter('code', 'A language the interface speaks.'),
                         'schema': {'type': 'string', 'enum': sorted(i18n.SHIPPED)}},
                        query('next', {'type': 'string'},
                              'The page to go back to (a path of this site; anything else goes home).')],
            description='The footer of every page links here for each language (README "Languages").',
            responses={'303': see_other('Back to `next`, with the cookie set.'),
                       '404': html_response('Not a language the interface speaks.')})},
        '/about': {'get': operation('about_page', 'What learning circles are', tags,
                                    responses={'200': html_response('The page.')})},
        '/privacy': {'get': operation(
            'privacy_page', 'What is stored about learners and facilitators, why, for how long, and how '
            'to get or erase it', tags, responses={'200': html_response('The page.')})},
        '/run-a-circle': {'get': operation(
            'run_a_circle_page', 'What facilitating means, with links to register and log in', tags,
            responses={'200': html_response('The page.')})},
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


def rsvp_paths():
    """Links in reminders: RSVP, one-click unsubscribe, calendars (chalicelib/handlers/rsvp.py)."""
    from chalicelib.circles.calendar_ics import CONTENT_TYPE as ICS
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
                'rsvp_page', 'Open an RSVP link: the meeting, with a yes/no link\'s answer selected', tags,
                parameters=[rsvp_token],
                description='Following the link records nothing (mail scanners open links): the page\'s one '
                            'button POSTs the answer.',
                responses={'200': rsvp_page, '400': closed}),
            'post': operation(
                'rsvp_answer', 'Record the answer (or change it)', tags, parameters=[rsvp_token],
                description='Answering again keeps one answer per learner and meeting; moving the meeting '
                            'clears it. No CSRF token: the signed token is the credential.',
                request_body=form_body({'answer': {'type': 'string', 'enum': ['yes', 'no']},
                                        'sequence': {'type': 'string', 'pattern': '^[0-9]+$',
                                                     'description': 'The meeting\'s sequence as the page '
                                                                    'showed it (optional).'}}, ['answer']),
                responses={'200': rsvp_page, '400': closed,
                           '409': html_response('The meeting moved after the page was opened: nothing was '
                                                'recorded; the page shows the new time and asks again.')})},
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
            parameters=[path_parameter('token', 'The opaque token of the learner\'s feed link; it stops '
                                                'working when the learner withdraws.')],
            responses={'200': calendar, '404': no_calendar})},
    }
