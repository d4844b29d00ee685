"""The OpenAPI paths of teams: a team's page and its widget, invitations, the join link,
leaving a team, the organizer's members page, and the administrators' team creation."""
from chalicelib.openapi.helpers import (form_body, html_response, obj, operation, path_parameter, rate_limited,
                                        see_other, string, text_field)


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
        **_team_page_paths(page, post),
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


def _widget_signup_form():
    """The circle page's signup form, plus the widget's own token (chalicelib/teams/team_page.py)."""
    from chalicelib.core import fields as rules
    signup = rules.SIGNUP
    checkbox = {'type': 'string', 'enum': ['true'], 'description': 'Sent only when ticked.'}
    return obj({
        'embed_token': string('The token printed in the widget\'s form: signed, for this circle only, valid '
                              '12 hours. It stands in for the cookie-bound CSRF token, since a cross-site '
                              'iframe sends no cookie.'),
        'name': text_field(signup['name']), 'email': text_field(signup['email']),
        'mobile': string('Optional mobile number.'), 'goals': text_field(signup['goals']),
        'support': text_field(signup['support']),
        'custom_answer': text_field(signup['custom_answer'], 'Answer to the circle\'s signup question, when it has one.'),
        'consent': checkbox, 'communications_opt_in': checkbox,
        # handlers.pages.HONEYPOT (openapi may not import handlers; a test keeps them equal)
        'website': string('Hidden from people and left empty; filled in, the answer is a success and nothing is saved.'),
    }, ['embed_token', 'name', 'email', 'consent'])


def _team_page_paths(page, post):
    """A team's public page and widget (the widget's answers alone may be framed by any site:
    `Content-Security-Policy: frame-ancestors *`, no `X-Frame-Options`), leaving, and creating a team."""
    slug = path_parameter('slug', 'The team\'s URL slug.')
    circle_id = path_parameter('circle_id', 'A published, unfinished circle of the team.')
    no_team = html_response('No team has this slug.')
    not_listed = html_response('No team has this slug, or the circle is not one of its listed circles.')
    widget = ['Pages']

    def public(operation_id, summary, parameters, missing):
        return operation(operation_id, summary, widget, {'200': html_response('The page.'), '404': missing},
                         parameters=parameters)
    not_member = html_response('No such team, or the caller is not a member of it.')
    not_admin = html_response('The caller is not a site administrator (`CIRCLES_SITE_ADMINS`), or not signed in.')
    admin_form = form_body({'csrf_token': string('The token printed in the page\'s form.'),
                            'name': string('The team\'s name.'),
                            'slug': string('Optional: lowercase letters, digits and hyphens; made from the name '
                                           'when empty.'),
                            'organizer_email': string('The first organizer: made one if the address has an '
                                                      'account, else invited by email.')},
                           ['csrf_token', 'name', 'organizer_email'])
    return {
        '/teams/{slug}': {'get': public('team_public_page', 'A team\'s introduction and its upcoming and running '
                                        'circles, each with its signup link', [slug], no_team)},
        '/teams/{slug}/embed': {'get': public('team_embed', 'The widget: the team\'s circles for an iframe on any '
                                              'website', [slug], no_team)},
        '/teams/{slug}/embed/{circle_id}': {
            'get': public('team_embed_signup_form', 'The widget\'s signup form for one circle of the team',
                          [slug, circle_id], not_listed),
            'post': operation(
                'team_embed_signup', 'Sign up from the widget (the same signup and rate limits as the circle '
                'page)', widget, parameters=[slug, circle_id],
                request_body={'required': True, 'content': {'application/x-www-form-urlencoded': {
                    'schema': _widget_signup_form()}}},
                responses={'303': see_other('Signed up: to `/teams/{slug}/embed/{circle_id}/thanks`.'),
                           '400': html_response('The form again, with the errors or the refusal; or the token is '
                                                'missing or altered (nothing written).'),
                           '404': not_listed, '429': rate_limited('signups')}),
        },
        '/teams/{slug}/embed/{circle_id}/thanks': {'get': public(
            'team_embed_thanks', 'The widget\'s thanks after signing up', [slug, circle_id], not_listed)},
        '/teams/{slug}/leave': {
            'get': {**page('team_leave_page', 'Ask a member to confirm leaving the team', [slug],
                           {'303': see_other('Not signed in: to the login page.'), '404': not_member}),
                    'security': [{'session': []}]},
            'post': {**operation('team_leave', 'Leave the team (the last organizer cannot); the member\'s circles '
                                 'stay in it', ['Accounts'],
                                 {'200': html_response('Left: the page says so, and that the circles stay.'),
                                  '303': see_other('Not signed in: to the login page.'),
                                  '400': html_response('The last organizer: the page again, saying why.'),
                                  '403': html_response('`csrf_token` is missing or wrong; nothing changed.'),
                                  '404': not_member},
                                 parameters=[slug], request_body=form_body(
                                     {'csrf_token': string('The token printed in the page\'s forms.')},
                                     ['csrf_token'])),
                     'security': [{'session': []}]},
        },
        '/admin/teams/new': {
            'get': {**operation('admin_new_team_page', 'The form to create a team (site administrators)',
                                ['Accounts'], {'200': html_response('The form.'), '404': not_admin}),
                    'security': [{'session': []}]},
            'post': {**operation('admin_new_team', 'Create a team and its first organizer (as '
                                 '`python -m chalicelib.cli create-team`)', ['Accounts'],
                                 {'201': html_response('Created: the team\'s address and its organizer.'),
                                  '400': html_response('The form again, with the errors (a taken slug too).'),
                                  '403': html_response('`csrf_token` is missing or wrong; nothing changed.'),
                                  '404': not_admin}, request_body=admin_form),
                     'security': [{'session': []}]},
        },
    }
