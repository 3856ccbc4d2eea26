#!/usr/bin/env python3
"""scale.py - `ghaccess serve` on large generated organizations: resident
memory through the first sync and two refreshes, GraphQL points per full
sync, sync and refresh times, the decision rate on the same data, and the
full sync's period that [github] budget_share plans for those points.

For each size the GitHub stand-in generates the organization
(--generate repos=N,teams=N,members=N, deterministic, a rate limit that never
applies).  Then:

  alone    one `ghaccess serve` with the memory cache (expiration 3600: no
           refresh but ours).  The first sync is the time until /health says
           ok; two SIGHUPs follow, one after the other, each a rebuild under
           the reloaded configuration and a full sync; a refresh's time is
           from the signal until /health counts one more sync.  VmHWM (the
           peak resident set of the whole life) is the issue's figure;
  shared   a leader and a follower sharing one memcached, as several
           instances run: the leader syncs and publishes the snapshot text
           (first sync, then two SIGHUPs), the follower adopts each
           publication (with expiration 5 it looks every 5 s; the leader's
           sync lock keeps it from syncing itself).  Both peaks are reported;
  engine   `ghaccess sync --out` writes the organization to a snapshot file
           and build/bench/bench_engine --snapshot decides on it, one core;
  memory   build/bench/bench_memory splits the same file's memory by kind
           (malloc counting, docs/internals/memory.md).

The planned period is what service_period.c plans for the measured points
(budget_share 0.25; ceil(points x 3600 / (limit x 0.25)), or expiration
when longer) at three hourly limits GitHub documents: 5,000 (a user's
token, an App installation's floor), 10,000 (an installation on GitHub
Enterprise Cloud) and 12,500 (an installation's ceiling).  The stand-in
here never limits, so the server itself plans with its huge limit; the
planner's figures are checked end to end by tests/e2e/test_scale.py
(30k at 5,000: /health says 1,861 s, reason budget).

GraphQL points are the stand-in's own count for each full sync; "GitHub
part" is the sync's own duration as ghaccess logs it ("GitHub sync done"),
the rest of a refresh being the rebuild, the indexes and the publication.
The CPU time of ghaccess and of the stand-in through the three syncs are
reported beside, so that a slow sync can be told apart from a slow
stand-in.

    bench/scale.py [--sizes 10000/1000/20000,30000/2000/30000,100000/5000/100000]
                   [--refreshes 2] [--no-shared] [--report FILE] [--json FILE]

--json writes every figure of every row (the refreshes one by one), for
other benchmarks to build on.  Environment: BUILD (directory holding
ghaccess and bench/, default build).  The run fails (exit 1) when a size
misses its memory target (alone, leader or follower) or the decision rate
falls under 5 million per second.
"""

import argparse
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from harness import (GHACCESS, BUILD, Ghaccess, Memcached, Skip, Standin,  # noqa: E402
                     resident_memory, scenario_settings, wait_for, workdir)

UNLIMITED = ["--ratelimit-limit", "1000000000", "--rest-ratelimit-limit", "1000000000"]
MIB = 1024.0 * 1024.0
# The targets: peak resident memory through the first sync and two
# refreshes, by size (repositories); decisions per second on one core.
TARGETS_MIB = {10000: 128, 30000: 256, 100000: 1024}
DECISIONS_TARGET = 5.0e6
DEFAULT_SIZES = "10000/1000/20000,30000/2000/30000,100000/5000/100000"
# Hourly GraphQL limits (docs.github.com, "Rate limits and node limits for
# the GraphQL API") and the default [github] budget_share.
LIMITS = (5000, 10000, 12500)
SHARE = 0.25
EXPIRATION = 300
MAX_STALE = 3600


