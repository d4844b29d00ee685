"""Running a published circle: what its facilitator page shows, editing its details and
meetings, signup open or closed, unpublishing, co-facilitators and the signups export.

Every change is applied to a circle read by `facilitation.workspace` and written with
`circles.save`, which refuses the write when someone else saved the circle meanwhile
(CircleChanged: the page re-reads and asks the facilitator to check and submit again).

Meetings keep what the reminders need to tell learners about a change: a `sequence`
that grows with every move or cancel (iCalendar SEQUENCE), the list of `changes`, and
cancelled meetings stay in the list with `cancelled=True`.
"""
import csv
import io
import re
from datetime import date, time, timedelta, timezone

from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.circles import circles
from chalicelib.core import fields as rules
from chalicelib.core.errors import NotFound, Refusal, ValidationFailed
from chalicelib.core.formatting import meeting_when_short
from chalicelib.models.transactions import TransactionBusy, transact_write
from chalicelib.models import Circle, CircleFacilitator
from chalicelib.models.circle import MeetingChange
from chalicelib.models.rate_limits import Limit, hashed, spend
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.core.clock import zone_info
from chalicelib.core.i18n import _, N_, ngettext

CONFLICT = N_('This circle changed meanwhile, please check and submit again.')   # shown as _(CONFLICT)
PLACEHOLDER_TIMEZONE = 'UTC'      # what a draft carries until its timezone is chosen (as in dialog)
LANGUAGES = rules.LANGUAGES
# Each text field of the edit form and its rule (chalicelib/core/fields.py holds every limit).
RULES = {'name': rules.CIRCLE_NAME, 'description': rules.DESCRIPTION, 'course_title': rules.COURSE_TITLE,
         'course_provider': rules.COURSE_PROVIDER, 'course_link': rules.COURSE_LINK,
         'venue_name': rules.VENUE_NAME, 'venue_address': rules.VENUE_ADDRESS,
         'venue_details': rules.VENUE_DETAILS, 'venue_website': rules.VENUE_WEBSITE,
         'online_link': rules.ONLINE_LINK, 'welcome_message': rules.WELCOME_MESSAGE,
         'signup_question': rules.SIGNUP_QUESTION}
CSV_FORMULA_STARTS = ('=', '+', '-', '@', '\t', '\r')
# The facilitator page's badges: a circle's status (circles.status) and a facilitator's role.
STATUS_LABELS = {'upcoming': N_('upcoming'), 'in_progress': N_('in progress'), 'closed': N_('closed'),
                 'completed': N_('completed'), 'draft': N_('draft')}
ROLE_LABELS = {'facilitator': N_('facilitator'), 'co-facilitator': N_('co-facilitator'),
               'organizer': N_('organizer')}


class CircleChanged(Refusal):
    """Someone else saved the circle after it was read; nothing was written."""
    status = 409


def _conditional_failure(error):
    return error.cause_response_code in ('ConditionalCheckFailedException', 'TransactionCanceledException')


def save(circle, messages=()):
    """`circles.save`, with a lost race reported as CircleChanged; then the meetings' reminders
    follow the saved circle (`reminders.sync_reminders`).

    `messages` are outbox items the change causes: they are written in one transaction with
    the circle (on the same condition), so the change and its messages happen together or not."""
    from chalicelib.reminders.sync import sync_reminders
    if messages:
        _save_with_messages(circle, messages)
    else:
        try:
            circles.save(circle)
        except PutError as error:
            if _conditional_failure(error):
                raise CircleChanged(_(CONFLICT)) from None
            raise
    sync_reminders(circle)


def _save_with_messages(circle, messages):
    def write_messages(transaction):
        for item in messages:
            transaction.save(*outbox.put(item))
    _save_in_transaction(circle, write_messages)


def _save_in_transaction(circle, write_more):
    """Save the circle, unless someone saved it since it was read, together with what
    `write_more(transaction)` adds: all of it or nothing. A lost race, or writes that kept
    conflicting (TransactionBusy), is CircleChanged, with the circle's copy as it was read."""
    read_at, read_count = circle.updated_at, circle.signup_count
    circle.updated_at = circles.utcnow()
    circles.refresh_derived(circle)

    def build(transaction):
        transaction.save(circle, condition=(Circle.updated_at == read_at) & (Circle.signup_count == read_count))
        write_more(transaction)
    try:
        transact_write(build)
    except TransactionBusy:
        circle.updated_at = read_at
        raise CircleChanged(_(CONFLICT)) from None
    except TransactWriteError as error:
        circle.updated_at = read_at
        if _conditional_failure(error):
            raise CircleChanged(_(CONFLICT)) from None
        raise


