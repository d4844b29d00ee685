"""A learner's own page of their details (`/my-details`, linked from the "already signed up"
email): the link, and changing name, mobile, answers and opt-in by the signup form's own rules.

`active_signup_of_link` also serves the other learner links that name a current signup (the
texts page, chalicelib.learners.texts).
"""
from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.circles import circles
from chalicelib.core import links
from chalicelib.core.errors import SignupRefused
from chalicelib.core.i18n import _
from chalicelib.learners.signup import CONSENT_VERSION, validate_signup
from chalicelib.models import Signup, consent
from chalicelib.models.transactions import condition_failed, transact_write

DETAILS = links.DETAILS


def details_link(signup):
    """The learner's own link to see and change their details (sent in the "already signed
    up" email): signed for this purpose only, valid for a week."""
    return links.url('/my-details', DETAILS, {'c': signup.circle_id, 's': signup.signup_id})


def signup_from_details_token(token):
    """The signup a details link points at, or None when it is gone or withdrawn.
    Raises links.BadLink for a tampered, foreign or expired token."""
    return active_signup_of_link(DETAILS, token)


def active_signup_of_link(purpose, token):
    """The current signup a learner's link of `purpose` names ({'c': circle, 's': signup}), or
    None when it is gone or withdrawn; links.BadLink for a tampered, foreign or expired token."""
    payload = links.unsign(purpose, token)
    try:
        signup = Signup.get(*Signup.key(payload['c'], payload['s']), consistent_read=True)
    except Signup.DoesNotExist:
        return None
    return signup if signup.active else None


def update_details(signup, circle, data, now=None):
    """Store the learner's new name, mobile, answers and opt-in, checked by the signup form's
    own rules (the address and the consent stay as they are). One conditional UpdateItem: it
    changes nothing if the learner withdrew meanwhile (then SignupRefused). A mobile number given
    or removed and a changed opt-in are consent records, written with it in one transaction.

    Raises ValidationFailed with nothing written."""
    now = now or circles.utcnow()
    form = validate_signup({**data, 'email': signup.email, 'consent': True}, circle)
    actions = [Signup.name.set(form.name), Signup.mobile.set(form.mobile or None),
               Signup.goals.set(form.goals or None), Signup.support.set(form.support or None),
               Signup.custom_answer.set(form.custom_answer or None),
               Signup.communications_opt_in.set(form.communications_opt_in),
               Signup.updated_at.set(now)]
    if form.mobile:
        actions += [Signup.phone_pk.set(f'PHONE#{form.mobile}'), Signup.phone_sk.set(f'SIGNUP#{circle.id}')]
    else:
        actions += [Signup.phone_pk.remove(), Signup.phone_sk.remove()]
    records = consent.changed_details(signup, form.mobile, form.communications_opt_in, consent.DETAILS_PAGE,
                                      CONSENT_VERSION, now)
    condition = Signup.pk.exists() & Signup.withdrawn_at.does_not_exist()
    try:
        if records:
            def write(transaction):
                transaction.update(signup, actions=actions, condition=condition)
                consent.save_in(transaction, records)
            transact_write(write)
            signup.refresh(consistent_read=True)     # a transaction returns no new values
        else:
            signup.update(actions=actions, condition=condition)
    except (UpdateError, TransactWriteError) as error:
        if not _condition_failed(error):
            raise
        raise SignupRefused(_('You are no longer signed up for this learning circle.')) from None
    return signup


def _condition_failed(error):
    if isinstance(error, TransactWriteError):
        return condition_failed(error)
    return error.cause_response_code == 'ConditionalCheckFailedException'


