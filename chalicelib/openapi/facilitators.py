"""The signed-in part of the OpenAPI document: accounts, the creation dialog, the
facilitator pages, messages, feedback and reminders (all behind the session cookie).
Every length and range comes from the field rules (chalicelib/core/fields.py)."""
from chalicelib.core import fields as rules
from chalicelib.openapi.helpers import (FORM, LOCAL_TIME, form_body, html_response, number_field, obj,
                                        operation, path_parameter, query, rate_limited, see_other, string,
                                        text_field)


def account_paths():
    """Facilitators' and organizers' accounts. Pages marked with the `session` cookie send
    anonymous visitors to `/login?next=...`; their form posts also need `csrf_token`."""
    from chalicelib.accounts.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
    tags = ['Accounts']
    signed_in = [{'session': []}]
    password = string(minLength=MIN_PASSWORD_LENGTH, maxLength=MAX_PASSWORD_LENGTH)
    email = string(maxLength=rules.EMAIL.max_length)
    csrf = string('The token printed in the signed-in page\'s forms.')
    form_csrf = string('The token printed in the form, bound to the `circles_form` cookie its page sets '
                       '(HttpOnly, SameSite=Lax): a foreign page cannot post these forms.')
    refused_form = html_response('`csrf_token` does not match this browser\'s `circles_form` cookie; nothing changed.')
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
            'get': operation('register_page', 'Registration form', tags, parameters=[
                query('next', {'type': 'string'}, 'Same-site path to return to after confirming and logging in.')],
                responses={'200': page}),
            'post': operation(
                'register', 'Create an account (confirmed by an emailed link)', tags,
                request_body=form_body({'csrf_token': form_csrf, 'name': text_field(rules.PERSON_NAME),
                                        'email': email, 'password': password,
                                        'next': string('Same-site path kept for after the first login.')},
                                       ['csrf_token', 'name', 'email', 'password']),
                responses={'200': html_response('"Check your email".'),
                           '400': html_response('The form again, with the errors (a common password too).'),
                           '403': refused_form, '429': rate_limited('registrations')})},
        '/register/resend': {
            'get': operation('resend_account_confirmation_page', 'Ask for the confirmation email again', tags,
                             {'200': page}),
            'post': operation(
                'resend_account_confirmation', 'Email a new confirmation link to an unconfirmed account '
                '(the answer is the same for unknown or confirmed addresses)', tags,
                request_body=form_body({'csrf_token': form_csrf, 'email': email}, ['csrf_token', 'email']),
                responses={'200': html_response('"Check your email".'),
                           '400': html_response('The form again, with the errors.'),
                           '403': refused_form, '429': rate_limited('confirmation emails')})},
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
                'login', 'Log in (throttled per account and client address, with growing waits)', tags,
                request_body=form_body({'csrf_token': form_csrf, 'email': email, 'password': {'type': 'string'},
                                        'next': string('Same-site path; anything else means `/dashboard`.')},
                                       ['csrf_token', 'email', 'password']),
                responses={'303': see_other('Logged in: to `next`.', sets_cookie=True),
                           '400': html_response('Wrong email or password.'), '403': refused_form,
                           '429': html_response('Too many failed attempts from this client for this account '
                                                '(`Retry-After` says when to try again).')})},
        '/logout': {'post': signed_in_operation(
            'logout', 'Log out (ends the session everywhere it is stored)', tags,
            request_body=form_body({'csrf_token': csrf}, ['csrf_token']),
            responses={'303': see_other('Logged out, or not signed in: to `/login`.', sets_cookie=True),
                       '403': expired_form})},
        '/password/forgot': {
            'get': operation('forgot_page', 'Ask for a password reset link', tags, {'200': page}),
            'post': operation(
                'forgot', 'Email a single-use reset link (the answer is the same for unknown addresses)',
                tags, request_body=form_body({'csrf_token': form_csrf, 'email': email}, ['csrf_token', 'email']),
                responses={'200': html_response('"Check your email".'),
                           '400': html_response('The form again, with the errors.'),
                           '403': refused_form, '429': rate_limited('reset requests')})},
        '/password/reset/{token}': {
            'get': operation('reset_page', 'Choose a new password', tags, parameters=[token],
                             responses={'200': page, '400': bad_link}),
            'post': operation(
                'reset', 'Set the new password, sign out every device, void pending email changes', tags,
                parameters=[token],
                request_body=form_body({'csrf_token': form_csrf, 'password': password}, ['csrf_token', 'password']),
                responses={'200': html_response('Password changed.'), '400': html_response(
                    'The form again with the errors, or the link is not valid.'), '403': refused_form})},
        '/account/email/undo/{token}': {
            'get': operation('undo_email_change_page', 'What undoing an email change will do (changes nothing)',
                             tags, parameters=[token], responses={'200': page, '400': bad_link}),
            'post': operation(
                'undo_email_change', 'Move the account back to the old address: every session ends and the '
                'password stops working', tags, parameters=[token],
                request_body=form_body({'csrf_token': form_csrf}, ['csrf_token']),
                responses={'303': see_other('Undone: to a password reset page.'), '400': bad_link,
                           '403': refused_form})},
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
        '/account/data': {'get': signed_in_operation(
            'account_data', 'Download everything we hold about the signed-in person (JSON attachment: the '
            'account without its password hash, sessions without their ids, teams, invitations, circles and '
            'what they wrote in them, emails to them, consent records)', tags,
            {'200': {'description': 'The JSON file (`Content-Disposition: attachment`).',
                     'content': {'application/json': {'schema': {'type': 'object'}}}}, '303': to_login})},
        '/account/delete': {
            'get': signed_in_operation(
                'account_delete_page', 'What deleting the account does to each circle, and the choices', tags,
                {'200': page, '303': to_login}),
            'post': signed_in_operation(
                'account_delete', 'Delete the account: each circle handed over (automatic with a co-facilitator), '
                'to the team, anonymised or deleted as chosen; every session ends; a confirmation email', tags,
                request_body=form_body({'csrf_token': csrf, 'password': {'type': 'string'},
                                        'circle-{circle id}': string('`team`, `anonymise` or `delete`, one field '
                                                                     'per circle that offers a choice.')},
                                       ['csrf_token', 'password']),
                responses={'200': html_response('Deleted: the session cookie is cleared.', ),
                           '303': to_login, '403': expired_form,
                           '400': html_response('The page again with the errors (wrong password, a circle without '
                                                'a choice, or the last organizer of a team); nothing changed.')})},
        '/dashboard': {'get': signed_in_operation(
            'dashboard', 'The signed-in home page', tags, {'200': page, '303': to_login})},
    }


