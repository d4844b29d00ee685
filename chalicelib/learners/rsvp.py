"""A learner's links in reminders (RSVP yes/no, short RSVP link, one-click unsubscribe, their
calendar feed) and what happens when they follow them. Learners have no account: each link
is signed for one purpose (`chalicelib.core.links`) and names the circle and the signup.

RSVP links are bound to a learner and a meeting and work until that meeting starts (the
meeting as it is now: a moved meeting moves the deadline). Following a link only opens a page
(mail scanners follow links too): the page shows the meeting with the link's answer selected,
and the learner's tap POSTs it. The signed token in the URL is the credential, so no login and
no CSRF token: a forged POST would need the learner's token. The same answer twice writes
nothing; a new one overwrites the learner's one `Rsvp` item for the meeting. An answer holds
for the meeting as it was answered (`Rsvp.holds_for`): moving the meeting clears it, and the
change notice asks again.

The calendar feed link names the signup and carries a MAC of it (`feed_token`): opaque, no
email in it, and no expiry of its own. It works while that signup does: withdrawing ends it in
the withdrawal's own write, and signing up again later gives a new link, never the old one.

Costs: opening an RSVP link is one BatchGet (circle, signup and current answer); answering adds
one put when the answer changes; a short link adds one GetItem; a one-click unsubscribe is one
transaction (the update and its consent record), done before anything else is read; a feed is
one GetItem (the signup) before the feed's own reads.
"""
import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta, timezone

from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles, meeting_entries
from chalicelib.core import links
from chalicelib.core.links import BadLink
from chalicelib.models import Circle, Signup, TableItem
from chalicelib.models.rsvp import ANSWERS, Rsvp, ShortLink
from chalicelib.models.transactions import condition_failed, transact_write
from chalicelib.core.settings import get_settings
from chalicelib.models import consent

SHORT_CODE_LENGTH = 12                  # base32: 60 bits, not guessable
SHORT_LINK_KEPT = timedelta(days=7)     # after the meeting's start, then DynamoDB's TTL removes it


class MeetingStarted(Exception):
    """The RSVP link's meeting has started (or ended): answers are closed."""


class MeetingMoved(Exception):
    """The answer came from a page that showed the meeting before it moved: nothing recorded."""


@dataclass
class RsvpPage:
    """What the RSVP page shows: the meeting as it is now, the learner's current answer (None
    when there is none, or it was given before the meeting moved) and the one the link offers."""
    circle: Circle
    signup: Signup
    meeting: object
    answer: str | None
    token: str            # a fresh answer-less token for the page's form
    offered: str | None = None

    @property
    def cancelled(self):
        return bool(self.meeting.cancelled)

    @property
    def selected(self):
        """The answer the page's form has selected: the link's, else the current one."""
        return self.offered or self.answer

    @property
    def texts_url(self):
        """The learner's page to stop (or restart) text messages, None without a mobile."""
        from chalicelib.learners.texts import texts_link
        return texts_link(self.signup)


# --- the links in a learner's messages ------------------------------------------------

def learner_links(signup, meeting, save_short=True):
    """{'yes', 'no', 'withdraw', 'unsubscribe', 'texts', 'short'} URLs for one learner and meeting.

    'short' is for SMS: `/r/<code>` for learners with a mobile (saving the ShortLink item,
    the same item every time, unless the caller writes `short_link(...)[1]` itself with
    others), else the page's long URL, which works the same way.
    """
    from chalicelib.learners.signup import withdraw_link
    from chalicelib.learners.texts import texts_link
    if signup.mobile:
        short, item = short_link(signup, meeting)
        if save_short:
            item.save()
    else:
        short = rsvp_url(signup, meeting)
    return {
        'yes': rsvp_url(signup, meeting, 'yes'),
        'no': rsvp_url(signup, meeting, 'no'),
        'withdraw': withdraw_link(signup),
        'unsubscribe': unsubscribe_url(signup),
        'texts': texts_link(signup),        # None without a mobile number
        'short': short,
    }


def rsvp_url(signup, meeting, answer=None):
    """The RSVP page; with an answer, the page has it selected (following the link records nothing)."""
    return links.url('/rsvp', links.RSVP, _rsvp_payload(signup.circle_id, signup.signup_id,
                                                        meeting.meeting_id, answer))


