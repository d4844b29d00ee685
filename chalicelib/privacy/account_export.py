"""Everything we hold about a facilitator's or organizer's account, as one JSON document.

Read by key or index only, never a Scan. What it costs, for an account with T teams and C
circles: one GetItem (the user), one Query each of `by_user` for sessions, memberships and
circle links (three), one Query of each team's partition (its invitations) and one of each
circle's partition (T + C), one Query of the account's own partition (its emails) and one of its
consent records. So 6 + T + C calls (more pages only for a partition past 1 MB): it grows with
what this one person holds, not with the table.

Session ids are left out (the cookie's secret), and so is the password hash.
"""
from datetime import datetime

from pynamodb.attributes import MapAttribute

from chalicelib.models import (Circle, CircleFacilitator, CircleMessage, CircleSetup, Delivery, MeetingFeedback,
                               MeetingReminder, Session, TableItem, TeamInvitation, TeamMember, User)
from chalicelib.models.ending import FacilitatorSurvey, InsightsReport
from chalicelib.models.privacy import ConsentRecord

# Keys of indexes and bookkeeping that say nothing about the person.
INTERNAL = {'pk', 'sk', 'kind', 'user_pk', 'user_sk', 'email_pk', 'email_sk', 'due_pk', 'due_sk', 'team_pk',
            'team_sk', 'td_pk', 'td_sk', 'catalog_pk', 'changed_millis', 'card', 'created_millis'}
CIRCLE_FIELDS = ('id', 'name', 'description', 'course', 'venue_name', 'venue_address', 'venue_details',
                 'venue_website', 'city', 'region', 'country', 'online', 'online_link', 'language', 'timezone',
                 'meetings', 'capacity', 'signup_question', 'welcome_message', 'image_url', 'published', 'team_id',
                 'facilitator_names', 'facilitator_emails', 'created_at', 'updated_at')


def plain(value):
    """A stored value as JSON can hold it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, MapAttribute):
        return {name: plain(getattr(value, name)) for name in value.get_attributes()}
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return None
    return value


def item_fields(item, leave_out=(), only=None):
    names = only or [name for name in item.get_attributes() if name not in INTERNAL and name not in leave_out]
    return {name: plain(getattr(item, name, None)) for name in names}


def account_data(user_id):
    """The account's JSON document, or None when there is no such account."""
    try:
        user = User.get(*User.key(user_id))
    except User.DoesNotExist:
        return None
    subject = f'USER#{user_id}'
    sessions = [{'created_at': plain(s.created_at), 'expires_at': plain(s.expires_at)}
                for s in Session.by_user.query(subject, Session.user_sk.startswith('SESSION#'))]
    memberships = list(TeamMember.by_user.query(subject, TeamMember.user_sk.startswith('TEAM#')))
    links = list(CircleFacilitator.by_user.query(subject, CircleFacilitator.user_sk.startswith('CIRCLE#')))
    invitations_sent, invitations_received = [], []
    for member in memberships:
        for item in TableItem.query(f'TEAM#{member.team_id}', TableItem.sk.startswith('INVITE#')):
            if isinstance(item, TeamInvitation) and item.invited_by == user_id:
                invitations_sent.append(item_fields(item, leave_out=('nonce',)))
            elif isinstance(item, TeamInvitation) and item.email == user.email:
                invitations_received.append(item_fields(item, leave_out=('nonce',)))
    return {
        'account': item_fields(user, leave_out=('password_hash', 'credentials_version')),
        'sessions': sessions,
        'team_memberships': [item_fields(m) for m in memberships],
        'team_invitations_sent': invitations_sent,
        'team_invitations_received': invitations_received,
        'circles': [_circle_data(link, user) for link in links],
        'account_emails': [_delivery(item) for item in TableItem.query(f'ACCOUNT#{user_id}')
                           if isinstance(item, Delivery)],
        'consent_records': [item_fields(item) for item in ConsentRecord.query(f'CONSENT#{subject}')],
    }


def _delivery(item):
    return item_fields(item, only=('purpose', 'channel', 'to', 'state', 'sent_at', 'error', 'created_at'))


def _circle_data(link, user):
    """What the person wrote or received in one circle they facilitate (one Query of its partition)."""
    found = {'role': link.role, 'circle': None, 'setup': None, 'meeting_feedback': [], 'messages_sent': [],
             'reminders_edited': [], 'facilitator_survey': None, 'insights_generated': None,
             'emails_received': []}
    for item in TableItem.query(f'CIRCLE#{link.circle_id}'):
        if isinstance(item, Circle):
            found['circle'] = item_fields(item, only=CIRCLE_FIELDS)
        elif isinstance(item, CircleSetup):
            found['setup'] = item_fields(item)
        elif isinstance(item, MeetingFeedback) and item.author_id == user.user_id:
            found['meeting_feedback'].append(item_fields(item, leave_out=('recap_claimed_at',)))
        elif isinstance(item, CircleMessage) and item.author_id == user.user_id:
            found['messages_sent'].append(item_fields(item))
        elif isinstance(item, MeetingReminder) and item.edited_by == user.user_id:
            found['reminders_edited'].append(item_fields(
                item, only=('meeting_id', 'subject', 'intro', 'sms_text', 'state', 'sent_at', 'updated_at')))
        elif isinstance(item, FacilitatorSurvey) and item.user_id == user.user_id:
            found['facilitator_survey'] = item_fields(item)
        elif isinstance(item, InsightsReport) and item.generated_by == user.user_id:
            found['insights_generated'] = plain(item.generated_at)
        elif isinstance(item, Delivery) and item.to == user.email:
            found['emails_received'].append(_delivery(item))
    return found
