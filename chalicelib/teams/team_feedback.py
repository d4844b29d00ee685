"""The organizer's feedback page: the team's meeting feedback, newest meeting first, in pages.

Only feedback its facilitator shared with the team's organizers is listed; unshared feedback is
not listed at all, not even as a row without its words (the week page says only that it exists:
see `chalicelib.teams.organizing`). Filters: one circle, one author (the facilitator who wrote
the feedback), one rating.

Reads per page, bounded whatever the team's size: at most MAX_QUERIES Queries of the team's
`F#` range (`by_team_day`, newest meeting date first; the filters and the sharing rule are
DynamoDB filter expressions, so a Query reads at most READ_PER_QUERY items and returns only
what is listed), one BatchGetItem of the listed meetings' entries (circle name, meeting number
and time: feedback items carry only ids) and one Query of `by_team` for the filters' choices
(the team's published circles and their facilitators). A page holds at most PAGE_SIZE rows; it
may hold fewer and still offer older feedback when the filters matched little of what
MAX_QUERIES Queries read.

The cursor is the `td_sk` of the last row shown (`F#<date>#<circle>#<meeting>`): the next page
starts right after it, as DynamoDB's ExclusiveStartKey, always inside the caller's team.
"""
import re
from dataclasses import dataclass

from chalicelib.core.clock import zone_info
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.formatting import clock
from chalicelib.core.i18n import _
from chalicelib.models import raw as reads
from chalicelib.models import Circle, MeetingEntry, MeetingFeedback, TableItem
from chalicelib.models.meeting_entry import FEEDBACK, team_day_pk

PAGE_SIZE = 20
MAX_QUERIES = 3
READ_PER_QUERY = 100
RATINGS = range(1, 6)
_ID = re.compile(r'^[A-Za-z0-9_-]{1,64}$')
_CURSOR = re.compile(r'^F#(\d{4}-\d{2}-\d{2})#([A-Za-z0-9_-]{1,64})#([A-Za-z0-9_-]{1,64})$')


@dataclass(frozen=True)
class Filters:
    circle_id: str = None
    author_id: str = None
    rating: int = None

    def query_params(self):
        """The filters as the page's GET parameters (for the next page's link)."""
        return {name: value for name, value in (('circle', self.circle_id), ('author', self.author_id),
                                                ('rating', self.rating)) if value}


def parse_filters(params):
    """Filters from the page's GET parameters; ValidationFailed names each bad one."""
    params = params or {}
    errors = {}

    def an_id(name):
        value = (params.get(name) or '').strip()
        if value and not _ID.match(value):
            errors[name] = [_('Please choose from the list.')]
            return None
        return value or None
    circle_id, author_id = an_id('circle'), an_id('author')
    rating = (params.get('rating') or '').strip()
    if rating and rating not in {str(r) for r in RATINGS}:
        errors['rating'] = [_('Please choose a rating from 1 to 5.')]
    if errors:
        raise ValidationFailed(errors)
    return Filters(circle_id=circle_id, author_id=author_id, rating=int(rating) if rating else None)


def parse_cursor(value):
    """The cursor's key, or None for the first page; ValidationFailed for one we did not make."""
    if not value:
        return None
    if len(value) > 200 or not _CURSOR.match(value):
        raise ValidationFailed({'after': [_('This page link is not one we made: start again from the first page.')]})
    return value


@dataclass
class FeedbackRow:
    feedback: MeetingFeedback
    local_date: str
    circle_name: str
    meeting_label: str           # 'Meeting 2 of 6, 18:00 CST', or '' when the entry is gone

    @property
    def circle_url(self):
        return f'/facilitate/circles/{self.feedback.circle_id}'


@dataclass
class FeedbackPage:
    rows: list
    after: str = None             # the next page's cursor; None on the last page
    queries: int = 0


def _filter(filters):
    names = {'#shared': MeetingFeedback.share_with_organizers.attr_name}
    values = {':yes': {'BOOL': True}}
    parts = ['#shared = :yes']
    for placeholder, attribute, value in (('circle', MeetingFeedback.circle_id, filters.circle_id),
                                          ('author', MeetingFeedback.author_id, filters.author_id),
                                          ('rating', MeetingFeedback.rating, filters.rating)):
        if value is None:
            continue
        names[f'#{placeholder}'] = attribute.attr_name
        values[f':{placeholder}'] = {'N': str(value)} if placeholder == 'rating' else {'S': value}
        parts.append(f'#{placeholder} = :{placeholder}')
    return ' AND '.join(parts), names, values


def _start_key(team_id, cursor):
    date_, circle_id, meeting_id = _CURSOR.match(cursor).groups()
    pk, sk = MeetingFeedback.key(circle_id, meeting_id)
    return {'pk': {'S': pk}, 'sk': {'S': sk}, 'td_pk': {'S': team_day_pk(team_id)}, 'td_sk': {'S': cursor}}


