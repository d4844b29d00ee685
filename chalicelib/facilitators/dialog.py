"""The step-by-step creation dialog: each step's validation and saving the draft (publishing it:
facilitators/publishing.py).

A draft is a real Circle item with `published=False` (invisible to every listing) plus a
CircleSetup item beside it. Step 1 creates both, with the CircleFacilitator link that puts
the draft on the creator's dashboard, in one transaction; every later Next rewrites the
circle and the setup in one transaction, conditional on nobody having saved meanwhile.
Until a step sets them, the circle carries placeholders: name = course title, timezone UTC.

Validation functions take the posted form fields (a flat dict of strings) and return the
clean values, or raise ValidationFailed with messages keyed by form field name.
"""
import functools
import logging
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import available_timezones

from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles
from chalicelib.facilitators import access as facilitation
from chalicelib.core import fields as rules
from chalicelib.core.errors import ValidationFailed
from chalicelib.models.transactions import TransactionBusy, transact_write
from chalicelib.messaging import outbox
from chalicelib.models import Circle, CircleSetup, Course, Team, TeamMember
from chalicelib.core.clock import zone_info
from chalicelib.core import i18n
from chalicelib.core.i18n import _, N_

log = logging.getLogger(__name__)

# Step names, translated where shown (`step_names`); STEP_WORDS name them inside a sentence
# ('Go to course'), each a message of its own so no language has to lower-case a name.
STEPS = {1: N_('Course'), 2: N_('Place'), 3: N_('Schedule'), 4: N_('Details'), 5: N_('Goals'),
         6: N_('Review and publish')}
STEP_WORDS = {1: N_('course'), 2: N_('place'), 3: N_('schedule'), 4: N_('details'), 5: N_('goals'),
              6: N_('review and publish')}
FORM_STEPS = (1, 2, 3, 4, 5)
REVIEW_STEP = 6
PLACEHOLDER_TIMEZONE = 'UTC'
LANGUAGES = rules.LANGUAGES
TEAM_ROLES = ('facilitator', 'organizer')
MAX_WEEKS = rules.WEEKS.high
# Each text field of the steps and its rule (chalicelib/core/fields.py holds every limit).
RULES = {'title': rules.COURSE_TITLE, 'provider': rules.COURSE_PROVIDER, 'link': rules.COURSE_LINK,
         'topics': rules.TOPICS, 'online_link': rules.ONLINE_LINK, 'venue_name': rules.VENUE_NAME,
         'venue_address': rules.VENUE_ADDRESS, 'venue_details': rules.VENUE_DETAILS,
         'venue_website': rules.VENUE_WEBSITE, 'name': rules.CIRCLE_NAME, 'description': rules.DESCRIPTION,
         'welcome_message': rules.WELCOME_MESSAGE, 'signup_question': rules.SIGNUP_QUESTION,
         'goal': rules.GOAL, 'concerns': rules.CONCERNS}


def step_names():
    """{step: name} in the language of the moment: the dialog's steps as pages show them."""
    return {number: _(name) for number, name in STEPS.items()}


def step_words():
    """{step: name inside a sentence} in the language of the moment ('Go to course')."""
    return {number: _(word) for number, word in STEP_WORDS.items()}


def language_name(code):
    """A circle language's name in the language of the moment ('Spanish', 'español'), from
    Babel's locale data; the English name of LANGUAGES (or the code) if Babel has none."""
    from babel import Locale, UnknownLocaleError
    try:
        name = Locale.parse(i18n.current()).languages.get(code)
    except (UnknownLocaleError, ValueError, TypeError):
        name = None
    return name or LANGUAGES.get(code, code)


def language_options(codes=None):
    """(code, name) of each circle language (or of `codes`), in LANGUAGES' order: the
    language select of the dialog and the edit form (values stay the codes)."""
    return [(code, language_name(code)) for code in (LANGUAGES if codes is None else codes)]


class DraftChanged(Exception):
    """The draft was saved from another window (or published) since this page read it."""


# --- reading form fields ----------------------------------------------------------

def _text(fields, name, errors, required=None):
    """The stripped value, checked against its rule (a link's too); `required` is the message
    shown when it is empty."""
    value, error = rules.clean_text(RULES[name], fields.get(name), missing=required)
    if error:
        errors[name] = [error]
    return value


def _whole_number(fields, name, errors, rule, message=None):
    value, error = rules.clean_whole_number(rule, fields.get(name), message)
    if error:
        errors[name] = [error]
    return value


def _iso_date(raw):
    try:
        return date.fromisoformat((raw or '').strip())
    except ValueError:
        return None


