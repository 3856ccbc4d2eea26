#!/usr/bin/env python3
"""test_cluster.py - several `ghaccess serve` instances behave as one service.

Real processes: two or three servers, one real memcached, the GitHub
stand-in.  A webhook delivered to one instance takes effect on the others
within 2 s (the change log shared through memcached); an instance killed
during the very first sync of a fresh cluster holds the others up for
seconds, not a refresh period; memcached restarted (or down while a
revocation arrives) never lets anybody in who was removed; a forged or
moved change log entry is refused.  Run by tests/suites/cluster-e2e.sh;
`python3 tests/e2e/test_cluster.py [TEST...]` runs some tests alone.
Skipped when memcached is not installed.
"""

import json
import os
import secrets
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Ghaccess, Memcached, Standin, helpers_of, run_tests, scenario_path, scenario_settings, test,
    token_of, wait_for, without_member, workdir,
)

WORKED = "worked-example.json"
WEBHOOK_SECRET = "cluster-webhook-secret-0123456789abcdef"
BOB_TOKEN = "ghp_bob000000000000000000000000000000000"


# ---- helpers ----------------------------------------------------------------

def secret_file(name, content):
    path = os.path.join(workdir(), name)
    if not os.path.exists(path):
        with open(path, "w", encoding="ascii") as file:
            file.write(content + "\n")
        os.chmod(path, 0o600)
    return path


def cluster_settings(standin, memcached, **cache):
    options = {"backend": "memcache", "memcache.url": "127.0.0.1:%d" % memcached.port,
               "secret_file": secret_file("cache.secret", secrets.token_hex(32)),
               "expiration": 300}
    options.update(cache)
    settings = scenario_settings(standin, **options)
    settings["webhook"] = {"secret_file": secret_file("webhook.secret", WEBHOOK_SECRET)}
    return settings


def verify(server, login, token):
    return server.json("/verify", username=login, password=token)


def deliver_member_removed(standin, server, login):
    report = standin.control("POST", "/_standin/webhook", {
        "url": server.url + "/webhook", "secret": WEBHOOK_SECRET, "event": "organization",
        "payload_action": "member_removed", "login": login})
    assert report["status"] == 202, report
    return report


def seconds_until_refused(server, login, token, limit, started=None):
    """Poll /verify every 50 ms; the seconds from started (default: now)
    until login is refused."""
    started = time.monotonic() if started is None else started
    while True:
        answer = verify(server, login, token)
        elapsed = time.monotonic() - started
        if answer is False:
            return elapsed
        if elapsed > limit:
            raise AssertionError("%s still let in %.1f s later on %s" % (login, elapsed,
                                                                        server.name))
        time.sleep(0.05)


def health_of(server):
    return server.health()[1]


def start_pair(memcached, standin, **cache):
    settings = cluster_settings(standin, memcached, **cache)
    first = Ghaccess(settings, name="a").start()
    second = Ghaccess(settings, name="b").start()
    return first, second


def log_keys(memcached):
    keys = [key for key in memcached.keys() if ":changes:" in key]
    head = [key for key in keys if key.endswith(":changes:head")]
    counts = [key for key in keys if key.endswith(":count")]
    return head, counts, keys


# ---- (a) a webhook to one instance reaches the others ---------------------------

@test
def webhook_to_one_instance_refuses_on_the_others_within_two_seconds():
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    first, second = start_pair(memcached, standin)
    third = Ghaccess(first.settings, name="c").start()
    for server in (first, second, third):
        assert verify(server, "bob", BOB_TOKEN) is True, server.name
    # GitHub no longer has bob, and answers slowly: the syncs the delivery
    # asks for cannot be what refuses him on the other instances.
    standin.set_scenario(without_member(standin.scenario, "bob"))
    standin.fault("slow", target="graphql", delay_ms=8000)
    delivered = time.monotonic()
    deliver_member_removed(standin, first, "bob")
    elapsed = [seconds_until_refused(server, "bob", BOB_TOKEN, 2.0, delivered)
               for server in (second, third)]
    print("delivery to a -> bob refused on b after %.0f ms, on c after %.0f ms"
          % (elapsed[0] * 1000, elapsed[1] * 1000), flush=True)
    assert verify(first, "bob", BOB_TOKEN) is False
    carol = token_of(standin, "carol")
    for server in (first, second, third):
        assert verify(server, "carol", carol) is True, "carol untouched on " + server.name
    # The removal, and the read of bob's membership that confirms it.
    assert health_of(first)["shared_changes_appended"] >= 1, health_of(first)
    assert health_of(second)["shared_changes_applied"] >= 1, health_of(second)
    standin.clear_fault()


