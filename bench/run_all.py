"""`make bench`: run every benchmark and write the results into BENCHMARKS.md.

Each bench owns a pair of marker comments in BENCHMARKS.md and rewrites only what is between
them, so the explanation around them stays as written (every bench can also run alone:
`python -m bench.<name>`). After all of them, the summary at the top of the report is
rewritten from their results: each goal, ours beside the original system's figure.
"""
import time

from bench import (cold_start, digest, dynamodb_calls, ending_jobs, facilitator_calls, load, organizer_calls,
                   private_cpu, reminder_job, request_cpu, sender, summary)
from bench.report import REPORT, machine, replace_section

# In the order they run: the cheap, exact ones first; the load run last (it starts its own stack).
BENCHES = [dynamodb_calls, request_cpu, private_cpu, facilitator_calls, organizer_calls, digest, reminder_job,
           ending_jobs, sender, cold_start, load]


def main():
    results, seconds = {}, {}
    started = time.monotonic()
    with dynamodb_calls.moto_server() as server:
        for bench in BENCHES:
            name = bench.__name__.split('.')[-1]
            began = time.monotonic()
            results[name] = bench.run(server)
            seconds[name] = time.monotonic() - began
            section = '\n'.join([machine(), '', bench.markdown(results[name]),
                                 f'({name}: {seconds[name]:.0f} s of the `make bench` run.)', ''])
            print(section, flush=True)
            replace_section(bench.START, bench.END, section)
    total = time.monotonic() - started
    replace_section(summary.START, summary.END, summary.markdown(results, seconds, total))
    print(f'Written into {REPORT} ({total / 60:.1f} minutes)')


if __name__ == '__main__':
    main()