def _fail_if(errors):
    if errors:
        raise ValidationFailed(errors)


# --- step 1: course ---------------------------------------------------------------

def validate_course(fields):
    errors = {}
    clean = {
        'title': _text(fields, 'title', errors, _('Please give the course title.')),
        'provider': _text(fields, 'provider', errors),
        'link': _text(fields, 'link', errors, _('Please give the address of the course online.')),
    }
    raw_topics = _text(fields, 'topics', errors)
    topics = list(dict.fromkeys(t.strip().lower() for t in raw_topics.split(',') if t.strip()))
    if len(topics) > rules.MAX_TOPICS:
        errors['topics'] = [_('Please choose at most %(limit)s topics.') % {'limit': rules.MAX_TOPICS}]
    elif any(len(t) > rules.TOPIC.max_length for t in topics):
        errors['topics'] = [_('Please keep each topic to at most %(limit)s characters.')
                            % {'limit': rules.TOPIC.max_length}]
    clean['topics'] = topics
    _fail_if(errors)
    return clean


def choose_team(fields, teams):
    """The team a new circle belongs to: the only one, or the one chosen among several."""
    if not teams:
        return None
    if len(teams) == 1:
        return teams[0].team_id
    chosen = (fields.get('team_id') or '').strip()
    if chosen not in {team.team_id for team in teams}:
        raise ValidationFailed({'team_id': [_('Please choose the team this circle belongs to.')]})
    return chosen


def apply_course(circle, setup, clean):
    circle.course = Course(title=clean['title'], provider=clean['provider'] or None, link=clean['link'],
                           topics=clean['topics'])
    if 4 not in setup.steps_done:
        circle.name = clean['title']     # placeholder until the Details step names the circle


# --- step 2: place ----------------------------------------------------------------

def validate_place(fields, setup):
    """Online with a link, or in person at a venue in a city from the gazetteer.

    A newly chosen city brings its coordinates. The page shows coordinates only for a city
    already chosen, naming it in `coordinates_city_id`: then the posted (possibly adjusted)
    coordinates are kept."""
    from chalicelib.circles import gazetteer
    errors = {}
    mode = fields.get('mode')
    if mode not in ('online', 'in_person'):
        _fail_if({'mode': [_('Please choose whether the circle meets online or in person.')]})
    if mode == 'online':
        clean = {'online': True, 'online_link': _text(fields, 'online_link', errors,
                                                      _('Please give the link learners use to join.'))}
        _fail_if(errors)
        return clean
    clean = {
        'online': False,
        'venue_name': _text(fields, 'venue_name', errors, _('Please name the venue, e.g. the library.')),
        'venue_address': _text(fields, 'venue_address', errors, _("Please give the venue's street address.")),
        'venue_details': _text(fields, 'venue_details', errors),
        'venue_website': _text(fields, 'venue_website', errors),
    }
    city = gazetteer.lookup(fields.get('city_id'))
    if city is None:
        errors['city_id'] = [_('Please find your city and choose it from the list.')]
    else:
        clean['city'] = city
        clean['latitude'], clean['longitude'] = city.latitude, city.longitude
        if city.id == (fields.get('coordinates_city_id') or '').strip():
            clean['latitude'] = _coordinate(fields, 'latitude', rules.LATITUDE, errors)
            clean['longitude'] = _coordinate(fields, 'longitude', rules.LONGITUDE, errors)
    _fail_if(errors)
    return clean


def _coordinate(fields, name, rule, errors):
    try:
        value = float((fields.get(name) or '').strip())
    except ValueError:
        value = None
    if value is None or not rule.low <= value <= rule.high or value != value:
        errors[name] = [_('Please give a number between %(low)s and %(high)s.') % {'low': rule.low, 'high': rule.high}]
        return None
    return round(value, 6)


def apply_place(circle, setup, clean):
    from chalicelib.circles import gazetteer
    circle.online = clean['online']
    if circle.online:
        circle.online_link = clean['online_link']
        for name in ('venue_name', 'venue_address', 'venue_details', 'venue_website', 'city', 'region',
                     'country', 'latitude', 'longitude'):
            setattr(circle, name, None)
        setup.city_id = None
        return
    city = clean['city']
    circle.online_link = None
    circle.venue_name, circle.venue_address = clean['venue_name'], clean['venue_address']
    circle.venue_details = clean['venue_details'] or None
    circle.venue_website = clean['venue_website'] or None
    circle.city, circle.region, circle.country = city.name, city.region, city.country
    circle.latitude, circle.longitude = clean['latitude'], clean['longitude']
    previous = gazetteer.lookup(setup.city_id) if setup.city_id else None
    # The city's timezone is the default: it replaces the placeholder, or the previous
    # city's default, but never a timezone the facilitator chose in the Schedule step.
    if 3 not in setup.steps_done or (previous and circle.timezone == previous.timezone):
        set_timezone(circle, city.timezone)
    setup.city_id = city.id


