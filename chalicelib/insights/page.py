"""The public report page, `/circles/{id}/insights`: one BatchGetItem (the circle and its report).

It exists only once the report is published and while the circle is: before, or for a circle
taken off the listing, it is the same 404 as for a circle that does not exist. Everything shown
comes from the stored snapshot (`InsightsReport.figures`), which holds no learner's personal data
and no small count (chalicelib.insights.report); the charts are drawn from it here, in the
language of the moment (the circle's, unless the visitor chose one: handlers/insights.py).
"""
from chalicelib.core.formatting import number
from chalicelib.core.i18n import _, ngettext
from chalicelib.insights import charts
from chalicelib.models import Circle, InsightsReport, TableItem


def published_report(circle_id):
    """(circle, report) when the circle is published and has a report, else None. One BatchGetItem."""
    found = {(item.pk, item.sk): item
             for item in TableItem.batch_get([Circle.key(circle_id), InsightsReport.key(circle_id)])}
    circle, report = found.get(Circle.key(circle_id)), found.get(InsightsReport.key(circle_id))
    if circle is None or report is None or not circle.published:
        return None
    return circle, report


def page_context(circle_id):
    """The report page's data, or None (404)."""
    found = published_report(circle_id)
    return report_context(*found) if found is not None else None


def report_context(circle, report):
    """The page's data for a published report, in the language of the moment."""
    figures = report.figures
    return {'circle': circle, 'report': report, 'figures': figures, 'summary': summary(figures),
            'charts': chart_markup(figures), 'short_date': charts.short_date, 'signed': signed,
            'names': names, 'translated': translated,
            'reached': {c['value']: c['label'] for c in figures['goal_reached'].get('counts', [])}}


def names(people):
    """'Ada', 'Ada and Ben', 'Ada, Ben, and Cy': the list as the language writes it."""
    from babel.lists import format_list
    from chalicelib.core import i18n
    return format_list(list(people), locale=i18n.current())


def translated(message):
    """A message stored in English in the snapshot (a goal label, a feedback prompt) in the
    language of the moment; plain text, escaped where shown."""
    return str(_(message)) if message else message


def signed(value):
    """A whole number with its sign: '+20', '-15', '+0'."""
    return number(value) if value < 0 else f'+{number(value)}'


def chart_markup(figures):
    """The SVG of each chart that has enough figures to draw."""
    drawn = {'attendance': charts.attendance_chart(figures['attendance'])}
    if figures['goal_reached']['enough']:
        drawn['goal_reached'] = charts.scale_chart(figures['goal_reached'], _('How far learners reached their goals'),
                                                   'goal-reached')
    if figures['recommend']['enough']:
        drawn['recommend'] = charts.recommend_chart(figures['recommend'])
    return drawn


def summary(figures):
    """The headline figures as short sentences (the emails, and the top of the page)."""
    lines = []
    learners = figures['learners']
    lines.append(ngettext('%(num)s learner took part; %(answered)s answered the closing survey.',
                          '%(num)s learners took part; %(answered)s answered the closing survey.',
                          learners['signed_up']) % {'num': number(learners['signed_up']),
                                                    'answered': number(learners['answered'])})
    attendance = figures['attendance']
    if attendance['mean_attended'] is not None:
        lines.append(ngettext('On average %(mean)s came to the %(num)s meeting the facilitator counted.',
                              'On average %(mean)s came to each of the %(num)s meetings the facilitator counted.',
                              attendance['recorded']) % {'mean': number(attendance['mean_attended']),
                                                         'num': number(attendance['recorded'])})
    goals = figures['goal_reached']
    lines.append(_('Goals reached: %(mean)s out of 5 on average.') % {'mean': number(goals['mean'])}
                 if goals['enough'] else _('Goals reached: too few answers to show.'))
    recommend = figures['recommend']
    lines.append(_('Would recommend a learning circle: %(promoters)s of %(answers)s gave 9 or 10 (score %(score)s).')
                 % {'promoters': number(recommend['promoters']), 'answers': number(recommend['answers']),
                    'score': signed(recommend['score'])}
                 if recommend['enough'] else _('Would recommend a learning circle: too few answers to show.'))
    rating = figures['course_rating']
    if rating['mean'] is not None:
        lines.append(ngettext('The facilitator rated the course %(mean)s out of 5.',
                              'The facilitators rated the course %(mean)s out of 5.',
                              rating['answers']) % {'mean': number(rating['mean'])})
    return lines
