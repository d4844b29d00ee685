"""The welcome email to a new learner and the new-signup notice to the facilitators.

Exactly once: only the request whose transaction created the signup sends
(the signup's `welcome_status` is written as `pending` in that transaction);
a retried or duplicate request finds the signup and sends nothing. A crash
between creating and sending leaves `pending`, which a later job can pick up.
"""
import logging

from chalicelib.circles import circles
from chalicelib.messaging import email
from chalicelib.models import Signup
from chalicelib.core.rendering import render
from chalicelib.learners.signup import withdraw_link

log = logging.getLogger(__name__)


def welcome_context(signup, circle, now):
    meeting = circles.next_meeting(circle, now)
    return {
        'circle': circle, 'signup': signup, 'meeting': meeting,
        'meeting_when': meeting and _when(meeting, circle),
        'circle_url': circles.circle_url(circle.id),
        'withdraw_url': withdraw_link(signup),
    }


def _when(meeting, circle):
    from chalicelib.core.formatting import meeting_when
    return meeting_when(meeting, circle.timezone)


def welcome_message(signup, circle, now):
    context = welcome_context(signup, circle, now)
    return email.build_message(
        to=signup.email,
        subject=f'You signed up for {circle.name}',
        text=render('email/welcome.txt', **context),
        html=render('email/welcome.html', **context),
        reply_to=list(circle.facilitator_emails),
    )


def new_signup_notice(signup, circle, facilitator_email):
    context = {'circle': circle, 'signup': signup,
               'circle_url': circles.circle_url(circle.id)}
    return email.build_message(
        to=facilitator_email,
        subject=f'New signup for {circle.name}: {signup.name}',
        text=render('email/new_signup.txt', **context),
        html=render('email/new_signup.html', **context),
        reply_to=[signup.email],
    )


def send_welcome(signup, circle, now=None):
    """Send the welcome, record it, then notify the facilitators (best effort, never repeated).

    If SES refuses the welcome the signup stays `pending` and the learner still
    sees their signup confirmed; the welcome can be sent again later.
    """
    now = now or circles.utcnow()
    try:
        email.send(welcome_message(signup, circle, now))
    except Exception:  # noqa: BLE001 - the signup stands; the welcome is retried later
        log.exception('welcome email for signup %s of circle %s not sent', signup.signup_id, circle.id)
        return False
    signup.update(actions=[Signup.welcome_status.set('sent'), Signup.welcome_sent_at.set(now),
                           Signup.due_pk.remove(), Signup.due_sk.remove()],
                  condition=Signup.welcome_status == 'pending')
    for address in circle.facilitator_emails:
        try:
            email.send(new_signup_notice(signup, circle, address))
        except Exception:  # noqa: BLE001 - a missed notice must not fail the learner's signup
            log.exception('new-signup notice to a facilitator of circle %s not sent', circle.id)
    return True
