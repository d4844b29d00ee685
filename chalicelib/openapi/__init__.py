"""The OpenAPI 3.1 document served at `/api/openapi.json`.

Partner websites build search and signup forms against the public endpoints,
so this document is their reference. It is a plain dict: limits and choices
come from the modules that enforce them (browse, signup, pages), and
`tests/handlers/test_openapi.py` checks every route and real responses against it.
Built in parts: `public` (learners and partners), `facilitators`, `teams`, `organize`, `digest`,
`surveys`, `sms`,
`insights` and `privacy`.
"""
from chalicelib.openapi.insights import insights_paths
from chalicelib.openapi.facilitators import (account_paths, dialog_paths, facilitator_paths,
                                             messages_paths, session_cookie)
from chalicelib.openapi.privacy import privacy_paths
from chalicelib.openapi.public import api_paths, page_paths, rsvp_paths, schemas
from chalicelib.openapi.digest import digest_paths
from chalicelib.openapi.organize import organize_paths
from chalicelib.openapi.sms import sms_paths
from chalicelib.openapi.surveys import survey_paths
from chalicelib.openapi.teams import team_paths
from chalicelib.core.settings import get_settings


def document():
    """The whole OpenAPI document, with this deployment's public URL as the server."""
    return {
        'openapi': '3.1.0',
        'info': {
            'title': 'Learning Circles',
            'version': '1.0.0',
            'description': 'Find learning circles (free weekly study groups) and sign up. '
                           'The public API keeps P2PU\'s shapes so that existing partner search and '
                           'signup forms work unchanged. Errors of the JSON API are '
                           '`{"status": "error", "errors": {field: [messages]}}`.',
        },
        'servers': [{'url': get_settings().public_base_url}],
        'tags': [
            {'name': 'Public API', 'description': 'JSON endpoints for partner websites (CORS enabled).'},
            {'name': 'Pages', 'description': 'Server-rendered HTML pages for learners.'},
            {'name': 'Accounts', 'description': 'Pages for facilitators and organizers.'},
            {'name': 'Facilitators', 'description': 'Running a circle: its facilitators and team organizers only.'},
            {'name': 'Twilio webhooks', 'description': 'Inbound texts and delivery status, signed by Twilio.'},
            {'name': 'Documentation'},
        ],
        'paths': {**api_paths(), **page_paths(), **account_paths(), **dialog_paths(),
                  **facilitator_paths(), **messages_paths(), **rsvp_paths(), **team_paths(),
                  **organize_paths(), **digest_paths(), **survey_paths(), **sms_paths(),
                  **insights_paths(), **privacy_paths()},
        'components': {'schemas': schemas(), 'securitySchemes': {'session': session_cookie()}},
    }