# --- what the facilitator page shows ---------------------------------------------

def local_datetime(value, tz_name):
    """'2026-12-01 18:00' in the circle's timezone."""
    return value.astimezone(zone_info(tz_name)).strftime('%Y-%m-%d %H:%M') if value else ''


def rsvp_answers(items, meetings=None):
    """{(meeting_id, signup_id): 'yes' | 'no'} from RSVP items of the circle's partition.

    RSVPs are `CIRCLE#<id>` / `RSVP#<meeting id>#<signup id>` with an `answer`; they arrive
    with the workspace's one Query, whatever model class the reminders issue gives them.
    Given the circle's `meetings`, answers given before a meeting moved are left out
    (`chalicelib.models.rsvp.answer_holds`).
    """
    from chalicelib.models.rsvp import answer_holds
    by_id = {m.meeting_id: m for m in meetings} if meetings is not None else None
    answers = {}
    for item in items:
        sk = getattr(item, 'sk', '') or ''
        if not sk.startswith('RSVP#'):
            continue
        parts = sk.split('#', 2)
        answer = getattr(item, 'answer', None)
        if by_id is not None and (len(parts) != 3 or parts[1] not in by_id
                                  or not answer_holds(item, by_id[parts[1]])):
            continue
        if len(parts) == 3 and answer in ('yes', 'no'):
            answers[(parts[1], parts[2])] = answer
    return answers


def rsvp_counts(meeting_id, signup_ids, answers):
    """Yes, no and no answer for one meeting, among the learners currently signed up."""
    counts = {'yes': 0, 'no': 0, 'no_answer': 0}
    for signup_id in signup_ids:
        counts[answers.get((meeting_id, signup_id), 'no_answer')] += 1
    return counts


def rsvp_names(meeting_id, names, answers):
    """{'yes': [...], 'no': [...]}: who answered, by name, among `names` ({signup id: name})."""
    found = {'yes': [], 'no': []}
    for signup_id, name in names.items():
        answer = answers.get((meeting_id, signup_id))
        if answer in found:
            found[answer].append(name)
    return {answer: sorted(people, key=str.casefold) for answer, people in found.items()}


def meeting_rows(circle, signup_ids, answers, now, names=None):
    rows = []
    for meeting in sorted(circle.meetings, key=lambda m: m.starts_at):
        last_change = meeting.changes[-1] if meeting.changes else None
        rows.append({
            'meeting': meeting,
            'when': meeting_when_short(meeting, circle.timezone),
            'past': meeting.starts_at <= now,
            'cancelled': bool(meeting.cancelled),
            'moved_from': (f'{last_change.from_date} {last_change.from_time}'
                           if last_change and last_change.kind == 'moved' else None),
            'rsvp': rsvp_counts(meeting.meeting_id, signup_ids, answers),
            'rsvp_names': rsvp_names(meeting.meeting_id, names or {}, answers),
        })
    return rows


def signup_rows(workspace):
    """Current learners, oldest signup first. Withdrawn signups hold no personal data
    and are only counted."""
    tz_name = workspace.circle.timezone
    active = sorted(workspace.active_signups, key=lambda s: s.created_at or circles.utcnow())
    return [{'signup': s, 'signed_up': local_datetime(s.created_at, tz_name)} for s in active]


def facilitator_rows(workspace):
    """Who runs the circle, from the circle's own lists, with each one's role from their link."""
    circle = workspace.circle
    roles = {link.user_id: link.role for link in workspace.facilitators}
    names = list(circle.facilitator_names) + [''] * len(circle.facilitator_ids)
    emails = list(circle.facilitator_emails) + [''] * len(circle.facilitator_ids)
    rows = [{'user_id': uid, 'name': names[i], 'email': emails[i], 'role': roles.get(uid, 'facilitator')}
            for i, uid in enumerate(circle.facilitator_ids)]
    for row in rows:
        label = ROLE_LABELS.get(row['role'])
        row['role_label'] = _(label) if label else row['role']
    return rows


