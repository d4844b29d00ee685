"""Privacy's two Lambdas: SES bounces and complaints from SNS, and the daily retention job.

Chalice makes this module their handler, so neither cold start imports the HTTP routes.

`record-email-feedback` is subscribed to the topic SES publishes bounces and complaints to
(`on_sns_message`, packaged as the function's SNS event; infra/resources.yaml points it at the
stack's own topic, and the configuration set's event destination at that topic). Every record is checked for AWS's signature
(chalicelib.privacy.sns) before anything is recorded; a forged or unsigned one is logged and
dropped (raising would only make Lambda retry a message that can never verify).

Subscription confirmations: SNS confirms a Lambda subscription itself and delivers only
Notifications to it, so a SubscriptionConfirmation never reaches this function from our topic.
One that does (verified or not) is logged and ignored: this function never requests its
`SubscribeURL`. There is no HTTPS subscription endpoint; one would have to confirm out of band
(`aws sns confirm-subscription`), never by calling out from the request.

`anonymize-expired-signups` runs daily (chalicelib.privacy.retention).

Cold start: when this module is the Lambda's handler (`_HANDLER`), what the function needs is
imported here, in the init phase (a full core); imported by app.py it loads nothing more.
"""
import logging
import os

from chalice import Blueprint, Cron

from chalicelib.core import observability, tracing
from chalicelib.core.settings import ses_feedback_topic

log = logging.getLogger(__name__)
bp = Blueprint(__name__)

RETENTION_SCHEDULE = ('15', '3', '*', '*', '?', '*')     # daily, 03:15 UTC
# A placeholder, like the sender's stream ARN: infra/resources.yaml replaces it with the stack's own
# topic (`Ref`; an ARN given as a string is replaced whole by the merge, a name would be merged with it).
TOPIC_ARN_PLACEHOLDER = f'arn:aws:sns:us-east-1:000000000000:{ses_feedback_topic()}'

_HANDLER = os.environ.get('_HANDLER', '')
if _HANDLER == f'{__name__}.record_email_feedback':
    from cryptography.hazmat.primitives.asymmetric import padding as _padding  # noqa: F401

    from chalicelib.privacy import bounces as _bounces, sns as _sns  # noqa: F401
elif _HANDLER == f'{__name__}.anonymize_expired_signups_job':
    from chalicelib.privacy import retention as _retention  # noqa: F401
if _HANDLER.startswith(f'{__name__}.'):
    from chalicelib.handlers.lambda_init import prepare_job_lambda
    prepare_job_lambda()


@bp.on_sns_message(topic=TOPIC_ARN_PLACEHOLDER, name='record-email-feedback')
@observability.job('record-email-feedback')
def record_email_feedback(event):
    from chalicelib.privacy import bounces, sns
    tracing.ensure_patched()
    outcome = {'recorded': 0, 'refused': 0, 'ignored': 0}
    for record in event.to_dict().get('Records') or ():
        message = record.get('Sns') if isinstance(record, dict) else None
        try:
            sns.verified(message)
        except sns.Unverified as refusal:
            log.warning('SNS message refused: %s', refusal.message)
            outcome['refused'] += 1
            continue
        feedback = sns.feedback(message) if message.get('Type') == sns.NOTIFICATION else None
        if feedback is None:
            log.info('SNS %s ignored (no bounce or complaint)', message.get('Type'))
            outcome['ignored'] += 1
            continue
        bounces.record(feedback)
        outcome['recorded'] += 1
    return outcome


@bp.schedule(Cron(*RETENTION_SCHEDULE), name='anonymize-expired-signups')
@observability.job('anonymize-expired-signups')
def anonymize_expired_signups_job(event):
    from chalicelib.messaging.sender import lambda_deadline
    from chalicelib.privacy.retention import anonymize_expired_signups
    tracing.ensure_patched()
    return anonymize_expired_signups(deadline=lambda_deadline(event.context))
