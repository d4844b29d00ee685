"""The OpenAPI paths of the insights report: its public page and stylesheet, and publishing it now."""
from chalicelib.openapi.helpers import form_body, html_response, operation, path_parameter, see_other, string


def insights_paths():
    """The page is public once the report is published (404 before, and once the circle is
    unpublished); publishing it early is for the circle's facilitators and its team's organizers."""
    circle_id = path_parameter('circle_id', 'The circle\'s `id`.')
    publish_now = operation(
        'insights_generate', 'Publish the circle\'s insights report now (it is emailed once)', ['Facilitators'],
        {'303': see_other('Published (or published before: the same answer): to `/circles/{circle_id}/insights`. '
                          'Or not signed in: to the login page.'),
         '400': html_response('The last meeting has not ended yet; nothing changed.'),
         '403': html_response('`csrf_token` is missing or wrong; nothing changed.'),
         '404': html_response('No such circle, or the caller neither facilitates it nor organizes its team.')},
        parameters=[circle_id],
        request_body=form_body({'csrf_token': string('The token printed in the page\'s forms.')}, ['csrf_token']))
    publish_now['security'] = [{'session': []}]
    return {
        '/circles/{circle_id}/insights': {'get': operation(
            'insights_page', 'A circle\'s insights report: attendance, goals reached, recommendation, learners\' '
            'words (quoted with consent), the facilitators\' shared reflections; charts as inline SVG',
            ['Pages'], {'200': html_response('The report.'),
                        '404': html_response('No published circle with a published report has this id.')},
            parameters=[circle_id])},
        '/insights/report.css': {'get': operation(
            'insights_stylesheet', 'The report page\'s stylesheet (charts and A4 print layout)', ['Pages'],
            {'200': {'description': 'The file (cached for an hour).',
                     'content': {'text/css; charset=utf-8': {'schema': {'type': 'string'}}}}})},
        '/facilitate/circles/{circle_id}/insights': {'post': publish_now},
    }