def page_context(workspace, now=None):
    now = now or circles.utcnow()
    circle = workspace.circle
    signups = signup_rows(workspace)
    answers = rsvp_answers(workspace.others, circle.meetings)
    signup_ids = [row['signup'].signup_id for row in signups]
    circle_status = circles.status(circle, now) if circle.published else 'draft'
    return {
        'ws': workspace,
        'circle': circle,
        'circle_status': circle_status,
        'circle_status_label': _(STATUS_LABELS[circle_status]),
        'signups': signups,
        'withdrawn_count': len(workspace.signups) - len(signups),
        'meetings': meeting_rows(circle, signup_ids, answers, now,
                                 names={row['signup'].signup_id: row['signup'].name for row in signups}),
        'facilitators': facilitator_rows(workspace),
        'now': now,
    }


# --- editing the details ---------------------------------------------------------

def detail_values(circle):
    """The edit form's fields, filled from the circle."""
    return {
        'name': circle.name, 'description': circle.description or '',
        'course_title': circle.course.title, 'course_provider': circle.course.provider or '',
        'course_link': circle.course.link or '',
        'venue_name': circle.venue_name or '', 'venue_address': circle.venue_address or '',
        'venue_details': circle.venue_details or '', 'venue_website': circle.venue_website or '',
        'online': 'yes' if circle.online else '', 'online_link': circle.online_link or '',
        'language': circle.language, 'welcome_message': circle.welcome_message or '',
        'signup_question': circle.signup_question or '',
        'capacity': '' if circle.capacity is None else str(int(circle.capacity)),
        'timezone': '' if circle.timezone == PLACEHOLDER_TIMEZONE else circle.timezone,
    }


def validate_details(fields, circle):
    """Cleaned values for every detail, or ValidationFailed naming each bad field.

    The rules are the creation dialog's (chalicelib/core/fields.py); beyond them the circle
    may keep a language no longer listed, and its capacity cannot drop below its signups."""
    values, errors = {}, {}
    values['online'] = rules.is_true(fields.get('online'))
    needed = ({'online_link': _('An online circle needs the link where learners meet.')} if values['online'] else
              {'venue_name': _('Please name the place where the circle meets, or make it online.'),
               'venue_address': _('Please give the address where the circle meets, or make it online.')})
    for name, rule in RULES.items():
        values[name], error = rules.clean_text(rule, fields.get(name), missing=needed.get(name))
        if error:
            errors[name] = [error]
    values['language'], error = rules.clean_language(fields.get('language'), keep=circle.language)
    if error:
        errors['language'] = [error]
    values['timezone'] = (fields.get('timezone') or '').strip() or circle.timezone
    if values['timezone'] != circle.timezone and values['timezone'] not in timezone_names():
        errors['timezone'] = [_('Please choose a timezone from the list, e.g. America/Chicago.')]
    values['capacity'], error = rules.clean_whole_number(rules.CAPACITY, fields.get('capacity'))
    signed_up = int(circle.signup_count or 0)
    if error:
        errors['capacity'] = [error]
    elif values['capacity'] is not None and values['capacity'] < signed_up:
        errors['capacity'] = [ngettext('%(num)d learner has signed up already: the capacity cannot be lower.',
                                       '%(num)d learners have signed up already: the capacity cannot be lower.',
                                       signed_up) % {'num': signed_up}]
    if errors:
        raise ValidationFailed(errors)
    return values


def apply_details(circle, fields, now=None):
    """Validate the edit form and copy it onto the circle (not saved)."""
    values = validate_details(fields, circle)
    if values['timezone'] != circle.timezone:
        change_timezone(circle, values['timezone'], now)
    circle.name = values['name']
    circle.description = values['description'] or None
    circle.course.title = values['course_title']
    circle.course.provider = values['course_provider'] or None
    circle.course.link = values['course_link'] or None
    circle.venue_name = values['venue_name'] or None
    circle.venue_address = values['venue_address'] or None
    circle.venue_details = values['venue_details'] or None
    circle.venue_website = values['venue_website'] or None
    circle.online = values['online']
    circle.online_link = values['online_link'] or None
    circle.language = values['language']
    circle.welcome_message = values['welcome_message'] or None
    circle.signup_question = values['signup_question'] or None
    circle.capacity = values['capacity']
    return circle