@test
def targeted_read_on_one_instance_reaches_the_others():
    """team platform (bob) is given tools; the delivery goes to a, whose
    targeted read finds the grant: b applies what a read (the shared log
    carries the team's repositories), with no GitHub call of its own and no
    full sync anywhere."""
    webhook = helpers_of("test_webhook")
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    first, second = start_pair(memcached, standin)
    assert not webhook.may_write(second, "bob", "acme-tools")
    changed = json.loads(json.dumps(standin.scenario))
    changed.pop("expect", None)
    webhook.team(changed, "platform")["repositories"].append(
        {"name": "tools", "permission": "WRITE"})
    standin.reset_stats()
    standin.set_scenario(changed)
    delivered = time.monotonic()
    report = standin.control("POST", "/_standin/webhook", {
        "url": first.url + "/webhook", "secret": WEBHOOK_SECRET, "event": "team",
        "payload_action": "added_to_repository", "team": "platform", "repository": "tools"})
    assert report["status"] == 202, report
    wait_for(lambda: webhook.may_write(second, "bob", "acme-tools"), timeout=2.0,
             what="bob's new grant on b")
    print("targeted read on a -> bob may write on b after %.0f ms"
          % ((time.monotonic() - delivered) * 1000), flush=True)
    assert webhook.may_write(first, "bob", "acme-tools")
    queries = standin.stats()["queries"]
    assert not any(queries.get(q) for q in ("OrgMembers", "OrgTeams", "OrgRepos")), queries
    assert queries.get("TeamRepositories") == 1, "b read GitHub itself: %r" % queries
    assert health_of(second)["shared_changes_applied"] == 1, health_of(second)


# ---- (b) the first syncer killed during the first sync ---------------------------

@test
def syncer_killed_during_the_first_sync_holds_the_cluster_up_seconds():
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    settings = cluster_settings(standin, memcached)
    # Each GraphQL query takes 4 s: the first instance is still syncing
    # when it is killed, holding the sync lock.
    standin.fault("slow", target="graphql", delay_ms=4000)
    first = Ghaccess(settings, name="a").start(ready=False)
    wait_for(lambda: any(":lock" in key for key in memcached.keys()), timeout=10,
             what="the first instance to take the sync lock")
    second = Ghaccess(settings, name="b").start(ready=False)
    time.sleep(2.0)
    assert second.health()[0] == 503, "b waits for the syncer"
    assert "sync done" not in second.log()
    first.popen.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    first.stop()
    standin.clear_fault()
    second.wait_health(200, timeout=30.0)
    took = time.monotonic() - killed
    print("first syncer killed -> b healthy after %.1f s" % took, flush=True)
    assert took < 30.0, took
    assert verify(second, "bob", BOB_TOKEN) is True


@test
def one_sync_per_period_across_instances():
    """The lock is released after each sync: the period marker keeps the
    others from syncing again (they adopt)."""
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    first, second = start_pair(memcached, standin)
    third = Ghaccess(first.settings, name="c").start()
    before = standin.stats()["graphql_requests"]
    time.sleep(3.0)
    assert standin.stats()["graphql_requests"] == before, "nobody synced again"
    for server in (second, third):
        assert health_of(server)["snapshots_adopted"] >= 1, health_of(server)
        assert health_of(server)["syncs"] == 0, health_of(server)


# ---- (c) memcached restarted, down, or written by an attacker --------------------

@test
def memcached_restarted_then_revocation_reaches_the_others():
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    first, second = start_pair(memcached, standin)
    # Let b follow the log before the restart (a change appended and read).
    deliver_member_removed(standin, first, "dave")
    wait_for(lambda: health_of(second)["shared_changes_applied"] >= 1, timeout=5,
             what="b to read the log")
    memcached.restart()
    # Both instances read memcached again and find the log they followed
    # gone: a gap each (each syncs once).
    wait_for(lambda: health_of(second)["shared_change_log_gaps"] >= 1 and
             health_of(first)["shared_change_log_gaps"] >= 1, timeout=10,
             what="both instances to see the log gone")
    wait_for(lambda: health_of(second)["syncs"] >= 1, timeout=10, what="b's sync")
    assert verify(second, "bob", BOB_TOKEN) is True
    standin.set_scenario(without_member(standin.scenario, "bob"))
    standin.fault("slow", target="graphql", delay_ms=8000)
    deliver_member_removed(standin, first, "bob")
    try:
        elapsed = seconds_until_refused(second, "bob", BOB_TOKEN, 2.0)
    except AssertionError:
        for server in (first, second):
            print("--- %s\n%s" % (server.name, "\n".join(
                line for line in server.log().splitlines()
                if "memcached" in line or "shared" in line or "change" in line)))
        raise
    print("after a memcached restart: bob refused on b after %.0f ms" % (elapsed * 1000),
          flush=True)
    standin.clear_fault()


