"""What the learner pages show: the browse filters and a circle with its signup form."""
from urllib.parse import urlencode

from chalicelib.circles import circles
from chalicelib.circles.browse import browse, parse_browse_query
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.formatting import meeting_when, meeting_when_short
from chalicelib.core.i18n import _
from chalicelib.learners.signup import CONSENT_TEXT, refusal as signup_refusal

PAGE_FILTERS = ('q', 'city', 'weekday', 'online', 'latitude', 'longitude', 'distance')
PAGE_SIZE = 20


def _page_number(params, errors):
    text = (params.get('page') or '1').strip()
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        errors['page'] = [_('Must be a page number.')]
        return 1
    return int(text)


def _pages(filters, number, count):
    """Where "previous" and "next" lead (None at either end), keeping the filters."""
    kept = {name: value for name, value in filters.items() if value}

    def url(page_number):
        return '/?' + urlencode({**kept, **({'page': page_number} if page_number > 1 else {})})
    last = max(1, -(-count // PAGE_SIZE))
    return {'number': number, 'last': last,
            'first_shown': min(count, (number - 1) * PAGE_SIZE + 1), 'last_shown': min(count, number * PAGE_SIZE),
            'previous': url(number - 1) if number > 1 else None,
            'next': url(number + 1) if number < last else None}


def browse_page_context(params):
    """Translate the page's filters into a public API query and run it, one page of cards at a time."""
    filters = {name: (params.get(name) or '').strip() for name in PAGE_FILTERS}
    page_errors = {}
    number = _page_number(params, page_errors)
    api_params = {'scope': 'active', 'limit': str(PAGE_SIZE), 'offset': str((number - 1) * PAGE_SIZE)}
    for name in ('q', 'city', 'latitude', 'longitude', 'distance'):
        if filters[name]:
            api_params[name] = filters[name]
    if filters['weekday']:
        api_params['weekdays'] = filters['weekday']
    if filters['online'] in ('yes', 'no'):
        api_params['online'] = 'true' if filters['online'] == 'yes' else 'false'
    if not filters['latitude']:
        api_params['order'] = 'first_meeting_date'
    try:
        result = browse(parse_browse_query(api_params))
        errors = page_errors
    except ValidationFailed as error:
        result, errors = {'count': 0, 'items': []}, {**page_errors, **error.errors}
    return {'filters': filters, 'result': result, 'errors': errors, 'pages': _pages(filters, number, result['count']),
            'near_me': bool(filters['latitude'] and filters['longitude'])}


def circle_page_context(circle_id, values=None, errors=None, refusal=None, circle=None):
    """The circle page's data, or None when no published circle has this id (`circle`: the
    circle, read already). `refusal`: a message in the language of the moment."""
    now = circles.utcnow()
    circle = circle or circles.get_circle(circle_id)
    if circle is None or not circle.published:
        return None
    reason = signup_refusal(circle, now)      # in English (learners.signup)
    meetings = [{'when': meeting_when_short(m, circle.timezone), 'when_full': meeting_when(m, circle.timezone),
                 'past': m.starts_at <= now}
                for m in circles.active_meetings(circle)]
    return {
        'circle': circle,
        'item': circles.to_api_item(circle, now),
        'meetings': meetings,
        'next_meeting': circles.next_meeting(circle, now),
        'refusal': refusal or (_(reason) if reason else None),
        'values': values or {},
        'errors': errors or {},
        'consent_text': CONSENT_TEXT,       # in English: the form translates it
    }

