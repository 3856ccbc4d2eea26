#!/usr/bin/env python3
"""load.py - `ghaccess serve` under wrk while syncs run, with a correctness
sampler and resident memory watched.  Run by tests/suites/load.sh (make
check, 15 s) and bench/run.sh (make bench, 60 s).

- wrk, CONNECTIONS (256) keep-alive connections for SECONDS, rotating over
  /user_permissions?package=acme-core, a cached /verify and the index's
  /simple/acme-core/ (Basic credentials, a cached token);
- a sync every second (expiration = 1) and a SIGHUP (reload and sync)
  every 10 s, so snapshots are swapped under the load;
- a thread asking every pypicloud endpoint for every user and package
  over its own connections, comparing with the answers before the load
  (facts.py): any difference is a wrong answer;
- VmRSS of the server every second: after warm-up (the first fifth of the
  run, at least 3 s) and at the end.

Passes with zero non-2xx answers, zero socket errors, zero wrong answers,
RSS growth under 5 % and at least one sync per two seconds.

    python3 tests/e2e/load.py [--seconds 60] [--connections 256] [--report FILE]
"""

import argparse
import hashlib
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dists  # noqa: E402
from facts import Sampler, facts, tokens  # noqa: E402
from harness import (Ghaccess, Standin, basic_auth, scenario_path,  # noqa: E402
                     scenario_settings, workdir)

# Syncs come from a 1 s expiration (a sync every second); a SIGHUP (reload
# and sync) every HUP_EVERY seconds on top.  A reload keeps the replaced
# configuration and GitHub client until exit (about 5 KiB each, see
# bench/README.md), so SIGHUP is not the main source of syncs here.
EXPIRATION = int(os.environ.get("LOAD_EXPIRATION", 1))
HUP_EVERY = float(os.environ.get("LOAD_HUP_EVERY", 10.0))
MAX_RSS_GROWTH = 0.05

WRK_SCRIPT = """
local requests = {}
local i = 0
init = function(args)
  local backend = {["Authorization"] = "%(backend)s"}
  requests[1] = wrk.format("GET", "/user_permissions?package=acme-core", backend)
  requests[2] = wrk.format("GET", "/verify?username=bob&password=%(bob)s", backend)
  requests[3] = wrk.format("GET", "/simple/acme-core/", {["Authorization"] = "%(dave)s"})
end
request = function()
  i = i + 1
  return requests[i %% 3 + 1]
end
"""


def rss_kib(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as file:
        for line in file:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def upload(server, user, password, path, name, version):
    with open(path, "rb") as file:
        content = file.read()
    form = [(":action", "file_upload"), ("protocol_version", "1"), ("name", name),
            ("version", version), ("filetype", "bdist_wheel"),
            ("sha256_digest", hashlib.sha256(content).hexdigest())]
    head, content, tail, content_type = dists.multipart_upload_body(
        form, os.path.basename(path), content)
    url = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request("POST", "/legacy/", body=head + content + tail, headers={
            "Authorization": basic_auth(user, password), "Content-Type": content_type})
        return connection.getresponse().status
    finally:
        connection.close()


def parse_wrk(text):
    """requests, rate, p50/p99 (ms), non-2xx, socket errors from wrk --latency."""
    result = {"requests": 0, "rate": 0.0, "non2xx": 0, "socket_errors": 0,
              "p50_ms": None, "p99_ms": None}
    match = re.search(r"(\d+) requests in", text)
    if match:
        result["requests"] = int(match.group(1))
    match = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if match:
        result["rate"] = float(match.group(1))
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if match:
        result["non2xx"] = int(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                      text)
    if match:
        result["socket_errors"] = sum(int(n) for n in match.groups())
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    for name, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        match = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s)" % re.escape(name), text, re.M)
        if match:
            result[key] = float(match.group(1)) * units[match.group(2)]
    return result


