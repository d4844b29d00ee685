"""Scheduled jobs (EventBridge rules). Chalice makes this module the jobs' Lambda handler,
so a job's cold start never imports the HTTP routes.

Cold start (bench/cold_start.py): when this module is the Lambda's handler (`_HANDLER`, set by
Lambda), the job's own modules are imported here, in the init phase, which Lambda runs on a
full core: every run needs them, and the first invocation of a 512 MB function has about a
third of a core. Imported by app.py (to register the rules), it loads nothing more.
"""
import os

from chalice import Blueprint, Cron, Rate

from chalicelib.core import observability, tracing
from chalicelib.core.settings import digest_schedule

bp = Blueprint(__name__)

_HANDLER = os.environ.get('_HANDLER', '')
if _HANDLER == f'{__name__}.send_due_reminders_job':
    from chalicelib.reminders import job  # noqa: F401
elif _HANDLER == f'{__name__}.send_due_change_notices_job':
    from chalicelib.reminders import change_notices  # noqa: F401
elif _HANDLER == f'{__name__}.send_weekly_digests_job':
    from chalicelib.teams import digest_job  # noqa: F401
if _HANDLER.startswith(f'{__name__}.'):
    from chalicelib.handlers.lambda_init import prepare_job_lambda
    prepare_job_lambda()


@bp.schedule(Rate(5, unit=Rate.MINUTES), name='send-due-reminders')
@observability.job('send-due-reminders')
def send_due_reminders_job(event):
    from chalicelib.reminders.job import lambda_deadline, send_due_reminders
    tracing.ensure_patched()
    send_due_reminders(deadline=lambda_deadline(event.context))


@bp.schedule(Rate(5, unit=Rate.MINUTES), name='send-due-change-notices')
@observability.job('send-due-change-notices')
def send_due_change_notices_job(event):
    from chalicelib.reminders.change_notices import send_due_change_notices
    tracing.ensure_patched()
    send_due_change_notices()


@bp.schedule(Cron(*digest_schedule()), name='send-weekly-digests')
@observability.job('send-weekly-digests')
def send_weekly_digests_job(event):
    """Last week's digest of every team (Monday 10:00 UTC unless CIRCLES_DIGEST_SCHEDULE says)."""
    from chalicelib.messaging.sender import lambda_deadline
    from chalicelib.teams.digest_job import send_weekly_digests
    tracing.ensure_patched()
    send_weekly_digests(deadline=lambda_deadline(event.context))
