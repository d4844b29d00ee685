"""The OpenAPI paths of the end-of-circle surveys: a learner's, by signed link with no account,
and a facilitator's, signed in. Limits come from chalicelib.ending.surveys, which enforces them."""
from chalicelib.openapi.helpers import form_body, html_response, number_field, operation, path_parameter, see_other, \
    string, text_field


def survey_paths():
    from chalicelib.ending import surveys
    token = path_parameter('token', 'The signed survey token from the learner\'s email or text message.')
    circle_id = path_parameter('circle_id', 'The circle\'s id.')
    csrf = string('The token printed in the page\'s form.')
    expired_form = html_response('`csrf_token` is missing or wrong; nothing changed.')
    not_open = html_response('The link was altered or made for something else, the learner has left the circle, '
                             'or the survey has not opened yet.')
    closed = html_response('The survey has closed: the page says so, nothing is saved.')
    invalid = html_response('The form again, with a message at each field to fix; nothing is saved.')
    not_facilitator = html_response('No such circle, or the caller does not facilitate it (organizers included).')
    checkbox = {'type': 'string', 'enum': ['on'], 'description': 'Sent only when ticked.'}
    learner_body = form_body({
        'csrf_token': csrf,
        'goal_reached': number_field(surveys.GOAL_REACHED, unit='How far the learner reached their goal'),
        'recommend': number_field(surveys.RECOMMEND, unit='How likely they would recommend a learning circle'),
        'worked_well': text_field(surveys.ANSWER), 'improve': text_field(surveys.ANSWER),
        'next_step': text_field(surveys.ANSWER),
        'may_quote': {**checkbox, 'description': 'Their words may be quoted publicly, without their name.'},
    }, ['csrf_token', 'goal_reached', 'recommend'])
    facilitator_body = form_body({
        'csrf_token': csrf,
        'happened': string('Whether the circle took place; with `no`, only the reason is read.', enum=['yes', 'no']),
        'not_happened_reason': text_field(surveys.ANSWER, 'Why it did not take place (needed with `no`).'),
        'goal_reached': number_field(surveys.GOAL_REACHED, unit='How far they reached their goal (needed with `yes`)'),
        'course_rating': number_field(surveys.COURSE_RATING, unit='The course\'s rating (needed with `yes`)'),
        'course_rating_reason': text_field(surveys.ANSWER), 'worked_well': text_field(surveys.ANSWER),
        'improve': text_field(surveys.ANSWER),
    }, ['csrf_token', 'happened'])
    facilitator_body['content']['application/x-www-form-urlencoded']['schema']['patternProperties'] = {
        '^share_.+$': {**checkbox, 'description': '`share_<meeting id>`: the report may share that meeting\'s '
                                                   'reflection with the learners.'}}
    signed_in = [{'session': []}]
    login = see_other('Not signed in: to the login page.')
    return {
        '/survey/{token}': {
            'get': operation('learner_survey', 'A learner\'s end-of-circle survey, restating their signup goal '
                             '(sets the anonymous form cookie)', ['Pages'],
                             {'200': html_response('The form, with the learner\'s answers if they answered before.'),
                              '400': not_open, '410': closed}, parameters=[token]),
            'post': operation('answer_learner_survey', 'Answer (or change the answer to) the survey', ['Pages'],
                              {'303': see_other('Saved: to the thank-you page.'), '400': invalid, '403': expired_form,
                               '410': closed}, parameters=[token], request_body=learner_body),
        },
        '/survey/{token}/thanks': {
            'get': operation('learner_survey_thanks', 'The thank-you page after answering', ['Pages'],
                             {'200': html_response('The page.'), '400': not_open, '410': closed},
                             parameters=[token]),
        },
        '/facilitate/circles/{circle_id}/survey': {
            'get': {**operation('facilitator_survey', 'A facilitator\'s end-of-circle survey, restating their goal '
                                'from the creation dialog, with the circle\'s meeting reflections to share',
                                ['Facilitators'], {'200': html_response('The form.'), '303': login,
                                                   '400': html_response('The survey has not opened yet.'),
                                                   '404': not_facilitator, '410': closed}, parameters=[circle_id]),
                    'security': signed_in},
            'post': {**operation('answer_facilitator_survey', 'Answer (or change the answer to) the survey',
                                 ['Facilitators'], {'303': see_other('Saved: to the thank-you page. Or not signed '
                                                                     'in: to the login page.'),
                                                    '400': invalid, '403': expired_form, '404': not_facilitator,
                                                    '410': closed},
                                 parameters=[circle_id], request_body=facilitator_body),
                     'security': signed_in},
        },
        '/facilitate/circles/{circle_id}/survey/thanks': {
            'get': {**operation('facilitator_survey_thanks', 'The thank-you page after answering', ['Facilitators'],
                                {'200': html_response('The page.'), '303': login,
                                 '400': html_response('The survey has not opened yet.'), '404': not_facilitator,
                                 '410': closed}, parameters=[circle_id]),
                    'security': signed_in},
        },
    }
