"""Deleting a facilitator's or organizer's account, and what becomes of their circles.

Each circle they facilitate goes one way (`deletion_plan` says which ways are open):

- HAND_OVER (automatic when someone else facilitates it too): the others keep it;
- TEAM (a team's circle): it stays in the team, whose organizers manage it;
- ANONYMISE: kept for the figures (a team's, the insights report) with nobody's name on it; a circle
  not finished yet is unpublished first, its learners told as `circle_admin.unpublish` tells them;
- DELETE: unpublished (its learners told by email, written with the unpublication) and every
  other item of its partition removed; the circle item stays as a nameless, empty tombstone, so
  every container's catalog learns it is gone (an item deleted outright never reaches them).

In every way that keeps the circle, the person leaves no trace in it: they are off its facilitator
lists (so its catalog card, meeting entries and insights report), their feedback, messages and
survey answer stay under FORMER_FACILITATOR (the feedback follows the circle's choice), and the
emails that went to them are deleted. A kept circle names no former facilitator at all.

Then their team memberships end (refused up front, with nothing changed, while they are the last
organizer of a team), the invitations they sent forget who sent them, their account emails and
digests go, every session ends, and one transaction deletes the account and its email claim with
a confirmation email to the address (its outbox item is the one item left holding the address:
the sender needs it). Their address goes on no suppression list: they may register again.

Cost: a Query and some writes per circle (a deleted circle's items in BatchWriteItems of 25), one
Query per team partition; it grows with what the person holds, never with the rest of the table.
A failure midway leaves the account in place: deleting again finishes the job.
"""
from dataclasses import dataclass, field

from pynamodb.exceptions import TransactWriteError

from chalicelib.core.clock import utcnow
from chalicelib.core import i18n
from chalicelib.core.errors import Refusal, ValidationFailed
from chalicelib.core.i18n import N_, _
from chalicelib.core.ids import new_id
from chalicelib.messaging import prepared
from chalicelib.models import (Circle, CircleFacilitator, CircleMessage, Course, Delivery, EmailClaim,
                               MeetingFeedback, MeetingReminder, Signup, TableItem, Team, TeamInvitation, User)
from chalicelib.models.digest import TeamDigest
from chalicelib.models.ending import FacilitatorSurvey, InsightsReport
from chalicelib.models.privacy import ConsentRecord
from chalicelib.models.transactions import transact_write
from chalicelib.teams.teams import LastOrganizer

HAND_OVER, TEAM, ANONYMISE, DELETE = 'hand-over', 'team', 'anonymise', 'delete'
# Stored in the circle's items (data, in English like every stored value): not translated.
FORMER_FACILITATOR = 'A former facilitator'
FORMER_ID = 'former'
DELETED_NAME = 'Deleted circle'
WRONG_PASSWORD = N_('This is not your current password.')
MAX_NOTICES_WITH_CIRCLE = 99        # a transaction holds 100 items: the circle and 99 notices
CONFIRMATION_SUBJECT = N_('Your Circles account is deleted')


class TeamNeedsOrganizer(LastOrganizer):
    """Deleting the account would leave a team without an organizer; nothing was changed."""
    def __init__(self, team_name):
        super().__init__(_('You are the last organizer of %(team)s. Make another member an organizer '
                           '(or ask the site administrators to), then delete your account. Nothing was changed.')
                         % {'team': team_name})


@dataclass
class CirclePlan:
    """One circle the person facilitates, and the ways it may go."""
    circle: Circle
    others: list = field(default_factory=list)     # the other facilitators' names
    team_name: str = None

    @property
    def choices(self):
        if self.others:
            return (HAND_OVER,)
        if self.circle.team_id:
            return (TEAM, ANONYMISE, DELETE)
        return (ANONYMISE, DELETE)

    @property
    def field(self):
        return f'circle-{self.circle.id}'


