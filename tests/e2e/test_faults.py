#!/usr/bin/env python3
"""test_faults.py - `ghaccess serve` on a bad day, with real processes.

What test_pypicloud.py already covers is not repeated here (GitHub down at
start and while serving with max_stale, a broken snapshot file, a broken
configuration on SIGHUP), nor what test_memcache.py covers (garbage and
forged token entries in memcached, memcached down at start) or
test_index.py (kill -9 during one large upload).  This adds:

- GitHub answering 5xx, garbage, rate limits or too slowly at start: 503,
  every decision "no", recovery without help;
- every fault mode of the stand-in while serving: the answers stay those
  of the last good snapshot (a background sampler checks all along that
  no answer ever grants more than GitHub does), then recovery;
- a tiny max_stale under a fault: every decision "no", never open;
- the server's token revoked: a clear error in the log and /health, the
  last snapshot until max_stale, recovery when the token is back;
- many SIGHUPs: no connection (file descriptor) kept per reload;
- memcached restarted empty, a tampered snapshot value and the replay of
  an older genuine one: no wrong decision, no crash;
- kill -9 during a sync (serve with memcached, and `sync --out`) and
  during concurrent uploads: nothing lost or half-written after restart.

Every decision is reduced to a set of facts ("bob may write acme-core",
"carol is in platform", "olivia's token logs in"), so that "never open"
is a subset test and "fail closed" is the empty set.
"""

import concurrent.futures
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dists  # noqa: E402
from facts import Sampler, facts, tokens, without_logins  # noqa: E402
from harness import (GHACCESS, Ghaccess, Memcached, Response,  # noqa: E402
                     Standin, basic_auth, ini_text, run_tests, scenario_path,
                     scenario_settings, test, wait_for, workdir)

# A GraphQL budget that lets the full sync run every expiration (1-2 s
# here): the planned period stretches a sync over budget_share of the
# hourly limit, and these tests are about faults, not about the budget
# (tests/e2e/test_scale.py is).
ROOMY = ["--ratelimit-limit", "100000000"]

WORKED = scenario_path("worked-example.json")


def assert_equal(actual, expected, what):
    assert actual == expected, "%s: got %r, expected %r" % (what, actual, expected)


def wait_facts(server, scenario, expected, what, timeout=15):
    """Wait until the answers are expected: a token check that started
    during a fault (by the sampler) may still be answered "unknown"."""
    last = [None]

    def reached():
        last[0] = facts(server, scenario)
        return last[0] == expected
    try:
        wait_for(reached, timeout=timeout, interval=0.3, what=what)
    except AssertionError:
        assert_equal(last[0], expected, what)


def health(server):
    response = server.get("/health")
    return response.status, response.json()


def counter(server, key):
    return health(server)[1].get(key, 0)


def wait_counter(server, key, at_least, timeout=30):
    return wait_for(lambda: counter(server, key) >= at_least, timeout=timeout, interval=0.1,
                    what="%s >= %d" % (key, at_least))


def wait_faulted(standin, at_least, timeout=30):
    return wait_for(lambda: standin.stats()["faulted_requests"] >= at_least, timeout=timeout,
                    interval=0.1, what="%d faulted requests" % at_least)


def stop_cleanly(server):
    status = server.stop()
    assert_equal(status, 0, "exit status after SIGTERM (log: ...%s)" % server.log()[-1500:])


# ---- GitHub failing at start ----------------------------------------------------

START_FAULTS = [
    ("error5xx", {"status": 502}),
    ("error5xx", {"status": 500}),
    ("garbage", {}),
    ("ratelimit", {"retry_after": 1}),
    ("slow", {"delay_ms": 4000}),           # beyond the 2 s timeout below
]


@test
def github_failing_at_start_every_decision_is_no_then_recovers():
    with Standin(WORKED, args=ROOMY) as standin:
        scenario = standin.scenario
        for mode, options in START_FAULTS:
            standin.fault(mode, **options)
            settings = scenario_settings(standin, expiration=2, max_stale=600)
            settings["github"]["timeout"] = 2
            server = Ghaccess(settings, name="ghaccess-" + mode).start(ready=False)
            body = server.wait_health(503, timeout=60,
                                      check=lambda b: "last_sync_error" in b)
            assert_equal(body["status"], "starting", "%s: status" % mode)
            assert_equal(facts(server, scenario), set(), "%s: decisions before any snapshot"
                         % mode)
            standin.clear_fault()
            # No SIGHUP, no restart: the refresh thread's backoff finds GitHub back.
            server.wait_health(200, timeout=60)
            found = facts(server, scenario)
            assert ("verify", "bob") in found and ("admin", "olivia") in found, found
            stop_cleanly(server)


