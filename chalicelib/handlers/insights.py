"""The learning circle insights report: its public page, generating it early, and the hourly job.

- `GET /circles/{circle_id}/insights`: the published report, for anyone (404 before it is
  published, or once the circle is not); one BatchGetItem.
- `GET /insights/report.css`: the report's own stylesheet (charts, print layout).
- `POST /facilitate/circles/{circle_id}/insights`: "generate the report now", for the circle's
  facilitators and its team's organizers (anyone else: 404), once the last meeting has ended.
- `publish-insights`, hourly: the reports whose surveys have closed (chalicelib.insights.publish).

Cold start: when this module is the job's Lambda handler, the job's modules load in the init phase
(as chalicelib/handlers/jobs.py explains); imported by app.py it loads nothing more.
"""
import os

from chalice import Blueprint, Rate, Response

from chalicelib.core import observability, tracing
from chalicelib.core.errors import Refusal
from chalicelib.handlers.auth import signed_in, signed_in_context
from chalicelib.handlers.web import page, redirect, refusal_page

bp = Blueprint(__name__)
FORM = ['application/x-www-form-urlencoded']

if os.environ.get('_HANDLER', '') == f'{__name__}.publish_insights_job':
    from chalicelib.insights import publish  # noqa: F401
    from chalicelib.handlers.lambda_init import prepare_job_lambda
    prepare_job_lambda()


@bp.route('/circles/{circle_id}/insights', methods=['GET'])
def insights_page(circle_id):
    from chalicelib.core import i18n
    from chalicelib.insights.page import published_report, report_context
    found = published_report(circle_id)
    if found is None:
        return page('not_found.html', 404)
    i18n.prefer(found[0].language)      # a circle's page: in its language, unless the visitor chose one
    return page('insights/report.html', **report_context(*found))


@bp.route('/insights/report.css', methods=['GET'])
def insights_stylesheet():
    from chalicelib.core.rendering import TEMPLATES_DIR
    return Response(body=(TEMPLATES_DIR / 'static' / 'insights.css').read_text(), status_code=200,
                    headers={'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600'})


@bp.route('/facilitate/circles/{circle_id}/insights', methods=['POST'], content_types=FORM)
@signed_in(bp)
def insights_generate(session, circle_id):
    from chalicelib.insights.publish import generate_now, insights_path
    try:
        generate_now(session, circle_id)
    except Refusal as refusal:
        return refusal_page(refusal, **signed_in_context(session))
    return redirect(insights_path(circle_id))


@bp.schedule(Rate(1, unit=Rate.HOURS), name='publish-insights')
@observability.job('publish-insights')
def publish_insights_job(event):
    from chalicelib.insights.publish import publish_due_insights
    tracing.ensure_patched()
    publish_due_insights()
