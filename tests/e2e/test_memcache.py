#!/usr/bin/env python3
"""test_memcache.py - several `ghaccess serve` instances sharing one memcached.

One sync serves every instance (the sync lock and the published snapshot),
verified tokens are shared, a forged memcached value is ignored, a replayed
(older) or future-dated shared snapshot is not adopted, and an instance
whose memcached went away falls back to its own memory and says so.
Skipped when memcached is not installed.
"""

import hashlib
import hmac
import json
import os
import secrets
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Ghaccess, Memcached, Standin, load_scenario, run_tests, scenario_path,
    scenario_settings, test, wait_for, without_member, workdir,
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
def follower_adopts_a_publication_made_within_the_period():
    """Both instances keep a 300 s period. The syncing instance publishes
    again long before it ends (a sync a webhook or a poll asked for: here
    SIGHUP) and bob left the organization meanwhile: the follower adopts
    that publication within seconds, not at the end of its period."""
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    scenario = load_scenario(scenario_path(WORKED))
    settings = shared_settings(standin, memcached)
    first = Ghaccess(settings, name="first").start()
    second = Ghaccess(settings, name="second").start()
    second.wait_health(200, check=lambda body: body["snapshots_adopted"] == 1)
    assert verify(second, scenario, "bob") is True
    standin.set_scenario(without_member(standin.scenario, "bob"))
    resync(first)
    assert verify(first, scenario, "bob") is False
    started = time.monotonic()
    wait_for(lambda: verify(second, scenario, "bob") is False, timeout=12,
             what="the follower to adopt the new publication")
    print("follower adopted the new publication after %.1f s" % (time.monotonic() - started))
    assert_equal(second.health()[1]["snapshots_adopted"], 2, "publications adopted")


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


# ---- the shared snapshot as another instance writes it -----------------------

class SharedSnapshot:
    """Reads and writes the shared snapshot the way an instance holding the
    secret does (docs/internals/cache.md: sealed values, chunks, the
    "current" pointer).  The tests use it to replay what an instance wrote
    earlier, and to play an instance whose clock is wrong; whoever lacks the
    secret can do the first, never the second."""

    def __init__(self, memcached, secret_file, organization):
        with open(secret_file, "rb") as file:
            secret = file.read()
        secret = secret[:-1] if secret.endswith(b"\n") else secret
        secret = secret[:-1] if secret.endswith(b"\r") else secret
        self.mac_key = hmac.new(secret, b"ghaccess:v1:value-mac", hashlib.sha256).digest()
        self.memcached = memcached
        self.prefix = "ghaccess:v1:%s:snapshot:" % organization.lower()
        self.current_key = self.prefix + "current"

    def _mac(self, key, header, payload):
        message = b"".join(len(field).to_bytes(8, "big") + field
                           for field in (key.encode(), header, payload))
        return hmac.new(self.mac_key, message, hashlib.sha256).digest()

    def seal(self, key, payload, ttl=3600):
        header = b"\x01" + (int(time.time()) + ttl).to_bytes(8, "big")
        return header + payload + self._mac(key, header, payload)

    def open(self, key, value):
        header, payload, mac = value[:9], value[9:-32], value[-32:]
        assert hmac.compare_digest(mac, self._mac(key, header, payload)), key
        return payload

    def pointer(self):
        """The sealed pointer now in memcached, and its fields."""
        sealed = self.memcached.get(self.current_key)
        assert sealed is not None, "no shared snapshot in memcached"
        payload = self.open(self.current_key, sealed)
        fields = {"set_id": int.from_bytes(payload[0:8], "big"),
                  "chunks": int.from_bytes(payload[8:16], "big"),
                  "length": int.from_bytes(payload[16:24], "big"),
                  "synced_at": int.from_bytes(payload[56:64], "big"),
                  # Instances from before generations wrote 64 bytes; the
                  # tests can run against such a build, to see it fail.
                  "generation": (int.from_bytes(payload[64:72], "big")
                                 if len(payload) >= 72 else None)}
        return sealed, fields

    def text(self):
        _, fields = self.pointer()
        parts = []
        for index in range(fields["chunks"]):
            key = "%s%016x:%d" % (self.prefix, fields["set_id"], index)
            parts.append(self.open(key, self.memcached.get(key)))
        return b"".join(parts)

    def publish(self, snapshot, synced_at, generation):
        """Publish snapshot (a dict in the snapshot file format) as an
        instance would: one chunk, then the pointer.  Returns the sealed
        pointer."""
        snapshot = dict(snapshot, synced_at=synced_at)
        text = json.dumps(snapshot).encode()
        assert len(text) < 999958, "one chunk"
        set_id = secrets.randbits(64)
        key = "%s%016x:0" % (self.prefix, set_id)
        assert self.memcached.set(key, self.seal(key, text)).startswith(b"STORED")
        payload = (set_id.to_bytes(8, "big") + (1).to_bytes(8, "big")
                   + len(text).to_bytes(8, "big") + hashlib.sha256(text).digest()
                   + synced_at.to_bytes(8, "big"))
        if self.pointer()[1]["generation"] is not None:
            payload += generation.to_bytes(8, "big")
        sealed = self.seal(self.current_key, payload)
        assert self.memcached.set(self.current_key, sealed).startswith(b"STORED")
        return sealed