@test
def revocation_during_a_memcached_outage_reaches_the_others_when_it_is_back():
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    first, second = start_pair(memcached, standin)
    assert verify(second, "bob", BOB_TOKEN) is True
    standin.set_scenario(without_member(standin.scenario, "bob"))
    # Slow GitHub: b's own syncs (the one its gap asks for included) cannot
    # be what refuses bob.
    standin.fault("slow", target="graphql", delay_ms=15000)
    memcached.kill()
    deliver_member_removed(standin, first, "bob")
    wait_for(lambda: verify(first, "bob", BOB_TOKEN) is False, timeout=2,
             what="bob refused on a")
    time.sleep(1.5)
    assert verify(second, "bob", BOB_TOKEN) is True, \
        "b cannot know yet (this is what the test measures)"
    memcached.start_again()
    back = time.monotonic()
    elapsed = seconds_until_refused(second, "bob", BOB_TOKEN, 8.0)
    print("revocation during a memcached outage: bob refused on b %.0f ms after "
          "memcached came back" % ((time.monotonic() - back) * 1000), flush=True)
    assert elapsed < 8.0
    health = health_of(first)
    assert health["shared_changes_pending"] == 0 and health["shared_changes_appended"] >= 1, \
        health
    standin.clear_fault()


def memcached_get(memcached, key):
    return memcached.get(key)


@test
def forged_and_moved_change_log_entries_are_refused():
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    first, second = start_pair(memcached, standin)
    carol = token_of(standin, "carol")
    deliver_member_removed(standin, first, "dave")
    # The removal, then the read of dave's membership that confirms it.
    wait_for(lambda: health_of(first)["shared_changes_appended"] >= 2 and
             health_of(second)["shared_changes_applied"] >= 2, timeout=5,
             what="the changes appended and read")
    head, counts, keys = log_keys(memcached)
    assert len(head) == 1 and len(counts) == 1, keys
    count_key = counts[0]
    prefix = count_key[:-len("count")]
    last = int(memcached_get(memcached, count_key))
    genuine = memcached_get(memcached, prefix + "1")
    assert genuine, "entry 1 is in memcached: %r" % keys
    refused_before = health_of(second)["shared_changes_refused"]

    # A genuine entry moved to the next slot: its MAC covers its key.
    assert memcached.set(prefix + str(last + 1), genuine).startswith(b"STORED")
    assert memcached.command(("incr %s 1\r\n" % count_key).encode()).strip() == \
        str(last + 1).encode()
    wait_for(lambda: health_of(second)["shared_changes_refused"] == refused_before + 1,
             timeout=5, what="the moved entry refused")

    # A forged entry: carol removed, with a MAC made up by someone without
    # the secret.  Refused: carol keeps her access on every instance.
    forged_change = (b'0' * 32 + b'{"at_ms":%d,"kind":"remove_member","login":"carol","v":1}'
                     % int(time.time() * 1000))
    forged = (b"\x01" + (int(time.time()) + 600).to_bytes(8, "big")
              + (last + 2).to_bytes(8, "big") + forged_change + secrets.token_bytes(32))
    assert memcached.set(prefix + str(last + 2), forged).startswith(b"STORED")
    assert memcached.command(("incr %s 1\r\n" % count_key).encode()).strip() == \
        str(last + 2).encode()
    wait_for(lambda: health_of(second)["shared_changes_refused"] == refused_before + 2,
             timeout=5, what="the forged entry refused")
    for server in (first, second):
        assert verify(server, "carol", carol) is True, "carol on " + server.name
        assert health_of(server)["shared_change_log_gaps"] >= 2 or server is first
    assert "a change failed its seal" in second.log()

    # A forged head: refused, and the next writer replaces it with a log
    # of its own that the readers follow.
    assert memcached.set(head[0], b"\x01" + b"\x00" * 60).startswith(b"STORED")
    standin.set_scenario(without_member(standin.scenario, "bob"))
    standin.fault("slow", target="graphql", delay_ms=8000)
    deliver_member_removed(standin, first, "bob")
    elapsed = seconds_until_refused(second, "bob", BOB_TOKEN, 3.0)
    print("after a forged head: bob refused on b after %.0f ms" % (elapsed * 1000), flush=True)
    standin.clear_fault()


if __name__ == "__main__":
    run_tests()