def timezone_names():
    from chalicelib.facilitators.dialog import timezone_names as names
    return names()


def change_timezone(circle, tz_name, now=None):
    """Move the circle to another timezone. Meetings still to come keep their local date and
    time on the new zone's clock, so their UTC instants move: each is a change learners are
    told about (sequence + 1, a `moved` change from where the old instant falls on the new
    clock). Meetings that have started keep their instant; their local date and time are
    re-read on the new clock. Not saved."""
    now = now or circles.utcnow()
    zone = zone_info(tz_name)
    for meeting in circle.meetings:
        if meeting.starts_at <= now:
            local = meeting.starts_at.astimezone(zone)
            meeting.local_date, meeting.local_time = local.date().isoformat(), local.strftime('%H:%M')
            continue
        old_local = meeting.starts_at.astimezone(zone)
        moved = circles.new_meeting(date.fromisoformat(meeting.local_date), time.fromisoformat(meeting.local_time),
                                    meeting.duration_minutes, tz_name)
        if moved.starts_at == meeting.starts_at or meeting.cancelled:
            meeting.starts_at = moved.starts_at
            continue
        meeting.starts_at = moved.starts_at
        meeting.sequence = int(meeting.sequence or 0) + 1
        meeting.changes = [*meeting.changes, _change('moved', now, (old_local.date().isoformat(),
                                                                    old_local.strftime('%H:%M')),
                                                     (meeting.local_date, meeting.local_time))]
    circle.timezone = tz_name
    circle.meetings = sorted(circle.meetings, key=lambda m: m.starts_at)


def version_of(circle):
    """What the edit form remembers of the circle it showed, to notice a later save by someone else."""
    return circle.updated_at.isoformat() if circle.updated_at else ''


# --- meetings ----------------------------------------------------------------------

def _meeting(circle, meeting_id):
    for meeting in circle.meetings:
        if meeting.meeting_id == meeting_id:
            return meeting
    raise NotFound(_('No such meeting.'))


def parse_when(fields, errors, today, date_field='date', time_field='time'):
    """(date, time) from the form's fields, the date within the rules' years of `today` (the
    circle's local date); problems go into `errors`."""
    local_time = None
    local_date, error = rules.clean_meeting_date(fields.get(date_field), today)
    if error:
        errors[date_field] = [error]
    value = (fields.get(time_field) or '').strip()
    if re.fullmatch(r'\d{2}:\d{2}', value):
        try:
            local_time = time.fromisoformat(value)
        except ValueError:
            pass
    if local_time is None:
        errors[time_field] = [_('Please give the time as HH:MM, e.g. 18:30.')]
    return local_date, local_time


def _check_slot(circle, start, now, errors, date_field, ignore=None):
    if start.astimezone(timezone.utc) <= now:
        errors[date_field] = [_('Please choose a date and time that has not passed.')]
        return
    for other in circle.meetings:
        if other is not ignore and not other.cancelled and other.starts_at == start.astimezone(timezone.utc):
            errors[date_field] = [_('Another meeting is already at that date and time.')]


def _change(kind, now, before=None, after=None):
    """A MeetingChange; `before` and `after` are (local date, local time) pairs."""
    return MeetingChange(at=now, kind=kind,
                         from_date=before[0] if before else None, from_time=before[1] if before else None,
                         to_date=after[0] if after else None, to_time=after[1] if after else None)


def add_meeting(circle, fields, now=None):
    """A new meeting from the add form (date, time, optional duration in minutes)."""
    now = now or circles.utcnow()
    errors = {}
    local_date, local_time = parse_when(fields, errors, circles.local_today(circle, now))
    duration = int(circle.duration_minutes or 90)
    if (fields.get('duration') or '').strip():
        low, high = rules.DURATION.low, rules.DURATION.high
        duration, error = rules.clean_whole_number(rules.DURATION, fields['duration'],
                                                   _('Please give the length in minutes, %(low)s to %(high)s.')
                                                   % {'low': low, 'high': high})
        if error:
            errors['duration'] = [error]
    if not errors:
        _check_slot(circle, circles.local_start(local_date, local_time, circle.timezone), now, errors, 'date')
    if errors:
        raise ValidationFailed(errors)
    meeting = circles.new_meeting(local_date, local_time, duration, circle.timezone)
    meeting.sequence = 0
    meeting.changes = [_change('added', now, after=(meeting.local_date, meeting.local_time))]
    circle.meetings = sorted([*circle.meetings, meeting], key=lambda m: m.starts_at)
    return meeting


