"""Field rules: how long, how large and which values every form and API field may be.

The creation dialog, the edit form, the meetings page, messages, feedback, reminders, the
signup form and API, and the OpenAPI document all read their limits here, so they cannot
disagree. A rule is a small frozen value (`Text`, `Link`, `Number`, the `LANGUAGES`);
`clean_text`, `clean_whole_number`, `clean_language` and `is_true` check what was posted and
return `(clean value, None)` or `(value, readable message)`. Requirements that depend on
other fields (a venue only in person, a link only online) stay with the caller, which
passes its own message as `missing`.

Where the dialog and the edit form disagreed, one value was chosen:
- capacity 1-1,000: the dialog's 500 turned big library or online circles away; 10,000 is no study group.
- welcome message 5,000 characters (was 2,000 in the dialog): as long as the description it often repeats.
- signup question 500 characters (was 300 in the dialog): room for a question with an example.
- meeting length 15-600 minutes (dialog 480): the meetings page's, so no meeting it saved becomes invalid.
- description, course link, venue address (in person): required in both, as publishing needed them.
- web links: one check (http(s), a host, no white space); the dialog let tabs pass, the edit form `https://:80`.
- true values: True, 1, 'true', 'on', 'yes', '1' everywhere; the edit form refused '1', feedback JSON true.
- attendance 0-1,000 (was 500): as many as the largest capacity.

Characters: a single-line field (a name, a title, a subject, a link) refuses line breaks, tabs
and every other control character, because it ends up in places where a line break is a
syntax error or an injection (an email Subject, an iCalendar property, a CSV cell); a
multi-line field (`multiline=True`, a textarea) keeps line breaks, stored as `\n`, and refuses
the other control characters. No field takes a lone surrogate (`"\ud800"` in JSON): it cannot
be encoded as UTF-8, so no page, email or DynamoDB request could carry it. `one_line` makes
text stored before these rules safe for a single-line context.

Meeting dates: at most `MEETING_YEARS` years ahead (`clean_meeting_date`): a year like 9999 is
a typo, and its UTC instant or the calendar's time zone around it may not exist (nor in year 1).
"""
import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from chalicelib.core.i18n import N_, _

# The messages, in English (N_: translated by `_()` where they are returned, in the language
# of the moment; compare a returned message with `_(REQUIRED)`, or these codes before it is).
REQUIRED = N_('Please fill this in.')
NOT_A_LINK = N_('Please give a full web address starting with https:// (or http://).')
NOT_A_LANGUAGE = N_('Please choose a language from the list.')
NOT_ONE_LINE = N_('Please keep this on one line, without tabs or other control characters.')
CONTROL_CHARACTER = N_('Please remove the tabs and other control characters from this text.')
BROKEN_CHARACTER = N_('This text contains a broken character (an unpaired surrogate), often left by copying '
                      'and pasting: please type it again.')
# What str.splitlines() breaks lines at, besides the C0/C1 controls: NEL, LINE and PARAGRAPH SEPARATOR.
LINE_SEPARATORS = '\x85\u2028\u2029'


@dataclass(frozen=True)
class Text:
    """Stripped text of at most `max_length` characters; `required`: never empty; `multiline`:
    line breaks allowed (a textarea), else one line."""
    max_length: int
    required: bool = False
    multiline: bool = False


@dataclass(frozen=True)
class Link(Text):
    """Text that is a web address people can open (see `is_web_link`)."""


@dataclass(frozen=True)
class Number:
    """A whole number from `low` to `high`; when not `required`, empty means none."""
    low: int
    high: int
    required: bool = True


# --- the circle: course, place, schedule, details, goals ---------------------------------

