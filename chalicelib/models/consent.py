"""Writing consent records: what a person agreed to or withdrew, when, through which form or channel.

    consent.save_in(transaction, consent.at_signup(signup, consent.SIGNUP_FORM, version, now))
    consent.save_in(transaction, [consent.withdrawn(subject, consent.SMS, consent.SMS_STOP, now)])

Every change of consent writes its record in the same DynamoDB write as the change itself (the
signup's transaction, the STOP's update, the one-click unsubscribe), so the record and the state
never disagree. Records are never changed; a later record of the same topic supersedes an earlier
one. They name the person by a subject without their address (`signup_subject`, `user_subject`).

The vocabulary lives here, beside the model, because the features that change consent (learners,
sms_inbound, teams) sit below chalicelib.privacy, which reads, exports and moves the records
(chalicelib.privacy.consent).
"""
from chalicelib.models.privacy import ConsentRecord

# Topics: what was agreed to.
SIGNUP = 'signup'                    # the signup form's consent (its wording: learners.signup.CONSENT_VERSION)
SMS = 'sms'                          # text messages, by giving a mobile number
FURTHER = 'further-communication'    # `communications_opt_in`: news beyond the circle
DIGEST = 'digest'                    # a team member's weekly digest
REMINDERS = 'reminders'              # reminder emails of a circle
TOPICS = (SIGNUP, SMS, FURTHER, DIGEST, REMINDERS)

GIVEN, WITHDRAWN = 'given', 'withdrawn'

# Channels: the form or the message through which it was given or withdrawn.
SIGNUP_FORM = 'signup-form'
PARTNER_API = 'partner-api'          # POST /api/signup/ from a partner's website
TEAM_WIDGET = 'team-widget'          # a team's embedded signup form
DETAILS_PAGE = 'details-page'
TEXTS_PAGE = 'texts-page'          # a learner's page that turns text messages off or on
WITHDRAW_LINK = 'withdraw-link'
ONE_CLICK = 'one-click-unsubscribe'
SMS_STOP = 'sms-stop'
SMS_START = 'sms-start'
DIGEST_ONE_CLICK = 'digest-unsubscribe'
MY_DATA = 'my-data'


def signup_subject(circle_id, signup_id):
    return f'SIGNUP#{circle_id}#{signup_id}'


def user_subject(user_id):
    return f'USER#{user_id}'


def record(subject, topic, given, channel, at, wording_version=None, scope=None):
    """A new record (not written yet)."""
    if topic not in TOPICS or given not in (GIVEN, WITHDRAWN):
        raise ValueError(f'not a consent record: {topic!r} {given!r}')
    return ConsentRecord(*ConsentRecord.key(subject, at, topic), subject=subject, topic=topic, given=given,
                         wording_version=wording_version, channel=channel, at=at, scope=scope, created_at=at)


def withdrawn(subject, topic, channel, at, scope=None):
    return record(subject, topic, WITHDRAWN, channel, at, scope=scope)


def given(subject, topic, channel, at, wording_version=None, scope=None):
    return record(subject, topic, GIVEN, channel, at, wording_version, scope)


def at_signup(signup, channel, wording_version, at):
    """The records of a new signup: the form's consent, SMS when a mobile was given, further
    communication when ticked. All share the form's wording version."""
    subject = signup_subject(signup.circle_id, signup.signup_id)
    records = [given(subject, SIGNUP, channel, at, wording_version)]
    if signup.mobile:
        records.append(given(subject, SMS, channel, at, wording_version))
    if signup.communications_opt_in:
        records.append(given(subject, FURTHER, channel, at, wording_version))
    return records


def changed_details(signup, mobile, opt_in, channel, wording_version, at):
    """The records of a change of details: SMS given or withdrawn when the mobile number came or
    went, further communication when the box changed. Empty when neither changed."""
    subject = signup_subject(signup.circle_id, signup.signup_id)
    records = []
    if bool(mobile) != bool(signup.mobile):
        records.append(record(subject, SMS, GIVEN if mobile else WITHDRAWN, channel, at, wording_version))
    if bool(opt_in) != bool(signup.communications_opt_in):
        records.append(record(subject, FURTHER, GIVEN if opt_in else WITHDRAWN, channel, at, wording_version))
    return records


def save_in(transaction, records):
    """Add the records' puts to a PynamoDB TransactWrite (each a new item: never overwritten)."""
    for item in records:
        transaction.save(item)


def update_with_record(item, actions, record, condition=None):
    """Update `item` and write its consent record in one transaction, on `condition` (by default:
    the item still exists). False, with nothing written, when the condition does not hold."""
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.models.transactions import condition_failed, transact_write

    def write(transaction):
        transaction.update(item, actions=actions, condition=type(item).pk.exists() if condition is None else condition)
        save_in(transaction, [record])
    try:
        transact_write(write)
    except TransactWriteError as error:
        if not condition_failed(error):
            raise
        return False
    return True
