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
"""
from dataclasses import dataclass
from urllib.parse import urlsplit

REQUIRED = 'Please fill this in.'
NOT_A_LINK = 'Please give a full web address starting with https:// (or http://).'
NOT_A_LANGUAGE = 'Please choose a language from the list.'


@dataclass(frozen=True)
class Text:
    """Stripped text of at most `max_length` characters; `required`: never empty."""
    max_length: int
    required: bool = False


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
VENUE_DETAILS = Text(1000)
VENUE_WEBSITE = Link(500)
LATITUDE = Number(-90, 90)
LONGITUDE = Number(-180, 180)
DURATION = Number(15, 600)  # minutes of one meeting
WEEKS = Number(1, 52)
CIRCLE_NAME = Text(200, required=True)
DESCRIPTION = Text(5000, required=True)
WELCOME_MESSAGE = Text(5000)
SIGNUP_QUESTION = Text(500)
CAPACITY = Number(1, 1000, required=False)
GOAL = Text(2000, required=True)
CONCERNS = Text(2000)
# The languages the public circle page can name (templates/circle.html).
LANGUAGES = {'en': 'English', 'es': 'Spanish', 'pt': 'Portuguese', 'fr': 'French', 'de': 'German',
             'sw': 'Swahili'}

# --- running it: messages, feedback, reminders --------------------------------------------

MESSAGE_SUBJECT = Text(200, required=True)
MESSAGE_BODY = Text(5000, required=True)
ATTENDANCE = Number(0, CAPACITY.high)
RATING = Number(1, 5)
REFLECTION = Text(3000, required=True)
REMINDER_SUBJECT = Text(150, required=True)
REMINDER_INTRO = Text(3000, required=True)
REMINDER_SMS_WORDS = Text(160)

# --- people: signup, accounts, co-facilitators ---------------------------------------------

PERSON_NAME = Text(200, required=True)
EMAIL = Text(254, required=True)    # the longest address SMTP carries (RFC 5321)
SIGNUP = {'name': PERSON_NAME, 'email': EMAIL, 'goals': Text(2000), 'support': Text(2000),
          'custom_answer': Text(2000)}     # custom_answer: required when the circle asks a question
TRUE_VALUES = (True, 1, 'true', 'on', 'yes', '1')


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


def clean_text(rule, raw, missing=None):
    """(stripped text, message or None). Empty is refused when the rule is required or the
    caller gives a `missing` message (a field required only in some cases)."""
    value = raw.strip() if isinstance(raw, str) else ''
    if not value:
        return value, (missing or REQUIRED) if (missing or rule.required) else None
    if len(value) > rule.max_length:
        return value, f'Please keep this to at most {rule.max_length} characters.'
    if isinstance(rule, Link) and not is_web_link(value):
        return value, NOT_A_LINK
    return value, None


def number_message(rule):
    empty = ', or leave it empty' if not rule.required else ''
    return f'Please give a whole number from {rule.low} to {rule.high}{empty}.'


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
    code = raw.strip() if isinstance(raw, str) else ''
    if code in LANGUAGES or (keep and code == keep):
        return code, None
    return code, NOT_A_LANGUAGE


def is_true(value):
    """A ticked checkbox or a JSON true: True, 1, 'true', 'on', 'yes' or '1'."""
    return value in TRUE_VALUES