def short_link(signup, meeting):
    """(the `/r/<code>` URL, the ShortLink item it needs in the table)."""
    code = short_code(signup.circle_id, signup.signup_id, meeting.meeting_id)
    item = ShortLink(*ShortLink.key(code), circle_id=signup.circle_id, signup_id=signup.signup_id,
                     meeting_id=meeting.meeting_id, expires_at=meeting.starts_at + SHORT_LINK_KEPT)
    return f'{get_settings().public_base_url}/r/{code}', item


def short_code(circle_id, signup_id, meeting_id):
    """Derived, not random: a retried reminder writes the same item and sends the same link."""
    message = f'short\n{circle_id}\n{signup_id}\n{meeting_id}'.encode()
    digest = hmac.new(get_settings().secret_key.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:SHORT_CODE_LENGTH]


def unsubscribe_url(signup):
    """The `List-Unsubscribe` URL: a POST stops reminder emails for this signup."""
    return links.url('/unsubscribe', links.UNSUBSCRIBE, {'c': signup.circle_id, 's': signup.signup_id})


FEED_MAC_LENGTH = 26    # base32: 130 bits


def feed_token(signup):
    """`<circle id>.<signup id>.<MAC>`: the MAC covers the signup's creation time, so a signup
    made again after a withdrawal (same key) gets a new token. None for a signup without one."""
    if not signup.active or signup.created_at is None:
        return None
    return f'{signup.circle_id}.{signup.signup_id}.{_feed_mac(signup.circle_id, signup.signup_id, signup.created_at)}'


def _feed_mac(circle_id, signup_id, created_at):
    created = created_at.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')
    message = f'feed\n{circle_id}\n{signup_id}\n{created}'.encode()
    digest = hmac.new(get_settings().secret_key.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:FEED_MAC_LENGTH]


def learner_feed_url(signup):
    """A calendar subscription URL with every meeting of every circle this learner signed up to
    (by the signup's email), or None once the signup is withdrawn."""
    token = feed_token(signup)
    return token and f'{get_settings().public_base_url}/calendar/{token}/circles.ics'


def signup_from_feed_token(token):
    """The active signup a feed token belongs to: one GetItem. Raises BadLink for tampered or
    unknown tokens and for a signup that was withdrawn (or withdrawn and made again)."""
    parts = token.split('.')
    if len(parts) != 3 or len(parts[2]) != FEED_MAC_LENGTH or not all(parts):
        raise BadLink('not a calendar feed token')
    circle_id, signup_id, mac = parts
    try:
        signup = Signup.get(*Signup.key(circle_id, signup_id))
    except Signup.DoesNotExist:
        raise BadLink('no such signup') from None
    expected = feed_token(signup)
    if expected is None or not hmac.compare_digest(expected, token) or not signup.email:
        raise BadLink('the feed link was withdrawn or altered')
    return signup


# --- answering ------------------------------------------------------------------------

def _rsvp_payload(circle_id, signup_id, meeting_id, answer=None):
    payload = {'c': circle_id, 's': signup_id, 'm': meeting_id}
    if answer:
        payload['a'] = answer
    return payload


def _rsvp_token_payload(token):
    payload = links.unsign(links.RSVP, token)
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in 'csm'):
        raise BadLink('not an RSVP token')
    if payload.get('a') not in (None, *ANSWERS):
        raise BadLink('not an RSVP answer')
    return payload


def answer_from_token(token):
    """The answer a yes/no link carries (None for the page's own link). Raises BadLink."""
    return _rsvp_token_payload(token).get('a')


def open_rsvp(token, now=None):
    """The page for an RSVP token, with the token's answer offered. Reads only. Raises BadLink
    (tampered, foreign, or its learner or meeting is gone) or MeetingStarted."""
    payload = _rsvp_token_payload(token)
    page = _open(payload['c'], payload['s'], payload['m'], now)
    page.offered = payload.get('a')
    return page


def open_short_link(code, now=None):
    """The page for a short link's code; unknown codes are BadLink like tampered tokens."""
    if len(code) != SHORT_CODE_LENGTH:
        raise BadLink('not a short link')
    try:
        link = ShortLink.get(*ShortLink.key(code))
    except ShortLink.DoesNotExist:
        raise BadLink('no such short link') from None
    return _open(link.circle_id, link.signup_id, link.meeting_id, now)