COURSE_TITLE = Text(200, required=True)
COURSE_PROVIDER = Text(200)
COURSE_LINK = Link(500, required=True)
TOPICS = Text(400)          # the comma-separated list as typed
TOPIC = Text(40)            # each topic in it
MAX_TOPICS = 10
ONLINE_LINK = Link(500)     # required for an online circle
VENUE_NAME = Text(200)      # required, with VENUE_ADDRESS, for a circle that meets in person
VENUE_ADDRESS = Text(300)
VENUE_DETAILS = Text(1000, multiline=True)
VENUE_WEBSITE = Link(500)
LATITUDE = Number(-90, 90)
LONGITUDE = Number(-180, 180)
DURATION = Number(15, 600)  # minutes of one meeting
WEEKS = Number(1, 52)
CIRCLE_NAME = Text(200, required=True)
DESCRIPTION = Text(5000, required=True, multiline=True)
WELCOME_MESSAGE = Text(5000, multiline=True)
SIGNUP_QUESTION = Text(500)
CAPACITY = Number(1, 1000, required=False)
GOAL = Text(2000, required=True, multiline=True)
CONCERNS = Text(2000, multiline=True)
# The languages the public circle page can name (templates/circle.html); the names are
# translated where shown (`_(rules.LANGUAGES[code])`).
LANGUAGES = {'en': N_('English'), 'es': N_('Spanish'), 'pt': N_('Portuguese'), 'fr': N_('French'),
             'de': N_('German'), 'sw': N_('Swahili')}

# --- running it: messages, feedback, reminders --------------------------------------------

MESSAGE_SUBJECT = Text(200, required=True)
MESSAGE_BODY = Text(5000, required=True, multiline=True)
ATTENDANCE = Number(0, CAPACITY.high)
RATING = Number(1, 5)
REFLECTION = Text(3000, required=True, multiline=True)
REMINDER_SUBJECT = Text(150, required=True)
REMINDER_INTRO = Text(3000, required=True, multiline=True)
REMINDER_SMS_WORDS = Text(160, multiline=True)

# --- people: signup, accounts, co-facilitators ---------------------------------------------

PERSON_NAME = Text(200, required=True)
EMAIL = Text(254, required=True)    # the longest address SMTP carries (RFC 5321)
ANSWER = Text(2000, multiline=True)
SIGNUP = {'name': PERSON_NAME, 'email': EMAIL, 'goals': ANSWER, 'support': ANSWER,
          'custom_answer': ANSWER}     # custom_answer: required when the circle asks a question
TRUE_VALUES = (True, 1, 'true', 'on', 'yes', '1')
MEETING_YEARS = 5
# Before it no meeting is kept or made; from it on every date has a UTC instant in every zone.
EARLIEST_MEETING_DATE = date(1970, 1, 1)


# --- searching: the text parameters of GET /api/learningcircles/ (q, city, team_id, topics) --

SEARCH_TEXT = Text(500)


# --- checking values -----------------------------------------------------------------------

