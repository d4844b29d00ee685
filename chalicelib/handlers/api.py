"""The JSON API: the public endpoints partner websites call, plus the OpenAPI document."""
from chalice import Blueprint

from chalicelib.core.i18n import _
from chalicelib.handlers.web import api_errors, json_body, json_response, public_json_response

bp = Blueprint(__name__)


@bp.route('/api/learningcircles', methods=['GET'], cors=True)
@api_errors
def list_learning_circles():
    from chalicelib.circles.browse import browse_json, parse_browse_query
    request = bp.current_request
    return public_json_response(request, browse_json(parse_browse_query(request.query_params)))


@bp.route('/api/learningcircles/{circle_id}', methods=['GET'], cors=True)
@api_errors
def learning_circle(circle_id):
    import json
    from chalicelib.circles.circles import public_details
    return public_json_response(bp.current_request, json.dumps(public_details(circle_id)))


@bp.route('/api/signup', methods=['POST'], cors=True,
          content_types=['application/json', 'text/plain'])
@api_errors
def signup():
    from chalicelib.handlers.auth import client_ip
    from chalicelib.learners.signup import sign_up
    from chalicelib.models import consent
    request = bp.current_request
    body = json_body(request)
    questions = body.get('signup_questions') if isinstance(body.get('signup_questions'), dict) else {}
    fields = {
        'name': body.get('name'), 'email': body.get('email'), 'mobile': body.get('mobile'),
        'consent': body.get('consent'), 'communications_opt_in': body.get('communications_opt_in'),
        'goals': questions.get('goals'), 'support': questions.get('support'),
        'custom_answer': questions.get('custom_question'),
    }
    circle_id = body.get('learning_circle')
    if not isinstance(circle_id, (str, int)) or not str(circle_id).strip():
        return json_response({'status': 'error', 'errors': {'learning_circle': [_('Required.')]}}, 400)
    sign_up(str(circle_id).strip(), fields, client=client_ip(request), channel=consent.PARTNER_API)
    # Partner clients read only `status`; a repeated signup answers the same so that
    # the response does not reveal whether an address had signed up before. Over a rate
    # limit, `api_errors` answers 429 with `Retry-After`.
    return json_response({'status': 'created'})


@bp.route('/api/openapi.json', methods=['GET'], cors=True)
def openapi_document():
    from chalicelib.openapi import document
    return json_response(document())