def deletion_plan(user_id):
    """Every circle the person facilitates, with its choices: one Query of `by_user`, one
    BatchGetItem of the circles and one of their teams."""
    from chalicelib.facilitators.access import my_circles
    circles = sorted(my_circles(user_id), key=lambda c: (c.name.casefold(), c.id))
    team_ids = sorted({c.team_id for c in circles if c.team_id})
    teams = {t.team_id: t.name for t in Team.batch_get([Team.key(t) for t in team_ids])} if team_ids else {}
    return [CirclePlan(circle, others=[name for uid, name in zip(circle.facilitator_ids, circle.facilitator_names)
                                       if uid != user_id],
                       team_name=teams.get(circle.team_id) if circle.team_id else None)
            for circle in circles]


def chosen(plans, fields):
    """{circle id: choice} from the form (`circle-<id>`), or ValidationFailed naming each circle
    without a valid choice. A circle with one way goes that way."""
    result, errors = {}, {}
    for plan in plans:
        choice = plan.choices[0] if len(plan.choices) == 1 else (fields.get(plan.field) or '').strip()
        if choice not in plan.choices:
            errors[plan.field] = [_('Choose what becomes of %(circle)s.') % {'circle': plan.circle.name}]
        result[plan.circle.id] = choice
    if errors:
        raise ValidationFailed(errors)
    return result


def delete_account(user, password, fields, now=None):
    """Delete `user`'s account after checking `password` (ValidationFailed, nothing changed) and
    the choices in `fields` (see `chosen`); TeamNeedsOrganizer, nothing changed, while they are
    the last organizer of a team. Returns {circle id: choice}."""
    from chalicelib.accounts.accounts import clear_login_throttles, password_matches
    from chalicelib.accounts.sessions import revoke_all
    from chalicelib.teams.teams import ORGANIZER, leave_team, memberships_of, team_partition
    now = now or utcnow()
    if not password_matches(user.password_hash, password or ''):
        raise ValidationFailed({'password': [_(WRONG_PASSWORD)]})
    plans = deletion_plan(user.user_id)
    choices = chosen(plans, fields)
    memberships = memberships_of(user.user_id)
    partitions = {m.team_id: team_partition(m.team_id) for m in memberships}
    for member in memberships:
        part = partitions[member.team_id]
        if member.role == ORGANIZER and part and not any(
                m.role == ORGANIZER and m.user_id != user.user_id for m in part.members):
            raise TeamNeedsOrganizer(part.team.name)
    for plan in plans:
        _apply(plan, choices[plan.circle.id], user, now)
    for member in memberships:
        leave_team(member.team_id, user.user_id)
        _forget_in_team(member.team_id, user)
    _delete_partition_items(f'ACCOUNT#{user.user_id}')
    revoke_all(user.user_id)
    clear_login_throttles(user.email)
    _delete_user(user, now)
    return choices


# --- one circle -------------------------------------------------------------------------------

def _apply(plan, choice, user, now):
    from chalicelib.facilitators import circle_admin
    circle = plan.circle
    items = list(TableItem.query(f'CIRCLE#{circle.id}', consistent_read=True))
    if choice == DELETE:
        _delete_circle(circle, items, now)
        return
    messages = []
    if choice == ANONYMISE and circle.published and not _finished(circle, now):
        messages = circle_admin.unpublish(circle, now)
    first_name = _drop_facilitator(circle, user.user_id)
    circle_admin.save(circle, messages)
    _forget_in_circle(items, user, first_name)


def _finished(circle, now):
    from chalicelib.circles.circles import is_finished
    return is_finished(circle, now)


def _drop_facilitator(circle, user_id):
    """Take `user_id` off the circle's three parallel lists; returns the name it had there."""
    if user_id not in circle.facilitator_ids:
        return None
    index = circle.facilitator_ids.index(user_id)
    names = list(circle.facilitator_names)
    name = names[index] if index < len(names) else None

    def without(values):
        return [v for i, v in enumerate(values) if i != index]
    circle.facilitator_ids = without(circle.facilitator_ids)
    circle.facilitator_names = without(circle.facilitator_names)
    circle.facilitator_emails = without(circle.facilitator_emails)
    return name


