#!/usr/bin/env python3
"""sync-cost.py - what a sync of a generated organization costs, side by
side with the minimum number of GraphQL pages the data needs and with the
plan of the old pypicloud plugin (every repository asked for all its
collaborators).

For each size it starts the GitHub stand-in with --generate (and a rate
limit that never bites), runs `ghaccess sync --json` (GraphQL requests and
points by the stand-in's own count, wall time), starts `ghaccess serve` and
reads its peak resident memory (VmHWM) once the first sync is published,
and runs tests/github-standin/cost-compare.js for the old plan.  The old
plan is run only where it takes a reasonable time (--naive-max-repos, by
default 2,000 repositories); above that its cost is computed exactly from
the scenario (the stand-in charges 1 point per collaborators page, and
affiliation ALL lists every member when the base permission is read) and
marked as computed.

    bench/sync-cost.py [--sizes 1000/200/2000,10000/1000/20000] [--report FILE]

Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
Prints Markdown tables (and writes them to --report).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from harness import GHACCESS, Ghaccess, Standin, ini_text, scenario_settings, workdir  # noqa: E402

COST_COMPARE = os.path.join(ROOT, "tests", "github-standin", "cost-compare.js")
UNLIMITED = ["--ratelimit-limit", "1000000000", "--rest-ratelimit-limit", "1000000000"]
# GraphQL cost of one page of each query at first: 100 (GitHub's rule, which
# the stand-in applies): max(1, round(the sum over connections of the
# product of the enclosing connections' first / 100)).  OrgTeams nests two
# connections of 100 under teams: (1 + 100 + 100) / 100 = 2; OrgRepos one.
PAGE_POINTS = {"OrgMembers": 1, "OrgTeams": 2, "OrgRepos": 1,
               "TeamMembers": 1, "TeamRepositories": 1, "RepositoryCollaborators": 1}


def pages(count):
    return max(1, math.ceil(count / 100))


def minimum_plan(scenario):
    """The pages the data needs with nested first: 100 connections, and their points."""
    members = sum(1 for user in scenario["users"] if user.get("org_role"))
    counts = {"OrgMembers": pages(members), "OrgTeams": pages(len(scenario["teams"])),
              "OrgRepos": pages(len(scenario["repositories"])),
              "TeamMembers": 0, "TeamRepositories": 0, "RepositoryCollaborators": 0}
    for team in scenario["teams"]:
        counts["TeamMembers"] += pages(len(team["members"])) - 1
        counts["TeamRepositories"] += pages(len(team["repositories"])) - 1
    for repository in scenario["repositories"]:
        counts["RepositoryCollaborators"] += pages(len(repository["collaborators"])) - 1
    return sum(counts.values()), sum(PAGE_POINTS[q] * n for q, n in counts.items())


def old_plan_computed(scenario):
    """cost-compare.js's requests and points without running it: the listing,
    then per repository every page of collaborators(affiliation: ALL)."""
    base = scenario["organization"].get("default_repository_permission") or "none"
    members = {user["login"] for user in scenario["users"] if user.get("org_role")}
    requests = pages(len(scenario["repositories"]))     # listing, 1 point each
    for repository in scenario["repositories"]:
        everybody = set(members) if base != "none" else set()
        if base == "none":
            for team in scenario["teams"]:
                if any(r["name"] == repository["name"] for r in team["repositories"]):
                    everybody.update(m["login"] for m in team["members"])
            everybody.update(u["login"] for u in scenario["users"]
                             if u.get("org_role") == "ADMIN")
        everybody.update(c["login"] for c in repository["collaborators"])
        requests += pages(len(everybody))
    return requests, requests


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as file:
        for line in file:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def measure(size, naive_max_repos):
    repos, teams, members = size
    spec = "repos=%d,teams=%d,members=%d" % size
    row = {"size": "%s / %s / %s" % ("{:,}".format(repos), "{:,}".format(teams),
                                     "{:,}".format(members))}
    with Standin(generate=spec, args=UNLIMITED) as standin:
        scenario = standin.scenario
        row["minimum_pages"], row["minimum_points"] = minimum_plan(scenario)
        settings = scenario_settings(standin, expiration=3600)
        settings["github"]["timeout"] = 120
        config = os.path.join(workdir(), "sync-%d.ini" % repos)
        with open(config, "w", encoding="utf-8") as file:
            file.write(ini_text(settings))
        standin.reset_stats()
        started = time.monotonic()
        out = subprocess.run([GHACCESS, "sync", "--config", config, "--json"], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=3600)
        row["sync_seconds"] = time.monotonic() - started
        summary = json.loads(out.stdout)
        counted = standin.stats()
        row["graphql_requests"] = counted["graphql_requests"]
        row["graphql_points"] = counted["graphql_points"]
        row["rest_requests"] = counted["rest_requests"]
        row["queries"] = counted["queries"]
        row["packages"] = len(summary["packages"])
        row["members"] = summary["members"]

        server = Ghaccess(settings, args=["--no-access-log"]).start(timeout=3600)
        row["serve_peak_rss_mib"] = peak_rss_mib(server.popen.pid)
        server.stop()

        if repos <= naive_max_repos:
            standin.reset_stats()
            started = time.monotonic()
            out = subprocess.run(["node", COST_COMPARE, "--url", standin.url, "--token",
                                  scenario["server_token"], "--concurrency", "8"], check=True,
                                 stdout=subprocess.PIPE, timeout=3600)
            old = json.loads(out.stdout)
            row["old_requests"], row["old_points"] = old["requests"], old["points"]
            row["old_seconds"] = time.monotonic() - started
            row["old_how"] = "measured"
            row["old_computed"] = old_plan_computed(scenario)
        else:
            row["old_requests"], row["old_points"] = old_plan_computed(scenario)
            row["old_how"] = "computed"
    return row


def tables(rows):
    out = ["### GraphQL cost", "",
           "| repos / teams / members | minimum pages | GraphQL requests | requests / minimum "
           "| points | minimum points | points / minimum | REST requests "
           "| old plan: requests | old plan: points | old plan / ghaccess (points) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        out.append("| %s | %d | %d | %.2f | %d | %d | %.2f | %d | %s%s | %s | %.0f |" % (
            row["size"], row["minimum_pages"], row["graphql_requests"],
            row["graphql_requests"] / row["minimum_pages"], row["graphql_points"],
            row["minimum_points"], row["graphql_points"] / row["minimum_points"],
            row["rest_requests"], "{:,}".format(row["old_requests"]),
            "" if row["old_how"] == "measured" else " (computed)",
            "{:,}".format(row["old_points"]), row["old_points"] / row["graphql_points"]))
    out += ["", "### Wall time and memory", "",
            "| repos / teams / members | members | packages | `sync` wall time "
            "| `serve` peak RSS (VmHWM) | old plan wall time |",
            "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        out.append("| %s | %d | %d | %.1f s | %.1f MiB | %s |" % (
            row["size"], row["members"], row["packages"], row["sync_seconds"],
            row["serve_peak_rss_mib"],
            "%.1f s" % row["old_seconds"] if "old_seconds" in row else "not run"))
    out += ["", "Queries per operation (ghaccess): " + "; ".join(
        "%s: %s" % (row["size"], ", ".join("%s %d" % kv for kv in sorted(row["queries"].items())))
        for row in rows)]
    checks = ["%s: old plan measured %d points, computed %d" % (
        row["size"], row["old_points"], row["old_computed"][1])
        for row in rows if "old_computed" in row]
    if checks:
        out.append("Check of the computation against cost-compare.js: " + "; ".join(checks) + ".")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000/200/2000,10000/1000/20000")
    parser.add_argument("--naive-max-repos", type=int, default=2000)
    parser.add_argument("--report")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in part.split("/")) for part in args.sizes.split(",")]
    rows = [measure(size, args.naive_max_repos) for size in sizes]
    text = tables(rows)
    print(text)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as file:
            file.write(text)
    # The targets: requests within 1.5 x the minimum; RSS < 256 MiB at the large size.
    failed = [row["size"] for row in rows
              if row["graphql_requests"] > 1.5 * row["minimum_pages"]]
    if failed:
        print("sync-cost: more than 1.5 x the minimum pages for " + ", ".join(failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
