"""`make bench`: run every benchmark and write the results into BENCHMARKS.md.

The results replace whatever sits between the two marker comments in
BENCHMARKS.md, so the explanation around them stays as written; they are
also printed. The facilitator pages' results have their own pair of markers
(bench/facilitator_calls.py), so that bench can also be run alone.
"""
from bench import cold_start, dynamodb_calls, facilitator_calls, reminder_job, request_cpu, sender
from bench.report import REPORT, machine, replace_section

START, END = '<!-- bench results start -->', '<!-- bench results end -->'


def results_sections():
    """The public-request results, and the facilitator pages' (each has its own place in the report)."""
    imports = cold_start.measure_imports()
    breakdown = cold_start.import_breakdown()
    with dynamodb_calls.moto_server() as server:
        first_requests = cold_start.measure_first_requests(server)
        counts = dynamodb_calls.run(server)
        facilitator = facilitator_calls.run(server)
        reminders = reminder_job.run(server)
        outbox = sender.run(server)
        cpu = request_cpu.run(server)
    return ('\n'.join([machine(), '', cold_start.markdown(imports, breakdown, first_requests),
                       dynamodb_calls.markdown(counts)]),
            '\n'.join([machine(), '', facilitator_calls.markdown(facilitator)]),
            '\n'.join([machine(), '', reminder_job.markdown(reminders)]),
            '\n'.join([machine(), '', sender.markdown(outbox)]),
            '\n'.join([machine(), '', request_cpu.markdown(cpu)]))


def main():
    section, facilitator_section, reminder_section, sender_section, cpu_section = results_sections()
    print(section)
    print(facilitator_section)
    print(reminder_section)
    print(sender_section)
    print(cpu_section)
    replace_section(START, END, section)
    replace_section(facilitator_calls.START, facilitator_calls.END, facilitator_section)
    replace_section(reminder_job.START, reminder_job.END, reminder_section)
    replace_section(sender.START, sender.END, sender_section)
    replace_section(request_cpu.START, request_cpu.END, cpu_section)
    print(f'Written into {REPORT}')


if __name__ == '__main__':
    main()
