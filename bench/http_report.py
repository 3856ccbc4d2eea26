#!/usr/bin/env python3
"""http_report.py - the two halves of bench/http.sh that are easier in Python.

    http_report.py row LABEL CONNECTIONS WRK_OUTPUT CPU_TICKS
        print one tab-separated row (label, connections, requests/s, p50 us,
        p99 us, server CPU us per request, problems) from wrk --latency output
    http_report.py table ROWS_FILE SECONDS LOAD
        print the Markdown table of bench/results-http.md
"""

import datetime
import os
import platform
import re
import sys


def micros(value):
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 1, "ms": 1000, "s": 1000000}[unit]


def row(label, connections, wrk_output, ticks):
    with open(wrk_output, encoding="utf-8") as file:
        text = file.read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    p50 = micros(re.search(r"\s50%\s+(\S+)", text).group(1))
    p99 = micros(re.search(r"\s99%\s+(\S+)", text).group(1))
    cpu = int(ticks) * 1e6 / os.sysconf("SC_CLK_TCK") / max(total, 1)
    problems = re.findall(r"Non-2xx or 3xx responses: \d+|Socket errors: .*", text)
    print("%s\t%s\t%.0f\t%.0f\t%.0f\t%.1f\t%s" % (label, connections, rps, p50, p99, cpu,
                                                "; ".join(problems)))


def table(rows_file, seconds, load):
    with open(rows_file, encoding="utf-8") as file:
        rows = [line.rstrip("\n").split("\t") for line in file if line.strip()]
    nginx = {r[1]: (float(r[2]), float(r[5])) for r in rows if r[0].startswith("nginx")}
    print("# ghaccess serve vs nginx (bench/http.sh)\n")
    print("%s, %d cores (%s), load average after the run %s.  wrk with keep-alive"
          " connections (2 threads, 1 for c=1), %ss per run.  ghaccess: the optimised"
          " build, default thread count (one per core); nginx: `worker_processes auto`,"
          " `access_log off`, a static file with the same body.  Everything on one"
          " machine, wrk included."
          % (datetime.date.today().isoformat(), os.cpu_count(), platform.machine(), load,
             seconds))
    print()
    print("CPU/req is the server's own CPU time (user + system, from /proc) per request:"
          " unlike requests/s it hardly depends on what else the machine runs.  'rate vs"
          " nginx' divides requests/s; 'CPU vs nginx' is nginx's CPU per request divided"
          " by the server's (above 1: cheaper than nginx).\n")
    print("| server / endpoint | conns | requests/s | rate vs nginx | p50 (us) | p99 (us)"
          " | CPU/req (us) | CPU vs nginx | problems |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, connections, rps, p50, p99, cpu, problems in sorted(
            rows, key=lambda r: (int(r[1]), not r[0].startswith("nginx"), r[0])):
        base_rps, base_cpu = nginx.get(connections, (0.0, 0.0))
        rate = float(rps) / base_rps if base_rps else 0.0
        cheaper = base_cpu / float(cpu) if float(cpu) else 0.0
        print("| %s | %s | %s | %.2f | %s | %s | %s | %.2f | %s |"
              % (label, connections, rps, rate, p50, p99, cpu, cheaper, problems))
    print("\nTargets: at 64 connections at least 0.80 of nginx's rate, p99 under 1000 us.")


if __name__ == "__main__":
    if sys.argv[1] == "row":
        row(*sys.argv[2:6])
    else:
        table(*sys.argv[2:5])
