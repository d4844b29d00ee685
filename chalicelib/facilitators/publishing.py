"""Publishing a draft of the creation dialog (facilitators/dialog.py): what stands in the way,
the one transaction that publishes it, and the facilitator's goals emailed to the team's
organizers and the support address the first time."""
from chalicelib.circles import circles
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.i18n import N_, _
from chalicelib.core.settings import get_settings
from chalicelib.facilitators.dialog import FORM_STEPS, STEPS, setup_of, was_published, write_draft
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import Circle, CircleSetup, TeamMember, User


class EmailNotConfirmed(Exception):
    """Only an account with a confirmed email address may publish."""


def missing_steps(setup):
    return [step for step in FORM_STEPS if step not in set(map(int, setup.steps_done))]


def publish_problems(circle, setup, now):
    """{step: [messages]} for everything that stands in the way of publishing.

    Only a first publication checks the dates: a circle published before and unpublished
    may have run some meetings already."""
    problems = {step: [_('Please complete the %(step)s step.') % {'step': _(STEPS[step])}]
                for step in missing_steps(setup)}
    if 3 in problems or was_published(setup):
        return problems
    meetings = circles.active_meetings(circle)
    past = [m for m in meetings if m.starts_at <= now]
    if not meetings:
        problems[3] = [_('Please keep at least one meeting.')]
    elif past:
        days = ', '.join(m.local_date for m in past)
        problems[3] = [_('These meetings are in the past: %(days)s. Please move or remove them.') % {'days': days}]
    return problems


def confirmed_user(session):
    """The publishing account, read fresh: the session copy of `email_confirmed` is from login."""
    user = User.get(*User.key(session.user_id))
    if not user.email_confirmed:
        raise EmailNotConfirmed()
    return user


def publish(workspace, user, now=None):
    """Publish the draft; the first time, email the facilitator's goals to the team's organizers
    and the support address. One transaction: the circle, its setup and those emails.

    Raises ValidationFailed ({step: [messages]}) or DraftChanged; on either nothing is written.
    On the first publication the meetings removed in the preview are dropped: learners never
    hear of them."""
    now = now or circles.utcnow()
    circle, setup = workspace.circle, setup_of(workspace)
    problems = publish_problems(circle, setup, now)
    if problems:
        raise ValidationFailed({str(step): messages for step, messages in problems.items()})
    first_time = not was_published(setup)
    read_at, read_count = circle.updated_at, circle.signup_count
    if first_time:
        circle.meetings = circles.active_meetings(circle)
        setup.published_at = now
    circle.published = True
    circle.updated_at = setup.updated_at = now
    circles.refresh_derived(circle)
    write_draft(circle, setup, read_at, read_count, goal_emails(circle, user, now) if first_time else ())
    from chalicelib.models import MeetingReminder
    from chalicelib.reminders.sync import sync_reminders
    sync_reminders(circle, existing=workspace.of_kind(MeetingReminder), now=now)
    return circle


def goal_recipients(circle):
    """The organizers of the circle's team (one Query, one BatchGet) and the support address."""
    addresses = []
    if circle.team_id:
        members = TeamMember.query(f'TEAM#{circle.team_id}', TeamMember.sk.startswith('MEMBER#'))
        organizers = [m.user_id for m in members if m.role == 'organizer']
        if organizers:
            addresses += sorted(u.email for u in User.batch_get([User.key(uid) for uid in organizers])
                                if u.email_confirmed)
    addresses.append(get_settings().support_email)
    return list(dict.fromkeys(a.lower() for a in addresses if a))


def goal_emails(circle, user, now):
    """Outbox items: one email per recipient (no shared To list), replying to the facilitator."""
    return [outbox.for_address(circle.id, 'circle-published', f'goals-{index}', address, 'circle_published', now,
                               params={'user': user.user_id})
            for index, address in enumerate(goal_recipients(circle))]


def _render_goals(item, reads, to, now):
    from chalicelib.core.formatting import meeting_when
    from chalicelib.core.rendering import render
    from chalicelib.messaging import email as email_
    circle = reads.get(Circle.key(item.circle_id))
    setup = reads.get(CircleSetup.key(item.circle_id))
    user = reads.get(User.key(item.params['user']))
    meetings = circle and circles.active_meetings(circle)
    if not meetings or setup is None or user is None:
        raise Skip(N_('The circle, its setup or the facilitator no longer exists.'))
    context = dict(circle=circle, facilitator=user, goal=setup.goal or '', concerns=setup.concerns or '',
                   first_meeting=meeting_when(meetings[0], circle.timezone), weeks=len(circle.meetings),
                   circle_url=circles.circle_url(circle.id))
    return email_.build_message(to=to, subject=_('New learning circle published: %(name)s') % {'name': circle.name},
                                text=render('email/circle_published.txt', **context),
                                html=render('email/circle_published.html', **context), reply_to=[user.email])


CIRCLE_PUBLISHED = Template(
    keys=lambda item: [Circle.key(item.circle_id), CircleSetup.key(item.circle_id), User.key(item.params['user'])],
    render=_render_goals)


def resend_confirmation(session):
    """Email the confirmation link again; False when the address is confirmed already."""
    from chalicelib.accounts import accounts
    user = accounts.get_user(session.user_id)
    if user is None or user.email_confirmed:
        return False
    accounts.send_confirmation(user, user.email)
    return True