def facilitator_paths():
    """Running a circle: only its facilitators and the organizers of its team get these pages;
    anyone else (and a circle, meeting or facilitator that does not exist) gets 404."""
    from chalicelib.facilitators.circle_admin import RULES
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
    details = {name: text_field(rule) for name, rule in RULES.items()}
    details.update({'version': string('The circle\'s `updated_at` when the form was shown.'),
                    'online': string('`yes` when the circle meets online.'),
                    'language': string('Language code: one of the list, or the one the circle has.'),
                    'capacity': number_field(rules.CAPACITY, 'no limit; never below the number signed up')})
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
                         ['version', *(name for name, rule in RULES.items() if rule.required)],
                         extra={'400': invalid, '409': changed})},
        '/facilitate/circles/{circle_id}/meetings': {
            'get': op('facilitator_meetings_page', 'Add, move or cancel meetings',
                      {'200': html_response('The meetings with their forms.')}),
            'post': post('facilitator_add_meeting', 'Add a meeting',
                         {**when, 'duration': number_field(rules.DURATION, 'the usual length', unit='Minutes')},
                         ['date', 'time'],
                         extra={'400': invalid, '409': changed})},
        '/facilitate/circles/{circle_id}/meetings/{meeting_id}/move': {'post': post(
            'facilitator_move_meeting', 'Move a meeting that has not started (its sequence grows, the change '
            'is kept for the reminders)', when, ['date', 'time'], parameters=(circle_id, meeting_id),
            extra={'400': invalid, '409': changed})},
        '/facilitate/circles/{circle_id}/meetings/{meeting_id}/cancel': {
            'get': op('facilitator_cancel_meeting_confirm', 'Ask before cancelling a meeting (says who is told)',
                      {'200': html_response('The question, with the form that cancels.'),
                       '303': see_other('Cancelled already: to the meetings. Or not signed in: to the login page.')},
                      parameters=(circle_id, meeting_id)),
            'post': post(
                'facilitator_cancel_meeting', 'Cancel a meeting that has not started (it stays listed, cancelled; '
                'its learners get a change notice)',
                parameters=(circle_id, meeting_id), extra={'400': invalid, '409': changed})},
        '/facilitate/circles/{circle_id}/meetings/{meeting_id}/reminder': {
            'get': op('meeting_reminder_page', 'Preview a meeting\'s reminder as email and as SMS (facts from the '
                      'meeting as it is now) and edit its words until it goes out',
                      {'200': html_response('The preview, with the form while the reminder can change.')},
                      parameters=(circle_id, meeting_id)),
            'post': post('save_meeting_reminder', 'Save the reminder\'s words (or go back to the standard words)',
                         {'subject': text_field(rules.REMINDER_SUBJECT), 'intro': text_field(rules.REMINDER_INTRO),
                          'sms_text': text_field(rules.REMINDER_SMS_WORDS, 'Shortened to what fits one SMS '
                                                 'beside the date, place and link.'),
                          'reset': string('Any value: use the standard words again (the others are ignored).')},
                         done='Saved: back to the preview, with a notice.', parameters=(circle_id, meeting_id),
                         extra={'400': invalid, '409': html_response('The reminder has gone out already; '
                                                                     'nothing changed.')})},
        '/facilitate/circles/{circle_id}/signup': {'post': post(
            'facilitator_set_signup_open', 'Close or reopen signup',
            {'open': {'type': 'string', 'enum': ['yes', 'no']}}, ['open'], extra={'409': changed})},
        '/facilitate/circles/{circle_id}/unpublish': {
            'get': op('facilitator_unpublish_confirm', 'Ask before unpublishing (says who is told)',
                      {'200': html_response('The question, with the form that unpublishes.'),
                       '303': see_other('A draft already: to the circle. Or not signed in: to the login page.')}),
            'post': post(
                'facilitator_unpublish', 'Take the circle off every listing (it becomes a draft); its learners '
                'are told by email', extra={'409': changed})},
        '/facilitate/circles/{circle_id}/facilitators': {'post': post(
            'facilitator_add_cofacilitator', 'Email an invitation to co-facilitate (the same answer whether or '
            'not the address has an account)',
            {'email': text_field(rules.EMAIL)}, ['email'],
            extra={'400': invalid, '429': rate_limited('invitations per circle or per address')})},
        '/facilitate/circles/{circle_id}/facilitators/{user_id}/remove': {
            'get': op('facilitator_remove_confirm', 'Ask before taking a facilitator off the circle',
                      {'200': html_response('The question, with the form that removes.')},
                      parameters=(circle_id, path_parameter('user_id', 'The facilitator\'s account id.'))),
            'post': post(
                'facilitator_remove_cofacilitator', 'Take a facilitator off the circle (never the last one; a '
                'co-facilitator never the creator)',
                done='Done: back to the circle, or to the dashboard for someone who left it.',
                parameters=(circle_id, path_parameter('user_id', 'The facilitator\'s account id.')),
                extra={'400': invalid, '409': changed})},
        '/invitations/{token}': {
            'get': operation('facilitator_invitation', 'An invitation to co-facilitate: sign in (or register) '
                             'with the invited address to accept', tags,
                             {'200': html_response('The invitation.'),
                              '400': html_response('The link was altered or has expired.')},
                             parameters=[path_parameter('token', 'The signed token from the emailed link.')]),
            'post': post(
                'facilitator_accept_invitation', 'Accept an invitation: the signed-in account of the invited, '
                'confirmed address becomes a co-facilitator', done='Accepted: to the circle.',
                parameters=(path_parameter('token', 'The signed token from the emailed link.'),),
                extra={'400': html_response('The link was altered or has expired.'),
                       '403': html_response('Another account, an unconfirmed address, or `csrf_token` missing.')})},
    }


