"""Circles: the HTTP entry point. Routes live in blueprints under chalicelib/handlers/.

Kept thin for cold start: handlers import their domain modules on first use,
and AWS clients are created lazily and cached.
"""
import os

from chalice import Chalice

from chalicelib.core import tracing
from chalicelib.core.settings import LOCAL_STAGE, get_settings
from chalicelib.handlers import accounts, api, jobs, local, pages, sender
from chalicelib.handlers import dialog as dialog_pages
from chalicelib.handlers import facilitator
from chalicelib.handlers import messages as messages_pages
from chalicelib.handlers import reminder_pages
from chalicelib.handlers import rsvp as rsvp_pages
from chalicelib.handlers.web import install_error_pages

app = Chalice(app_name='circles')    # debug stays off: a 500 must never show a traceback
install_error_pages(app)
app.register_blueprint(api.bp)
app.register_blueprint(pages.bp)
app.register_blueprint(accounts.bp)
app.register_blueprint(dialog_pages.bp)
app.register_blueprint(facilitator.bp)
app.register_blueprint(messages_pages.bp)
app.register_blueprint(reminder_pages.bp)
app.register_blueprint(rsvp_pages.bp)
app.register_blueprint(jobs.bp)
app.register_blueprint(sender.bp)
# The local outbox shows every email and text "sent": it exists on the local stage only.
if os.environ.get('CIRCLES_STAGE', LOCAL_STAGE) == LOCAL_STAGE:
    app.register_blueprint(local.bp)
if os.environ.get('AWS_LAMBDA_FUNCTION_NAME'):
    get_settings()      # a deployed stage without its secret key, table or URL fails its cold start


@app.middleware('all')
def trace_aws_calls(event, get_response):
    tracing.ensure_patched()
    return get_response(event)