def planned_period(points, limit, share=SHARE, expiration=EXPIRATION, max_stale=MAX_STALE):
    """service_period_plan()'s period and reason for a sync of points (the
    defaults: expiration 300, max_stale 3600)."""
    gap = -(-points * 3600 * 1000 // (limit * int(share * 1000)))
    cap = max(max_stale - max(max_stale // 10, 1), expiration)
    if gap > cap:
        return cap, "max_stale"
    return (gap, "budget") if gap > expiration else (expiration, "expiration")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid, encoding="ascii") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health(server, key):
    code, body = server.health()
    return body.get(key, 0) if code == 200 else 0


def sync_logs(server, after):
    """points and duration_ms of each "GitHub sync done" line logged after offset after."""
    found = []
    for line in server.log()[after:].splitlines():
        if "GitHub sync done" in line:
            fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
            found.append({"points": int(fields["points"]),
                          "duration_ms": int(fields["duration_ms"])})
    return found


def first_sync(server_factory, standin, timeout):
    """Start a server; the first sync's figures."""
    standin.reset_stats()
    standin_cpu = cpu_seconds(standin.popen.pid)
    started = time.monotonic()
    server = server_factory().start(timeout=timeout)
    row = {"seconds": time.monotonic() - started,
           "points": standin.stats()["graphql_points"],
           "standin_cpu": cpu_seconds(standin.popen.pid) - standin_cpu,
           "cpu": cpu_seconds(server.popen.pid)}
    status = resident_memory(server.popen.pid)
    row["rss"], row["hwm"] = status["VmRSS"], status["VmHWM"]
    logged = sync_logs(server, 0)
    row["github_ms"] = logged[-1]["duration_ms"] if logged else None
    return server, row


def refresh(server, standin, timeout):
    """SIGHUP, then wait for one more sync; the refresh's figures."""
    before = health(server, "syncs")
    standin.reset_stats()
    standin_cpu = cpu_seconds(standin.popen.pid)
    cpu = cpu_seconds(server.popen.pid)
    offset = len(server.log())
    started = time.monotonic()
    server.signal(signal.SIGHUP)
    wait_for(lambda: health(server, "syncs") > before, timeout=timeout, interval=0.05,
             what="the refresh to publish")
    row = {"seconds": time.monotonic() - started,
           "points": standin.stats()["graphql_points"],
           "standin_cpu": cpu_seconds(standin.popen.pid) - standin_cpu,
           "cpu": cpu_seconds(server.popen.pid) - cpu,
           "rss": resident_memory(server.popen.pid)["VmRSS"]}
    logged = sync_logs(server, offset)
    row["github_ms"] = logged[-1]["duration_ms"] if logged else None
    return row


def settings_for(standin):
    settings = scenario_settings(standin, expiration=3600)
    settings["github"]["timeout"] = 300
    settings["cache"]["max_stale"] = 7200
    return settings


def run_alone(standin, refreshes, timeout):
    settings = settings_for(standin)
    server, first = first_sync(
        lambda: Ghaccess(settings, name="alone", args=["--no-access-log"]), standin, timeout)
    row = {"first": first, "refreshes": [refresh(server, standin, timeout)
                                         for _ in range(refreshes)]}
    body = server.health()[1]
    row["members"], row["teams"], row["packages"] = (body["members"], body["teams"],
                                                     body["packages"])
    status = resident_memory(server.popen.pid)
    row["peak"], row["end_rss"] = status["VmHWM"], status["VmRSS"]
    row["config"] = server.config_path
    server.stop()
    return row


def run_shared(standin, refreshes, timeout):
    """A leader that syncs and publishes, a follower that adopts."""
    memcached = Memcached(name="scale-memcached", memory_mb=1024)
    secret_file = os.path.join(workdir(), "scale-cache.secret")
    with open(secret_file, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(32) + "\n")
    os.chmod(secret_file, 0o600)
    settings = settings_for(standin)
    settings["cache"].update({"backend": "memcache", "secret_file": secret_file,
                              "memcache.url": "127.0.0.1:%d" % memcached.port})
    leader, first = first_sync(
        lambda: Ghaccess(settings, name="leader", args=["--no-access-log"]), standin, timeout)
    # The follower looks for a newer publication once per period after an
    # adoption: a short one, while the leader's sync lock (taken for the
    # leader's 3600 s) keeps it from syncing GitHub itself.
    follower_settings = json.loads(json.dumps(settings))
    follower_settings["cache"]["expiration"] = 5
    started = time.monotonic()
    follower = Ghaccess(follower_settings, name="follower", args=["--no-access-log"]).start(
        timeout=timeout)
    row = {"first": first, "adoptions": [time.monotonic() - started], "refreshes": []}
    for n in range(refreshes):
        row["refreshes"].append(refresh(leader, standin, timeout))
        started = time.monotonic()
        wait_for(lambda n=n: health(follower, "snapshots_adopted") >= n + 2, timeout=timeout,
                 interval=0.05, what="the follower to adopt")
        row["adoptions"].append(time.monotonic() - started)
    row["leader_peak"] = resident_memory(leader.popen.pid)["VmHWM"]
    row["follower_peak"] = resident_memory(follower.popen.pid)["VmHWM"]
    follower.stop()
    leader.stop()
    memcached.stop()
    return row


def decisions(snapshot_path, seconds):
    out = subprocess.run([os.path.join(BUILD, "bench", "bench_engine"), "--snapshot",
                          snapshot_path, str(seconds)], check=True, stdout=subprocess.PIPE,
                         timeout=600).stdout.decode("utf-8")
    match = re.search(r"= ([0-9.]+) million/s", out)
    return float(match.group(1)) * 1e6


def measure(size, args):
    repos = size[0]
    spec = "repos=%d,teams=%d,members=%d" % size
    row = {"size": list(size), "label": "{:,} / {:,} / {:,}".format(*size),
           "target_mib": TARGETS_MIB.get(repos)}
    started = time.monotonic()
    with Standin(generate=spec, args=UNLIMITED) as standin:
        row["standin_start_seconds"] = time.monotonic() - started
        row["alone"] = run_alone(standin, args.refreshes, args.timeout)
        if args.shared:
            try:
                row["shared"] = run_shared(standin, args.refreshes, args.timeout)
            except Skip as skip:
                print("scale: shared part skipped: %s" % skip)
        row["standin_hwm"] = resident_memory(standin.popen.pid)["VmHWM"]
        snapshot = os.path.join(workdir(), "scale-%d.json" % repos)
        subprocess.run([GHACCESS, "sync", "--config", row["alone"].pop("config"), "--out",
                        snapshot], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=args.timeout)
    row["snapshot_bytes"] = os.path.getsize(snapshot)
    row["decisions_per_second"] = decisions(snapshot, args.engine_seconds)
    row["breakdown"] = subprocess.run([os.path.join(BUILD, "bench", "bench_memory"), snapshot],
                                      check=True, stdout=subprocess.PIPE,
                                      timeout=600).stdout.decode("utf-8")
    os.unlink(snapshot)
    row["planned_periods"] = {str(limit): planned_period(row["alone"]["first"]["points"], limit)
                              for limit in LIMITS}
    return row


def mib(value):
    return "%.1f MiB" % (value / MIB)


def peaks(row):
    """(what, bytes) of every peak held to the target."""
    found = [("alone", row["alone"]["peak"])]
    if "shared" in row:
        found += [("leader", row["shared"]["leader_peak"]),
                  ("follower", row["shared"]["follower_peak"])]
    return found


def tables(rows):
    out = ["| repos / teams / members | packages | GraphQL points per full sync "
           "| first sync | refresh 1 | refresh 2 | RSS after the first sync "
           "| **peak RSS** (first sync + refreshes) | target | decisions/s, one core |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        alone = row["alone"]
        target = row["target_mib"]
        peak = max(value for _, value in peaks(row))
        times = ["%.1f s" % alone["first"]["seconds"]] + [
            "%.1f s" % r["seconds"] for r in alone["refreshes"][:2]]
        times += ["—"] * (3 - len(times))
        out.append("| %s | {:,} | {:,} | %s | %s | %s | %s | **%s** (%s) | %s | %.1f M |".format(
            alone["packages"], alone["first"]["points"]) % (
                row["label"], times[0], times[1], times[2], mib(alone["first"]["rss"]),
                mib(peak), "%.2f× target" % (peak / MIB / target) if target else "",
                "%d MiB" % target if target else "—", row["decisions_per_second"] / 1e6))
    out += ["", "The full sync's planned period with the defaults (budget_share = 0.25, "
            "expiration = %d, max_stale = %d), by the hourly GraphQL limit GitHub reports "
            "(service_period.c's rule on the points above; staleness without webhooks follows "
            "it; max_stale: the share alone would let the data pass max_stale, so the period "
            "stops at 9/10 of it and spends more):" % (EXPIRATION, MAX_STALE), "",
            "| repos / teams / members | points per full sync | "
            + " | ".join("{:,} points/h".format(limit) for limit in LIMITS) + " |",
            "|---|---:|" + "---:|" * len(LIMITS)]
    for row in rows:
        cells = []
        for limit in LIMITS:
            period, reason = row["planned_periods"][str(limit)]
            share = row["alone"]["first"]["points"] * 3600.0 / period / limit
            cells.append("%s s (%s, %.0f%% of the hour)" % ("{:,}".format(period), reason,
                                                            share * 100))
        out.append("| %s | {:,} | %s |".format(row["alone"]["first"]["points"]) % (
            row["label"], " | ".join(cells)))
    out += ["", "Peaks by role (VmHWM through the first sync and the refreshes):", "",
            "| repos / teams / members | alone (memory cache) | leader (syncs, publishes to "
            "memcached) | follower (adopts from memcached) | follower: adoption after the "
            "leader's publication | RSS at the end (alone) |",
            "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        shared = row.get("shared")
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            row["label"], mib(row["alone"]["peak"]),
            mib(shared["leader_peak"]) if shared else "not run",
            mib(shared["follower_peak"]) if shared else "not run",
            ", ".join("%.1f s" % s for s in shared["adoptions"][1:]) if shared else "—",
            mib(row["alone"]["end_rss"])))
    out += ["", "Where a sync's time goes (alone; each sync is a full sync of the "
            "organization):", "",
            "| repos / teams / members | sync | points | GitHub part (ghaccess's log) "
            "| until published | ghaccess CPU | stand-in CPU | stand-in peak RSS "
            "| snapshot text |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        alone = row["alone"]
        syncs = [("first", alone["first"])] + [
            ("refresh %d" % (i + 1), r) for i, r in enumerate(alone["refreshes"])]
        for name, sync in syncs:
            out.append("| %s | %s | {:,} | %.1f s | %.1f s | %.1f s | %.1f s | %s | %s |".format(
                sync["points"]) % (
                    row["label"] if name == "first" else "", name,
                    (sync["github_ms"] or 0) / 1000.0, sync["seconds"], sync["cpu"],
                    sync["standin_cpu"], mib(row["standin_hwm"]) if name == "first" else "",
                    mib(row["snapshot_bytes"]) if name == "first" else ""))
    for row in rows:
        out += ["", "### Where the memory goes: %s (build/bench/bench_memory)" % row["label"], "",
                row["breakdown"].strip()]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES)
    parser.add_argument("--refreshes", type=int, default=2)
    parser.add_argument("--no-shared", dest="shared", action="store_false")
    parser.add_argument("--engine-seconds", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--report")
    parser.add_argument("--json")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in part.split("/")) for part in args.sizes.split(",")]
    rows = []
    for size in sizes:
        rows.append(measure(size, args))
        print(tables(rows[-1:]), flush=True)
    header = "%s, %d cores, load average %s.\n\n" % (
        time.strftime("%Y-%m-%d", time.gmtime()), os.cpu_count(),
        " ".join(open("/proc/loadavg", encoding="ascii").read().split()[:3]))
    text = header + tables(rows)
    print(text)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as file:
            file.write(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(rows, file, indent=1)
    missed = ["%s: %s peak %s over %d MiB" % (row["label"], what, mib(value), row["target_mib"])
              for row in rows if row["target_mib"]
              for what, value in peaks(row) if value > row["target_mib"] * MIB]
    missed += ["%s: %.2f M decisions/s" % (row["label"], row["decisions_per_second"] / 1e6)
               for row in rows if row["decisions_per_second"] < DECISIONS_TARGET]
    for line in missed:
        print("scale: missed: " + line)
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
