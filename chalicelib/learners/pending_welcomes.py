"""Jobs run on a schedule (see `chalicelib/handlers/jobs.py`) or once from the CLI.

Safe to run twice at once, or again after a crash: work is claimed with a
conditional write and a lease before any message goes out.
"""
import logging
from datetime import timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.circles import circles
from chalicelib.models import Signup

log = logging.getLogger(__name__)

WELCOME_QUEUE = 'WELCOME'
WELCOME_GRACE = timedelta(minutes=5)    # longer than any request that could still be sending it
WELCOME_LEASE = timedelta(minutes=10)
WELCOME_MAX_ATTEMPTS = 5


def welcome_due_key(due_at, signup_id):
    return f'{due_at.isoformat()}#{signup_id}'


def _claim(signup, now):
    """Take the welcome for this run, or return False if another run holds or finished it."""
    try:
        signup.update(
            actions=[Signup.welcome_claimed_until.set(now + WELCOME_LEASE),
                     Signup.welcome_attempts.add(1)],
            condition=(Signup.welcome_status == 'pending')
            & (Signup.welcome_claimed_until.does_not_exist() | (Signup.welcome_claimed_until < now)),
        )
        return True
    except UpdateError:
        return False


def _postpone(signup, now):
    attempts = int(signup.welcome_attempts)
    if attempts >= WELCOME_MAX_ATTEMPTS:
        signup.update(actions=[Signup.welcome_status.set('failed'), Signup.due_pk.remove(), Signup.due_sk.remove()])
        return
    retry_at = now + timedelta(minutes=5 * 2 ** attempts)
    signup.update(actions=[Signup.due_sk.set(welcome_due_key(retry_at, signup.signup_id)),
                           Signup.welcome_claimed_until.remove()])


def send_pending_welcomes(now=None):
    """Send welcome emails whose request never got to send them (crash, SES refusal).

    Returns how many were sent. Reads only the `WELCOME` queue of the `by_due` index.
    """
    from chalicelib.learners.welcome import send_welcome
    now = now or circles.utcnow()
    sent = 0
    due = Signup.by_due.query(WELCOME_QUEUE, Signup.due_sk <= f'{now.isoformat()}#~')
    for signup in due:
        if not signup.active or not _claim(signup, now):
            continue
        circle = circles.get_circle(signup.circle_id)
        if circle is None:
            continue
        if send_welcome(signup, circle, now):
            sent += 1
        else:
            _postpone(signup, now)
    log.info('send_pending_welcomes: %d sent', sent)
    return sent
