"""Run a scheduled job once, or load the demo data, from a shell.

    python -m chalicelib.ops.cli run-job send-due-reminders [--now 2026-03-01T09:00:00+00:00]
    python -m chalicelib.ops.cli run-job send-weekly-digests --now 2026-11-30T10:00:00Z
    python -m chalicelib.ops.cli load-demo
    python -m chalicelib.ops.cli create-team --name NAME --organizer EMAIL [--slug SLUG]

On the local stage without AWS_ENDPOINT_URL it talks to the running `make run`
stack (its moto URL is in `.local/local_stack.json`), never to a real account.
"""
import argparse
import importlib
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

# Job name (as scheduled in chalicelib/handlers/jobs.py) -> the domain function it runs.
JOBS = {
    'send-due-reminders': 'chalicelib.reminders.job:send_due_reminders',
    'send-due-change-notices': 'chalicelib.reminders.change_notices:send_due_change_notices',
    'send-outbox-sweep': 'chalicelib.ops.outbox_templates:sweep',
    'send-weekly-digests': 'chalicelib.teams.digest_job:send_weekly_digests',
    'send-meeting-wrapups': 'chalicelib.ending.wrapups:send_meeting_wrapups',
    'send-end-of-circle-surveys': 'chalicelib.ending.survey_job:send_end_of_circle_surveys',
    'publish-insights': 'chalicelib.insights.publish:publish_due_insights',
    'anonymize-expired-signups': 'chalicelib.privacy.retention:anonymize_expired_signups',
}


def job_function(name):
    module, function = JOBS[name].split(':')
    return getattr(importlib.import_module(module), function)


def parse_now(text):
    """An ISO instant; one without an offset is taken as UTC."""
    instant = datetime.fromisoformat(text)
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)


def use_running_local_stack():
    """Point this process at the local stack's moto, as `make run` does for the app."""
    if os.environ.get('CIRCLES_STAGE', 'local') != 'local' or os.environ.get('AWS_ENDPOINT_URL'):
        return
    local_dir = Path(os.environ.get('CIRCLES_LOCAL_DIR', Path(__file__).resolve().parents[2] / '.local'))
    try:
        stack = json.loads((local_dir / 'local_stack.json').read_text())
    except (OSError, ValueError):
        sys.exit('No local stack is running: start it with `make run`, or set AWS_ENDPOINT_URL.')
    from scripts.local_stack import local_environment
    os.environ.update(local_environment(stack['moto_url'], stack['site_url']))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m chalicelib.ops.cli')
    commands = parser.add_subparsers(dest='command', required=True)
    run_job = commands.add_parser('run-job', help='run one scheduled job once')
    run_job.add_argument('name', choices=sorted(JOBS))
    run_job.add_argument('--now', type=parse_now, help='the instant the job sees as now (ISO 8601)')
    commands.add_parser('load-demo', help='write the demo circles and accounts')
    create_team = commands.add_parser('create-team', help='create a team and its first organizer (invited '
                                                          'if the address has no account)')
    create_team.add_argument('--name', required=True)
    create_team.add_argument('--organizer', required=True, metavar='EMAIL')
    create_team.add_argument('--slug')
    args = parser.parse_args(argv)
    use_running_local_stack()
    if args.command == 'run-job':
        result = job_function(args.name)(args.now)
        print(f'{args.name}: {result}')
    elif args.command == 'create-team':
        from chalicelib.core.errors import Refusal
        from chalicelib.teams.teams import create_team
        try:
            created = create_team(args.name, args.organizer, slug=args.slug)
        except Refusal as refusal:
            sys.exit(f'create-team: {refusal.message}')
        print(f'Team {created.team.name!r} created: slug {created.team.slug} (id {created.team.team_id}). '
              f'{created.summary()}')
    else:
        from chalicelib.ops.demo import load_demo_data
        for login in load_demo_data():
            print(f"{login['role']}: {login['email']} / {login['password']}")


if __name__ == '__main__':
    main()
