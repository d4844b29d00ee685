"""Rendering reminders: the facilitator's words inside the meeting's current facts.

Everything that can change with the circle (date, time, timezone, place, online link, RSVP
links) is rendered from the CURRENT meeting each time a reminder is previewed or sent
(`chalicelib.reminders.schedule` decides when; `chalicelib.reminders.job` sends; change
notices (`chalicelib.reminders.change_notices`) reuse the same facts and SMS fitting).

Learners read them in the circle's language, whoever renders them (`in_circle_language`): the
fixed words are English gettext messages, dates and times Babel's (core/formatting); what goes
into a text message is folded to GSM-7.
"""
import functools
import re
from datetime import timedelta

from chalicelib.circles import circles
from chalicelib.core import formatting, i18n
from chalicelib.core.i18n import _
from chalicelib.core.rendering import render as render_template
from chalicelib.core.settings import get_settings
from chalicelib.messaging import sms_text
from chalicelib.messaging.sms_text import fold_to_gsm7
from chalicelib.core.clock import zone_info

__all__ = ['SMS_LIMIT_SEGMENTS', 'in_circle_language', 'sms_stop', 'longest_sms_stop',
           'local_start', 'when_of', 'facts', 'render_template', 'email_context', 'reminder_subject',
           'render_for_learner', 'render_email_for_learner', 'render_for_facilitator', 'fits_one_sms',
           'render_sms', 'sms_renderer', 'short_name']

SMS_LIMIT_SEGMENTS = 1


def in_circle_language(function):
    """`function(circle, ...)` renders in the circle's language (English when it is not shipped),
    whoever calls it: the sender (which sets it already), the facilitator's preview page, a job."""
    @functools.wraps(function)
    def in_language(circle, *args, **kwargs):
        with i18n.language(circle.language):
            return function(circle, *args, **kwargs)
    return in_language


def sms_stop():
    """The opt-out words every text ends with, in the language of the moment, in GSM-7."""
    # Translators: the last words of every text message. Keep the word STOP in capitals, untranslated: the SMS provider acts on the English STOP in every language. Letters outside GSM-7 (e.g. ç, û, õ) lose their accents.
    return fold_to_gsm7(_('Reply STOP to stop texts'))


def longest_sms_stop():
    """The longest opt-out words of any shipped language: what a form counts when it is not
    told the circle."""
    texts = []
    for code in i18n.SHIPPED:
        with i18n.language(code):
            texts.append(sms_stop())
    return max(texts, key=len)


def local_start(meeting, circle):
    """When `meeting` starts, on the circle's wall clock (an aware datetime in its timezone)."""
    return meeting.starts_at.astimezone(zone_info(circle.timezone))


def when_of(circle, meeting):
    """'Tuesday, December 1, 2026, 18:00–19:30 CST' in the language of the moment."""
    local = local_start(meeting, circle)
    end = local + timedelta(minutes=int(meeting.duration_minutes or 0))
    # Translators: when a meeting is, e.g. "Tuesday, December 1, 2026, 18:00–19:30 CST": the date, the start and end times and the timezone's abbreviation.
    return _('%(date)s, %(start)s–%(end)s %(zone)s') % {
        'date': formatting.long_date(local.date()), 'start': formatting.clock(local.time()),
        'end': formatting.clock(end.time()), 'zone': local.tzname()}


@in_circle_language
def facts(circle, meeting):
    """What the reminder says about the meeting, from the meeting as it is now, in the
    circle's language and timezone. The `sms_` words keep to GSM-7 (fold_to_gsm7), so that a
    date's accent never makes a text UCS-2 (70 characters instead of 160)."""
    local = local_start(meeting, circle)
    when = when_of(circle, meeting)
    place_lines = ([_('Online')] if circle.online else
                   [line for line in (circle.venue_name, circle.venue_address, circle.city) if line])
    return {
        'when': when,
        'timezone': circle.timezone,
        'place_lines': place_lines,
        'venue_details': None if circle.online else circle.venue_details,
        'online_link': circle.online_link if circle.online else None,
        'sms_when': fold_to_gsm7(formatting.short_moment(meeting.starts_at, circle.timezone)),
        'sms_place': fold_to_gsm7(_('Online')) if circle.online else (circle.venue_name or circle.city or ''),
        'sms_rsvp': fold_to_gsm7(_('Coming?')),
        'sms_stop': sms_stop(),
        'short_when': f'{formatting.short_date(local.date())} {formatting.clock(local.time())}',
    }


def _paragraphs(text):
    return [p.strip() for p in (text or '').replace('\r\n', '\n').split('\n\n') if p.strip()]


@in_circle_language
def email_context(circle, meeting, reminder, recipient_name, links, facilitator):
    """The template context of a reminder email (`reminder` may be None: a change notice)."""
    return dict(circle=circle, meeting=meeting, reminder=reminder, intro_paragraphs=_paragraphs(reminder.intro if reminder else ''),
                recipient_name=recipient_name, links=links, facilitator=facilitator,
                circle_url=circles.circle_url(circle.id),
                facilitator_url=f'{get_settings().public_base_url}/facilitate/circles/{circle.id}',
                signature=', '.join(circle.facilitator_names), **facts(circle, meeting))


