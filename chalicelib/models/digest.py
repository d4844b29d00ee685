"""A team's weekly digest as it was sent: `DIGEST#<team id>` / `WEEK#<Monday>`.

Written once per (team, week) by the digest job (chalicelib.teams.digest_job), in the same
transaction as the first of its outbox items, which sit in the same partition
(`DELIVERY#digest#<Monday>#user-<user id>#email`). Every recipient's email and the web version
render from it, so they show the same digest whenever they are read. The content is the
JSON of chalicelib.teams.digest.compose, zlib-compressed (a week of 50 circles with
reflections is well under DynamoDB's 400 KB item limit; the composer caps its lists too).
It holds only what organizers may read: feedback kept from them is noted, never copied.
"""
import json
import zlib

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.models.base import TableItem


class TeamDigest(TableItem, discriminator='TeamDigest'):
    team_id = UnicodeAttribute()
    week = UnicodeAttribute()                   # the Monday of the week it covers, ISO date
    content = BinaryAttribute(legacy_encoding=False)
    recipients = NumberAttribute(default=0)     # how many outbox items the job wrote with it

    @staticmethod
    def key(team_id, week):
        return f'DIGEST#{team_id}', f'WEEK#{week}'

    @staticmethod
    def partition(team_id):
        return f'DIGEST#{team_id}'

    @classmethod
    def of(cls, team_id, week, data, now):
        return cls(*cls.key(team_id, week), team_id=team_id, week=week, created_at=now, updated_at=now,
                   content=zlib.compress(json.dumps(data, separators=(',', ':')).encode(), 6))

    @property
    def data(self):
        return json.loads(zlib.decompress(self.content))
