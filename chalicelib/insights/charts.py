"""The report's charts: inline SVG drawn here, from the snapshot's figures; no script, no other host.

Each chart is an `<svg role="img">` named by its `<title>` and described by its `<desc>` (a
sentence with every figure, through `aria-labelledby`); the page puts a data table with the same
figures beside it for screen readers (templates/insights/report.html). Drawn on a 360-unit wide
viewBox, so that on a 390 px phone the text is at its size; the stylesheet caps the width on a
desktop and on A4 paper (templates/static/insights.css). No `style` attribute: the site's
Content-Security-Policy allows no inline style, and presentation attributes are enough.
Every word and number is in the language of the moment (the report page's).
"""
from datetime import date

from babel import dates as babel_dates
from markupsafe import Markup, escape

from chalicelib.core import i18n
from chalicelib.core.formatting import number
from chalicelib.core.i18n import _, ngettext

WIDTH = 360
INK, MUTED, GRID = '#1d1d1f', '#4a4a52', '#d5d5db'
RSVP_COLOUR, CAME_COLOUR = '#3f6896', '#0b6e4f'
DETRACTOR, PASSIVE, PROMOTER = '#b3261e', '#6b6b75', '#0b6e4f'
FONT = 12


def short_date(iso):
    """'Mar 16', '16 mar', '16. März': a meeting's day on a chart."""
    return babel_dates.format_skeleton('MMMd', date.fromisoformat(iso), locale=i18n.current())


def _text(x, y, content, anchor='start', fill=INK, size=FONT, weight=None):
    bold = ' font-weight="700"' if weight else ''
    return (f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{fill}" text-anchor="{anchor}"{bold}>'
            f'{escape(content)}</text>')


def _rect(x, y, width, height, fill):
    return f'<rect x="{x:g}" y="{y:g}" width="{max(width, 0):g}" height="{height:g}" fill="{fill}"/>'


def _svg(chart_id, height, title, description, body):
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:g}" width="{WIDTH}" height="{height:g}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        + ''.join(body) + '</svg>')


# --- attendance ---------------------------------------------------------------------------

def attendance_chart(attendance, chart_id='attendance'):
    """Per meeting, two bars: learners who said they would come, and how many came."""
    rows = attendance['meetings']
    label_width, value_room, top = 78, 78, 44
    scale_max = max([1, *(r['rsvp_yes'] for r in rows), *(r['attended'] or 0 for r in rows)])
    span = WIDTH - label_width - value_room
    body = [_rect(0, 4, 12, 12, RSVP_COLOUR), _text(18, 14, _('Said they would come (RSVP yes)')),
            _rect(0, 22, 12, 12, CAME_COLOUR), _text(18, 32, _("Came (the facilitator's count)"))]
    sentences = []
    for index, row in enumerate(rows):
        y = top + index * 36
        body.append(_text(0, y + 16, f"{row['number']}. {short_date(row['date'])}", fill=INK))
        yes_width = span * row['rsvp_yes'] / scale_max
        body.append(_rect(label_width, y + 2, yes_width, 13, RSVP_COLOUR))
        body.append(_text(label_width + yes_width + 4, y + 13, str(row['rsvp_yes']), fill=INK, size=11))
        facts = {'number': row['number'], 'date': short_date(row['date']), 'yes': row['rsvp_yes'],
                 'came': row['attended']}
        if row['attended'] is None:
            body.append(_text(label_width, y + 28, _('not recorded'), fill=MUTED, size=11))
            sentences.append(_('meeting %(number)s on %(date)s: %(yes)s said they would come, '
                               'attendance not recorded') % facts)
        else:
            came_width = span * row['attended'] / scale_max
            body.append(_rect(label_width, y + 17, came_width, 13, CAME_COLOUR))
            body.append(_text(label_width + came_width + 4, y + 28, str(row['attended']), fill=INK, size=11))
            sentences.append(_('meeting %(number)s on %(date)s: %(yes)s said they would come, %(came)s came') % facts)
    height = top + max(len(rows), 1) * 36
    # The sentences of the meetings, joined by '; '.
    description = (_('Attendance per meeting. %(meetings)s.') % {'meetings': '; '.join(sentences)} if rows
                   else _('No meetings took place.'))
    return _svg(chart_id, height, _('Attendance per meeting, against RSVPs'), description, body)


