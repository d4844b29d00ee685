"""Erasing a learner: every item about them removed, or kept without anything that leads back.

    erase(contact, now)     # from their /my-data page: the contact proved by the signed link

For each signup of the contact (current ones are withdrawn first: the circle's count, the tally
of the meetings to come, the survey answer and the texts go with `learners.signup.withdraw`):

- the signup is replaced by a stand-in, `SIGNUP#erased-<random id>`, withdrawn, with no name,
  contact, answers or index keys: the circle's history still counts a learner who left, and the
  facilitator's page says "Personal information removed". The signup id is an HMAC of the email,
  so nothing may keep it: every item keyed by it is deleted or moved to the stand-in's id;
- RSVPs (`RSVP#<meeting>#<signup id>`) are deleted, and the id leaves the yes/no tallies of every
  meeting entry, past meetings too;
- outbox items to the learner, and the facilitators' notices about them, are deleted with their
  addresses, provider errors and bodies; so are the short links (their codes are computed from
  circle, signup and meeting), the survey answer and the texts they sent;
- consent records move to the stand-in's subject, with one more: erased, through `my-data`;
- on the local stage, the local SMS outbox's texts to their number.

Then the contact and every mobile of those signups go on the suppression list (keyed hashes only:
nothing is sent to them again), and one confirmation is written in the same transaction, to the
contact the request proved: its template ignores the suppression list it has just joined, and
its key names the day, so erasing twice sends one confirmation.

Costs: the export's reads per signup (`export.about`) and one Query of the circle's meeting
entries, then BatchWriteItems (25 per call) and one UpdateItem per tallied entry; one
TransactWriteItems for the suppression entries and the confirmation.
"""
from dataclasses import dataclass

from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles as circle_rules
from chalicelib.circles import meeting_entries
from chalicelib.core import ids
from chalicelib.core.i18n import _
from chalicelib.core.rendering import render
from chalicelib.core.settings import get_settings
from chalicelib.learners.rsvp import short_code
from chalicelib.learners.signup import withdraw
from chalicelib.messaging import email, outbox
from chalicelib.messaging.sender import Template
from chalicelib.models import Delivery, LocalSms, MeetingEntry, Signup, TableItem
from chalicelib.models.rsvp import ShortLink
from chalicelib.models.transactions import condition_failed, transact_write
from chalicelib.models import consent
from chalicelib.messaging import suppression
from chalicelib.privacy.consent import moved_to, records_of
from chalicelib.privacy.export import about, link_requests
from chalicelib.privacy.my_data import EMAIL, circles_of

ERASED = 'erased-'
REMOVED = 'Personal information removed'


@dataclass
class Erasure:
    signups: int            # how many signups were erased
    confirmed: bool         # a confirmation was written now (False: one was written today already)


def is_erased(signup):
    """True for the stand-in that an erased learner's signup became."""
    return signup.signup_id.startswith(ERASED)


def erase(contact, now=None):
    """Erase everything held about `contact` (see the module docstring)."""
    now = now or circle_rules.utcnow()
    data = circles_of(contact)
    mobiles = {h.signup.mobile for h in data.held if h.signup.mobile}
    mentions = {value for h in data.held for value in (h.signup.email, h.signup.name) if value}
    for held in data.held:
        items = about(held.signup, held.circle)      # before withdrawing, which deletes the texts
        if held.active:
            withdraw(held.signup, now, channel=consent.MY_DATA)
            items.consents = records_of(consent.signup_subject(held.signup.circle_id, held.signup.signup_id))
        _erase_signup(held.signup, held.circle, items, now)
    with Delivery.batch_write() as batch:
        for item in link_requests(contact):
            batch.delete(item)
    _forget_local_texts({contact.value} | mobiles if contact.channel != EMAIL else mobiles)
    _forget_local_emails(mentions | ({contact.value} if contact.channel == EMAIL else set()))
    suppressed = [(contact.value, contact.channel)] + [(m, suppression.SMS) for m in sorted(mobiles - {contact.value})]
    return Erasure(len(data.held), _suppress_and_confirm(contact, suppressed, now))