def set_timezone(circle, tz_name):
    """Change the timezone, keeping every meeting's local date and time (new UTC instants)."""
    circle.timezone = tz_name
    for meeting in circle.meetings:
        start = circles.local_start(date.fromisoformat(meeting.local_date),
                                    time.fromisoformat(meeting.local_time), tz_name)
        meeting.starts_at = start.astimezone(zone_info('UTC'))


# --- step 3: schedule -------------------------------------------------------------

@dataclass
class ScheduleRow:
    """One week of the plan: when it was planned, when it is, and whether it was removed."""
    index: int
    planned: date
    date: date
    removed: bool = False

    @property
    def moved(self):
        return self.date != self.planned


@dataclass
class Schedule:
    first_date: date
    meeting_time: time
    duration: int
    weeks: int
    timezone: str
    rows: list

    def meetings(self):
        """Every row as a Meeting; removed rows are kept (cancelled) while in draft."""
        result = []
        for row in self.rows:
            meeting = circles.new_meeting(row.date, self.meeting_time, self.duration, self.timezone)
            meeting.cancelled = row.removed
            result.append(meeting)
        return result



@functools.cache
def timezone_names():
    """IANA names learners recognise (Region/City), sorted; read once per process."""
    return sorted(name for name in available_timezones()
                  if '/' in name and not name.startswith(('Etc/', 'SystemV/', 'US/', 'posix/', 'right/')))


def is_timezone(name):
    return name in available_timezones()


def validate_schedule(fields, now):
    """The weekly pattern and each week's row (moved or removed, from the preview's fields).

    A row keeps its own date when the facilitator changed it from the date it was shown
    with (`meeting_<n>_planned`); otherwise it follows the pattern, so changing the first
    date or the number of weeks re-plans every row that was not moved by hand."""
    errors = {}
    tz_name = (fields.get('timezone') or '').strip()
    if not is_timezone(tz_name):
        errors['timezone'] = [_('Please choose a timezone from the list, e.g. America/Chicago.')]
        tz_name = None
    today = now.astimezone(zone_info(tz_name or PLACEHOLDER_TIMEZONE)).date()
    first = _iso_date(fields.get('first_date'))
    if first is None:
        errors['first_date'] = [_('Please give the date of the first meeting.')]
    elif first < today:
        errors['first_date'] = [_('The first meeting cannot be in the past.')]
    elif rules.meeting_date_problem(first, today):
        errors['first_date'] = [rules.meeting_date_problem(first, today)]
    try:
        meeting_time = time.fromisoformat((fields.get('meeting_time') or '').strip()[:5])
    except ValueError:
        meeting_time = None
        errors['meeting_time'] = [_('Please give the time meetings start, e.g. 18:00.')]
    duration = _whole_number(fields, 'duration', errors, rules.DURATION,
                             _('Meetings last between %(low)s and %(high)s minutes.')
                             % {'low': rules.DURATION.low, 'high': rules.DURATION.high})
    weeks = _whole_number(fields, 'weeks', errors, rules.WEEKS,
                          _('A circle meets for %(low)s to %(high)s weeks.')
                          % {'low': rules.WEEKS.low, 'high': rules.WEEKS.high})
    _fail_if(errors)
    rows = _rows(fields, first, weeks, today, errors)
    _fail_if(errors)
    return Schedule(first, meeting_time, duration, weeks, tz_name, rows)


def _rows(fields, first, weeks, today, errors):
    rows, seen = [], {}
    for index in range(weeks):
        planned = first + timedelta(weeks=index)
        field = f'meeting_{index}_date'
        shown_as = (fields.get(f'meeting_{index}_planned') or '').strip()
        posted = (fields.get(field) or '').strip()
        row = ScheduleRow(index, planned, planned, removed=bool(fields.get(f'meeting_{index}_remove')))
        if posted and posted != shown_as:
            moved_to = _iso_date(posted)
            if moved_to is None:
                errors[field] = [_('Please give a date, e.g. 2026-12-24.')]
            elif rules.meeting_date_problem(moved_to, today):     # removed rows too: they are stored
                errors[field] = [rules.meeting_date_problem(moved_to, today)]
            elif moved_to < today and not row.removed:
                errors[field] = [_('This date is in the past.')]
            else:
                row.date = moved_to
        if not row.removed and field not in errors:
            if row.date in seen:
                errors[field] = [_('Meeting %(number)s is on this day already.') % {'number': seen[row.date] + 1}]
            seen[row.date] = index
        rows.append(row)
    if rows and all(row.removed for row in rows):
        errors['meetings'] = [_('Please keep at least one meeting.')]
    return rows