def shared_feedback(team_id, filters, after=None):
    """(feedback items, next cursor, queries made): at most PAGE_SIZE items, MAX_QUERIES Queries."""
    expression, names, values = _filter(filters)
    params = {'TableName': TableItem.Meta.table_name, 'IndexName': MeetingFeedback.by_team_day.Meta.index_name,
              'KeyConditionExpression': '#h = :h AND begins_with(#r, :r)', 'FilterExpression': expression,
              'ExpressionAttributeNames': {'#h': 'td_pk', '#r': 'td_sk', **names},
              'ExpressionAttributeValues': {':h': {'S': team_day_pk(team_id)}, ':r': {'S': FEEDBACK}, **values},
              'ScanIndexForward': False, 'Limit': READ_PER_QUERY}
    if after:
        params['ExclusiveStartKey'] = _start_key(team_id, after)
    dynamodb, found, queries = reads.client(), [], 0
    with reads.raw_json():
        while queries < MAX_QUERIES:
            answer = dynamodb.query(**params)
            queries += 1
            for item in answer.get('Items', []):
                found.append(item)
                if len(found) == PAGE_SIZE:
                    more = item is not answer['Items'][-1] or bool(answer.get('LastEvaluatedKey'))
                    return _items(found), (item['td_sk']['S'] if more else None), queries
            last = answer.get('LastEvaluatedKey')
            if not last:
                return _items(found), None, queries
            params['ExclusiveStartKey'] = last
    return _items(found), last['td_sk']['S'], queries


def _items(raw_items):
    return [MeetingFeedback.from_raw_data(item) for item in raw_items]


_ENTRY_ATTRIBUTES = [getattr(MeetingEntry, name).attr_name for name in (
    'circle_id', 'meeting_id', 'circle_name', 'timezone', 'starts_at', 'number', 'of')]


def _entries(feedback):
    """{(circle id, meeting id): raw entry} of the listed feedback: one BatchGetItem."""
    keys = [MeetingEntry.key(f.circle_id, f.meeting_id) for f in feedback]
    found = reads.batch_get(keys, _ENTRY_ATTRIBUTES) if keys else []
    return {(item['circle_id']['S'], item['meeting_id']['S']): item for item in found}


def _label(entry):
    if entry is None:
        return ''
    starts = MeetingEntry.starts_at.deserialize(entry['starts_at']['S'])
    local = starts.astimezone(zone_info(entry['timezone']['S']))
    number, of = entry.get('number', {}).get('N'), entry.get('of', {}).get('N')
    moment = f'{clock(local.time())} {local.tzname()}'
    if number and of:
        return _('Meeting %(number)s of %(of)s, %(time)s') % {'number': number, 'of': of, 'time': moment}
    return moment


def feedback_page(team_id, filters, after=None):
    """One page of the team's shared feedback, newest meeting first."""
    items, next_after, queries = shared_feedback(team_id, filters, after)
    entries = _entries(items)
    rows = []
    for feedback in items:
        entry = entries.get((feedback.circle_id, feedback.meeting_id))
        rows.append(FeedbackRow(feedback=feedback, local_date=feedback.td_sk.split('#')[1],
                                circle_name=(entry or {}).get('circle_name', {}).get('S') or _('A circle of the team'),
                                meeting_label=_label(entry)))
    return FeedbackPage(rows=rows, after=next_after, queries=queries)


@dataclass
class Choices:
    circles: list           # (circle id, name), by name
    facilitators: list      # (user id, name), by name


def filter_choices(team_id):
    """The filters' choices: the team's circles and their facilitators, one `by_team` Query."""
    names = [Circle.id.attr_name, Circle.name.attr_name, Circle.facilitator_ids.attr_name,
             Circle.facilitator_names.attr_name]
    circles, people = {}, {}
    for item in reads.query(Circle.team_pk.attr_name, f'TEAM#{team_id}', index_name=Circle.by_team.Meta.index_name,
                            attributes=names):
        circle_id = item[Circle.id.attr_name]['S']
        circles[circle_id] = (item.get(Circle.name.attr_name) or {}).get('S') or _('Untitled circle')
        ids = [v['S'] for v in (item.get(Circle.facilitator_ids.attr_name) or {}).get('L', [])]
        shown = [v['S'] for v in (item.get(Circle.facilitator_names.attr_name) or {}).get('L', [])]
        for n, user_id in enumerate(ids):
            people.setdefault(user_id, shown[n] if n < len(shown) else _('A facilitator'))
    return Choices(circles=sorted(circles.items(), key=lambda c: (c[1].lower(), c[0])),
                   facilitators=sorted(people.items(), key=lambda p: (p[1].lower(), p[0])))
