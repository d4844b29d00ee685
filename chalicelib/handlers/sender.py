"""The outbox sender's Lambdas: one on the table's stream, one sweep every 5 minutes.

Chalice makes this module their handler, so neither cold start imports the HTTP routes.
The stream ARN below is a placeholder: infra/resources.yaml replaces it with the table's
`StreamArn` and filters the event source to inserts of `Delivery` items.
"""
from chalice import Blueprint, Rate

from chalicelib.core import tracing

bp = Blueprint(__name__)

STREAM_ARN_PLACEHOLDER = 'arn:aws:dynamodb:us-east-1:000000000000:table/circles/stream/set-by-infra'


@bp.on_dynamodb_record(stream_arn=STREAM_ARN_PLACEHOLDER, batch_size=100, starting_position='TRIM_HORIZON',
                       name='send-outbox')
def send_outbox(event):
    from chalicelib.messaging import sender
    from chalicelib.ops.outbox_templates import templates
    tracing.ensure_patched()
    return sender.send_records(event, templates(), deadline=sender.lambda_deadline(event.context))


@bp.schedule(Rate(5, unit=Rate.MINUTES), name='send-outbox-sweep')
def send_outbox_sweep(event):
    from chalicelib.messaging import sender
    from chalicelib.ops.outbox_templates import templates
    tracing.ensure_patched()
    return sender.sweep(templates(), deadline=sender.lambda_deadline(event.context))