# ---- GitHub failing while serving -------------------------------------------------

SERVING_FAULTS = [
    ("down", {}),
    ("slow", {"delay_ms": 4000}),           # every request times out
    ("error5xx", {"status": 502}),
    ("error5xx", {"status": 503}),
    ("ratelimit", {"retry_after": 1}),
    ("ratelimit", {"status": 429, "retry_after": 1}),
    ("garbage", {}),
    ("garbage", {"target": "rest"}),
    ("down", {"target": "graphql"}),
]


@test
def github_failing_while_serving_keeps_the_last_good_snapshot():
    with Standin(WORKED, args=ROOMY) as standin:
        scenario = standin.scenario
        settings = scenario_settings(standin, expiration=2, max_stale=600)
        settings["github"]["timeout"] = 2
        server = Ghaccess(settings).start()
        good = facts(server, scenario)
        assert ("verify", "bob") in good and ("user", "olivia", "acme-core", "write") in good
        sampler = Sampler(server, scenario, good)
        sampler.start()
        for mode, options in SERVING_FAULTS:
            what = "%s %r" % (mode, options)
            failures = counter(server, "sync_failures")
            faulted = standin.stats()["faulted_requests"]
            standin.fault(mode, **options)
            # At least one whole sync attempt under the fault.
            wait_faulted(standin, faulted + 2, timeout=60)
            if mode != "slow":
                wait_counter(server, "sync_failures", failures + 1, timeout=60)
            status, body = health(server)
            assert_equal(status, 200, "%s: /health while the snapshot is young" % what)
            during = facts(server, scenario)
            assert_equal(without_logins(during), without_logins(good),
                         "%s: answers from the last good snapshot" % what)
            assert during <= good, "%s: granted %r" % (what, during - good)
            syncs = counter(server, "syncs")
            standin.clear_fault()
            wait_counter(server, "syncs", syncs + 1, timeout=60)
            wait_facts(server, scenario, good, "%s: after recovery" % what)
            assert "last_sync_error" not in health(server)[1], what

        # partial: collaborators FORBIDDEN.  The sync succeeds, the direct
        # grants become unknown: answers may shrink, never grow.
        syncs = counter(server, "syncs")
        standin.fault("partial")
        wait_counter(server, "syncs", syncs + 2, timeout=60)
        partial = facts(server, scenario)
        assert partial <= good, "partial: granted %r" % (partial - good)
        assert "collaborators unknown" in server.log() or "FORBIDDEN" in server.log()
        standin.clear_fault()
        syncs = counter(server, "syncs")
        wait_counter(server, "syncs", syncs + 1, timeout=60)
        wait_facts(server, scenario, good, "after partial")
        samples = sampler.finish()
        print("sampler: %d passes over every endpoint, none granted more" % samples)
        stop_cleanly(server)


@test
def tiny_max_stale_fails_closed_under_every_fault():
    with Standin(WORKED, args=ROOMY) as standin:
        scenario = standin.scenario
        settings = scenario_settings(standin, expiration=1, max_stale=2)
        settings["github"]["timeout"] = 1
        server = Ghaccess(settings).start()
        good = facts(server, scenario)
        sampler = Sampler(server, scenario, good)
        sampler.start()
        for mode, options in [("down", {}), ("error5xx", {}), ("garbage", {}),
                              ("ratelimit", {"retry_after": 30}), ("slow", {"delay_ms": 3000})]:
            standin.fault(mode, **options)
            body = server.wait_health(503, timeout=30)
            assert_equal(body["status"], "stale", "%s: status" % mode)
            assert_equal(facts(server, scenario), set(), "%s: decisions when stale" % mode)
            standin.clear_fault()
            server.wait_health(200, timeout=30)
            wait_facts(server, scenario, good, "%s: after recovery" % mode)
        sampler.finish()
        stop_cleanly(server)


# ---- the server's token revoked ---------------------------------------------------

