"""Login sessions, email claims and login throttles.

- `SESSION#<id>` / `SESSION`: a signed-in browser. Carries what every page needs about its
  user, so an authenticated request costs one GetItem. Found per user through `by_user`
  (`USER#<id>` / `SESSION#<id>`) to revoke them all on a password change.
- `EMAIL#<address>` / `ACCOUNT`: the claim that makes an address belong to one account;
  written in the same transaction as the account, so two registrations cannot share it.
- `THROTTLE#account#<hashed address>` / `CLIENT#<hashed client address>`: failed logins to one
  account from one client, and when that client may try again (TTL). One partition per account,
  so a successful reset clears them all with one Query.
- `THROTTLE#client#<hashed client address>` / `WINDOW#<start>`: failed logins from one client to
  any account in a 15-minute window (TTL).
"""
from pynamodb.attributes import (BooleanAttribute, ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute,
                                 UTCDateTimeAttribute)

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
    next_attempt_at = UTCDateTimeAttribute(null=True)    # pairs only
    expires_at = TTLAttribute()

    @staticmethod
    def pair_key(hashed_account, hashed_client):
        return f'THROTTLE#account#{hashed_account}', f'CLIENT#{hashed_client}'

    @staticmethod
    def account_partition(hashed_account):
        return f'THROTTLE#account#{hashed_account}'

    @staticmethod
    def client_key(hashed_client, window_start):
        return f'THROTTLE#client#{hashed_client}', f'WINDOW#{window_start}'
