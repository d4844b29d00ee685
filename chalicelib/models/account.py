"""Accounts (facilitators and organizers) and teams.

`USER#<id>` / `USER` is the account; `TEAM#<id>` / `TEAM` a team and
`TEAM#<id>` / `MEMBER#<user id>` a membership, found per user through `by_user`.

Every team is on the `TEAMS` registry of `by_due` from the moment it is made (the defaults
below), so the weekly digest job (chalicelib.teams.digest_job) finds every team with a paged
Query, never a Scan. Unlike the queues of `by_due`, a team never leaves it.
"""
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.core.clock import utcnow
from chalicelib.models.base import DueIndex, TableItem
from chalicelib.models.signup import EmailIndex


class UserIndex(GlobalSecondaryIndex):
    """What belongs to a user: team memberships (and later, circles they facilitate)."""
    class Meta:
        index_name = 'by_user'
        projection = AllProjection()
    user_pk = UnicodeAttribute(hash_key=True)
    user_sk = UnicodeAttribute(range_key=True)


class User(TableItem, discriminator='User'):
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    first_name = UnicodeAttribute()
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    email_confirmed = BooleanAttribute(default=False)
    bio = UnicodeAttribute(null=True)
    # Goes up with every password change: links to change the address carry it, so a password
    # change voids every pending email change.
    credentials_version = NumberAttribute(default=0)
    # When the owner last undid an email change: undo links from changes before it are void.
    email_restored_at = UTCDateTimeAttribute(null=True)
    # The interface language the person last used (set at registration and login): what the
    # emails about no circle (the digest, account emails from a job) are written in.
    language = UnicodeAttribute(null=True)

    email_pk = UnicodeAttribute(null=True)
    email_sk = UnicodeAttribute(null=True)
    by_email = EmailIndex()

    @staticmethod
    def key(user_id):
        return f'USER#{user_id}', 'USER'


TEAMS_REGISTRY = 'TEAMS'


def _registered_now():
    return utcnow().isoformat()


class Team(TableItem, discriminator='Team'):
    team_id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute(null=True)          # unique: claimed by `TEAMSLUG#<slug>` (models/team.py)
    introduction = UnicodeAttribute(null=True)
    image_url = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    latitude = NumberAttribute(null=True)
    longitude = NumberAttribute(null=True)
    # The join link's secret: None when the link is off; a new value voids every earlier link.
    join_token = UnicodeAttribute(null=True)

    # On the `TEAMS` registry of `by_due` (the module docstring): set for every new Team object,
    # whoever writes it (create_team, the demo, a test), never for one read from the table.
    due_pk = UnicodeAttribute(null=True, default_for_new=TEAMS_REGISTRY)
    due_sk = UnicodeAttribute(null=True, default_for_new=_registered_now)
    by_due = DueIndex()

    @staticmethod
    def key(team_id):
        return f'TEAM#{team_id}', 'TEAM'


class TeamMember(TableItem, discriminator='TeamMember'):
    team_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    role = UnicodeAttribute()   # organizer or facilitator
    # When they unsubscribed from the team's weekly digest (its one-click link); None: they get it.
    digest_opted_out_at = UTCDateTimeAttribute(null=True)

    user_pk = UnicodeAttribute(null=True)
    user_sk = UnicodeAttribute(null=True)
    by_user = UserIndex()
