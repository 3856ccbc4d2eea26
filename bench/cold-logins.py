#!/usr/bin/env python3
"""cold-logins.py - 100 concurrent first requests with one new token.

The token cache lets one GitHub check (GET /user) answer every request
that waits for it.  For each case, a token that the server has not seen is
sent by 100 threads released together; the stand-in counts the GET /user
requests, and the time until the last answer is measured:

- /verify with a valid token, GitHub answering at once;
- /verify with a valid token, GitHub's GET /user slowed to 300 ms (a real
  round trip), with a probe asking /user_permissions (no login) meanwhile:
  how long do requests that need no login wait behind the cold ones;
- /verify with a refused token;
- the index's /simple/acme-core/ with Basic credentials (valid token).

    bench/cold-logins.py [--report FILE]

Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
"""

import argparse
import concurrent.futures
import copy
import os
import secrets
import string
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from harness import Ghaccess, Standin, http_get, scenario_path, scenario_settings, workdir  # noqa: E402

CONCURRENT = 100
SLOW_MS = 300


def new_token():
    alphabet = string.ascii_letters + string.digits
    return "ghp_" + "".join(secrets.choice(alphabet) for _ in range(36))


def give_dave(standin, scenario, token):
    """A new token for dave, known to the stand-in only."""
    for user in scenario["users"]:
        if user["login"] == "dave":
            user["tokens"].append(token)
    standin.set_scenario(scenario)


def burst(request):
    """CONCURRENT threads released together; returns (answers, seconds to the last)."""
    barrier = threading.Barrier(CONCURRENT)

    def one(_):
        barrier.wait()
        return request()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        answers = list(pool.map(one, range(CONCURRENT)))
    return answers, time.monotonic() - started


def run():
    rows = []
    with Standin(scenario_path("worked-example.json")) as standin:
        scenario = copy.deepcopy(standin.scenario)
        settings = scenario_settings(standin)
        settings["index"] = {"storage_dir": os.path.join(workdir(), "packages")}
        server = Ghaccess(settings, args=["--no-access-log"]).start()

        def case(name, token, request, expect, slow=False):
            if token is not None:
                give_dave(standin, scenario, token)
            probe_ms = []
            halt = threading.Event()

            def probe():
                while not halt.is_set():
                    started = time.monotonic()
                    server.get("/user_permissions", params={"package": "acme-core"})
                    probe_ms.append(1000 * (time.monotonic() - started))
                    time.sleep(0.01)
            if slow:
                standin.fault("slow", target="user", delay_ms=SLOW_MS)
            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            before = standin.stats()["user_requests"]
            answers, seconds = burst(request)
            after = standin.stats()["user_requests"]
            halt.set()
            prober.join(10)
            if slow:
                standin.clear_fault()
            right = sum(1 for answer in answers if answer == expect)
            rows.append({"case": name, "requests": CONCURRENT, "right": right,
                         "user_requests": after - before, "seconds": seconds,
                         "probe_max_ms": max(probe_ms) if probe_ms else float("nan"),
                         "probes": len(probe_ms)})

        token = new_token()
        case("/verify, valid token", token,
             lambda: server.get("/verify", params={
                 "username": "dave", "password": token}).body, b"true")
        slow_token = new_token()
        case("/verify, valid token, GET /user takes %d ms" % SLOW_MS, slow_token,
             lambda: server.get("/verify", params={
                 "username": "dave", "password": slow_token}).body, b"true", slow=True)
        bad = new_token()
        case("/verify, refused token", None,
             lambda: server.get("/verify", params={
                 "username": "dave", "password": bad}).body, b"false")
        index_token = new_token()
        case("/simple/acme-core/ (index), Basic, valid token", index_token,
             lambda: http_get(server.url, "/simple/acme-core/",
                              auth=("dave", index_token)).status, 404)
        server.stop()
    return rows


def table(rows):
    out = ["| case | concurrent requests | right answers | GET /user | time to the last answer "
           "| slowest /user_permissions meanwhile |",
           "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        out.append("| %s | %d | %d | %d | %.0f ms | %.0f ms (%d probes) |" % (
            row["case"], row["requests"], row["right"], row["user_requests"],
            1000 * row["seconds"], row["probe_max_ms"], row["probes"]))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report")
    args = parser.parse_args()
    rows = run()
    text = table(rows)
    print(text)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as file:
            file.write(text)
    failed = [row["case"] for row in rows
              if row["user_requests"] != 1 or row["right"] != row["requests"]]
    for case in failed:
        print("cold-logins: FAIL: " + case)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