def _mentions(item, user):
    """An outbox item to or about the person: their address, their recipient id, their user id."""
    params = item.params or {}
    return (item.to == user.email or user.user_id in (item.recipient_id or '')
            or user.user_id in (params.get('user'), params.get('by')))


def _forget_in_circle(items, user, first_name):
    """The person's traces in a circle that stays: their link and the emails to them go, their
    feedback, messages and survey answer stay without their name, the report drops their name."""
    uid = user.user_id
    deleted, saved = [], []
    for item in items:
        if isinstance(item, CircleFacilitator) and item.user_id == uid:
            deleted.append(item)
        elif isinstance(item, Delivery) and _mentions(item, user):
            deleted.append(item)
        elif isinstance(item, (MeetingFeedback, CircleMessage)) and item.author_id == uid:
            item.author_id, item.author_name = FORMER_ID, FORMER_FACILITATOR
            saved.append(item)
        elif isinstance(item, MeetingReminder) and item.edited_by == uid:
            item.edited_by = None
            saved.append(item)
        elif isinstance(item, FacilitatorSurvey) and item.user_id == uid:
            deleted.append(item)        # its key holds the user id: kept under a new one
            kept = FacilitatorSurvey(*FacilitatorSurvey.key(item.circle_id, f'{FORMER_ID}-{new_id()}'),
                                     **{name: getattr(item, name) for name in FacilitatorSurvey.get_attributes()
                                        if name not in ('pk', 'sk', 'kind')})
            kept.user_id = FORMER_ID
            saved.append(kept)
        elif isinstance(item, InsightsReport):
            if item.generated_by == uid:
                item.generated_by = None
            facts = (item.figures or {}).get('circle') or {}
            if first_name and first_name in (facts.get('facilitators') or []):
                facts['facilitators'] = [n for n in facts['facilitators'] if n != first_name]
            saved.append(item)
    _batch_write(deleted, saved)


def _batch_write(deleted, saved):
    """Delete and rewrite items in BatchWriteItems (25 each): the account's own traces, no condition."""
    with TableItem.batch_write() as batch:
        for item in deleted:
            batch.delete(item)
        for item in saved:
            batch.save(item)


def _delete_circle(circle, items, now):
    """Unpublish the circle with an email to each current learner (in one transaction with the
    circle, as far as a transaction holds), reduce the circle item to a tombstone, and delete every
    other item of its partition."""
    from chalicelib.facilitators import circle_admin
    notices = []
    if circle.published:
        notices = [_deleted_notice(circle, signup, now) for signup in items
                   if isinstance(signup, Signup) and signup.active and signup.email]
    _tombstone(circle)
    circle_admin.save(circle, notices[:MAX_NOTICES_WITH_CIRCLE])
    if notices[MAX_NOTICES_WITH_CIRCLE:]:
        from chalicelib.messaging import outbox
        outbox.write(notices[MAX_NOTICES_WITH_CIRCLE:])
    keep = {(circle.pk, circle.sk)} | {(n.pk, n.sk) for n in notices}
    _delete_partition_items(circle.pk, keep)


def _deleted_notice(circle, signup, now):
    """The learner's email, written whole (in the circle's language, as every message about a
    circle): the circle and their signup are gone when it is sent."""
    first = (signup.name or '').split()[0] if signup.name else ''
    with i18n.language(circle.language):
        text = _paragraphs(
            _('Hello %(name)s,') % {'name': first} if first else _('Hello,'),
            _('"%(circle)s" will not take place: its facilitator deleted it. Your signup and everything you '
              'told us for it were deleted with it, and you will get no more emails about it.') % {'circle': circle.name},
            _('Other learning circles may meet near you: see the listing on our website.'))
        subject = _('%(circle)s is cancelled') % {'circle': circle.name}
        return prepared.email(circle.pk, f'circle-deleted#{now:%Y%m%dT%H%M%S%f}', f'learner-{new_id()}',
                              signup.email, subject, text, _html(text), now, circle_id=circle.id)


