"""Team invitations and team slug claims.

- `TEAM#<id>` / `INVITE#<normalised email>`: the invitation of one address to a team, in the
  team's partition (one Query of `TEAM#<id>` reads the team, its members and its invitations).
  One item per address, so there is at most one pending invitation per (team, address); a new
  invitation after a declined, revoked or expired one overwrites it.
- `TEAMSLUG#<slug>` / `TEAM`: the claim that makes a slug belong to one team; written in the
  same transaction as the team, so two teams cannot share it.
"""
from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import TableItem


class TeamInvitation(TableItem, discriminator='TeamInvitation'):
    team_id = UnicodeAttribute()
    email = UnicodeAttribute()              # normalised (lowercased)
    role = UnicodeAttribute()               # organizer or facilitator
    state = UnicodeAttribute()              # pending, accepted, declined, revoked (expired: computed)
    expires_at = UTCDateTimeAttribute()
    nonce = UnicodeAttribute()              # in the link: a new invitation voids the old one's links
    invited_by = UnicodeAttribute(null=True)
    invited_by_name = UnicodeAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)   # who accepted

    @staticmethod
    def key(team_id, email):
        return f'TEAM#{team_id}', f'INVITE#{email}'


class TeamSlugClaim(TableItem, discriminator='TeamSlugClaim'):
    team_id = UnicodeAttribute()

    @staticmethod
    def key(slug):
        return f'TEAMSLUG#{slug}', 'TEAM'