def stored_schedule(circle, setup):
    """The Schedule the draft was saved with, or None before the Schedule step."""
    if not setup.first_date or not circle.meetings:
        return None
    first = date.fromisoformat(setup.first_date)
    rows = [ScheduleRow(n, first + timedelta(weeks=n), date.fromisoformat(m.local_date), bool(m.cancelled))
            for n, m in enumerate(circle.meetings)]
    head = circle.meetings[0]
    return Schedule(first, time.fromisoformat(head.local_time), int(head.duration_minutes),
                    len(rows), circle.timezone, rows)


def apply_schedule(circle, setup, schedule):
    circle.timezone = schedule.timezone
    circle.meetings = schedule.meetings()
    setup.first_date = schedule.first_date.isoformat()
    setup.weeks = schedule.weeks


def preview(schedule):
    """What the preview table lists: each row's date, weekday and local start with the zone's
    abbreviation for that day (so a week across a DST change shows the new offset)."""
    from chalicelib.core.formatting import at, clock, long_date
    zone = zone_info(schedule.timezone)
    result = []
    for row in schedule.rows:
        start = circles.local_start(row.date, schedule.meeting_time, schedule.timezone).astimezone(zone)
        result.append({'index': row.index, 'planned': row.planned.isoformat(), 'date': row.date.isoformat(),
                       'removed': row.removed, 'moved': row.moved,
                       'when': f'{at(long_date(start.date()), clock(start.time()))} {start.tzname()}'})
    return result


# --- step 4: details, step 5: goals ------------------------------------------------

def validate_details(fields):
    errors = {}
    clean = {
        'name': _text(fields, 'name', errors, _('Please name your learning circle.')),
        'description': _text(fields, 'description', errors,
                             _('Please describe the circle: who it is for and what you will do.')),
        'welcome_message': _text(fields, 'welcome_message', errors),
        'signup_question': _text(fields, 'signup_question', errors),
        'capacity': _whole_number(fields, 'capacity', errors, rules.CAPACITY),
    }
    clean['language'], error = rules.clean_language(fields.get('language'))
    if error:
        errors['language'] = [error]
    _fail_if(errors)
    return clean


def apply_details(circle, setup, clean):
    circle.name, circle.description, circle.language = clean['name'], clean['description'], clean['language']
    circle.welcome_message = clean['welcome_message'] or None
    circle.signup_question = clean['signup_question'] or None
    circle.capacity = clean['capacity']


def validate_goals(fields):
    errors = {}
    clean = {'goal': _text(fields, 'goal', errors, _('Please tell us what you hope to achieve by running it.')),
             'concerns': _text(fields, 'concerns', errors)}
    _fail_if(errors)
    return clean


def apply_goals(circle, setup, clean):
    setup.goal, setup.concerns = clean['goal'], clean['concerns'] or None


# --- the form values a step shows -------------------------------------------------

def step_values(step, circle, setup):
    """The saved answers of `step`, as the form fields hold them."""
    if step == 1:
        return {'title': circle.course.title, 'provider': circle.course.provider or '',
                'link': circle.course.link or '', 'topics': ', '.join(circle.course.topics)}
    if step == 2:
        if 2 not in setup.steps_done:
            return {'mode': ''}
        return {'mode': 'online' if circle.online else 'in_person', 'online_link': circle.online_link or '',
                'venue_name': circle.venue_name or '', 'venue_address': circle.venue_address or '',
                'venue_details': circle.venue_details or '', 'venue_website': circle.venue_website or '',
                'city_id': setup.city_id or '', 'city_query': circle.city or '',
                'latitude': _number_text(circle.latitude), 'longitude': _number_text(circle.longitude)}
    if step == 3:
        schedule = stored_schedule(circle, setup)
        if schedule is None:
            # The placeholder is no answer: an online circle's facilitator chooses (or the browser fills in).
            return {'first_date': '', 'meeting_time': '', 'duration': '90', 'weeks': '6',
                    'timezone': '' if circle.timezone == PLACEHOLDER_TIMEZONE else circle.timezone}
        return {'first_date': schedule.first_date.isoformat(), 'meeting_time': schedule.meeting_time.strftime('%H:%M'),
                'duration': str(schedule.duration), 'weeks': str(schedule.weeks), 'timezone': schedule.timezone}
    if step == 4:
        return {'name': circle.name, 'description': circle.description or '', 'language': circle.language or 'en',
                'welcome_message': circle.welcome_message or '', 'signup_question': circle.signup_question or '',
                'capacity': '' if circle.capacity is None else str(int(circle.capacity))}
    if step == 5:
        return {'goal': setup.goal or '', 'concerns': setup.concerns or ''}
    return {}