@test
def revoked_server_token_keeps_the_snapshot_until_max_stale():
    with Standin(WORKED, args=ROOMY) as standin:
        scenario = standin.scenario
        settings = scenario_settings(standin, expiration=1, max_stale=6)
        server = Ghaccess(settings).start()
        good = facts(server, scenario)
        revoked = dict(scenario, server_token="ghp_another_server_token_0000000000000000")
        standin.set_scenario(revoked)
        failures = counter(server, "sync_failures")
        wait_counter(server, "sync_failures", failures + 1)
        status, body = health(server)
        assert_equal(status, 200, "the last good snapshot still serves")
        error = body.get("last_sync_error", "")
        assert "refused the token" in error and "401" in error, body
        assert "refused the token" in server.log(), "the log says why"
        assert_equal(without_logins(facts(server, scenario, logins=False)), without_logins(good),
                     "answers from the last good snapshot")
        body = server.wait_health(503, timeout=20)
        assert_equal(body["status"], "stale", "after max_stale")
        assert "refused the token" in body.get("last_sync_error", ""), body
        assert_equal(facts(server, scenario), set(), "stale with a revoked token")
        standin.set_scenario(scenario)
        server.wait_health(200, timeout=20)
        wait_facts(server, scenario, good, "the token is back")
        token = scenario["server_token"]
        assert token not in server.log(), "the server token was logged"
        stop_cleanly(server)


# ---- reloads ----------------------------------------------------------------------

@test
def reloads_do_not_keep_connections_open():
    """Each SIGHUP retires the GitHub client; its keep-alive connections
    used to stay open until exit (3 descriptors per reload: about 340
    reloads exhausted a limit of 1,024)."""
    with Standin(WORKED) as standin:
        server = Ghaccess(scenario_settings(standin)).start()
        fd_dir = "/proc/%d/fd" % server.popen.pid
        before = len(os.listdir(fd_dir))
        syncs = counter(server, "syncs")
        for i in range(40):
            server.reload()
            wait_counter(server, "syncs", syncs + i + 1)
        after = len(os.listdir(fd_dir))
        assert after <= before + 4, "descriptors: %d before 40 reloads, %d after" % (
            before, after)
        stop_cleanly(server)


# ---- memcached ------------------------------------------------------------------

def memcache_settings(standin, memcached, **cache):
    secret_file = os.path.join(workdir(), "cache.secret")
    if not os.path.exists(secret_file):
        with open(secret_file, "w", encoding="ascii") as file:
            file.write("7f" * 32 + "\n")
        os.chmod(secret_file, 0o600)
    options = {"backend": "memcache", "memcache.url": "127.0.0.1:%d" % memcached.port,
               "secret_file": secret_file, "expiration": 2, "poll_interval": 1}
    options.update(cache)
    return scenario_settings(standin, **options)