def _changeable(meeting, now):
    if meeting.cancelled:
        raise ValidationFailed({'meeting': [_('This meeting is cancelled.')]})
    if meeting.starts_at <= now:
        raise ValidationFailed({'meeting': [_('This meeting has started already.')]})


def move_meeting(circle, meeting_id, fields, now=None):
    """Move a meeting to another date and time; learners are told by the reminders job.
    The higher `sequence` clears the meeting's RSVPs in the same write (`Rsvp.holds_for`)."""
    now = now or circles.utcnow()
    meeting = _meeting(circle, meeting_id)
    _changeable(meeting, now)
    errors = {}
    local_date, local_time = parse_when(fields, errors, circles.local_today(circle, now))
    if not errors:
        start = circles.local_start(local_date, local_time, circle.timezone)
        if start.astimezone(timezone.utc) == meeting.starts_at:
            errors['date'] = [_('The meeting is already at that date and time.')]
        else:
            _check_slot(circle, start, now, errors, 'date', ignore=meeting)
    if errors:
        raise ValidationFailed(errors)
    before = (meeting.local_date, meeting.local_time)
    moved = circles.new_meeting(local_date, local_time, meeting.duration_minutes, circle.timezone)
    meeting.local_date, meeting.local_time, meeting.starts_at = moved.local_date, moved.local_time, moved.starts_at
    meeting.sequence = int(meeting.sequence or 0) + 1
    meeting.changes = [*meeting.changes, _change('moved', now, before, (meeting.local_date, meeting.local_time))]
    circle.meetings = sorted(circle.meetings, key=lambda m: m.starts_at)
    return meeting


def cancel_meeting(circle, meeting_id, now=None):
    """Cancel a meeting; it stays in the list (cancelled) so learners can be told."""
    now = now or circles.utcnow()
    meeting = _meeting(circle, meeting_id)
    _changeable(meeting, now)
    meeting.cancelled = True
    meeting.cancelled_at = now
    meeting.sequence = int(meeting.sequence or 0) + 1
    meeting.changes = [*meeting.changes, _change('cancelled', now, before=(meeting.local_date, meeting.local_time))]
    return meeting


# --- signup and publication ------------------------------------------------------------

def set_signup_open(circle, is_open):
    circle.signup_open = bool(is_open)


UNPUBLISHED_PURPOSE = 'unpublished'


def unpublish(circle, now=None):
    """Off every listing (`refresh_derived` drops the index keys); signups are kept. Returns the
    outbox items to save with it (`save(circle, messages=...)`): with learners, one fan-out that
    tells each of them by email (their reminders stop with the publication)."""
    now = now or circles.utcnow()
    was_published = bool(circle.published)
    circle.published = False
    if not was_published or int(circle.signup_count or 0) == 0:
        return []
    return [outbox.fan_out(outbox.circle_partition(circle.id), f'{UNPUBLISHED_PURPOSE}#{now:%Y%m%dT%H%M%S%f}',
                           'circle_unpublished_fan_out', now, circle_id=circle.id)]


def _expand_unpublished(item, reads, now):
    from chalicelib.models import Signup
    return [outbox.for_signup(signup, item.purpose, outbox.EMAIL, 'circle_unpublished', now)
            for signup in Signup.query(f'CIRCLE#{item.circle_id}', Signup.sk.startswith('SIGNUP#'),
                                       consistent_read=True)
            if signup.active and signup.email]


def unpublished_message(circle, signup, to=None):
    from chalicelib.core.rendering import render
    from chalicelib.learners.signup import withdraw_link
    from chalicelib.messaging import email
    context = {'circle': circle, 'signup': signup, 'withdraw_url': withdraw_link(signup)}
    return email.build_message(to=to or signup.email, subject=_('%(name)s is no longer published') % {'name': circle.name},
                               text=render('email/circle_unpublished.txt', **context),
                               html=render('email/circle_unpublished.html', **context),
                               reply_to=list(circle.facilitator_emails))


