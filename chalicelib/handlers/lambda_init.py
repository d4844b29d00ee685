"""What every job, sender and feedback Lambda does in its init phase (on a full core, before the
first invocation's third of one): see chalicelib/handlers/jobs.py and bench/cold_start.py."""
from chalicelib.core import observability, tracing


def prepare_job_lambda():
    from chalicelib.models.base import warm
    warm()                      # the DynamoDB client
    observability.logger()      # JSON logs (chalicelib.core.observability)
    tracing.ensure_patched()    # X-Ray, inside Lambda only
