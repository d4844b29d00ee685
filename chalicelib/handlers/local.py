"""Local stage only: the outbox, every email and SMS the app "sent" on this machine."""
from chalice import Blueprint

from chalicelib.handlers.web import html_response

bp = Blueprint(__name__)


@bp.route('/local/outbox', methods=['GET'])
def outbox_page():
    from chalicelib.messaging.local_outbox import outbox_messages
    from chalicelib.core.rendering import render
    return html_response(render('outbox.html', messages=outbox_messages()))