def _number_text(value):
    return '' if value is None else f'{float(value):g}'


VALIDATE = {1: validate_course, 2: validate_place, 3: validate_schedule, 4: validate_details, 5: validate_goals}
APPLY = {1: apply_course, 2: apply_place, 3: apply_schedule, 4: apply_details, 5: apply_goals}


def validate_step(step, fields, setup, now):
    if step == 2:
        return validate_place(fields, setup)
    if step == 3:
        return validate_schedule(fields, now)
    return VALIDATE[step](fields)


# --- teams ------------------------------------------------------------------------

def user_teams(user_id):
    """Teams the user facilitates for or organizes: one Query (and one BatchGet of their
    names when there are any)."""
    members = [m for m in TeamMember.by_user.query(f'USER#{user_id}', TeamMember.user_sk.startswith('TEAM#'))
               if m.role in TEAM_ROLES]
    if not members:
        return []
    teams = list(Team.batch_get([Team.key(m.team_id) for m in members]))
    return sorted(teams, key=lambda team: team.name.lower())


def team_name(team_id):
    try:
        return Team.get(*Team.key(team_id)).name
    except Team.DoesNotExist:
        return None


# --- writing ----------------------------------------------------------------------

def start_draft(session, clean, team_id, now=None):
    """Create the draft from step 1: circle, facilitator link and setup in one transaction."""
    now = now or circles.utcnow()
    course = Course(title=clean['title'], provider=clean['provider'] or None, link=clean['link'],
                    topics=clean['topics'])
    circle = circles.new_circle(
        name=clean['title'], course=course, timezone_name=PLACEHOLDER_TIMEZONE, meetings=[], published=False,
        facilitator_ids=[session.user_id], facilitator_names=[session.name.split()[0]],
        facilitator_emails=[session.email], team_id=team_id)
    link = facilitation.facilitator_link(circle, session, 'facilitator', now)
    setup = CircleSetup(*CircleSetup.key(circle.id), circle_id=circle.id, steps_done=[1], created_at=now,
                        updated_at=now)

    def build(transaction):
        transaction.save(circle, condition=Circle.pk.does_not_exist())
        transaction.save(link, condition=facilitation.CircleFacilitator.pk.does_not_exist())
        transaction.save(setup)
    transact_write(build)
    return circle


def setup_of(workspace):
    """The draft's CircleSetup. A circle made without the dialog (demo data, imports) has none:
    it counts as complete and as published before, so publishing it changes no meeting."""
    found = workspace.of_kind(CircleSetup)
    if found:
        return found[0]
    circle = workspace.circle
    return CircleSetup(*CircleSetup.key(circle.id), circle_id=circle.id, steps_done=list(FORM_STEPS),
                       created_at=circle.created_at, published_at=circle.created_at)


def was_published(setup):
    return setup.published_at is not None


def _unchanged_draft(read_at, read_count):
    """Still the draft this request read. The count is part of it because a learner withdrawing
    from an unpublished circle (one that was published before) changes it."""
    return ((Circle.updated_at == read_at) & (Circle.published == False)  # noqa: E712
            & (Circle.signup_count == read_count))


def write_draft(circle, setup, read_at, read_count, messages=()):
    """Save the circle and its setup together (with the outbox items the change causes),
    unless the circle changed since it was read (or other writes to it kept conflicting:
    TransactionBusy, reported the same way)."""

    def build(transaction):
        transaction.save(circle, condition=_unchanged_draft(read_at, read_count))
        transaction.save(setup)
        for item in messages:
            transaction.save(*outbox.put(item))
    try:
        transact_write(build)
    except (TransactWriteError, TransactionBusy):
        raise DraftChanged() from None


def save_step(workspace, step, clean, now=None):
    """Apply a validated step to the draft and write it: one transaction, refused with
    DraftChanged if the circle was saved or published since `workspace` was read."""
    now = now or circles.utcnow()
    circle, setup = workspace.circle, setup_of(workspace)
    APPLY[step](circle, setup, clean)
    setup.steps_done = sorted({*map(int, setup.steps_done), step})
    setup.updated_at = now
    read_at, read_count = circle.updated_at, circle.signup_count
    circle.updated_at = now
    circles.refresh_derived(circle)
    write_draft(circle, setup, read_at, read_count)
    return circle, setup