# --- a 1-5 scale --------------------------------------------------------------------------

def scale_chart(question, title, chart_id):
    """How many learners chose each value of a 1-5 scale (only drawn with enough answers)."""
    counts = question['counts']
    label_width, top, row_height = 112, 4, 28
    scale_max = max([1, *(c['count'] for c in counts)])
    span = WIDTH - label_width - 40
    body, sentences = [], []
    for index, entry in enumerate(reversed(counts)):
        y = top + index * row_height
        label = _(entry['label'])       # stored in English (report.GOAL_LABELS)
        body.append(_text(0, y + 15, f"{entry['value']} {label}"))
        width = span * entry['count'] / scale_max
        body.append(_rect(label_width, y + 3, width, 16, CAME_COLOUR))
        body.append(_text(label_width + width + 4, y + 15, str(entry['count']), size=11))
        sentences.append(ngettext('%(value)s (%(label)s): %(num)s learner', '%(value)s (%(label)s): %(num)s learners',
                                  entry['count']) % {'value': entry['value'], 'label': label.lower(),
                                                     'num': entry['count']})
    # The title, then each value's sentence joined by '; '.
    description = ngettext('%(title)s: %(values)s. %(num)s answer, mean %(mean)s out of 5.',
                           '%(title)s: %(values)s. %(num)s answers, mean %(mean)s out of 5.',
                           question['answers']) % {'title': title, 'values': '; '.join(sentences),
                                                   'num': question['answers'], 'mean': number(question['mean'])}
    return _svg(chart_id, top + len(counts) * row_height, title, description, body)


# --- the 0-10 recommendation -----------------------------------------------------------------

def recommend_colour(value):
    return PROMOTER if value >= 9 else PASSIVE if value >= 7 else DETRACTOR


def recommend_chart(question, chart_id='recommend'):
    """Columns 0 to 10: how many learners gave each answer, coloured by group, with a legend."""
    counts = question['counts']
    slot, left, top, plot = 30, 15, 18, 110
    scale_max = max([1, *(c['count'] for c in counts)])
    base = top + plot
    body = [f'<line x1="{left}" y1="{base}" x2="{left + slot * len(counts)}" y2="{base}" stroke="{GRID}"/>']
    for index, entry in enumerate(counts):
        x = left + index * slot
        height = plot * entry['count'] / scale_max
        body.append(_rect(x + 4, base - height, slot - 8, height, recommend_colour(entry['value'])))
        if entry['count']:
            body.append(_text(x + slot / 2, base - height - 4, str(entry['count']), anchor='middle', size=11))
        body.append(_text(x + slot / 2, base + 15, str(entry['value']), anchor='middle'))
    legend_y = base + 34
    legend = [(DETRACTOR, '0-6', left), (PASSIVE, '7-8', left + 110), (PROMOTER, '9-10', left + 220)]
    for colour, label, x in legend:
        body += [_rect(x, legend_y - 10, 12, 12, colour), _text(x + 17, legend_y, label)]
    body.append(_text(left, legend_y + 20, _('0 = not at all likely, 10 = extremely likely'), fill=MUTED, size=11))
    spread = '; '.join(f"{c['value']}: {c['count']}" for c in counts)
    description = ngettext(
        'Answers from 0 (not at all likely) to 10 (extremely likely), by value: %(spread)s. %(num)s learner gave '
        '9 or 10, %(passives)s gave 7 or 8, %(detractors)s gave 6 or less: a score of %(score)s.',
        'Answers from 0 (not at all likely) to 10 (extremely likely), by value: %(spread)s. %(num)s learners gave '
        '9 or 10, %(passives)s gave 7 or 8, %(detractors)s gave 6 or less: a score of %(score)s.',
        question['promoters']) % {'spread': spread, 'num': question['promoters'], 'passives': question['passives'],
                                  'detractors': question['detractors'], 'score': number(question['score'])}
    return _svg(chart_id, legend_y + 28, _('Would they recommend a learning circle?'), description, body)
