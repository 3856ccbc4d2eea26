#!/usr/bin/env python3
"""test_scale.py - `ghaccess serve` on a large generated organization.

- memory: the resident set through the first sync and two refreshes
  (SIGHUP) stays under a bound that grows with the organization, not with
  packages x owners (the per-package pypicloud answers once held every
  owner: 335 MiB at this size, 436 MiB under AddressSanitizer);
- a SIGHUP applies a new configuration to the records already read,
  before and without GitHub (the rebuild shares the records);
- the answers of large organizations (the owners' part shared by the
  view, the rest rendered per request) are exactly what they were.

bench/scale.py measures the same at three sizes with the optimised build
(`make bench`).  Run by tests/suites/scale-e2e.sh.
"""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Ghaccess, Standin, resident_memory, run_tests, scenario_settings, test, wait_for,
)

UNLIMITED = ["--ratelimit-limit", "1000000000", "--rest-ratelimit-limit", "1000000000"]
# The smallest size of bench/scale.py: 10,000 repositories, 400 owners.
SIZE = os.environ.get("SCALE_TEST_SIZE", "repos=10000,teams=1000,members=20000")
# Generous: twice the bench's target for this size (128 MiB, optimised
# build, which peaks near 50 MiB).  Under AddressSanitizer (make check),
# with its shadow memory and redzones, the peak is near 95 MiB, and was
# 436 MiB before the per-package answers stopped holding every owner.  The
# quarantine of freed memory is held small (ASAN_OPTIONS below) so that the
# figure is the program's and not ASan's.
BOUND_MIB = float(os.environ.get("SCALE_TEST_BOUND_MIB", "256"))
ASAN = "quarantine_size_mb=8:detect_leaks=1:abort_on_error=0"
MIB = 1024 * 1024


def syncs(server):
    code, body = server.health()
    return body.get("syncs", 0) if code == 200 else 0


def start(standin, **settings):
    config = scenario_settings(standin, expiration=3600)
    config["github"]["timeout"] = 120
    config["cache"]["max_stale"] = 7200
    for section, values in settings.items():
        config.setdefault(section, {}).update(values)
    env = {"ASAN_OPTIONS": os.environ.get("SCALE_ASAN_OPTIONS", ASAN)}
    return Ghaccess(config, args=["--no-access-log"], env=env).start(timeout=600)


@test
def memory_stays_bounded_through_refreshes():
    with Standin(generate=SIZE, args=UNLIMITED) as standin:
        server = start(standin)
        first = resident_memory(server.popen.pid)
        for n in (2, 3):
            server.signal(signal.SIGHUP)
            wait_for(lambda n=n: syncs(server) >= n, timeout=600, what="refresh %d" % (n - 1))
        after = resident_memory(server.popen.pid)
        print("   %s: RSS %.1f MiB after the first sync, peak %.1f MiB through two refreshes "
              "(bound %.0f MiB)" % (SIZE, first["VmRSS"] / MIB, after["VmHWM"] / MIB, BOUND_MIB))
        assert after["VmHWM"] < BOUND_MIB * MIB, "peak %.1f MiB over %.0f MiB" % (
            after["VmHWM"] / MIB, BOUND_MIB)
        server.stop()


GUARD = {"ghaccess:members": []}


@test
def sighup_applies_a_new_configuration_to_the_records_at_once():
    """The reload rebuilds from the records in hand: with GitHub failing,
    an exclusion still takes effect (the excluded repository's name becomes
    reserved: owners only), and the next good sync keeps it."""
    with Standin(generate="repos=200,teams=20,members=100", args=UNLIMITED) as standin:
        server = start(standin)
        owners = {u["login"] for u in standin.scenario["users"] if u.get("org_role") == "ADMIN"}
        assert server.json("/group_permissions", package="pkg-1") != GUARD
        standin.fault("error5xx", status=502)
        server.settings["github"]["repo_exclude_list"] = "repo-00001"
        server.write_config()
        server.signal(signal.SIGHUP)
        wait_for(lambda: server.json("/group_permissions", package="pkg-1") == GUARD,
                 timeout=30, what="the exclusion without GitHub")
        assert set(server.json("/user_permissions", package="pkg-1")) == owners
        assert server.json("/group_permissions", package="pkg-2") != GUARD
        assert "source=reload" in server.log()
        wait_for(lambda: "sync failed" in server.log(), timeout=30, what="the sync to fail")
        assert server.json("/group_permissions", package="pkg-1") == GUARD
        standin.clear_fault()
        before = syncs(server)
        server.signal(signal.SIGHUP)
        wait_for(lambda: syncs(server) > before, timeout=60, what="a good sync")
        assert server.json("/group_permissions", package="pkg-1") == GUARD
        server.stop()


WRITERS = {"WRITE", "MAINTAIN", "ADMIN"}


@test
def large_answers_are_the_owners_then_the_collaborators():
    """/user_permissions is now the owners' part shared by every package of
    the view, then the package's own collaborators rendered per request:
    each answer must still be exactly the owners (read only when archived)
    and the member collaborators with their own write flag, in that order."""
    with Standin(generate="repos=600,teams=60,members=400", args=UNLIMITED) as standin:
        server = start(standin)
        scenario = standin.scenario
        owners = [u["login"] for u in scenario["users"] if u.get("org_role") == "ADMIN"]
        members = {u["login"] for u in scenario["users"] if u.get("org_role")}
        checked = archived = collaborated = 0
        for repository in scenario["repositories"]:
            text = (repository.get("files") or {}).get("pyproject.toml") or ""
            if "[project]" not in text or repository.get("disabled"):
                continue
            package = text.split('name = "', 1)[1].split('"', 1)[0]
            answer = server.get("/user_permissions", params={"package": package}).body
            users = json.loads(answer, object_pairs_hook=list)
            gone = repository.get("archived")
            expected = [(login, ["read"] if gone else ["read", "write"])
                        for login in sorted(owners)]
            for collaborator in repository["collaborators"]:
                login = collaborator["login"]
                if login in members and login not in owners:
                    writes = collaborator["permission"] in WRITERS and not gone
                    expected.append((login, ["read", "write"] if writes else ["read"]))
            assert users[:len(owners)] == expected[:len(owners)], package
            assert sorted(users[len(owners):]) == sorted(expected[len(owners):]), package
            checked += 1
            archived += bool(gone)
            collaborated += len(users) > len(owners)
        assert checked > 300 and archived > 5 and collaborated > 100, (
            checked, archived, collaborated)
        server.stop()


if __name__ == "__main__":
    run_tests()
