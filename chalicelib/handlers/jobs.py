"""Scheduled jobs (EventBridge rules). Chalice makes this module the jobs' Lambda handler,
so a job's cold start never imports the HTTP routes."""
from chalice import Blueprint, Rate

from chalicelib.core import tracing

bp = Blueprint(__name__)


@bp.schedule(Rate(5, unit=Rate.MINUTES), name='send-due-reminders')
def send_due_reminders_job(event):
    from chalicelib.reminders.job import lambda_deadline, send_due_reminders
    tracing.ensure_patched()
    send_due_reminders(deadline=lambda_deadline(event.context))


@bp.schedule(Rate(5, unit=Rate.MINUTES), name='send-due-change-notices')
def send_due_change_notices_job(event):
    from chalicelib.reminders.change_notices import send_due_change_notices
    tracing.ensure_patched()
    send_due_change_notices()