def _erase_signup(signup, circle, items, now):
    stand_in_id = f'{ERASED}{ids.new_id(16)}'
    stand_in = Signup(*Signup.key(signup.circle_id, stand_in_id), signup_id=stand_in_id, circle_id=signup.circle_id,
                      created_at=signup.created_at, updated_at=now, withdrawn_at=signup.withdrawn_at or now,
                      consent_at=signup.consent_at, consent_version=signup.consent_version)
    subject = consent.signup_subject(signup.circle_id, stand_in_id)
    moved = {(r.pk, r.sk): r for r in moved_to(items.consents, subject)}
    erased = consent.withdrawn(subject, consent.SIGNUP, consent.MY_DATA, now)
    moved.setdefault((erased.pk, erased.sk), erased)     # the withdrawal just now says it already
    # The stand-in and the records first, the signup last: a retry after a crash finds it again.
    with TableItem.batch_write() as batch:
        for item in [stand_in, *moved.values()]:
            batch.save(item)
    for entry in meeting_entries.entries_of(signup.circle_id):
        if signup.signup_id in (entry.yes or set()) | (entry.no or set()):
            entry.update(actions=[MeetingEntry.yes.delete({signup.signup_id}),
                                  MeetingEntry.no.delete({signup.signup_id})])
    codes = [short_code(signup.circle_id, signup.signup_id, m.meeting_id) for m in (circle.meetings if circle else [])]
    with TableItem.batch_write() as batch:
        for item in [*items.rsvps, *([items.survey] if items.survey else []), *items.deliveries, *items.notices,
                     *items.texts, *items.consents]:
            batch.delete(item)
        for code in codes:
            batch.delete(ShortLink(*ShortLink.key(code)))
        batch.delete(signup)


def _forget_local_texts(numbers):
    """The local stage's SMS outbox (texts "sent" without Twilio) keeps the number and the words."""
    if not numbers or not get_settings().is_local:
        return
    from chalicelib.messaging.sms import local_outbox
    with LocalSms.batch_write() as batch:
        for sms in local_outbox(limit=None):
            if sms.to in numbers:
                batch.delete(sms)


def _forget_local_emails(mentions):
    """The local stage's email outbox (moto's record of every email sent) keeps the addresses,
    names and words: the emails naming the learner go (the confirmation, sent after, stays)."""
    if mentions and get_settings().is_local:
        from chalicelib.messaging.local_outbox import forget_emails
        forget_emails(mentions)


def _suppress_and_confirm(contact, contacts, now):
    """The suppression entries and the confirmation, in one transaction; the entries alone when
    today's confirmation exists already. True when the confirmation was written now."""
    entries = [suppression.entry(value, channel, 'erased', now) for value, channel in contacts]
    confirmation = confirmation_item(contact, now)

    def write(transaction):
        for item in entries:
            transaction.save(item)
        transaction.save(*outbox.put(confirmation))
    try:
        transact_write(write)
        return True
    except TransactWriteError as error:
        if not condition_failed(error):
            raise
    for item in entries:
        item.save()
    return False


def confirmation_item(contact, now):
    """The one message confirming the erasure, to the contact (its partition named by the
    suppression list's hash of it, its purpose by the day)."""
    template = 'my_data_erased' if contact.channel == EMAIL else 'my_data_erased_sms'
    return outbox.message(f'ERASED#{suppression.contact_hash(contact.value)}', f'erased#{now:%Y%m%d}', 'learner',
                          contact.channel, template, now, to=contact.value)


def _render_email(item, reads, to, now):
    return email.build_message(to=to, subject=_('We erased your data'), text=render('email/my_data_erased.txt'),
                               html=render('email/my_data_erased.html'))


def _render_sms(item, reads, to, now):
    from chalicelib.messaging.sms_text import fold_to_gsm7
    return fold_to_gsm7(_('Learning circles: we erased your data. We will not text this number again.'))


# The confirmation goes to the contact it has just put on the suppression list, and its item
# forgets that contact once it is final.
MY_DATA_ERASED = Template(keys=lambda item: [], render=_render_email, ignores_suppression=True,
                          forgets_recipient=True)
MY_DATA_ERASED_SMS = Template(keys=lambda item: [], render=_render_sms, ignores_suppression=True,
                              forgets_recipient=True)
