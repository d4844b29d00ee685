"""BENCHMARKS.md: each bench owns a pair of marker comments and rewrites only what is between."""
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / 'BENCHMARKS.md'


def replace_section(start, end, section, report=None):
    """Put `section` between the `start` and `end` markers (added at the end if missing)."""
    report = report or REPORT
    text = report.read_text() if report.exists() else '# Benchmarks\n'
    if start not in text or end not in text:
        text = text.rstrip('\n') + f'\n\n{start}\n{end}\n'
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    report.write_text(f'{before}{start}\n{section}{end}{after}')


def machine():
    return (f'Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs (nproc), '
            f'Python {platform.python_version()} ({sys.executable}), {platform.platform()}.')


def run_alone(start, end, run, markdown):
    """`python -m bench.<name>`: one bench on its own moto server, its section printed and written."""
    from bench.dynamodb_calls import moto_server
    with moto_server() as server:
        section = '\n'.join([machine(), '', markdown(run(server))])
    print(section)
    replace_section(start, end, section)
