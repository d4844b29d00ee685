"""Circles: the HTTP entry point. Routes live in blueprints under chalicelib/handlers/.

Cold start (bench/cold_start.py): Lambda runs this import, its init phase, on a full core, but
a 512 MB function's invocations on about a third of one. So inside Lambda, what the public
requests need (PynamoDB and botocore, the browse, circle and signup modules, phonenumbers for
the signup form, jinja2 with the public pages' templates compiled) is loaded here, not on the
first request, where it would take three times as long; X-Ray patches botocore here too.
Left to the first request that needs them: the facilitators' and organizers' modules (argon2,
zxcvbn), calendars (icalendar) and the OpenAPI document, rarely a container's first request.
The rule: eager when more than a third of cold starts need it (it then costs less overall).
Outside Lambda (`chalice local`, `chalice package`, the tests) none of it loads at import.
"""
import os

from chalice import Chalice

from chalicelib.core import observability, tracing
from chalicelib.core.settings import LOCAL_STAGE, get_settings
from chalicelib.handlers import accounts, api, jobs, local, pages, sender
from chalicelib.handlers import dialog as dialog_pages
from chalicelib.handlers import digest as digest_pages
from chalicelib.handlers import facilitator
from chalicelib.handlers import insights as insights_pages
from chalicelib.handlers import language
from chalicelib.handlers import messages as messages_pages
from chalicelib.handlers import my_data as my_data_pages
from chalicelib.handlers import organize as organize_pages
from chalicelib.handlers import reminder_pages
from chalicelib.handlers import rsvp as rsvp_pages
from chalicelib.handlers import site_admin
from chalicelib.handlers import sms as sms_pages
from chalicelib.handlers import sns as ses_feedback
from chalicelib.handlers import surveys as survey_pages
from chalicelib.handlers import team_widget
from chalicelib.handlers import teams as team_pages
from chalicelib.handlers.web import install_error_pages

app = Chalice(app_name='circles')    # debug stays off: a 500 must never show a traceback
app.register_middleware(observability.http_middleware, 'http')   # JSON logs: request id, route (outermost)
app.register_middleware(language.language_middleware, 'http')    # pages (the 500 page too) in the visitor's language
install_error_pages(app)
app.register_blueprint(language.bp)
app.register_blueprint(api.bp)
app.register_blueprint(pages.bp)
app.register_blueprint(accounts.bp)
app.register_blueprint(dialog_pages.bp)
app.register_blueprint(facilitator.bp)
app.register_blueprint(messages_pages.bp)
app.register_blueprint(reminder_pages.bp)
app.register_blueprint(rsvp_pages.bp)
app.register_blueprint(team_pages.bp)
app.register_blueprint(team_widget.bp)
app.register_blueprint(site_admin.bp)
app.register_blueprint(organize_pages.bp)
app.register_blueprint(digest_pages.bp)
app.register_blueprint(survey_pages.bp)
app.register_blueprint(insights_pages.bp)
app.register_blueprint(sms_pages.bp)
app.register_blueprint(my_data_pages.bp)
app.register_blueprint(jobs.bp)
app.register_blueprint(sender.bp)
app.register_blueprint(ses_feedback.bp)
# The local outbox shows every email and text "sent": it exists on the local stage only.
if os.environ.get('CIRCLES_STAGE', LOCAL_STAGE) == LOCAL_STAGE:
    app.register_blueprint(local.bp)
if os.environ.get('AWS_LAMBDA_FUNCTION_NAME'):     # Lambda's init phase (see the docstring)
    get_settings()      # a deployed stage without its secret key, table or URL fails its cold start
    observability.logger()   # JSON logs (Powertools, chalicelib/core/observability.py)
    import phonenumbers  # noqa: F401 - the circle page's signup form (learners/phone.py)

    from chalicelib import models  # noqa: F401
    from chalicelib.circles import browse, browse_page, circles  # noqa: F401
    from chalicelib.learners import phone
    from chalicelib.models.base import warm
    warm()                  # the DynamoDB client
    phone.country_codes()   # the signup form's country list
    from chalicelib.core import rendering
    from chalicelib.learners import signup  # noqa: F401
    for template in ('base.html', 'browse.html', 'circle.html'):     # the public pages, compiled once
        rendering.environment().get_template(template)
    tracing.ensure_patched()    # X-Ray (chalicelib/core/tracing.py)