@test
def memcached_restarted_and_tampered_values():
    memcached = Memcached()
    with Standin(WORKED, args=ROOMY) as standin:
        scenario = standin.scenario
        settings = memcache_settings(standin, memcached)
        server = Ghaccess(settings).start()
        good = facts(server, scenario)
        sampler = Sampler(server, scenario, good)
        sampler.start()
        snapshot_keys = [key for key in memcached.keys() if ":snapshot:" in key]
        assert snapshot_keys, memcached.keys()
        old_values = {key: memcached.get(key) for key in snapshot_keys}

        # Restarted: empty, on the same port.
        memcached.stop()
        time.sleep(1)
        memcached.start_again()
        syncs = counter(server, "syncs")
        wait_counter(server, "syncs", syncs + 1)
        assert_equal(facts(server, scenario), good, "after memcached restarted")
        wait_for(lambda: [k for k in memcached.keys() if ":snapshot:" in k], timeout=20,
                 what="the snapshot shared again")

        # bob leaves platform: a newer snapshot.  Then an attacker replays
        # the older genuine value, and flips a byte of the current one.
        changed = json.loads(json.dumps(scenario))
        for team in changed["teams"]:
            team["members"] = [m for m in team["members"] if m["login"] != "bob"]
        standin.set_scenario(changed)
        wait_for(lambda: ("in", "bob", "platform") not in facts(server, scenario, False),
                 timeout=20, what="bob out of platform")
        smaller = facts(server, changed)
        for key, value in old_values.items():
            if value is not None:
                memcached.set(key, value)
        time.sleep(3)
        assert ("in", "bob", "platform") not in facts(server, changed, False), \
            "an older snapshot replayed through memcached was adopted"
        for key in [k for k in memcached.keys() if ":snapshot:" in k]:
            value = bytearray(memcached.get(key) or b"")
            if value:
                value[len(value) // 2] ^= 0x01
                memcached.set(key, bytes(value))
        fresh = Ghaccess(settings, name="ghaccess-fresh").start()
        assert_equal(facts(fresh, changed), smaller, "a new instance beside tampered values")
        assert server.running() and fresh.running()
        sampler.finish()
        stop_cleanly(fresh)
        stop_cleanly(server)


# ---- kill -9 ----------------------------------------------------------------------

GENERATED = "repos=1500,teams=150,members=1500"
# The refresh period of the kill test: a killed instance's sync lock lives that long.
LOCK_PERIOD = 15


@test
def kill_during_sync_then_restart():
    """serve with memcached killed mid-sync (the first sync, then a later
    one); `sync --out` killed mid-sync."""
    memcached = Memcached()
    with Standin(generate=GENERATED, args=["--ratelimit-limit", "100000000"]) as standin:
        members = sum(1 for u in standin.scenario["users"] if u.get("org_role"))
        settings = memcache_settings(standin, memcached, expiration=LOCK_PERIOD,
                                     max_stale=600, poll_interval=1)
        settings["github"]["timeout"] = 30

        # (a) The very first sync is killed: nothing is shared yet, and the
        # dead instance's sync lock lives for one period (expiration).  The
        # restarted instance serves 503 ("no") until it syncs itself.
        standin.fault("slow", delay_ms=150, target="graphql")
        server = Ghaccess(settings).start(ready=False)
        wait_for(lambda: standin.stats()["graphql_requests"] >= 3, timeout=30,
                 what="the sync under way")
        server.popen.send_signal(signal.SIGKILL)
        server.popen.wait()
        assert "GitHub sync done" not in server.log(), "the sync finished before the kill"
        standin.clear_fault()
        started = time.monotonic()
        restarted = Ghaccess(settings, name="ghaccess-restarted").start(ready=False)
        assert_equal(health(restarted)[0], 503, "no snapshot yet after the kill")
        body = restarted.wait_health(200, timeout=LOCK_PERIOD + 120)
        first_wait = time.monotonic() - started
        assert_equal(body["members"], members, "members after restart")

        # (b) A later sync is killed: the shared snapshot is whole, and a
        # restarted instance adopts it at once.
        standin.fault("slow", delay_ms=150, target="graphql")
        requests = standin.stats()["graphql_requests"]
        restarted.reload()                      # SIGHUP: a sync now
        wait_for(lambda: standin.stats()["graphql_requests"] >= requests + 3, timeout=30,
                 what="the second sync under way")
        restarted.popen.send_signal(signal.SIGKILL)
        restarted.popen.wait()
        standin.clear_fault()
        started = time.monotonic()
        again = Ghaccess(settings, name="ghaccess-again").start(timeout=30)
        second_wait = time.monotonic() - started
        body = health(again)[1]
        assert_equal(body["members"], members, "members from the shared snapshot")
        assert_equal(body["snapshots_adopted"], 1, "adopted what the killed instance shared")
        print("kill -9 mid-sync: first sync killed -> healthy after %.1fs (lock period %ds); "
              "later sync killed -> healthy after %.1fs (adopted)"
              % (first_wait, LOCK_PERIOD, second_wait))
        stop_cleanly(again)

        # sync --out: the file is the old one or the new one, whole.
        out = os.path.join(workdir(), "generated.snapshot.json")
        config = os.path.join(workdir(), "sync.ini")
        with open(config, "w", encoding="utf-8") as file:
            file.write(ini_text(settings))
        subprocess.run([GHACCESS, "sync", "--config", config, "--out", out], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
        with open(out, "rb") as file:
            before = file.read()
        standin.fault("slow", delay_ms=150, target="graphql")
        requests = standin.stats()["graphql_requests"]
        sync = subprocess.Popen([GHACCESS, "sync", "--config", config, "--out", out],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: standin.stats()["graphql_requests"] >= requests + 3, timeout=30,
                 what="the second sync under way")
        sync.send_signal(signal.SIGKILL)
        sync.wait()
        standin.clear_fault()
        with open(out, "rb") as file:
            assert file.read() == before, "the snapshot file changed under a killed sync"
        leftovers = [name for name in os.listdir(workdir()) if name.startswith(
            os.path.basename(out)) and name != os.path.basename(out)]
        assert leftovers == [], "temporary files left: %r" % leftovers
        from_file = Ghaccess(scenario_settings(standin), name="ghaccess-file",
                             snapshot=out).start()
        assert health(from_file)[1]["members"] > 0
        stop_cleanly(from_file)


def post_upload(url, user, password, path, name, version):
    with open(path, "rb") as file:
        content = file.read()
    form = [(":action", "file_upload"), ("protocol_version", "1"), ("name", name),
            ("version", version), ("filetype", "bdist_wheel"),
            ("sha256_digest", hashlib.sha256(content).hexdigest())]
    head, content, tail, content_type = dists.multipart_upload_body(
        form, os.path.basename(path), content)
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("POST", "/legacy/", body=head + content + tail, headers={
            "Connection": "close", "Authorization": basic_auth(user, password),
            "Content-Type": content_type})
        reply = connection.getresponse()
        return Response(reply.status, {}, reply.read())
    except (OSError, http.client.HTTPException):
        return None     # the server was killed under this upload
    finally:
        connection.close()


@test
def kill_during_concurrent_uploads_then_restart():
    with Standin(WORKED) as standin:
        secret = tokens(standin.scenario)
        storage = os.path.join(workdir(), "kill-storage")
        settings = scenario_settings(standin)
        # Sixteen at once by one user: above the default per-user bound
        # (test_upload_limits.py tests it), raised here.
        settings["index"] = {"storage_dir": storage, "max_concurrent_uploads_per_user": 16}
        server = Ghaccess(settings).start()
        directory = os.path.join(workdir(), "kill-dists")
        os.makedirs(directory, exist_ok=True)
        wheels = [dists.wheel(directory, "acme-core", "7.0.%d" % i,
                              payload=os.urandom(256 << 10)) for i in range(40)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(post_upload, server.url, "bob", secret["bob"], path,
                                   "acme-core", "7.0.%d" % i) for i, path in enumerate(wheels)]
            # Some stored (answered 200): a refusal answered quickly is no
            # upload the kill can interrupt or lose.
            wait_for(lambda: sum(1 for f in futures if f.done() and f.result() is not None
                                 and f.result().status == 200) >= 5, timeout=60,
                     what="some uploads stored")
            server.popen.send_signal(signal.SIGKILL)
            server.popen.wait()
            results = [f.result() for f in futures]
        accepted = {os.path.basename(path) for path, result in zip(wheels, results)
                    if result is not None and result.status == 200}
        assert accepted, "no upload finished before the kill"

        restarted = Ghaccess(settings, name="ghaccess-restarted").start()
        assert [n for n in os.listdir(storage) if n.startswith(".")] == [], os.listdir(storage)
        document = restarted.get("/simple/acme-core/", auth=("dave", secret["dave"]), headers={
            "Accept": "application/vnd.pypi.simple.v1+json"}).json()
        listed = {f["filename"]: f["hashes"]["sha256"] for f in document["files"]}
        expected = {os.path.basename(p): dists.sha256_of(p) for p in wheels}
        # Every upload that was answered 200 is there; whatever is listed is whole.
        assert accepted <= set(listed), "lost: %r" % (accepted - set(listed))
        for filename, sha in listed.items():
            assert_equal(sha, expected[filename], "listed hash of " + filename)
            body = restarted.get("/packages/acme-core/" + filename,
                                 auth=("dave", secret["dave"])).body
            assert_equal(hashlib.sha256(body).hexdigest(), sha, "bytes of " + filename)
        on_disk = sorted(os.listdir(os.path.join(storage, "acme-core")))
        # Each file, its record and its METADATA (PEP 658), nothing else.
        assert all(name in listed or name[:-len(".meta.json")] in listed or
                   name[:-len(".metadata")] in listed for name in on_disk), on_disk
        print("kill -9 under %d concurrent uploads: %d answered 200, %d stored whole, none "
              "half-written" % (len(wheels), len(accepted), len(listed)))
        stop_cleanly(restarted)


if __name__ == "__main__":
    run_tests()