def _render_unpublished(item, reads, to, now):
    from chalicelib.models import Signup
    circle = reads.get(Circle.key(item.circle_id))
    if circle is None or circle.published:
        raise Skip(N_('The circle is published again.'))
    return unpublished_message(circle, reads[Signup.key(item.circle_id, item.signup_id)], to)


def _circle_key(item):
    return [Circle.key(item.circle_id)]


# --- co-facilitators -------------------------------------------------------------------

def _save_with_link(circle, link, add):
    """The circle's facilitator lists and the facilitator's link item change together or not at all."""
    def write_link(transaction):
        if add:
            transaction.save(link, condition=CircleFacilitator.pk.does_not_exist())
        else:
            transaction.delete(link)
    _save_in_transaction(circle, write_link)


INVITATION_DAYS = 7     # links.MAX_AGE_SECONDS[links.INVITATION]
INVITATIONS_PER_CIRCLE = Limit('cofacilitator-invitation-circle', 20, timedelta(days=1))
INVITATIONS_PER_ADDRESS = Limit('cofacilitator-invitation-address', 3, timedelta(days=1))


class InvitationRefused(Refusal):
    """The invitation cannot be accepted by this account (another address, not confirmed)."""
    status = 403


def invitation_link(circle_id, address, inviter_id):
    from chalicelib.core import links
    return links.url('/invitations', links.INVITATION, {'c': circle_id, 'e': address, 'by': inviter_id})


def read_invitation(token):
    """(circle, invited address) of a valid, unexpired invitation; BadLink otherwise (also
    when the circle no longer exists)."""
    from chalicelib.core import links
    from chalicelib.core.links import BadLink
    payload = links.unsign(links.INVITATION, token)
    circle = circles.get_circle(payload.get('c', ''))
    if circle is None:
        raise BadLink('the circle no longer exists')
    return circle, payload.get('e', '')


def _address(email):
    from chalicelib.learners.signup import normalise_email
    try:
        return normalise_email((email or '').strip())
    except Exception:  # noqa: BLE001 - email_validator's errors: any of them means "not an address"
        raise ValidationFailed({'email': [_('Please give a valid email address.')]}) from None


def invite_facilitator(workspace, email, inviter, now=None):
    """Email `email` an invitation to co-facilitate the circle; returns the normalised address.

    The answer never says whether the address has an account: every valid address gets the
    same invitation, accepted by signing in (or registering) with that address. Counted per
    circle and per address, so the form cannot be used to mail strangers in bulk."""
    now = now or circles.utcnow()
    circle = workspace.circle
    address = _address(email)
    if address.lower() in {e.lower() for e in circle.facilitator_emails}:
        raise ValidationFailed({'email': [_('They already facilitate this circle.')]})
    spend(now, (INVITATIONS_PER_CIRCLE, circle.id), (INVITATIONS_PER_ADDRESS, f'{circle.id}\n{address}'))
    # The key names a keyed hash of the address, never the address itself.
    item = outbox.for_address(circle.id, f'invitation#{now:%Y%m%dT%H%M%S%f}', f'invitee-{hashed(address)}', address,
                              'cofacilitator_invitation', now,
                              params={'by': inviter.user_id, 'by_name': inviter.name})
    outbox.write([item])
    return address


def accept_invitation(token, user, now=None):
    """Make the signed-in `user` a co-facilitator of the invitation's circle; returns the circle.

    Only an account whose confirmed address is the invited one may accept; accepting twice
    changes nothing."""
    now = now or circles.utcnow()
    from chalicelib.facilitators.access import facilitator_link
    circle, address = read_invitation(token)
    if (user.email or '').lower() != address.lower():
        raise InvitationRefused(_('This invitation was sent to another address: sign in with the account '
                                  'of the address it was sent to.'))
    if not user.email_confirmed:
        raise InvitationRefused(_('Please confirm your email address first (follow the link we emailed you), '
                                  'then open the invitation again.'))
    if user.user_id in circle.facilitator_ids:
        return circle
    circle.facilitator_ids = [*circle.facilitator_ids, user.user_id]
    circle.facilitator_names = [*circle.facilitator_names, user.first_name]
    circle.facilitator_emails = [*circle.facilitator_emails, user.email]
    _save_with_link(circle, facilitator_link(circle, user, role='co-facilitator', now=now), add=True)
    return circle


