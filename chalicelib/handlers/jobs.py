"""Scheduled jobs (EventBridge rules). Chalice makes this module the jobs' Lambda handler,
so a job's cold start never imports the HTTP routes."""
from chalice import Blueprint, Rate

from chalicelib import tracing

bp = Blueprint(__name__)


@bp.schedule(Rate(5, unit=Rate.MINUTES), name='send-pending-welcomes')
def send_pending_welcomes_job(event):
    from chalicelib.jobs import send_pending_welcomes
    tracing.ensure_patched()
    send_pending_welcomes()