@in_circle_language
def reminder_subject(circle, meeting, reminder):
    return f'{reminder.subject} · {facts(circle, meeting)["short_when"]}'


@in_circle_language
def render_for_learner(circle, meeting, reminder, signup, links):
    """(subject, text, html, sms) of the reminder for one learner. `links` holds the learner's
    'yes', 'no', 'withdraw', 'unsubscribe' and 'short' URLs (`rsvp.learner_links`)."""
    return (*render_email_for_learner(circle, meeting, reminder, signup, links),
            render_sms(circle, meeting, reminder.sms_text, links['short']))


@in_circle_language
def render_email_for_learner(circle, meeting, reminder, signup, links):
    """(subject, text, html) of the learner's reminder email."""
    context = email_context(circle, meeting, reminder, signup.name, links, facilitator=False)
    return (reminder_subject(circle, meeting, reminder), render_template('email/reminder.txt', **context),
            render_template('email/reminder.html', **context))


@in_circle_language
def render_for_facilitator(circle, meeting, reminder, facilitator_email):
    """(subject, text, html): the facilitators' copy, with the circle's pages instead of RSVP links."""
    name = _facilitator_name(circle, facilitator_email)
    context = email_context(circle, meeting, reminder, name, {}, facilitator=True)
    return (reminder_subject(circle, meeting, reminder), render_template('email/reminder.txt', **context),
            render_template('email/reminder.html', **context))


def _facilitator_name(circle, email):
    emails = [e.lower() for e in circle.facilitator_emails]
    if email and email.lower() in emails and emails.index(email.lower()) < len(circle.facilitator_names):
        return circle.facilitator_names[emails.index(email.lower())]
    return None


def fits_one_sms(text):
    return sms_text.segments(text)[2] <= SMS_LIMIT_SEGMENTS


def _shortened(text, length):
    text = text or ''
    if len(text) <= length:
        return text
    return text[:max(length - 3, 0)].rstrip() + '...' if length >= 4 else ''


def short_name(circle):
    """The circle's name as our texts start with it, in GSM-7 (sms_text.short_name)."""
    return fold_to_gsm7(sms_text.short_name(circle.name))


def _fit(build, parts, shrink_order):
    """Shrink `parts` (a dict of texts) in `shrink_order`, a list of (part, shortest length),
    until `build(parts)` fits one SMS; returns the shrunk parts.

    Each part is cut to the longest prefix that still fits (binary search), never below its
    shortest length, so the facilitator's words lose only what does not fit."""
    parts = dict(parts)
    for name, shortest in shrink_order:
        if fits_one_sms(build(parts)):
            break
        full = parts[name]
        low, high = min(shortest, len(full)), len(full)
        while low < high:
            middle = (low + high + 1) // 2
            if fits_one_sms(build({**parts, name: _shortened(full, middle)})):
                low = middle
            else:
                high = middle - 1
        parts[name] = _shortened(full, low)
    return parts


# The circle's name is cut to its short name before anything else; then the facilitator's
# words, then the place, and the short name itself only when nothing else is left to cut. The date, time, link and the opt-out words
# ("Reply STOP to stop texts") are never cut.
SHRINK_ORDER = [('sms_words', 0), ('sms_place', 0), ('name', 4)]


@in_circle_language
def render_sms(circle, meeting, sms_words, short_link, template='sms/reminder.txt', **extra):
    """The reminder SMS: one message (160 GSM-7 characters, or 70 when a character forces UCS-2)
    that starts with the circle's short name and ends with the opt-out words, with the date,
    time and short link always whole; the facilitator's words are shortened first, then the
    place, then the name."""
    return sms_renderer(circle, meeting, sms_words, template, **extra)(short_link)


@in_circle_language
def sms_renderer(circle, meeting, sms_words, template='sms/reminder.txt', **extra):
    """`render_sms` for many learners of one meeting: a function short link -> SMS text. How
    much to shorten is worked out once per shape of link (the learners' links differ only in
    their code's letters), not once per learner."""
    context = facts(circle, meeting)
    parts = {'sms_words': sms_words or '', 'name': short_name(circle), 'sms_place': context['sms_place']}
    fitted = {}     # link length -> shortened parts

    def build(fields, link):
        text = ' '.join(render_template(template, **{**context, **extra, **fields, 'link': link}).split())
        return text.replace('....', '...')      # a cut part ("Library...") before the template's "."

    def render(short_link):
        # Letters and digits all count one GSM-7 character: links differing only in them fit alike.
        shape = re.sub('[A-Za-z0-9]', 'x', short_link)
        with i18n.language(circle.language):        # called later, by whoever holds the function
            if shape not in fitted:
                fitted[shape] = _fit(lambda fields: build(fields, shape), parts, SHRINK_ORDER)
            return build(fitted[shape], short_link)
    return render
