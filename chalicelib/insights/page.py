"""The public report page, `/circles/{id}/insights`: one BatchGetItem (the circle and its report).

It exists only once the report is published and while the circle is: before, or for a circle
taken off the listing, it is the same 404 as for a circle that does not exist. Everything shown
comes from the stored snapshot (`InsightsReport.figures`), which holds no learner's personal data
and no small count (chalicelib.insights.report); the charts are drawn from it here.
"""
from chalicelib.insights import charts
from chalicelib.models import Circle, InsightsReport, TableItem

TOO_FEW = 'Too few answers to show'


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
    if found is None:
        return None
    circle, report = found
    figures = report.figures
    return {'circle': circle, 'report': report, 'figures': figures, 'summary': summary(figures),
            'charts': chart_markup(figures), 'short_date': charts.short_date,
            'too_few': TOO_FEW, 'reached': {c['value']: c['label'] for c in figures['goal_reached'].get('counts', [])}}


def chart_markup(figures):
    """The SVG of each chart that has enough figures to draw."""
    drawn = {'attendance': charts.attendance_chart(figures['attendance'])}
    if figures['goal_reached']['enough']:
        drawn['goal_reached'] = charts.scale_chart(figures['goal_reached'], 'How far learners reached their goals',
                                                   'goal-reached')
    if figures['recommend']['enough']:
        drawn['recommend'] = charts.recommend_chart(figures['recommend'])
    return drawn


def summary(figures):
    """The headline figures as short sentences (the emails, and the top of the page)."""
    lines = []
    learners = figures['learners']
    lines.append(f"{learners['signed_up']} learner{'s' if learners['signed_up'] != 1 else ''} took part; "
                 f"{learners['answered']} answered the closing survey.")
    attendance = figures['attendance']
    if attendance['mean_attended'] is not None:
        lines.append(f"On average {attendance['mean_attended']:g} came to each of the "
                     f"{attendance['recorded']} meetings the facilitator counted.")
    goals = figures['goal_reached']
    lines.append(f"Goals reached: {goals['mean']:g} out of 5 on average." if goals['enough']
                 else f'Goals reached: {TOO_FEW.lower()}.')
    recommend = figures['recommend']
    lines.append(f"Would recommend a learning circle: {recommend['promoters']} of {recommend['answers']} gave "
                 f"9 or 10 (score {recommend['score']:+d})." if recommend['enough']
                 else f'Would recommend a learning circle: {TOO_FEW.lower()}.')
    rating = figures['course_rating']
    if rating['mean'] is not None:
        lines.append(f"The facilitator{'s' if rating['answers'] > 1 else ''} rated the course "
                     f"{rating['mean']:g} out of 5.")
    return lines