def _tombstone(circle):
    """What stays of a deleted circle: an unpublished, empty item without words, place,
    meetings, team or facilitators (its catalog card becomes empty when saved)."""
    circle.published = False
    circle.signup_open = False
    circle.name = DELETED_NAME
    circle.course = Course(title=DELETED_NAME, topics=[])
    for name in ('description', 'venue_name', 'venue_address', 'venue_details', 'venue_website', 'city', 'region',
                 'country', 'latitude', 'longitude', 'online_link', 'signup_question', 'welcome_message',
                 'image_url', 'team_id', 'capacity'):
        setattr(circle, name, None)
    circle.meetings = []
    circle.facilitator_ids, circle.facilitator_names, circle.facilitator_emails = [], [], []


def _delete_partition_items(partition, keep=frozenset()):
    """Delete every item of a partition but those in `keep`: one Query (paged) and a
    BatchWriteItem per 25 items."""
    with TableItem.batch_write() as batch:
        for item in TableItem.query(partition, consistent_read=True):
            if (item.pk, item.sk) not in keep:
                batch.delete(item)


# --- teams and the account ----------------------------------------------------------------------

def _forget_in_team(team_id, user):
    """In the team's partition: invitations they sent forget the sender, the one to their address
    and the emails to them go; in its digests' partition, the digests to them go. Two Queries."""
    deleted, saved = [], []
    for item in TableItem.query(f'TEAM#{team_id}', consistent_read=True):
        if isinstance(item, TeamInvitation) and item.email == user.email:
            deleted.append(item)
        elif isinstance(item, TeamInvitation) and item.invited_by == user.user_id:
            item.invited_by, item.invited_by_name = None, None
            saved.append(item)
        elif isinstance(item, Delivery) and _mentions(item, user):
            deleted.append(item)
    for item in TableItem.query(TeamDigest.partition(team_id), TableItem.sk.startswith('DELIVERY#'),
                                consistent_read=True):
        if isinstance(item, Delivery) and _mentions(item, user):
            deleted.append(item)
    _batch_write(deleted, saved)


def _delete_user(user, now):
    """The account, its email claim, a consent record saying it ended, and the confirmation email,
    in one transaction (conditional on the password not having changed since it was checked)."""
    subject = f'USER#{user.user_id}'
    record = ConsentRecord(*ConsentRecord.key(subject, now, 'account'), subject=subject, topic='account',
                           given='withdrawn', channel='account-delete', at=now, created_at=now)
    confirmation = confirmation_email(user, now)

    def write(transaction):
        transaction.delete(User(*User.key(user.user_id)), condition=User.password_hash == user.password_hash)
        transaction.delete(EmailClaim(*EmailClaim.key(user.email)), condition=EmailClaim.user_id == user.user_id)
        transaction.save(record)
        transaction.save(confirmation, condition=Delivery.pk.does_not_exist())
    try:
        transact_write(write)
    except TransactWriteError:
        raise Refusal(_('Your account changed while it was being deleted (a new password or address?). '
                        'Please sign in again and delete it once more.')) from None


def confirmation_email(user, now):
    """The email that confirms the deletion, written whole: the account is gone when it is sent."""
    text = _paragraphs(
        _('Hello %(name)s,') % {'name': user.first_name},
        _('Your Circles account and what it held are deleted, as you asked. '
          'Circles you handed over stay with their facilitators or team, without your name.'),
        _('You may register again with this address at any time.'))
    return prepared.email(f'ACCOUNT#{user.user_id}', f'account-deleted#{now:%Y%m%dT%H%M%S%f}',
                          f'user-{user.user_id}', user.email, _(CONFIRMATION_SUBJECT), text, _html(text), now)


def _paragraphs(*paragraphs):
    return '\n\n'.join(paragraphs) + '\n'


def _html(text):
    from markupsafe import escape
    return ''.join(f'<p>{escape(paragraph)}</p>' for paragraph in text.strip().split('\n\n'))
