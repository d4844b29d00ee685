"""`make bench`: run every benchmark and write the results into BENCHMARKS.md.

The results replace whatever sits between the two marker comments in
BENCHMARKS.md, so the explanation around them stays as written; they are
also printed. The facilitator pages' results have their own pair of markers
(bench/facilitator_calls.py), so that bench can also be run alone.
"""
import os
import platform
import sys
from datetime import datetime, timezone
from bench import cold_start, dynamodb_calls, facilitator_calls, reminder_job
from bench.report import REPORT, replace_section

START, END = '<!-- bench results start -->', '<!-- bench results end -->'


def machine():
    return (f'Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs (nproc), '
            f'Python {platform.python_version()} ({sys.executable}), {platform.platform()}.')


def results_sections():
    """The public-request results, and the facilitator pages' (each has its own place in the report)."""
    imports = cold_start.measure_imports()
    breakdown = cold_start.import_breakdown()
    with dynamodb_calls.moto_server() as server:
        first_requests = cold_start.measure_first_requests(server)
        counts = dynamodb_calls.run(server)
        facilitator = facilitator_calls.run(server)
        reminders = reminder_job.run(server)
    return ('\n'.join([machine(), '', cold_start.markdown(imports, breakdown, first_requests),
                       dynamodb_calls.markdown(counts)]),
            '\n'.join([machine(), '', facilitator_calls.markdown(facilitator)]),
            '\n'.join([machine(), '', reminder_job.markdown(reminders)]))


def write_into_report(section):
    replace_section(START, END, section)


def main():
    section, facilitator_section, reminder_section = results_sections()
    print(section)
    print(facilitator_section)
    print(reminder_section)
    write_into_report(section)
    facilitator_calls.write_into_report(facilitator_section)
    reminder_job.write_into_report(reminder_section)
    print(f'Written into {REPORT}')


if __name__ == '__main__':
    main()
