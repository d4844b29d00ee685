"""The OpenAPI paths of a learner's own data (`/my-data`): the request form, and the signed
link's page, download, leaving and erasing. Limits come from chalicelib.privacy.my_data."""
from chalicelib.openapi.helpers import JSON, form_body, html_response, operation, path_parameter, rate_limited, string


def privacy_paths():
    from chalicelib.privacy.my_data import LINK_HOURS
    token = path_parameter('token', f'The signed token of the link sent to the learner\'s address or number '
                                    f'(valid {LINK_HOURS} hours).')
    invalid = html_response('The link was altered, made for something else, or is older than '
                            f'{LINK_HOURS} hours; nothing changed.')
    page = html_response('The page: the learner\'s current and past circles, the download, leaving and erasing.')
    return {
        '/my-data': {
            'get': operation('my_data_request_page', 'Ask for a link to one\'s data (sets the anonymous form cookie)',
                             ['Pages'], {'200': html_response('The form.')}),
            'post': operation('my_data_request', 'Send a link to the learner\'s data to that address or number',
                              ['Pages'], {
                                  '200': html_response('The same page whether or not anything is held for the '
                                                       'contact; a link is sent only when something is.'),
                                  '400': html_response('The form again: neither an email address nor a mobile '
                                                       'number.'),
                                  '403': html_response('`csrf_token` is missing or wrong; nothing was sent.'),
                                  '429': rate_limited('requests')},
                              request_body=form_body({
                                  'csrf_token': string('The token printed in the page\'s form.'),
                                  'contact': string('An email address, or a mobile number (with + and the country '
                                                    'code, or of the default region).')},
                                  ['csrf_token', 'contact'])),
        },
        '/my-data/{token}': {
            'get': operation('my_data_page', 'A learner\'s data: their circles and what they can do', ['Pages'],
                             {'200': page, '400': invalid}, parameters=[token]),
        },
        '/my-data/{token}/export.json': {
            'get': operation('my_data_export', 'Download everything held about the learner', ['Pages'], {
                '200': {'description': 'Signups and answers, RSVPs, survey answers, messages sent with their '
                                       'delivery states, texts sent, consent records, and the links sent.',
                        'content': {JSON: {'schema': {'type': 'object'}}}},
                '400': invalid}, parameters=[token]),
        },
        '/my-data/{token}/withdraw': {
            'post': operation('my_data_withdraw', 'Leave one circle, or all', ['Pages'], {
                '200': page, '400': html_response('The page with a message: no current circle of the learner\'s '
                                                  'was named. Or the link is invalid.')},
                parameters=[token], request_body=form_body({
                    'circle': string('A circle\'s id, or `all`.')}, ['circle'])),
        },
        '/my-data/{token}/erase': {
            'post': operation('my_data_erase', 'Erase everything held about the learner', ['Pages'], {
                '200': html_response('Erased: the contact stays only as a keyed hash on the suppression list, and '
                                     'one confirmation is sent to it.'),
                '400': html_response('The page with a message: the box was not ticked; nothing changed. Or the '
                                     'link is invalid.')},
                parameters=[token], request_body=form_body({
                    'confirm': string('Must be `yes`.', enum=['yes'])}, ['confirm'])),
        },
    }
