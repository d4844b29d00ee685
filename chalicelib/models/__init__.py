"""PynamoDB models; importing this package registers every entity of the table."""
from chalicelib.models.base import TableItem
from chalicelib.models.circle import Circle, Course, Meeting
from chalicelib.models.signup import Signup
from chalicelib.models.account import Team, TeamMember, User
from chalicelib.models.session import EmailClaim, LoginThrottle, Session
from chalicelib.models.facilitator import CircleFacilitator
from chalicelib.models.setup import CircleSetup
from chalicelib.models.message import CircleMessage, Delivery, LocalSms, MeetingFeedback, SendRate
from chalicelib.models.reminder import MeetingReminder
from chalicelib.models.rsvp import Rsvp, ShortLink
from chalicelib.models.team import TeamInvitation, TeamSlugClaim
from chalicelib.models.meeting_entry import MeetingEntry
from chalicelib.models.digest import TeamDigest
from chalicelib.models.privacy import ConsentRecord, Suppression
from chalicelib.models.retention import RetentionDue
from chalicelib.models.ending import CircleEnding, FacilitatorSurvey, InsightsReport, LearnerSurvey, MeetingWrapUp

__all__ = ['TableItem', 'Circle', 'Course', 'Meeting', 'Signup', 'Team', 'TeamMember', 'User',
           'EmailClaim', 'LoginThrottle', 'Session', 'CircleFacilitator', 'CircleSetup',
           'CircleMessage', 'Delivery', 'LocalSms', 'MeetingFeedback', 'MeetingReminder', 'Rsvp', 'SendRate',
           'ShortLink', 'TeamInvitation', 'TeamSlugClaim', 'MeetingEntry', 'TeamDigest',
           'ConsentRecord', 'Suppression', 'RetentionDue',
           'CircleEnding', 'FacilitatorSurvey', 'InsightsReport', 'LearnerSurvey', 'MeetingWrapUp']
from chalicelib.models.rate_limits import UsageCounter  # noqa: E402 - registers the entity

# One connection, so one botocore client, for the whole process: a subclass uses TableItem's
# connection unless it made its own first (its schema holds every index of every entity).
# Creating a client costs ~40 ms, and a signup used to create three.
TableItem._get_connection()