def is_web_link(value):
    """An http(s) address with a host name and no white space."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme in ('http', 'https') and bool(parts.hostname)
    except ValueError:      # e.g. an unclosed [ in the host, or a port that is not a number
        return False


def has_lone_surrogate(text):
    return any('\ud800' <= ch <= '\udfff' for ch in text)


def without_surrogates(text):
    """The text with each lone surrogate replaced by U+FFFD, so that it can be shown again."""
    return ''.join('\ufffd' if '\ud800' <= ch <= '\udfff' else ch for ch in text)


def _is_control(ch):
    return unicodedata.category(ch) == 'Cc' or ch in LINE_SEPARATORS


def text_problem(value, multiline=False):
    """The message for a character `value` may not hold, or None (see the module's docstring).
    `multiline` text is expected with its line breaks normalised to `\n` already."""
    problem = _text_problem_code(value, multiline)
    return _(problem) if problem else None


def _text_problem_code(value, multiline):
    """`text_problem`'s message in English (one of the constants above), or None."""
    if has_lone_surrogate(value):
        return BROKEN_CHARACTER
    if any(_is_control(ch) for ch in value if not (multiline and ch == '\n')):
        return CONTROL_CHARACTER if multiline else NOT_ONE_LINE
    return None


def normalise_line_breaks(text):
    """CR LF (what browsers post for a textarea), CR and the Unicode line separators as `\n`."""
    text = text.replace('\r\n', '\n').replace('\r', '\n')
    return ''.join('\n' if ch in LINE_SEPARATORS else ch for ch in text)


def one_line(text):
    """Stored text made safe for one line (an email header, an iCalendar property): every run of
    white space and control characters becomes one space, a lone surrogate U+FFFD."""
    if not text:
        return ''
    spaced = ''.join(' ' if ch.isspace() or _is_control(ch) else ch for ch in without_surrogates(text))
    return ' '.join(spaced.split())


def clean_text(rule, raw, missing=None):
    """(stripped text, message or None). Empty is refused when the rule is required or the
    caller gives a `missing` message (a field required only in some cases). A refused
    character comes back replaced when it could not be shown again (a lone surrogate)."""
    value = raw if isinstance(raw, str) else ''
    if rule.multiline:
        value = normalise_line_breaks(value)
    value = value.strip()
    if not value:
        return value, (missing or _(REQUIRED)) if (missing or rule.required) else None
    problem = _text_problem_code(value, rule.multiline)
    if problem:
        if isinstance(rule, Link) and problem != BROKEN_CHARACTER:
            problem = NOT_A_LINK    # an address with a tab or a line break in it is no address
        return without_surrogates(value), _(problem)
    if len(value) > rule.max_length:
        return value, _('Please keep this to at most %(limit)s characters.') % {'limit': rule.max_length}
    if isinstance(rule, Link) and not is_web_link(value):
        return value, _(NOT_A_LINK)
    return value, None


def number_message(rule):
    values = {'low': rule.low, 'high': rule.high}
    if rule.required:
        return _('Please give a whole number from %(low)s to %(high)s.') % values
    return _('Please give a whole number from %(low)s to %(high)s, or leave it empty.') % values


def clean_whole_number(rule, raw, message=None):
    """(int or None, message or None); `message` replaces the standard one."""
    text = raw.strip() if isinstance(raw, str) else ''
    if not text:
        return None, (message or number_message(rule)) if rule.required else None
    try:
        value = int(text)
    except ValueError:
        return None, message or number_message(rule)
    if not rule.low <= value <= rule.high:
        return value, message or number_message(rule)
    return value, None


def clean_language(raw, keep=None):
    """(code, message or None): a code of LANGUAGES, or `keep` (the one a circle has already)."""
    code = without_surrogates(raw.strip()) if isinstance(raw, str) else ''
    if code in LANGUAGES or (keep and code == keep):
        return code, None
    return code, _(NOT_A_LANGUAGE)


def is_true(value):
    """A ticked checkbox or a JSON true: True, 1, 'true', 'on', 'yes' or '1'."""
    return value in TRUE_VALUES


def latest_meeting_date(today):
    """The last day a meeting may be on: `MEETING_YEARS` years after `today`."""
    return _years_after(today, MEETING_YEARS)


def _years_after(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:      # 29 February
        return day.replace(year=day.year + years, day=28)


def meeting_date_problem(value, today):
    """The message for a meeting date more than `MEETING_YEARS` after `today`, or before
    EARLIEST_MEETING_DATE (whether a later past date may stay is the caller's rule), or None."""
    latest = latest_meeting_date(today)
    if value > latest:
        return _('Please choose a date within %(years)s years from today (by %(latest)s).') % {
            'years': MEETING_YEARS, 'latest': latest.isoformat()}
    if value < EARLIEST_MEETING_DATE:
        return _('Please choose a date that has not passed.')
    return None


NOT_A_DATE = N_('Please give the date as YYYY-MM-DD.')


def clean_meeting_date(raw, today, message=None):
    """(date or None, message or None): an ISO date `meeting_date_problem` accepts (`message`
    when it is no date; by default NOT_A_DATE, translated)."""
    text = raw.strip() if isinstance(raw, str) else ''
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None, message or _(NOT_A_DATE)
    problem = meeting_date_problem(value, today)
    return (None, problem) if problem else (value, None)
