"""The OpenAPI paths of the Monday digest (chalicelib/handlers/digest.py): its web version and
its one-click unsubscribe."""
from chalicelib.openapi.helpers import html_response, obj, operation, path_parameter, see_other, string


def digest_paths():
    """The web version answers 404 to anyone who is not a current member of the team; the
    unsubscribe link works for whoever holds it (RFC 8058: no session, no CSRF token)."""
    from chalicelib.teams.digest_job import ONE_CLICK
    token = path_parameter('token', 'The signed token of the digest\'s `List-Unsubscribe` link (one member, '
                                    'one team).')
    bad_link = html_response('The link was altered or made for something else.')
    body = obj({'List-Unsubscribe': {'type': 'string', 'enum': ['One-Click']},
                'digest': string('`on` (the page\'s button) subscribes again instead.', enum=['on'])})
    return {
        '/organize/{team_id}/digest/{week}': {'get': {**operation(
            'team_digest', 'A team\'s weekly digest as sent (or, for a week none was sent for, as it is now)',
            ['Accounts'], parameters=[path_parameter('team_id', 'The team\'s id.'),
                                      path_parameter('week', 'The Monday of the week, ISO date (2026-11-23).')],
            description='Organizers read all of it; a facilitator, the feedback and learners of their own circles '
                        'and the rest of the team\'s meetings. Feedback not shared with organizers is never shown.',
            responses={'200': html_response('The digest.'), '303': see_other('Not signed in: to the login page.'),
                       '404': html_response('No such team or week, or the caller is not a current member.')}),
            'security': [{'session': []}]}},
        '/digest/unsubscribe/{token}': {
            'get': operation(
                'digest_unsubscribe_page', 'Ask to confirm stopping the weekly digest', ['Accounts'],
                parameters=[token], description='Following the link changes nothing (mail scanners open links).',
                responses={'200': html_response('The confirmation button, or "done" with a button to subscribe '
                                                'again.'), '400': bad_link}),
            'post': operation(
                'digest_unsubscribe', 'One-click unsubscribe (RFC 8058) from a team\'s weekly digest', ['Accounts'],
                parameters=[token], description='Takes effect at once, for every later digest; the member stays '
                                                'in the team.',
                request_body={'required': False, 'content': {ct: {'schema': body} for ct in ONE_CLICK}},
                responses={'200': html_response('Done.'), '400': bad_link})},
    }
