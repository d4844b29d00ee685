"""The OpenAPI paths of two-way SMS: Twilio's webhooks and the facilitator's reply page."""
from chalicelib.openapi.helpers import (form_body, html_response, operation, path_parameter, query, see_other,
                                        string)

TWIML = 'text/xml'


def _twiml(description):
    return {'description': description, 'content': {TWIML: {'schema': {'type': 'string'}}}}


def sms_paths():
    """`/sms/*` is for Twilio alone: a request without its `X-Twilio-Signature` for the configured
    public URL (not the URL the request reached) gets 403 and changes nothing."""
    tags = ['Twilio webhooks']
    signature = {'name': 'X-Twilio-Signature', 'in': 'header', 'required': True, 'schema': {'type': 'string'},
                 'description': "Twilio's HMAC-SHA1 of the public URL and the sorted form fields."}
    forbidden = {'description': 'No valid Twilio signature: nothing changed.',
                 'content': {'text/plain': {'schema': {'type': 'string'}}}}
    inbound = form_body({'MessageSid': string("Twilio's id of the text."), 'From': string('The sender, E.164.'),
                         'To': string('Our number.'), 'Body': string('What they wrote.'),
                         'AccountSid': string(), 'NumMedia': string(), 'SmsSid': string()},
                        ['MessageSid', 'From', 'Body'])
    inbound['content']['application/x-www-form-urlencoded']['schema']['additionalProperties'] = {'type': 'string'}
    status = form_body({'MessageSid': string(), 'MessageStatus': string(
        'queued, sending, sent, delivered, undelivered, failed (or read).'), 'ErrorCode': string(
        "Twilio's error code: 30003, 30005 and 30006 stop texts to the number."), 'To': string(), 'From': string(),
        'AccountSid': string(), 'SmsSid': string(), 'SmsStatus': string(), 'ApiVersion': string()},
        ['MessageSid', 'MessageStatus'])
    status['content']['application/x-www-form-urlencoded']['schema']['additionalProperties'] = {'type': 'string'}
    circle_id = path_parameter('circle_id', "The circle's id.")
    signup_id = path_parameter('signup_id', "The learner's signup id.")
    not_found = html_response('No such circle or current learner, or the caller may not manage the circle.')
    return {
        '/sms/inbound': {'post': {**operation(
            'sms_inbound', 'A text to our number (Twilio\'s messaging webhook)', tags,
            {'200': _twiml('TwiML: `<Response/>`, or one `<Message>` (a help text, an RSVP confirmation).'),
             '403': forbidden, '429': {'description': 'This number texted too often; `Retry-After` says when '
                                                      'to try again.', 'content': {TWIML: {'schema': {'type': 'string'}}},
                                       'headers': {'Retry-After': {'schema': {'type': 'integer'}}}}},
            description='STOP words opt the number out of all texts, START/UNSTOP/YES back in; HELP/INFO '
                        'answers a help text; yes or no answers the next meeting within 3 days; anything else is '
                        "forwarded by email to the circle's facilitators (or support).",
            parameters=[signature], request_body=inbound)}},
        '/sms/status': {'post': operation(
            'sms_status', 'What became of one of our texts (Twilio\'s status callback)', tags,
            {'204': {'description': 'Recorded (or ignored: another message, an older status).'}, '403': forbidden},
            parameters=[signature, query('d', {'type': 'string'}, 'The outbox item, as the sender named it.',
                                         required=True)],
            request_body=status)},
        '/facilitate/circles/{circle_id}/texts/{signup_id}': {
            'get': {**operation('text_reply_page', "A learner's texts and the answers sent, with their delivery",
                                ['Facilitators'], {'200': html_response('The page.'), '303': see_other(
                                    'Not signed in: to the login page.'), '404': not_found},
                                parameters=[circle_id, signup_id, query('sent', {'enum': ['1', 'again']},
                                                                        'Shows that an answer was sent.')]),
                    'security': [{'session': []}]},
            'post': {**operation('send_text_reply', 'Answer the learner by SMS', ['Facilitators'],
                                 {'303': see_other('Queued: back to the page. Or not signed in: to the login page.'),
                                  '400': html_response('The form again, saying what to fix.'),
                                  '403': html_response('`csrf_token` is missing or wrong; nothing changed.'),
                                  '404': not_found},
                                 parameters=[circle_id, signup_id],
                                 request_body=form_body({'csrf_token': string(), 'reply_key': string(
                                     'The random key the form was rendered with.'), 'text': string(
                                     'At most 3 SMS with the frame.')}, ['csrf_token', 'reply_key', 'text'])),
                     'security': [{'session': []}]},
        },
    }
