#!/usr/bin/env python3
"""test_memcache.py - several `ghaccess serve` instances sharing one memcached.

One sync serves every instance (the sync lock and the published snapshot),
verified tokens are shared, a forged memcached value is ignored, and an
instance whose memcached went away falls back to its own memory and says
so.  Skipped when memcached is not installed.
"""

import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Ghaccess, Memcached, Standin, load_scenario, run_tests, scenario_path,
    scenario_settings, test, wait_for, workdir,
)
from pypicloud_model import Pypicloud  # noqa: E402

WORKED = "worked-example.json"


def shared_settings(standin, memcached, **cache):
    secret_file = os.path.join(workdir(), "cache.secret")
    if not os.path.exists(secret_file):
        with open(secret_file, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32) + "\n")
        os.chmod(secret_file, 0o600)
    options = {"backend": "memcache", "memcache.url": "127.0.0.1:%d" % memcached.port,
               "secret_file": secret_file, "expiration": 300}
    options.update(cache)
    return scenario_settings(standin, **options)


def token_of(scenario, login):
    return next(u["tokens"][0] for u in scenario["users"] if u["login"] == login)


def answers(server):
    model = Pypicloud(server)
    return {package: (model.user_permissions(package), model.group_permissions(package))
            for package in ("acme-core", "acme-tools", "acme-client")}


def assert_equal(actual, expected, what):
    assert actual == expected, "%s: got %r, expected %r" % (what, actual, expected)


@test
def two_instances_sync_once_and_share_tokens():
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    scenario = load_scenario(scenario_path(WORKED))
    settings = shared_settings(standin, memcached)

    first = Ghaccess(settings, name="first").start()
    after_first = standin.stats()["graphql_requests"]
    assert after_first > 0, "the first instance synced"
    second = Ghaccess(settings, name="second").start()
    body = second.wait_health(200)
    assert_equal(standin.stats()["graphql_requests"], after_first,
                 "GraphQL requests after the second instance started")
    assert_equal(body["snapshots_adopted"], 1, "the second instance adopted the snapshot")
    assert body["cache"].startswith("memcache"), body
    assert_equal(answers(second), answers(first), "both instances answer alike")

    # A token verified by one instance is known to the other.
    before = standin.stats()["user_requests"]
    dave = token_of(scenario, "dave")
    assert_equal(first.json("/verify", username="dave", password=dave), True, "dave on first")
    assert_equal(second.json("/verify", username="dave", password=dave), True, "dave on second")
    assert_equal(standin.stats()["user_requests"] - before, 1, "GET /user for both instances")

    assert_equal(first.stop(), 0, "first exit status")
    assert_equal(second.stop(), 0, "second exit status")
    for server in (first, second):
        log = server.log()
        for user in scenario["users"]:
            for token in user["tokens"]:
                assert token not in log, "a token in the log"


@test
def forged_memcached_values_are_rejected():
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    scenario = load_scenario(scenario_path(WORKED))
    settings = shared_settings(standin, memcached)
    first = Ghaccess(settings, name="first").start()
    keys = [key for key in memcached.keys() if ":snapshot:" in key]
    assert keys, "the snapshot is in memcached: %r" % memcached.keys()
    # A writer to memcached without the secret: garbage, and a plausible
    # snapshot that would make erin (an outside collaborator) a member.
    for key in keys:
        assert memcached.set(key, b"garbage" * 10).startswith(b"STORED")
    forged_log_before = first.log().count("rejected")
    before = standin.stats()["graphql_requests"]
    second = Ghaccess(settings, name="second").start()
    wait_for(lambda: "memcached" in second.log() and (
        "rejected" in second.log()),
        timeout=10, what="the forged value to be reported")
    assert standin.stats()["graphql_requests"] > before, "the second instance synced itself"
    assert_equal(answers(second), answers(first), "the second instance serves GitHub's data")
    erin = token_of(scenario, "erin")
    assert_equal(second.json("/verify", username="erin", password=erin), False, "erin")
    assert first.log().count("rejected") >= forged_log_before

    # Forged token entries do not log anybody in either.
    for key in memcached.keys():
        if ":token:" in key:
            memcached.set(key, b"\x01" + b"\x00" * 60)
    assert_equal(second.json("/verify", username="bob", password="ghp_not_bobs_token"), False,
                 "a token that GitHub refuses")
    assert_equal(first.stop(), 0, "first exit status")
    assert_equal(second.stop(), 0, "second exit status")


@test
def memcached_down_falls_back_to_memory():
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    scenario = load_scenario(scenario_path(WORKED))
    server = Ghaccess(shared_settings(standin, memcached)).start()
    memcached.stop()
    carol = token_of(scenario, "carol")
    assert_equal(server.json("/verify", username="carol", password=carol), True,
                 "a login with memcached down")
    body = server.wait_health(200, check=lambda b: "unreachable" in b["cache"])
    assert "memory" in body["cache"], body
    assert_equal(server.json("/verify", username="carol", password=carol), True, "again")
    assert_equal(server.stop(), 0, "exit status")


if __name__ == "__main__":
    run_tests()