def _open(circle_id, signup_id, meeting_id, now):
    now = now or circles.utcnow()
    keys = [Circle.key(circle_id), Signup.key(circle_id, signup_id), Rsvp.key(circle_id, meeting_id, signup_id)]
    items = {(item.pk, item.sk): item for item in TableItem.batch_get(keys)}
    circle = items.get(Circle.key(circle_id))
    signup = items.get(Signup.key(circle_id, signup_id))
    rsvp = items.get(Rsvp.key(circle_id, meeting_id, signup_id))
    meeting = circle and next((m for m in circle.meetings if m.meeting_id == meeting_id), None)
    if meeting is None or signup is None or not signup.active:
        raise BadLink('the learner or the meeting is gone')
    if meeting.starts_at <= now:
        raise MeetingStarted(meeting)
    token = links.sign(links.RSVP, _rsvp_payload(circle_id, signup_id, meeting_id))
    answer = rsvp.answer if rsvp and rsvp.holds_for(meeting) else None
    return RsvpPage(circle, signup, meeting, answer, token)


def record_answer(page, answer, now=None, seen_sequence=None):
    """Keep the learner's one answer for the meeting as it is now; True when it changed.

    Nothing is written for a cancelled meeting or an answer the learner already gave.
    `seen_sequence` (the form's copy of `meeting.sequence`, a string) is what the learner
    answered: MeetingMoved when the meeting moved since, so an answer is never kept for a time
    the learner did not see.
    """
    if answer not in ANSWERS:
        raise ValueError(f'not an answer: {answer!r}')
    if page.cancelled:
        return False
    if seen_sequence is not None and seen_sequence != str(int(page.meeting.sequence or 0)):
        raise MeetingMoved(page.meeting)
    if page.answer == answer:
        return False
    circle_id, signup_id, meeting_id = page.circle.id, page.signup.signup_id, page.meeting.meeting_id
    now = now or circles.utcnow()
    sequence = int(page.meeting.sequence or 0)
    rsvp = Rsvp(*Rsvp.key(circle_id, meeting_id, signup_id), circle_id=circle_id, meeting_id=meeting_id,
                signup_id=signup_id, answer=answer, answered_at=now, sequence=sequence,
                created_at=now, updated_at=now)
    if page.circle.team_id and page.circle.published:
        _save_tallied(rsvp, sequence)
    else:
        rsvp.save()
    page.answer = answer
    return True


def _save_tallied(rsvp, sequence):
    """The answer and its tally on the meeting's team entry, in one transaction. When the entry
    refuses (the meeting moved since it was read, or its entry is not written yet) the answer is
    kept alone: it holds only for the sequence it names, like any answer."""
    def write(transaction):
        transaction.save(rsvp)
        meeting_entries.tally_answer(transaction, rsvp.circle_id, rsvp.meeting_id, rsvp.signup_id, rsvp.answer,
                                     sequence)
    try:
        transact_write(write)
    except TransactWriteError as error:
        if not condition_failed(error):
            raise
        rsvp.save()


# --- one-click unsubscribe ----------------------------------------------------------------

def _unsubscribe_key(token):
    payload = links.unsign(links.UNSUBSCRIBE, token)
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in 'cs'):
        raise BadLink('not an unsubscribe token')
    return payload['c'], payload['s']


def stop_reminders(token, now=None):
    """Stop reminder emails for the token's signup, at once: one conditional update.

    Returns the circle id. A signup that is gone gets nothing any more anyway, so that
    is not an error either (the one-click POST must answer 200). Raises BadLink. The consent
    record of the withdrawal is written in the same transaction (none for a signup that is gone).
    """
    circle_id, signup_id = _unsubscribe_key(token)
    now = now or circles.utcnow()
    signup = Signup(*Signup.key(circle_id, signup_id))
    record = consent.withdrawn(consent.signup_subject(circle_id, signup_id), consent.REMINDERS, consent.ONE_CLICK, now)

    consent.update_with_record(signup, [Signup.reminders_stopped.set(True), Signup.updated_at.set(now)], record,
                               condition=Signup.pk.exists() & Signup.withdrawn_at.does_not_exist())
    return circle_id


def unsubscribe_status(token):
    """(circle or None, signup or None) for the confirmation page: one BatchGet. Raises BadLink."""
    circle_id, signup_id = _unsubscribe_key(token)
    items = {(item.pk, item.sk): item
             for item in TableItem.batch_get([Circle.key(circle_id), Signup.key(circle_id, signup_id)])}
    return items.get(Circle.key(circle_id)), items.get(Signup.key(circle_id, signup_id))
