"""A person's consent records as their rights need them: read, exported, and moved on erasure.

The records are written by the changes themselves (chalicelib.models.consent, the vocabulary of
topics and channels). Erasing a learner moves their records to the stand-in signup that keeps no
personal data (`moved_to`): the signup id in a record's subject is derived from the email
address, so the records may not keep it.
"""
from chalicelib.models import ConsentRecord


def records_of(subject):
    """Every record of a subject, oldest first: one Query of its partition."""
    return list(ConsentRecord.query(f'CONSENT#{subject}'))


def moved_to(records, subject):
    """Copies of `records` under another subject (an erased learner's stand-in), same facts."""
    return [ConsentRecord(*ConsentRecord.key(subject, r.at, r.topic), subject=subject, topic=r.topic, given=r.given,
                          wording_version=r.wording_version, channel=r.channel, at=r.at, scope=r.scope,
                          created_at=r.created_at) for r in records]


def as_json(item):
    """A record as the learner's export shows it."""
    return {'topic': item.topic, 'given': item.given, 'at': item.at.isoformat(), 'channel': item.channel,
            'wording_version': item.wording_version, **({'scope': item.scope} if item.scope else {})}
