"""The outbox sender's Lambdas: one on the table's stream, one sweep every 5 minutes.

Chalice makes this module their handler, so neither cold start imports the HTTP routes.
The stream ARN below is a placeholder: infra/resources.yaml replaces it with the table's
`StreamArn` and filters the event source to inserts of `Delivery` items.

Cold start (bench/cold_start.py): when this module is the stream Lambda's handler (`_HANDLER`,
set by Lambda), the sender, every feature's templates and the SES client are loaded here, in the
init phase, which Lambda runs on a full core: every stream batch sends, and the first invocation
of a 512 MB function has about a third of a core. The sweep mostly finds nothing due, so it
loads only the sender and the models. Imported by app.py (to register them), it loads nothing.
"""
import os

from chalice import Blueprint, Rate

from chalicelib.core import observability, tracing

bp = Blueprint(__name__)

STREAM_ARN_PLACEHOLDER = 'arn:aws:dynamodb:us-east-1:000000000000:table/circles/stream/set-by-infra'

_HANDLER = os.environ.get('_HANDLER', '')
if _HANDLER.startswith(f'{__name__}.'):
    from chalicelib.messaging import sender as _sender  # noqa: F401
    from chalicelib.handlers.lambda_init import prepare_job_lambda
    prepare_job_lambda()
if _HANDLER == f'{__name__}.send_outbox':
    from chalicelib.messaging import email as _email
    from chalicelib.ops.outbox_templates import templates as _templates
    _templates()
    _email.ses_client(True)     # the client the sender sends with (sender._warm_clients)


@bp.on_dynamodb_record(stream_arn=STREAM_ARN_PLACEHOLDER, batch_size=100, starting_position='TRIM_HORIZON',
                       name='send-outbox')
@observability.job('send-outbox')
def send_outbox(event):
    from chalicelib.messaging import sender
    from chalicelib.ops.outbox_templates import templates
    tracing.ensure_patched()
    return sender.send_records(event, templates(), deadline=sender.lambda_deadline(event.context))


@bp.schedule(Rate(5, unit=Rate.MINUTES), name='send-outbox-sweep')
@observability.job('send-outbox-sweep')
def send_outbox_sweep(event):
    from chalicelib.messaging import sender
    from chalicelib.ops.outbox_templates import templates
    tracing.ensure_patched()
    return sender.sweep(templates(), deadline=sender.lambda_deadline(event.context))