def run(seconds, connections):
    # A budget that lets the full sync run every second ([github]
    # budget_share of 5,000 points would space syncs by about 17 s).
    with Standin(scenario_path("worked-example.json"),
                 args=["--ratelimit-limit", "100000000"]) as standin:
        scenario = standin.scenario
        secret = tokens(scenario)
        settings = scenario_settings(standin, expiration=EXPIRATION, max_stale=3600)
        settings["index"] = {"storage_dir": os.path.join(workdir(), "packages")}
        # wrk's connections all come from 127.0.0.1, like a proxy's.
        settings["server"]["max_connections_per_ip"] = 0
        server = Ghaccess(settings, args=["--no-access-log"]).start()
        directory = os.path.join(workdir(), "dists")
        os.makedirs(directory, exist_ok=True)
        wheel = dists.wheel(directory, "acme-core", "1.0.0")
        assert upload(server, "bob", secret["bob"], wheel, "acme-core", "1.0.0") == 200
        good = facts(server, scenario)          # also puts the tokens in the cache
        assert ("verify", "bob") in good and ("verify", "dave") in good, good
        simple = server.get("/simple/acme-core/", auth=("dave", secret["dave"]))
        assert simple.status == 200, simple

        script = os.path.join(workdir(), "load.lua")
        with open(script, "w", encoding="utf-8") as file:
            file.write(WRK_SCRIPT % {"bob": urllib.parse.quote(secret["bob"]),
                                     "dave": basic_auth("dave", secret["dave"]),
                                     "backend": basic_auth(*server.backend)})
        syncs_before = server.health()[1]["syncs"]
        sampler = Sampler(server, scenario, good, exact=True)
        halt = threading.Event()
        rss = []

        def force_syncs():
            while not halt.wait(HUP_EVERY):
                server.signal(signal.SIGHUP)

        def watch_rss():
            started = time.monotonic()
            while not halt.wait(1.0):
                rss.append((time.monotonic() - started, rss_kib(server.popen.pid)))

        threads = [threading.Thread(target=force_syncs, daemon=True),
                   threading.Thread(target=watch_rss, daemon=True)]
        for thread in threads:
            thread.start()
        sampler.start()
        wrk = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", "%ds" % seconds,
                              "--timeout", "5s", "--latency", "-s", script, server.url],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=seconds + 60)
        halt.set()
        for thread in threads:
            thread.join(10)
        errors = []
        try:
            sampler.finish()
        except AssertionError as error:
            errors.append(str(error))
        syncs = server.health()[1]["syncs"] - syncs_before
        result = parse_wrk(wrk.stdout)
        warm_at = max(3.0, seconds / 5.0)
        warm = next((kib for at, kib in rss if at >= warm_at), rss[0][1] if rss else 0)
        end = rss[-1][1] if rss else 0
        result.update({"seconds": seconds, "connections": connections, "syncs": syncs,
                       "samples": sampler.samples, "wrong": len(sampler.violations),
                       "rss_warm_mib": warm / 1024.0, "rss_end_mib": end / 1024.0,
                       "rss_peak_mib": max(kib for _, kib in rss) / 1024.0 if rss else 0,
                       "rss_growth": (end - warm) / warm if warm else 0.0,
                       "wrk": wrk.stdout})
        status = server.stop()
        if wrk.returncode != 0:
            errors.append("wrk failed: " + wrk.stdout[-2000:])
        if result["requests"] == 0:
            errors.append("wrk made no requests")
        if result["non2xx"]:
            errors.append("%d answers were not 2xx" % result["non2xx"])
        if result["socket_errors"]:
            errors.append("%d socket errors" % result["socket_errors"])
        if result["rss_growth"] >= MAX_RSS_GROWTH:
            errors.append("RSS grew %.1f %% after warm-up" % (100 * result["rss_growth"]))
        if syncs < int(seconds / EXPIRATION / 2):
            errors.append("only %d syncs during the load" % syncs)
        if status != 0:
            errors.append("exit status %s after SIGTERM" % status)
        result["errors"] = errors
        return result


def report(result):
    lines = [
        "| duration | connections | requests | requests/s | p50 | p99 | non-2xx | socket errors "
        "| syncs during the run | sampled passes | wrong answers | RSS after warm-up | RSS at end "
        "| growth |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| %d s | %d | %d | %.0f | %s | %s | %d | %d | %d | %d | %d | %.1f MiB | %.1f MiB "
        "| %+.2f %% |" % (
            result["seconds"], result["connections"], result["requests"], result["rate"],
            "%.2f ms" % result["p50_ms"] if result["p50_ms"] is not None else "?",
            "%.2f ms" % result["p99_ms"] if result["p99_ms"] is not None else "?",
            result["non2xx"], result["socket_errors"], result["syncs"], result["samples"],
            result["wrong"], result["rss_warm_mib"], result["rss_end_mib"],
            100 * result["rss_growth"]),
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("LOAD_SECONDS", 60)))
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--report", help="write the Markdown table to this file too")
    args = parser.parse_args()
    result = run(args.seconds, args.connections)
    table = report(result)
    print(result["wrk"])
    print(table)
    if args.report:
        with tempfile.NamedTemporaryFile("w", dir=os.path.dirname(os.path.abspath(args.report)),
                                         delete=False, encoding="utf-8") as file:
            file.write(table + "\n")
        os.replace(file.name, args.report)
    for error in result["errors"]:
        print("load: FAIL: " + error)
    sys.exit(1 if result["errors"] else 0)


if __name__ == "__main__":
    main()