def verify(server, scenario, login):
    return server.json("/verify", username=login, password=token_of(scenario, login))


def resync(server):
    """SIGHUP: the instance syncs from GitHub at once and publishes."""
    before = server.health()[1]["syncs"]
    server.signal(signal.SIGHUP)
    server.wait_health(200, check=lambda body: body["syncs"] > before)


def two_instances(standin, memcached):
    """The first instance syncs (and keeps the lock for 300 s); the second
    follows, looking at the shared snapshot every 2 s (its expiration)
    instead of once per 300 s, so that the tests need not wait."""
    settings = shared_settings(standin, memcached)
    first = Ghaccess(settings, name="first").start()
    second = Ghaccess(shared_settings(standin, memcached, expiration=2), name="second").start()
    second.wait_health(200, check=lambda body: body["snapshots_adopted"] == 1)
    shared = SharedSnapshot(memcached, settings["cache"]["secret_file"],
                            standin.scenario["organization"]["login"])
    return first, second, shared


@test
def replayed_older_snapshot_is_not_adopted():
    """An instance whose clock runs 4 s ahead (within the allowed skew)
    published P2 (bob a member); the first instance then published P3 (bob
    removed), numbered after P2 but dated before it.  The second instance,
    which was paused meanwhile, adopts P3.  Someone who copied P2 writes it
    back: by its date it looks newer than P3, by its generation it is older,
    and it must not be adopted (bob stays out)."""
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    scenario = load_scenario(scenario_path(WORKED))
    first, second, shared = two_instances(standin, memcached)
    assert_equal(verify(second, scenario, "bob"), True, "bob, a member, on the follower")

    second.signal(signal.SIGSTOP)
    try:
        # The fast instance: its clock reads 4 s more than ours.
        now = int(time.time())
        ahead_generation = int((time.time() + 4) * 1000)
        ahead = shared.publish(json.loads(shared.text()), now + 4, ahead_generation)
        standin.set_scenario(without_member(scenario, "bob"))
        resync(first)
        wait_for(lambda: memcached.get(shared.current_key) != ahead, timeout=10,
                 what="the first instance's publication")
        _, published = shared.pointer()
        assert published["synced_at"] < now + 4, (published, now)
        if published["generation"] is not None:
            assert published["generation"] > ahead_generation, published
    finally:
        second.signal(signal.SIGCONT)
    wait_for(lambda: verify(second, scenario, "bob") is False, timeout=15,
             what="the follower to adopt the snapshot without bob")
    adopted = second.health()[1]["snapshots_adopted"]

    assert memcached.set(shared.current_key, ahead).startswith(b"STORED")
    wait_for(lambda: "older than one already seen" in second.log(), timeout=15,
             what="the follower to see the replayed snapshot")
    time.sleep(1)
    assert_equal(verify(second, scenario, "bob"), False, "bob after the replay")
    assert_equal(second.health()[1]["snapshots_adopted"], adopted, "snapshots adopted")
    assert_equal(first.stop(), 0, "first exit status")
    assert_equal(second.stop(), 0, "second exit status")


@test
def future_dated_snapshot_is_not_adopted():
    """An instance whose clock runs an hour ahead publishes a snapshot (in
    which erin, an outside collaborator, is a member).  The follower does
    not adopt it (erin stays out), syncs by itself instead, and still adopts
    the next normal publication (bob removed)."""
    memcached = Memcached()
    standin = Standin(scenario_path(WORKED))
    scenario = load_scenario(scenario_path(WORKED))
    first, second, shared = two_instances(standin, memcached)
    snapshot = json.loads(shared.text())
    snapshot["members"].append({"login": "erin", "id": 105, "owner": False})
    shared.publish(snapshot, int(time.time()) + 3600, int((time.time() + 3600) * 1000))
    wait_for(lambda: "in the future" in second.log(), timeout=15,
             what="the follower to refuse the future-dated snapshot")
    assert_equal(verify(second, scenario, "erin"), False, "erin on the follower")
    assert second.health()[1]["snapshot_age_seconds"] >= 0, "a snapshot from the future"

    # Normal adoption goes on: the first instance publishes bob's removal.
    standin.set_scenario(without_member(scenario, "bob"))
    adopted = second.health()[1]["snapshots_adopted"]
    resync(first)
    second.wait_health(200, timeout=15,
                       check=lambda body: body["snapshots_adopted"] > adopted)
    assert_equal(verify(second, scenario, "bob"), False, "bob after his removal")
    assert_equal(verify(second, scenario, "erin"), False, "erin")
    assert_equal(verify(second, scenario, "dave"), True, "dave")
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