def invitation_message(circle, item, to):
    from chalicelib.core.rendering import render
    from chalicelib.messaging import email
    context = {'circle': circle, 'inviter': item.params.get('by_name') or _('A facilitator'),
               'accept_url': invitation_link(circle.id, to, item.params.get('by')), 'days': INVITATION_DAYS,
               'circle_url': circles.circle_url(circle.id)}
    return email.build_message(to=to, subject=_('%(inviter)s invites you to co-facilitate %(name)s')
                               % {'inviter': context['inviter'], 'name': circle.name},
                               text=render('email/cofacilitator_invitation.txt', **context),
                               html=render('email/cofacilitator_invitation.html', **context),
                               reply_to=list(circle.facilitator_emails))


def _render_invitation(item, reads, to, now):
    circle = reads.get(Circle.key(item.circle_id))
    if circle is None:
        raise Skip(N_('The circle no longer exists.'))
    return invitation_message(circle, item, to)


def is_creator(workspace, user_id):
    """Whether `user_id` created the circle (their link's role is `facilitator`)."""
    return any(link.user_id == user_id and link.role == 'facilitator' for link in workspace.facilitators)


def remove_facilitator(workspace, user_id, by=None):
    """Take someone off the circle; a circle always keeps at least one facilitator, and a
    co-facilitator (`by`, the user id removing) cannot remove the circle's creator."""
    circle = workspace.circle
    if user_id not in circle.facilitator_ids:
        raise NotFound(_('No such facilitator.'))
    if (by and by != user_id and is_creator(workspace, user_id) and by in circle.facilitator_ids
            and not is_creator(workspace, by)):
        raise ValidationFailed({'facilitators': [_('A co-facilitator cannot remove the facilitator who created '
                                                   'the circle.')]})
    if len(circle.facilitator_ids) == 1:
        raise ValidationFailed({'facilitators': [_('A circle needs at least one facilitator: '
                                                   'add someone else before removing the last one.')]})
    index = circle.facilitator_ids.index(user_id)

    def without(values):
        return [v for i, v in enumerate(values) if i != index]
    circle.facilitator_ids = without(circle.facilitator_ids)
    circle.facilitator_names = without(circle.facilitator_names)
    circle.facilitator_emails = without(circle.facilitator_emails)
    _save_with_link(circle, CircleFacilitator(*CircleFacilitator.key(circle.id, user_id)), add=False)


# --- the signups export ------------------------------------------------------------------

def safe_cell(value):
    """A spreadsheet cell that cannot run as a formula: text starting with = + - @ (or a tab or
    carriage return) gets a leading single quote, as OWASP recommends against CSV injection."""
    text = '' if value is None else str(value)
    return f"'{text}" if text.startswith(CSV_FORMULA_STARTS) else text


def signups_csv(workspace):
    """Current learners as CSV (UTF-8 with a byte order mark, so spreadsheets read accents right)."""
    circle = workspace.circle
    header = [_('Name'), _('Email'), _('Mobile'), _('Goals'), _('Support wanted')]
    if circle.signup_question:
        header.append(circle.signup_question)
    header += [_('Signed up'), _('Messages opt-in')]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator='\r\n')
    writer.writerow([safe_cell(h) for h in header])
    for row in signup_rows(workspace):
        signup = row['signup']
        cells = [signup.name, signup.email, signup.mobile, signup.goals, signup.support]
        if circle.signup_question:
            cells.append(signup.custom_answer)
        cells += [row['signed_up'], _('yes') if signup.communications_opt_in else _('no')]
        writer.writerow([safe_cell(cell) for cell in cells])
    return '\ufeff' + out.getvalue()


# --- the sender's templates ------------------------------------------------------------------

CIRCLE_UNPUBLISHED_FAN_OUT = Template(keys=lambda item: [], expand=_expand_unpublished)
CIRCLE_UNPUBLISHED = Template(keys=_circle_key, render=_render_unpublished)
COFACILITATOR_INVITATION = Template(keys=_circle_key, render=_render_invitation)
