"""The OpenAPI paths of teams: invitations, the join link, and the organizer's members page."""
from chalicelib.openapi.helpers import form_body, html_response, operation, path_parameter, see_other, string


def team_paths():
    """Invitation and join links work for whoever holds them (accepting needs the invited, signed-in
    account); `/organize/{team_id}/...` answers 404 to anyone who is not a current organizer."""
    tags = ['Accounts']
    token = path_parameter('token', 'The signed token from the emailed or shared link.')
    team_id = path_parameter('team_id', 'The team\'s id.')
    csrf = string('The token printed in the page\'s forms.')
    bad_link = html_response('The link was altered, has expired, or was revoked or rotated.')
    expired_form = html_response('`csrf_token` is missing or wrong; nothing changed.')

    def page(operation_id, summary, parameters, extra=None):
        return operation(operation_id, summary, tags, {'200': html_response('The page.'), **(extra or {})},
                         parameters=parameters)

    def post(operation_id, summary, parameters, fields=None, required=(), done='Done: back to the page, with a '
             'notice.', extra=None, signed_in=True):
        body = form_body({'csrf_token': csrf, **(fields or {})}, ['csrf_token', *required])
        responses = {'303': see_other(done + (' Or not signed in: to the login page.' if signed_in else '')),
                     '403': expired_form, **(extra or {})}
        result = operation(operation_id, summary, tags, responses, parameters=parameters, request_body=body)
        if signed_in:
            result['security'] = [{'session': []}]
        return result

    refused = html_response('The page again, saying why nothing changed.')
    not_organizer = html_response('No such team, or the caller is not one of its current organizers.')
    email = string('The address to invite (compared case-insensitively).')
    member = {'user_id': string('The member\'s account id.')}

    def organize(operation_id, summary, fields=None, required=()):
        return post(operation_id, summary, [team_id], fields, required,
                    extra={'400': refused, '404': not_organizer})

    return {
        '/teams/invitations/{token}': {
            'get': page('team_invitation', 'An invitation to a team: accept signed in with the invited address, '
                        'or decline', [token], {'400': bad_link}),
            'post': post('team_accept_invitation', 'Accept: the signed-in account of the invited address joins '
                         'the team with the invited role', [token], done='Joined: to the team or the dashboard.',
                         extra={'400': bad_link}),
        },
        '/teams/invitations/{token}/decline': {
            'post': post('team_decline_invitation', 'Decline an invitation (no account needed)', [token],
                         done='Declined: the invitation page says so.', extra={'400': bad_link}, signed_in=False),
        },
        '/teams/join/{token}': {
            'get': page('team_join_page', 'A team\'s shareable join link', [token], {'400': bad_link}),
            'post': post('team_join', 'Join the team as a facilitator (an existing member keeps their role)',
                         [token], done='Joined: to the dashboard.', extra={'400': bad_link}),
        },
        '/organize/{team_id}/members': {
            'get': {**page('organize_members', 'The team\'s members, invitations and join link (organizers)',
                           [team_id], {'303': see_other('Not signed in: to the login page.'),
                                       '404': not_organizer}),
                    'security': [{'session': []}]},
        },
        '/organize/{team_id}/invitations': {'post': organize(
            'organize_invite', 'Invite an address (one pending invitation per address; members are refused)',
            {'email': email, 'role': string('`facilitator` or `organizer`.', enum=['facilitator', 'organizer'])},
            ['email'])},
        '/organize/{team_id}/invitations/revoke': {'post': organize(
            'organize_revoke_invitation', 'Revoke a pending invitation', {'email': email}, ['email'])},
        '/organize/{team_id}/invitations/resend': {'post': organize(
            'organize_resend_invitation', 'Send a pending invitation again, with a new link and expiry',
            {'email': email}, ['email'])},
        '/organize/{team_id}/members/role': {'post': organize(
            'organize_change_role', 'Change a member\'s role (the last organizer stays one)',
            {**member, 'role': string('`facilitator` or `organizer`.', enum=['facilitator', 'organizer'])},
            ['user_id', 'role'])},
        '/organize/{team_id}/members/remove': {'post': organize(
            'organize_remove_member', 'Remove a member (never the last organizer); their circles stay in the '
            'team', member, ['user_id'])},
        '/organize/{team_id}/join-link': {'post': organize(
            'organize_join_link', 'Turn the join link on or off, or rotate it (old links stop working)',
            {'action': string('`on`, `off` or `rotate`.', enum=['on', 'off', 'rotate'])}, ['action'])},
    }