def messages_paths():
    """Messages to a circle's learners and feedback on its meetings (facilitators and organizers
    of the circle's team only; anyone else gets 404, like a circle that does not exist)."""
    from chalicelib.facilitators.messages import MESSAGE_KEY_LENGTH
    from chalicelib.messaging.sms_text import MAX_SEGMENTS
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
                    'subject': text_field(rules.MESSAGE_SUBJECT), 'body': text_field(rules.MESSAGE_BODY),
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
                    'attendance': number_field(rules.ATTENDANCE),
                    'rating': {'type': 'string',
                               'enum': [str(n) for n in range(rules.RATING.low, rules.RATING.high + 1)]},
                    'reflection': text_field(rules.REFLECTION),
                    'share_with_learners': checkbox, 'share_with_organizers': checkbox,
                }, ['csrf_token', 'attendance', 'rating', 'reflection']),
                responses={'303': see_other('Saved: back to the form with a notice. Or not signed in: to the '
                                            'login page.'),
                           '400': html_response('The form again with the errors, or the meeting has not started.'),
                           '403': expired_form})},
    }


def dialog_paths():
    """The step-by-step creation dialog (chalicelib/handlers/dialog.py). Drafts are circles with
    `published=false`; every step of a draft is `/facilitate/circles/{circle_id}/step/{step}`."""
    from chalicelib.facilitators import dialog
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
        **{name: text_field(rule) for name, rule in dialog.RULES.items()},
        'topics': text_field(rules.TOPICS, f'Comma-separated, at most {rules.MAX_TOPICS} topics of at most '
                                           f'{rules.TOPIC.max_length} characters each.'),
        'team_id': string('Step 1, when the user is in several teams.'),
        'mode': {'type': 'string', 'enum': ['online', 'in_person']}, 'city_query': text,
        'city_id': string('GeoNames id of a city from the offline gazetteer.'),
        'coordinates_city_id': string('The city the posted coordinates belong to.'),
        'latitude': string(f'Decimal degrees, {rules.LATITUDE.low} to {rules.LATITUDE.high}.'),
        'longitude': string(f'Decimal degrees, {rules.LONGITUDE.low} to {rules.LONGITUDE.high}.'),
        'first_date': string('YYYY-MM-DD.'), 'meeting_time': LOCAL_TIME,
        'duration': number_field(rules.DURATION, unit='Minutes'), 'weeks': number_field(rules.WEEKS),
        'timezone': string('IANA timezone name.'), 'language': {'type': 'string', 'enum': list(rules.LANGUAGES)},
        'capacity': number_field(rules.CAPACITY, 'no limit'),
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


def session_cookie():
    from chalicelib.accounts.sessions import COOKIE_NAME
    return {'type': 'apiKey', 'in': 'cookie', 'name': COOKIE_NAME,
            'description': 'Set by `POST /login`; HttpOnly, SameSite=Lax.'}
