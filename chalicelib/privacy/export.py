"""Everything we hold about a learner, as the JSON they download from their `/my-data` page.

For each of their signups (current and withdrawn): the signup and its answers, their RSVPs, their
end-of-circle survey answer, every message and reminder sent to them with its delivery state,
the texts they sent us, and their consent records; and the links to this page we sent them.

`LearnerItems` is also what erasure removes, so the two cannot disagree about what is held.

Costs per signup: one BatchGetItem (an RSVP key per meeting, the survey), one Query of the
circle's outbox items (`DELIVERY#`, the learner's picked out: their keys start with the
message's purpose, not the learner), one Query of their texts (`TEXT#<signup id>#`), one of their
consent records; plus one Query of the link requests' partition.
"""
from dataclasses import dataclass, field

from chalicelib.models import Delivery, Rsvp, TableItem
from chalicelib.models.ending import LearnerSurvey
from chalicelib.models.message import InboundText
from chalicelib.models.consent import signup_subject
from chalicelib.privacy.consent import as_json, records_of
from chalicelib.privacy.my_data import circles_of

FORMAT_VERSION = 1


@dataclass
class LearnerItems:
    """The stored items of one signup that are about the learner."""
    rsvps: list = field(default_factory=list)
    survey: LearnerSurvey | None = None
    deliveries: list = field(default_factory=list)      # messages to the learner
    notices: list = field(default_factory=list)         # messages about the learner: new-signup notices,
                                                        # their texts forwarded to the facilitators
    texts: list = field(default_factory=list)
    consents: list = field(default_factory=list)


def about(signup, circle):
    """The LearnerItems of `signup` (see the module docstring for the reads)."""
    circle_id, signup_id = signup.circle_id, signup.signup_id
    meetings = list(circle.meetings) if circle else []
    keys = [Rsvp.key(circle_id, m.meeting_id, signup_id) for m in meetings]
    keys.append(LearnerSurvey.key(circle_id, signup_id))
    found = []
    for start in range(0, len(keys), 100):
        found += TableItem.batch_get(keys[start:start + 100], consistent_read=True)
    items = LearnerItems(rsvps=[i for i in found if isinstance(i, Rsvp)],
                         survey=next((i for i in found if isinstance(i, LearnerSurvey)), None))
    items.texts = list(InboundText.query(f'CIRCLE#{circle_id}', InboundText.sk.startswith(f'TEXT#{signup_id}#'),
                                         consistent_read=True))
    forwarded = {f'text#{text.message_sid}' for text in items.texts}     # a text forwarded to the facilitators
    for delivery in Delivery.query(f'CIRCLE#{circle_id}', Delivery.sk.startswith('DELIVERY#'), consistent_read=True):
        if delivery.signup_id == signup_id:
            items.deliveries.append(delivery)
        elif (f'#{signup_id}#' in delivery.sk or (delivery.params or {}).get('signup') == signup_id
              or delivery.purpose in forwarded):
            items.notices.append(delivery)
    items.consents = records_of(signup_subject(circle_id, signup_id))
    return items


def link_requests(contact):
    """The outbox items of the links to `/my-data` sent to the contact."""
    return list(Delivery.query(contact.partition, consistent_read=True))


def _when(moment):
    return moment.isoformat() if moment else None


def _delivery(item):
    return {'message': item.purpose.split('#')[0], 'channel': item.channel, 'state': item.state,
            'written_at': _when(item.created_at), 'sent_at': _when(item.sent_at),
            'provider_status': item.provider_status, 'error': item.error, 'text': item.body}


def _signup(signup, circle, items):
    meetings = {m.meeting_id: m for m in (circle.meetings if circle else [])}
    return {
        'circle': {'id': signup.circle_id, 'name': circle.name if circle else None},
        'signed_up_at': _when(signup.created_at),
        'withdrawn_at': _when(signup.withdrawn_at),
        'name': signup.name, 'email': signup.email, 'mobile': signup.mobile,
        'answers': {'goals': signup.goals, 'support': signup.support,
                    'question': circle.signup_question if circle else None, 'answer': signup.custom_answer},
        'communications_opt_in': bool(signup.communications_opt_in),
        'texts_off': bool(signup.sms_opted_out), 'reminder_emails_off': bool(signup.reminders_stopped),
        'rsvps': [{'meeting': _when(meetings[r.meeting_id].starts_at) if r.meeting_id in meetings else None,
                   'answer': r.answer, 'answered_at': _when(r.answered_at)} for r in items.rsvps],
        'survey': items.survey and {
            'goal': items.survey.goal, 'goal_reached': items.survey.goal_reached,
            'worked_well': items.survey.worked_well, 'improve': items.survey.improve,
            'next_step': items.survey.next_step, 'recommend': items.survey.recommend,
            'may_quote': bool(items.survey.may_quote), 'answered_at': _when(items.survey.answered_at)},
        'messages': [_delivery(d) for d in sorted(items.deliveries, key=lambda d: d.created_at or d.updated_at)],
        'texts_sent': [{'text': t.body, 'received_at': _when(t.received_at)} for t in items.texts],
        'consents': [as_json(r) for r in items.consents],
    }


def export(contact, now):
    """The JSON-ready dict of everything held about `contact`."""
    data = circles_of(contact)
    return {
        'format': FORMAT_VERSION,
        'exported_at': now.isoformat(),
        'contact': {'channel': contact.channel, 'value': contact.value},
        'signups': [_signup(h.signup, h.circle, about(h.signup, h.circle)) for h in data.held],
        'links_sent': [_delivery(d) for d in link_requests(contact)],
    }
