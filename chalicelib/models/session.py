"""Login sessions, email claims and login throttles.

- `SESSION#<id>` / `SESSION`: a signed-in browser. Carries what every page needs about its
  user, so an authenticated request costs one GetItem. Found per user through `by_user`
  (`USER#<id>` / `SESSION#<id>`) to revoke them all on a password change.
- `EMAIL#<address>` / `ACCOUNT`: the claim that makes an address belong to one account;
  written in the same transaction as the account, so two registrations cannot share it.
- `THROTTLE#<scope>#<key>` / `WINDOW#<start>`: failed logins in a 15-minute window (TTL).
"""
from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute

from chalicelib.models.account import UserIndex
from chalicelib.models.base import TableItem


class Session(TableItem, discriminator='Session'):
    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    email_confirmed = BooleanAttribute(default=False)
    organizer_team_ids = ListAttribute(of=UnicodeAttribute, default=list)   # read once, at login
    expires_at = TTLAttribute()

    user_pk = UnicodeAttribute(null=True)
    user_sk = UnicodeAttribute(null=True)
    by_user = UserIndex()

    @staticmethod
    def key(session_id):
        return f'SESSION#{session_id}', 'SESSION'


class EmailClaim(TableItem, discriminator='EmailClaim'):
    user_id = UnicodeAttribute()

    @staticmethod
    def key(email):
        return f'EMAIL#{email}', 'ACCOUNT'


class LoginThrottle(TableItem, discriminator='LoginThrottle'):
    failures = NumberAttribute(default=0)
    expires_at = TTLAttribute()

    @staticmethod
    def key(scope, value, window_start):
        return f'THROTTLE#{scope}#{value}', f'WINDOW#{window_start}'
