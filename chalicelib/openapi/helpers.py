"""Small builders and shared constants of the OpenAPI document."""
JSON = 'application/json'
FORM = 'application/x-www-form-urlencoded'
HTML = 'text/html; charset=utf-8'
WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
STATUSES = ['upcoming', 'in_progress', 'closed', 'completed']
LOCAL_TIME = {'type': 'string', 'pattern': r'^\d{2}:\d{2}$', 'description': 'HH:MM, local time.'}


def ref(name):
    return {'$ref': f'#/components/schemas/{name}'}


def nullable(schema):
    """The same schema that also allows null (OpenAPI 3.1 uses JSON Schema's type lists)."""
    kind = schema['type']
    return {**schema, 'type': [*kind, 'null'] if isinstance(kind, list) else [kind, 'null']}


def string(description=None, **extra):
    return _described({'type': 'string', **extra}, description)


def text_field(rule, description=None):
    """A form or JSON text field of a `chalicelib.core.fields` Text (or Link) rule."""
    from chalicelib.core.fields import Link
    extra = {'format': 'uri'} if isinstance(rule, Link) else {}
    return string(description, maxLength=rule.max_length, **extra)


def number_field(rule, empty=None, unit='Whole number'):
    """A form field holding a whole number of a `chalicelib.core.fields` Number rule (forms post
    text); `empty`: what leaving it empty means, for a rule that is not required."""
    if_empty = f'; empty for {empty}' if empty else ''
    return string(f'{unit}, {rule.low} to {rule.high}{if_empty}.')


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


RETRY_AFTER = {'Retry-After': {'schema': {'type': 'integer', 'minimum': 1},
                               'description': 'Seconds until the limit\'s window ends.'}}


def rate_limited(what, api=False):
    """The 429 of a rate-limited form or endpoint (chalicelib/models/rate_limits.py): nothing
    was written or sent; the page or `errors.rate_limit` says when to try again."""
    description = (f'Too many {what} from this client or for this address or circle: '
                   f'nothing was written or sent. {"`errors.rate_limit`" if api else "The page"} says when '
                   f'to try again, in minutes; `Retry-After` in seconds.')
    response = api_error(description) if api else html_response(description)
    return {**response, 'headers': RETRY_AFTER}


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
