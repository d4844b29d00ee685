"""Delivering the report's outbox items in a test: the sender's own `send_items` with the app's
table of templates, the fan-out first, then the items it wrote."""
from chalicelib.insights import publish
from chalicelib.messaging import sender
from chalicelib.models import Delivery
from chalicelib.ops import outbox_templates

INSIGHTS_TEMPLATES = {'insights_fan_out': publish.INSIGHTS_FAN_OUT, 'insights': publish.INSIGHTS_EMAIL,
                      'insights_sms': publish.INSIGHTS_SMS}


def templates():
    return outbox_templates.templates()


def report_items(circle_id):
    return [item for item in Delivery.query(f'CIRCLE#{circle_id}', Delivery.sk.startswith('DELIVERY#insights#'),
                                             consistent_read=True)]


def deliver(circle_id):
    """Send the report's fan-out, then the items it wrote. Returns every report item, final."""
    for _ in range(2):
        waiting = [item for item in report_items(circle_id) if item.state in ('pending', 'retrying')]
        if waiting:
            sender.send_items(waiting, templates())
    return report_items(circle_id)
