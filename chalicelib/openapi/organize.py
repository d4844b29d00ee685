"""The OpenAPI paths of the organizer's pages: the week, the feedback, the team's circles."""
from chalicelib.openapi.helpers import html_response, operation, path_parameter, query, see_other


def organize_paths():
    """Pages for current organizers of the team only (404 for anyone else, as for a team that does
    not exist); their forms are GET forms."""
    tags = ['Accounts']
    team_id = path_parameter('team_id', 'The team\'s id.')
    not_organizer = html_response('No such team, or the caller is not one of its current organizers.')
    login = see_other('Not signed in: to the login page.')
    an_id = {'type': 'string', 'maxLength': 64, 'pattern': '^[A-Za-z0-9_-]+$'}

    def organizer_page(operation_id, summary, parameters, bad=None):
        responses = {'200': html_response('The page.'), '303': login, '404': not_organizer}
        if bad:
            responses['400'] = html_response(bad)
        result = operation(operation_id, summary, tags, responses, parameters=[team_id, *parameters])
        result['security'] = [{'session': []}]
        return result

    return {
        '/organize/{team_id}': {'get': organizer_page(
            'organize_week', 'The team\'s meetings of one week, by day in each circle\'s timezone, with RSVP '
            'counts and, for past meetings, feedback shared with organizers',
            [query('week', {'type': 'string', 'format': 'date'},
                   'Any date of the week to show (weeks run Monday to Sunday); this week in UTC if absent.')],
            'The week is not a date: this week, with the date picker saying why.')},
        '/organize/{team_id}/feedback': {'get': organizer_page(
            'organize_feedback', 'The team\'s meeting feedback shared with organizers, newest meeting first',
            [query('circle', an_id, 'Only this circle\'s feedback (a circle id).'),
             query('author', an_id, 'Only feedback written by this facilitator (an account id).'),
             query('rating', {'type': 'integer', 'minimum': 1, 'maximum': 5}, 'Only this rating.'),
             query('after', {'type': 'string', 'maxLength': 200},
                   'The cursor of the next page, from the page\'s "Older feedback" link.')],
            'A filter or the cursor is not one the page offers: the first page, saying which.')},
        '/organize/{team_id}/circles': {'get': organizer_page(
            'organize_circles', 'The team\'s circles (upcoming, running, finished) with signup counts, and its '
            'facilitators with their circles', [])},
    }
