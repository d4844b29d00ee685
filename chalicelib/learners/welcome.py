"""The welcome email to a new learner, the new-signup notice to the facilitators, and the
"already signed up" email to a learner whose address was used to sign up again.

Both are outbox items written in the signup's own transaction (`welcome_items`): the signup
and its messages are stored together or not at all, and a retried or duplicate request
finds the signup and writes nothing. The sender renders them when it sends (`WELCOME`,
`NEW_SIGNUP`), from the circle as it is then.

The "already signed up" email (`ALREADY_SIGNED_UP`) holds nothing the repeated request typed:
it goes to the address stored with the signup and shows what is stored there.
"""
from chalicelib.circles import circles
from chalicelib.core.i18n import N_, _
from chalicelib.core.rendering import render
from chalicelib.messaging import email, outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import Circle, Signup

WELCOME_PURPOSE, NOTICE_PURPOSE, ALREADY_PURPOSE = 'welcome', 'new-signup', 'already-signed-up'


def welcome_items(signup, circle, now):
    """The learner's welcome and one notice per facilitator, to write with the signup.

    Their keys name the signup's creation instant: a learner who withdrew and signs up again
    is welcomed again by new items (an overwritten item would be no INSERT on the stream)."""
    when = f'{now:%Y%m%dT%H%M%S%f}'
    items = [outbox.for_signup(signup, f'{WELCOME_PURPOSE}#{when}', outbox.EMAIL, 'welcome', now)]
    for recipient_id, address in circles.facilitator_recipients(circle):
        items.append(outbox.for_address(circle.id, f'{NOTICE_PURPOSE}#{signup.signup_id}#{when}', recipient_id,
                                        address, 'new_signup', now, params={'signup': signup.signup_id}))
    return items


def already_signed_up_item(signup, now):
    """The "you are already signed up" email to a signup's stored address. Its key names the
    hour: a second one within the same hour is refused by the item's condition (no read)."""
    return outbox.for_signup(signup, f'{ALREADY_PURPOSE}#{now:%Y%m%dT%H}', outbox.EMAIL, 'already_signed_up', now)


def welcome_context(signup, circle, now):
    from chalicelib.core.formatting import meeting_when
    from chalicelib.learners.signup import withdraw_link
    from chalicelib.learners.texts import texts_link
    meeting = circles.next_meeting(circle, now)
    return {
        'circle': circle, 'signup': signup, 'meeting': meeting,
        'meeting_when': meeting and meeting_when(meeting, circle.timezone),
        'circle_url': circles.circle_url(circle.id),
        'withdraw_url': withdraw_link(signup),
        'texts_url': texts_link(signup),
    }


def welcome_message(signup, circle, now, to=None):
    context = welcome_context(signup, circle, now)
    return email.build_message(
        to=to or signup.email,
        subject=_('You signed up for %(circle)s') % {'circle': circle.name},
        text=render('email/welcome.txt', **context),
        html=render('email/welcome.html', **context),
        reply_to=list(circle.facilitator_emails),
    )


def new_signup_notice(signup, circle, facilitator_email):
    context = {'circle': circle, 'signup': signup,
               'circle_url': circles.circle_url(circle.id)}
    return email.build_message(
        to=facilitator_email,
        subject=_('New signup for %(circle)s: %(name)s') % {'circle': circle.name, 'name': signup.name},
        text=render('email/new_signup.txt', **context),
        html=render('email/new_signup.html', **context),
        reply_to=[signup.email],
    )


def already_signed_up_message(signup, circle, now, to=None):
    from chalicelib.learners.details import DETAILS, details_link
    from chalicelib.learners.signup import withdraw_link
    from chalicelib.core import links
    context = {'circle': circle, 'signup': signup, 'circle_url': circles.circle_url(circle.id),
               'details_url': details_link(signup), 'withdraw_url': withdraw_link(signup),
               'details_days': links.MAX_AGE_SECONDS[DETAILS] // (24 * 3600)}
    return email.build_message(
        to=to or signup.email,
        subject=_('You are already signed up for %(circle)s') % {'circle': circle.name},
        text=render('email/already_signed_up.txt', **context),
        html=render('email/already_signed_up.html', **context),
        reply_to=list(circle.facilitator_emails),
    )


def _circle(item, reads):
    circle = reads.get(Circle.key(item.circle_id))
    if circle is None:
        raise Skip(N_('The circle no longer exists.'))
    return circle


def _render_welcome(item, reads, to, now):
    return welcome_message(reads[Signup.key(item.circle_id, item.signup_id)], _circle(item, reads), now, to)


def _render_already_signed_up(item, reads, to, now):
    return already_signed_up_message(reads[Signup.key(item.circle_id, item.signup_id)], _circle(item, reads), now, to)


def _render_notice(item, reads, to, now):
    signup = reads.get(Signup.key(item.circle_id, item.params['signup']))
    if signup is None or not signup.active:
        raise Skip(N_('The learner has left the circle meanwhile.'))
    return new_signup_notice(signup, _circle(item, reads), to)


WELCOME = Template(keys=lambda item: [Circle.key(item.circle_id)], render=_render_welcome)
NEW_SIGNUP = Template(keys=lambda item: [Circle.key(item.circle_id), Signup.key(item.circle_id, item.params['signup'])],
                      render=_render_notice)
ALREADY_SIGNED_UP = Template(keys=lambda item: [Circle.key(item.circle_id)], render=_render_already_signed_up)
