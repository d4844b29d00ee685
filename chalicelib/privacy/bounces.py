"""What an SES bounce or complaint does to the addresses it names.

- A hard bounce (`Permanent`) or a complaint puts the address on the suppression list
  (chalicelib.messaging.suppression): the sender then skips every email to it, in every circle
  and account, with the reason recorded (chalicelib.messaging.sender `refusal`).
- A complaint also ends what the person could have unsubscribed from: reminder emails of every
  signup with the address (`reminders_stopped`, found through `by_email`) and the weekly digest of
  every team the address's account belongs to (`digest_opted_out_at`), each change written
  with its consent record (withdrawn, channel `ses-complaint`) in one transaction.
- A soft bounce (`Transient`, `Undetermined`) is counted per address in 30-day windows (a
  `UsageCounter` under the address's keyed hash, expiring through TTL) and suppresses nothing:
  a full mailbox or a greylisting server accepts mail again later.

Each step is idempotent, so SNS delivering the same message twice changes nothing more.
Costs per address: one PutItem (hard bounce); one PutItem, one Query of `by_email`, one GetItem
of the address's account claim, one Query of its memberships and one TransactWriteItems per
signup or membership not yet stopped (complaint); one UpdateItem (soft bounce).
"""
import logging
from datetime import timedelta

from chalicelib.core.clock import utcnow
from chalicelib.models import EmailClaim, Signup, TeamMember
from chalicelib.models.rate_limits import Limit, UsageCounter, window_start
from chalicelib.models import consent
from chalicelib.messaging import suppression
from chalicelib.privacy.sns import BOUNCE, COMPLAINT

log = logging.getLogger(__name__)

SOFT_BOUNCES = Limit('soft-bounce', allowed=0, window=timedelta(days=30))     # counted, never refused
HARD_BOUNCE_REASON, COMPLAINT_REASON = 'bounce', 'complaint'
SES_COMPLAINT = 'ses-complaint'     # the consent records' channel


def record(feedback, now=None):
    """Act on one bounce or complaint (a `chalicelib.privacy.sns.Feedback`). Returns what was done,
    per address: 'suppressed', 'complained' or 'soft bounce counted'."""
    now = now or utcnow()
    done = {}
    for address in feedback.addresses:
        if feedback.kind == COMPLAINT:
            suppression.suppress(address, suppression.EMAIL, COMPLAINT_REASON, now)
            stop_reminders(address, now)
            stop_digests(address, now)
            done[address] = 'complained'
        elif feedback.kind == BOUNCE and feedback.permanent:
            suppression.suppress(address, suppression.EMAIL, HARD_BOUNCE_REASON, now)
            done[address] = 'suppressed'
        elif feedback.kind == BOUNCE:
            count_soft_bounce(address, now)
            done[address] = 'soft bounce counted'
    log.info('ses feedback %s %s (%s): %d address(es)', feedback.kind, feedback.subtype, feedback.message_id,
             len(done))
    return done


def count_soft_bounce(address, now):
    start = window_start(SOFT_BOUNCES, now)
    counter = UsageCounter(*UsageCounter.key(SOFT_BOUNCES.action, suppression.contact_hash(address), start))
    counter.update(actions=[UsageCounter.used.add(1), UsageCounter.expires_at.set(start + SOFT_BOUNCES.window * 2)])


def soft_bounces(address, now=None):
    """How many soft bounces the address had in the current 30-day window (one GetItem)."""
    start = window_start(SOFT_BOUNCES, now or utcnow())
    try:
        return int(UsageCounter.get(*UsageCounter.key(SOFT_BOUNCES.action, suppression.contact_hash(address),
                                                      start)).used or 0)
    except UsageCounter.DoesNotExist:
        return 0


def stop_reminders(address, now):
    """Every signup with the address gets no more reminder emails (the one-click unsubscribe's flag)."""
    for signup in Signup.by_email.query(f'EMAIL#{address}', Signup.email_sk.startswith('SIGNUP#')):
        if not signup.reminders_stopped:
            record = consent.withdrawn(consent.signup_subject(signup.circle_id, signup.signup_id),
                                       consent.REMINDERS, SES_COMPLAINT, now)
            consent.update_with_record(signup, [Signup.reminders_stopped.set(True), Signup.updated_at.set(now)], record)


def stop_digests(address, now):
    """The address's account gets no team's weekly digest any more."""
    try:
        claim = EmailClaim.get(*EmailClaim.key(address))
    except EmailClaim.DoesNotExist:
        return
    for member in TeamMember.by_user.query(f'USER#{claim.user_id}', TeamMember.user_sk.startswith('TEAM#')):
        if member.digest_opted_out_at is None:
            record = consent.withdrawn(consent.user_subject(member.user_id), consent.DIGEST, SES_COMPLAINT, now,
                                       scope=f'TEAM#{member.team_id}')
            consent.update_with_record(member, [TeamMember.digest_opted_out_at.set(now)], record)
