#!/usr/bin/env python3
"""test_webhook.py - POST /webhook, /metrics, ETag polling, GitHub App and Enterprise, end to end.

The real server and GitHub client against the GitHub stand-in, which sends
signed webhook deliveries (POST /_standin/webhook).  Run by
tests/suites/webhook-e2e.sh (and metrics-format.sh for
metrics_pass_promtool); `python3 tests/e2e/test_webhook.py [TEST...]` runs
some tests alone.
"""

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    ROOT, Ghaccess, Skip, Standin, http_get, load_scenario, raw_exchange, run_tests,
    scenario_path, scenario_settings, test, token_of, wait_for, workdir,
)

WORKED = "worked-example.json"
SECRET = "webhook-secret-never-logged-0123456789"
BOB_TOKEN = "ghp_bob000000000000000000000000000000000"
PACKAGE = "acme-core"   # core-lib's package; bob has WRITE through team platform
APP_ID = "12345"
APP_KEY = os.path.join(ROOT, "tests", "data", "app", "test-app.pem")
APP_PUBLIC_KEY = os.path.join(ROOT, "tests", "data", "app", "test-app.pub.pem")
# pypicloud's credentials: the tests ask the pypicloud endpoints as pypicloud would.
BACKEND = ("pypicloud", "backend-password-0123456789")
# A GraphQL budget under the 500 points that webhook-triggered syncs leave to
# the periodic refresh: after the first sync, deliveries cannot ask for one.
LOW_BUDGET = ["--ratelimit-limit", "450"]


# ---- helpers ----------------------------------------------------------------

def secret_file():
    path = os.path.join(workdir(), "webhook.secret")
    if not os.path.exists(path):
        with open(path, "w", encoding="ascii") as file:
            file.write(SECRET + "\n")
        os.chmod(path, 0o600)
    return path


def webhook_settings(standin, **webhook):
    settings = scenario_settings(standin)
    settings["webhook"] = {"secret_file": secret_file()}
    settings["webhook"].update(webhook)
    return settings


def start(standin=None, settings=None, **webhook):
    standin = standin or Standin(scenario_path(WORKED))
    server = Ghaccess(settings or webhook_settings(standin, **webhook), backend=BACKEND).start()
    return standin, server


def deliver(standin, server, event, **options):
    """Have the stand-in send a signed delivery to the server; return its report."""
    request = {"url": server.url + "/webhook", "secret": SECRET, "event": event}
    if event == "ping" and "payload" not in options:
        # The stand-in builds the events ghaccess reads; a ping is given.
        request["payload"] = {"zen": "Keep it logically awesome.", "hook_id": 424242}
    request.update(options)
    return standin.control("POST", "/_standin/webhook", request)


def verify(server, login, token):
    return server.json("/verify", username=login, password=token)


def readers(server, package=PACKAGE):
    return server.json("/user_permissions", package=package)


def groups_of(server, login):
    """The teams pypicloud gives login's permissions through (bob: platform)."""
    return server.json("/groups", username=login)


def forward_auth(server, login, token, package=PACKAGE):
    """GET /auth as nginx asks it for /simple/<package>/: 200, 401 or 403."""
    return server.get("/auth", auth=(login, token), headers={
        "X-Original-URI": "/simple/%s/" % package, "X-Original-Method": "GET"}).status


def bob_has_access(server):
    """bob through every front end: login, his teams' grants, forward-auth."""
    return (verify(server, "bob", BOB_TOKEN) is True,
            "platform" in groups_of(server, "bob"),
            forward_auth(server, "bob", BOB_TOKEN) == 200)


def without_member(scenario, login):
    """The scenario after login left the organization."""
    changed = copy.deepcopy(scenario)
    # Still a GitHub user whose token GitHub knows; no longer a member.
    for user in changed["users"]:
        if user["login"] == login:
            user["org_role"] = None
    for team in changed["teams"]:
        team["members"] = [m for m in team["members"] if m["login"] != login]
    for repository in changed["repositories"]:
        repository["collaborators"] = [c for c in repository.get("collaborators", [])
                                       if c["login"] != login]
    changed.pop("expect", None)
    return changed


def graphql_requests(standin):
    return standin.stats()["graphql_requests"]


def metrics(server):
    response = server.get("/metrics", auth=None)
    assert response.status == 200, response
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    return response.body.decode("utf-8")


def metric_value(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def assert_no_secret(server):
    log = server.log()
    assert SECRET not in log, "the webhook secret is in the log"
    assert BOB_TOKEN not in log, "a token is in the log"


# ---- revocation -------------------------------------------------------------

def measure_revocation(standin, server):
    """Send member_removed for bob; poll /verify, his groups and /auth every
    50 ms; return the seconds from the delivery to bob refused by all."""
    assert bob_has_access(server) == (True, True, True), bob_has_access(server)
    started = time.monotonic()
    report = deliver(standin, server, "organization", payload_action="member_removed",
                     login="bob")
    assert report["status"] == 202, report
    assert report["elapsed_ms"] < 1000, "GitHub must get its answer within a second: %r" % report
    while True:
        access = bob_has_access(server)
        elapsed = time.monotonic() - started
        if access == (False, False, False) or elapsed > 5:
            break
        time.sleep(0.05)
    assert access == (False, False, False), \
        "bob still has access %.2f s after the delivery: %r" % (elapsed, access)
    return elapsed, report


@test
def revocation_within_two_seconds():
    """GitHub's data changes, then the signed event: bob is refused within 2 s."""
    standin, server = start()
    standin.set_scenario(without_member(standin.scenario, "bob"))
    elapsed, report = measure_revocation(standin, server)
    print("revocation: bob refused %.0f ms after the delivery (GitHub got 202 in %d ms)"
          % (elapsed * 1000, report["elapsed_ms"]), flush=True)
    assert elapsed < 2.0, "revocation took %.2f s" % elapsed
    # Others are untouched.
    assert verify(server, "carol", token_of(standin, "carol")) is True
    # The resync that follows agrees (GitHub no longer has bob).
    wait_for(lambda: "msg=\"sync done\"" in server.log() or "sync done" in server.log(),
             timeout=10, what="the resync")
    time.sleep(0.5)
    assert verify(server, "bob", BOB_TOKEN) is False
    assert_no_secret(server)


@test
def revocation_does_not_wait_for_the_sync():
    """GitHub answers slowly (5 s a query): the removal still applies at once."""
    standin, server = start()
    standin.set_scenario(without_member(standin.scenario, "bob"))
    standin.fault("slow", target="graphql", delay_ms=6000)
    elapsed, _ = measure_revocation(standin, server)
    print("revocation with a slow GitHub: %.0f ms" % (elapsed * 1000), flush=True)
    assert elapsed < 2.0, "revocation took %.2f s" % elapsed
    standin.clear_fault()


@test
def team_membership_removal():
    """membership removed: bob loses what team platform gave him, at once."""
    standin, server = start()
    scenario = copy.deepcopy(standin.scenario)
    for team in scenario["teams"]:
        if team["slug"] == "platform":
            team["members"] = [m for m in team["members"] if m["login"] != "bob"]
    scenario.pop("expect", None)
    standin.set_scenario(scenario)
    standin.fault("slow", target="graphql", delay_ms=6000)
    assert "platform" in groups_of(server, "bob")
    report = deliver(standin, server, "membership", payload_action="removed", login="bob",
                     team="platform")
    assert report["status"] == 202, report
    wait_for(lambda: "platform" not in groups_of(server, "bob"), timeout=2.0,
             what="bob's membership of platform to end")
    # What the base permission gives stays (read on every package).
    assert forward_auth(server, "bob", BOB_TOKEN) == 200
    # Still a member of the organization: the login works.
    assert verify(server, "bob", BOB_TOKEN) is True
    standin.clear_fault()


# ---- what /webhook refuses ----------------------------------------------------

@test
def signatures():
    standin, server = start()
    cases = [
        ("unsigned", {"signature_256": ""}, 401),
        ("wrong secret", {"secret": "not-the-secret"}, 401),
        ("sha1 prefix", {"signature_256": "sha1=" + "0" * 40}, 401),
        ("not hex", {"signature_256": "sha256=" + "z" * 64}, 401),
        ("good", {}, 202),
    ]
    for name, options, status in cases:
        report = deliver(standin, server, "ping", **options)
        assert report["status"] == status, "%s: %r" % (name, report)
    # A body changed after signing.
    report = deliver(standin, server, "ping", raw_body='{"zen":"x"}',
                     signature_256="sha256=" + "0" * 64)
    assert report["status"] == 401, report
    text = metrics(server)
    delivered = 'ghaccess_webhook_deliveries_total{result="%s"}'
    assert metric_value(text, delivered % "bad_signature") == 4, text
    assert metric_value(text, delivered % "unsigned") == 1, text
    assert metric_value(text, delivered % "accepted") == 1, text
    assert_no_secret(server)


@test
def replay():
    standin, server = start()
    first = deliver(standin, server, "ping", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    again = deliver(standin, server, "ping", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    # Another delivery: another id, another body (the same body again is a
    # replay whatever its id: replayed_body_under_a_new_delivery_id).
    other = deliver(standin, server, "ping", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0959",
                    payload={"zen": "Design for failure.", "hook_id": 424242})
    assert first["status"] == 202, first
    assert again["status"] == 409, again
    assert other["status"] == 202, other
    text = metrics(server)
    assert metric_value(text, 'ghaccess_webhook_deliveries_total{result="duplicate"}') == 1, text


@test
def size_limit():
    standin, server = start(max_body="1K")
    big = '{"zen":"%s"}' % ("x" * 2000)
    report = deliver(standin, server, "ping", raw_body=big)
    assert report["status"] == 413, report
    small = deliver(standin, server, "ping", raw_body='{"zen":"ok"}')
    assert small["status"] == 202, small
    # A chunked body over the limit cannot be answered mid-body: the
    # connection is closed, and nothing is accepted.
    head = ("POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            "X-GitHub-Event: ping\r\nX-GitHub-Delivery: chunked-1\r\n"
            "X-Hub-Signature-256: sha256=%s\r\n\r\n" % ("0" * 64)).encode("ascii")
    chunk = b"x" * 4096
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4)) + b"0\r\n\r\n"
    answer = raw_exchange(server.port, head + body)
    assert b" 202 " not in answer.split(b"\r\n")[0] if answer else True, answer[:200]
    text = metrics(server)
    assert metric_value(text, 'ghaccess_webhook_deliveries_total{result="too_large"}') >= 1, text


@test
def missing_headers():
    standin, server = start()
    no_event = http_get(server.url, "/webhook", method="POST", headers={
        "X-GitHub-Delivery": "abc", "X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert no_event.status in (400, 401), no_event
    # Only POST.
    assert server.get("/webhook", auth=None).status == 405


@test
def without_a_secret_webhooks_are_off():
    standin = Standin(scenario_path(WORKED))
    server = Ghaccess(scenario_settings(standin)).start()
    report = deliver(standin, server, "ping")
    assert report["status"] == 404, report


# ---- the memory deliveries may hold --------------------------------------------

FLOOD_BYTES = 20 * 1000 * 1000


def post_webhook(port, body, headers, timeout=60.0):
    """POST body to /webhook on a connection of its own.  Returns the status,
    or 0 when the server closed the connection without an answer it could
    read (a refusal before the body is read may arrive while it is sent)."""
    head = ["POST /webhook HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
            "Content-Length: %d" % len(body), "Connection: close"]
    head += ["%s: %s" % item for item in headers.items()]
    try:
        received = raw_exchange(port, [("\r\n".join(head) + "\r\n\r\n").encode("ascii"),
                                       memoryview(body)], timeout=timeout)
    except OSError:
        return 0
    return int(received[9:12]) if received.startswith(b"HTTP/1.1 ") else 0


def memory_kib(server, field):
    """VmRSS or VmHWM (its peak) of the server process, in KiB."""
    with open("/proc/%d/status" % server.popen.pid, encoding="ascii") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, server.popen.pid))


def reset_peak_memory(server):
    """Make VmHWM start again from the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/%d/clear_refs" % server.popen.pid, "w", encoding="ascii") as file:
            file.write("5")
    except OSError:
        pass


@test
def unsigned_flood_memory():
    """50 concurrent 20 MB deliveries that GitHub did not sign (half without
    a signature, half with a made-up one): the server's resident memory grows
    by less than 100 MiB, and signed deliveries get through afterwards."""
    standin, server = start()
    assert bob_has_access(server) == (True, True, True)
    body = b'{"zen":"' + b"x" * (FLOOD_BYTES - 10) + b'"}'
    reset_peak_memory(server)
    before = memory_kib(server, "VmRSS")
    statuses = [None] * 50

    def send(i):
        headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "flood-%d" % i}
        if i % 2:
            headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
        statuses[i] = post_webhook(server.port, body, headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    peak = memory_kib(server, "VmHWM")
    counts = {status: statuses.count(status) for status in set(statuses)}
    print("flood: RSS %d MiB before, peak %d MiB (+%d MiB); answers %r"
          % (before // 1024, peak // 1024, (peak - before) // 1024, counts), flush=True)
    assert 202 not in statuses, counts
    assert None not in statuses, "a sender did not finish: %r" % counts
    assert peak - before < 100 * 1024, \
        "resident memory grew by %d MiB" % ((peak - before) // 1024)
    text = metrics(server)
    delivered = 'ghaccess_webhook_deliveries_total{result="%s"}'
    assert metric_value(text, delivered % "unsigned") == 25, text
    assert metric_value(text, delivered % "busy") >= 1, text
    # GitHub's own deliveries still get through.
    standin.set_scenario(without_member(standin.scenario, "bob"))
    elapsed, _ = measure_revocation(standin, server)
    assert elapsed < 2.0, "revocation took %.2f s" % elapsed


def forged_head(length, delivery):
    return ("POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: %s\r\n"
            "X-Hub-Signature-256: sha256=%s\r\n\r\n" % (length, delivery, "0" * 64)
            ).encode("ascii")


def closed_by_server(sock):
    """True once the server has closed sock (waits up to the socket's timeout)."""
    try:
        return sock.recv(65536) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


@test
def slow_delivery_holds_the_budget_ten_seconds_at_most():
    """A client that declares 1 MiB and trickles it holds the whole budget
    ([webhook] max_memory = 1M here): a signed delivery meanwhile gets 503
    before its body is read.  GitHub gives up on a delivery after 10 s, so
    the trickle is cut then, and signed deliveries get through again."""
    standin, server = start(max_body="1M", max_memory="1M")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=0.5)
    try:
        sock.sendall(forged_head(1 << 20, "slow-1") + b'{"zen":"')
        started = time.monotonic()
        time.sleep(0.3)
        refused = deliver(standin, server, "ping")
        assert refused["status"] == 503, refused
        cut_after = None
        while time.monotonic() - started < 25:
            try:
                sock.sendall(b"x" * 100)
            except OSError:
                cut_after = time.monotonic() - started
                break
            if closed_by_server(sock):
                cut_after = time.monotonic() - started
                break
        assert cut_after is not None, "the trickle was never cut"
        print("slow delivery: cut after %.1f s" % cut_after, flush=True)
        assert 9.0 <= cut_after <= 17.0, "cut after %.1f s" % cut_after
    finally:
        sock.close()
    report = deliver(standin, server, "ping")
    assert report["status"] == 202, report
    text = metrics(server)
    assert metric_value(text, 'ghaccess_webhook_deliveries_total{result="busy"}') == 1, text
    assert metric_value(text, 'ghaccess_webhook_deliveries_total{result="too_slow"}') == 1, text


# ---- replays and scope ----------------------------------------------------------

@test
def replayed_body_under_a_new_delivery_id():
    """The same signed body under another X-GitHub-Delivery is a replay (409):
    bob's removal, replayed after he was added back, does not lock him out."""
    standin, server = start()
    back = copy.deepcopy(standin.scenario)
    back.pop("expect", None)
    standin.set_scenario(without_member(standin.scenario, "bob"))
    removed = deliver(standin, server, "organization", payload_action="member_removed",
                      login="bob", delivery="replay-1")
    assert removed["status"] == 202, removed
    wait_for(lambda: verify(server, "bob", BOB_TOKEN) is False, timeout=2.0,
             what="bob's removal")
    # bob is added back: the read of his membership brings his login back
    # at once, the sync that follows (debounced) his teams.
    standin.set_scenario(back)
    added = deliver(standin, server, "organization", payload_action="member_added", login="bob")
    assert added["status"] == 202, added
    wait_for(lambda: bob_has_access(server) == (True, True, True), timeout=20.0,
             what="bob back after the sync")
    # The removal again, byte for byte, under a new delivery id.
    replay = deliver(standin, server, "organization", payload=removed["payload"],
                     delivery="replay-2")
    assert replay["signature_256"] == removed["signature_256"], "not the same body"
    assert replay["status"] == 409, replay
    time.sleep(0.5)
    assert bob_has_access(server) == (True, True, True), bob_has_access(server)
    text = metrics(server)
    assert metric_value(text, 'ghaccess_webhook_deliveries_total{result="replay"}') == 1, text


@test
def removal_does_not_outlive_the_sync_it_asks_for():
    """A member_removed that GitHub's data does not confirm (bob is still a
    member: a mistaken or replayed delivery): the read of bob's membership
    that it asks for makes him a member again within seconds, but not a
    member of the teams the removal took him out of (GitHub's answer says
    nothing of them); the next full sync ends the removal, even when it
    starts within the same second: its start is compared at millisecond
    precision."""
    standin, server = start(debounce_ms=0)
    published = lambda: server.log().count("msg=\"snapshot published\"")
    assert published() == 1, server.log()
    # Just after a second boundary, so that the sync starts in the same second.
    time.sleep(1.02 - time.time() % 1.0)
    report = deliver(standin, server, "organization", payload_action="member_removed",
                     login="bob")
    assert report["status"] == 202, report
    # A team created asks for a full sync at once (debounce_ms = 0).
    report = deliver(standin, server, "team", payload_action="created", team="platform")
    assert report["status"] == 202, report
    wait_for(lambda: published() >= 2, timeout=10, what="the sync a delivery asked for")
    assert verify(server, "bob", BOB_TOKEN) is True, \
        "the removal outlived a sync that read GitHub after it:\n" + "\n".join(
            line for line in server.log().splitlines()
            if "snapshot published" in line or "webhook" in line or "revoke" in line)
    assert "platform" in groups_of(server, "bob"), groups_of(server, "bob")


@test
def member_read_after_a_mistaken_removal():
    """The same mistaken member_removed without a full sync: the read of
    bob's membership brings his login back, his team waits for its own
    read (or the full sync)."""
    standin, server = start()
    report = deliver(standin, server, "organization", payload_action="member_removed",
                     login="bob")
    assert report["status"] == 202, report
    wait_for(lambda: "targeted read" in server.log(), timeout=5, what="the member read")
    wait_for(lambda: verify(server, "bob", BOB_TOKEN) is True, timeout=5,
             what="bob a member again")
    assert "platform" not in groups_of(server, "bob")
    # platform's members read again (a membership event) bring it back.
    report = deliver(standin, server, "membership", payload_action="added", login="bob",
                     team="platform")
    assert report["status"] == 202, report
    wait_for(lambda: "platform" in groups_of(server, "bob"), timeout=5,
             what="bob in platform again")


def fixture_payload(name):
    with open(os.path.join(ROOT, "tests", "data", "webhook", name + ".json"),
              encoding="utf-8") as file:
        return json.load(file)


@test
def events_out_of_scope_are_ignored():
    """A signed member_removed without `organization`, or for another
    organization, removes nobody and asks for no sync; it is logged at debug
    level only."""
    standin = Standin(scenario_path(WORKED))
    settings = webhook_settings(standin, debounce_ms=0)
    settings["log"]["level"] = "debug"
    server = Ghaccess(settings, backend=BACKEND).start()
    without = fixture_payload("organization.member_removed")
    del without["organization"]
    other = fixture_payload("organization.member_removed")
    other["organization"]["login"] = "other-org"
    other["organization"]["id"] = 9999
    before = graphql_requests(standin)
    for delivery, payload in (("scope-none", without), ("scope-other", other)):
        report = deliver(standin, server, "organization", payload=payload, delivery=delivery)
        assert report["status"] == 202, report
    time.sleep(1.0)
    assert bob_has_access(server) == (True, True, True), bob_has_access(server)
    assert graphql_requests(standin) == before, "a sync was asked for"
    lines = [line for line in server.log().splitlines() if "delivery=scope-" in line]
    assert len(lines) == 2, lines
    assert all("level=debug" in line for line in lines), lines
    assert "reason=\"event without an organization\"" in lines[0], lines
    assert "reason=\"event of another organization\"" in lines[1], lines


# ---- downgrades without a refresh -------------------------------------------------

def permissions(server, login, package):
    """What pypicloud grants login on package: its user entry, the entries of
    its groups and of "authenticated" (docs/pypicloud.md)."""
    users = server.json("/user_permissions", package=package)
    groups = server.json("/group_permissions", package=package)
    granted = set(users.get(login, []))
    for group in groups_of(server, login) + ["authenticated"]:
        granted |= set(groups.get(group, []))
    return sorted(granted)


def may_write(server, login, package):
    return "write" in permissions(server, login, package)


def low_budget(scenario=None):
    """The stand-in with a GraphQL budget too low for webhook-triggered syncs,
    and ghaccess in front of it."""
    standin = Standin(scenario or scenario_path(WORKED), args=LOW_BUDGET)
    return start(standin)


# The queries of a full sync (src/github/queries).
FULL_SYNC_QUERIES = ("OrgMembers", "OrgTeams", "OrgRepos")


def downgrade(standin, server, change, package, user, event, targeted=True, **options):
    """Change GitHub (change(scenario)), have it send event, and wait until
    user may no longer write package: within 2 s, from the payload alone
    (GitHub answers in 4 s meanwhile), and without a full sync.  An event a
    targeted read covers (targeted) then reads only what it names; any
    other asks for a full sync, which the budget drops."""
    assert may_write(server, user, package), permissions(server, user, package)
    scenario = copy.deepcopy(standin.scenario)
    scenario.pop("expect", None)
    change(scenario)
    standin.set_scenario(scenario)
    standin.reset_stats()
    standin.fault("slow", target="graphql", delay_ms=4000, count=1)
    started = time.monotonic()
    report = deliver(standin, server, event, **options)
    assert report["status"] == 202, report
    wait_for(lambda: not may_write(server, user, package), timeout=2.0,
             what="%s's write access to %s to end" % (user, package))
    elapsed = time.monotonic() - started
    print("%s %s: %s lost write on %s after %.0f ms" % (event, report["action"], user, package,
                                                         elapsed * 1000), flush=True)
    if targeted:
        wait_for(lambda: "targeted read" in server.log(), timeout=8.0,
                 what="the targeted read")
        # What it read agrees: the write access stays away.
        assert not may_write(server, user, package), permissions(server, user, package)
    else:
        # The refresh it asked for is dropped: the budget is too low.
        wait_for(lambda: "webhook refresh skipped" in server.log(), timeout=3.0,
                 what="the refresh to be skipped")
    queries = standin.stats()["queries"]
    assert not any(queries.get(name) for name in FULL_SYNC_QUERIES), \
        "a full sync ran: %r" % queries
    return report


def team(scenario, slug):
    return next(t for t in scenario["teams"] if t["slug"] == slug)


def repository(scenario, name):
    return next(r for r in scenario["repositories"] if r["name"] == name)


@test
def downgrade_team_permission():
    """Team platform's WRITE on core-lib becomes READ: bob (a member of
    platform) may still read acme-core, no longer write it."""
    standin, server = low_budget()

    def change(scenario):
        team(scenario, "platform")["repositories"] = [{"name": "core-lib", "permission": "READ"}]
    report = downgrade(standin, server, change, PACKAGE, "bob", "team", payload_action="edited",
                       team="platform", repository="core-lib", old_permission="write")
    assert report["payload"]["repository"]["permissions"]["push"] is False, report["payload"]
    assert permissions(server, "bob", PACKAGE) == ["read"]


@test
def downgrade_collaborator_role():
    """dave's direct WRITE on tools becomes READ (member edited)."""
    scenario = copy.deepcopy(load_scenario(scenario_path(WORKED)))
    scenario.pop("expect", None)
    repository(scenario, "tools")["collaborators"] = [
        {"login": "dave", "permission": "WRITE"}, {"login": "erin", "permission": "WRITE"}]
    standin, server = low_budget(scenario)

    def change(changed):
        repository(changed, "tools")["collaborators"][0]["permission"] = "READ"
    report = downgrade(standin, server, change, "acme-tools", "dave", "member",
                       payload_action="edited", login="dave", repository="tools",
                       old_permission="write")
    assert report["payload"]["changes"]["permission"]["to"] == "read", report["payload"]
    assert permissions(server, "dave", "acme-tools") == ["read"]


@test
def downgrade_repository_archived():
    """core-lib is archived: read-only for everybody, at once."""
    standin, server = low_budget()

    def change(scenario):
        repository(scenario, "core-lib")["archived"] = True
    downgrade(standin, server, change, PACKAGE, "bob", "repository", payload_action="archived",
              repository="core-lib")
    assert not may_write(server, "olivia", PACKAGE), permissions(server, "olivia", PACKAGE)


@test
def team_moved_to_another_parent():
    """platform-infra leaves its parent platform (team edited; GitHub's schema
    has no parent change, the team object carries the new parent): carol
    loses what platform gave her, at once."""
    standin, server = low_budget()
    assert "platform" in groups_of(server, "carol")

    def change(scenario):
        team(scenario, "platform-infra")["parent"] = None
    report = downgrade(standin, server, change, PACKAGE, "carol", "team", targeted=False,
                       payload_action="edited", team="platform-infra")
    assert report["payload"]["team"]["parent"] is None, report["payload"]
    assert "platform" not in groups_of(server, "carol")
    assert "platform-infra" in groups_of(server, "carol")
    assert permissions(server, "carol", PACKAGE) == ["read"]


# ---- which events make a sync --------------------------------------------------

def syncs_after(standin, server, event, wait=1.5, **options):
    before = graphql_requests(standin)
    report = deliver(standin, server, event, **options)
    assert report["status"] == 202, report
    time.sleep(wait)
    return graphql_requests(standin) - before


@test
def events_and_debounce():
    standin, server = start(debounce_ms=300)
    assert syncs_after(standin, server, "ping") == 0
    assert syncs_after(standin, server, "push", repository="core-lib",
                       modified=["README.md"]) == 0
    assert syncs_after(standin, server, "push", repository="core-lib",
                       ref="refs/heads/feature") == 0
    assert syncs_after(standin, server, "organization", payload_action="member_invited",
                       login="newbie") == 0
    # A push that may change pyproject.toml: one targeted read of the
    # repository, no full sync (tests/e2e/test_targeted.py has the rest).
    standin.reset_stats()
    assert syncs_after(standin, server, "push", repository="core-lib", wait=2.0) == 1
    assert standin.stats()["queries"] == {"Repository": 1}, standin.stats()["queries"]
    # An event no targeted read covers: one sync (3 GraphQL queries here).
    # A burst of ten makes one sync, not ten.
    before = graphql_requests(standin)
    for i in range(10):
        report = deliver(standin, server, "team", payload_action="edited", team="platform",
                         old_name="Platform %d" % i)
        assert report["status"] == 202, report
    time.sleep(7.0)
    spent = graphql_requests(standin) - before
    assert 0 < spent <= 3, "a burst of 10 deliveries made %d GraphQL requests" % spent


# ---- polling what no webhook reports ---------------------------------------------

@test
def etag_polling_sees_base_permission():
    standin = Standin(scenario_path(WORKED))
    settings = webhook_settings(standin)
    settings["cache"]["poll_interval"] = 1
    server = Ghaccess(settings, backend=BACKEND).start()
    dave = token_of(standin, "dave")
    # Members read acme-core through the base permission (the members group).
    base = lambda: server.json("/group_permissions", package=PACKAGE).get("ghaccess:members")
    assert base() == ["read"], base()
    assert forward_auth(server, "dave", dave) == 200
    time.sleep(2.5)
    stats = standin.stats()
    assert stats["not_modified"] >= 1, stats
    scenario = copy.deepcopy(standin.scenario)
    scenario["organization"]["default_repository_permission"] = "none"
    scenario.pop("expect", None)
    standin.set_scenario(scenario)
    wait_for(lambda: base() in (None, []), timeout=8,
             what="the base permission change to reach ghaccess")
    assert forward_auth(server, "dave", dave) == 403
    assert verify(server, "dave", dave) is True


class FakeRest:
    """GitHub's two polled REST calls, with ETags and 304s, on a free port:
    GET /orgs/acme and GET /orgs/acme/members?role=admin (pages of per_page).
    The stand-in does not list members by role, so the owner poll is
    tested against this."""

    def __init__(self, owners, base="read"):
        import hashlib
        import http.server
        import json as json_module
        import threading
        import urllib.parse as parse

        fake = self
        self.owners = list(owners)
        self.base = base
        self.not_modified = 0
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests += 1
                url = parse.urlsplit(self.path)
                query = dict(parse.parse_qsl(url.query))
                if url.path == "/orgs/acme":
                    # Seats change with every member: an ETag change that matters not.
                    body = {"login": "acme", "id": 9000, "filled_seats": fake.requests,
                            "default_repository_permission": fake.base}
                elif url.path == "/orgs/acme/members" and query.get("role") == "admin":
                    size = int(query.get("per_page", "30"))
                    page = int(query.get("page", "1"))
                    logins = sorted(fake.owners)[(page - 1) * size:page * size]
                    body = [{"login": login, "id": 1000 + i} for i, login in enumerate(logins)]
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                text = json_module.dumps(body).encode("utf-8")
                etag = 'W/"%s"' % hashlib.sha256(text).hexdigest()
                if self.headers.get("If-None-Match") == etag:
                    fake.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def poll_changes(server):
    return metric_value(metrics(server), "ghaccess_polls_total"), \
        metric_value(metrics(server), "ghaccess_poll_changes_total")


@test
def owner_change_polling():
    """An owner demoted to member (no webhook exists for it): found by the
    ETag poll, with 304s while nothing changes, over several pages."""
    import json as json_module
    owners = ["olivia"] + ["owner-%03d" % i for i in range(149)]   # two pages of 100
    fake = FakeRest(owners)
    try:
        with open(os.path.join(ROOT, "tests", "data", "snapshot", "worked-example.json"),
                  encoding="utf-8") as file:
            snapshot = json_module.load(file)
        snapshot["synced_at"] = int(time.time())
        path = os.path.join(workdir(), "poll-snapshot.json")
        with open(path, "w", encoding="utf-8") as file:
            json_module.dump(snapshot, file)
        settings = {
            "github": {"organization": "acme", "token": "ghp_fake_rest_token_000",
                       "api_url": fake.url, "timeout": 5, "connect_timeout": 2},
            "cache": {"expiration": 3600, "poll_interval": 1},
            "server": {}, "log": {"level": "info"},
        }
        server = Ghaccess(settings, snapshot=path).start()
        wait_for(lambda: (poll_changes(server)[0] or 0) >= 3, timeout=10, what="three polls")
        assert poll_changes(server)[1] == 0, "no change yet: %r" % (poll_changes(server),)
        assert fake.not_modified >= 2, fake.not_modified   # owner pages unchanged: 304
        fake.owners.remove("owner-120")                   # on the second page
        wait_for(lambda: poll_changes(server)[1] == 1, timeout=5, what="the owner change")
        assert "owners or base permission changed" in server.log()
        fake.base = "write"
        wait_for(lambda: poll_changes(server)[1] == 2, timeout=5, what="the base permission")
        assert "ghp_fake_rest_token_000" not in server.log()
    finally:
        fake.stop()


# ---- /metrics ------------------------------------------------------------------

@test
def metrics_pass_promtool():
    standin, server = start()
    verify(server, "bob", BOB_TOKEN)
    verify(server, "bob", "ghp_wrong0000000000000000000000000000000")
    readers(server)
    deliver(standin, server, "ping")
    text = metrics(server)
    for name in ("ghaccess_http_requests_total", "ghaccess_http_request_duration_seconds_bucket",
                 "ghaccess_token_cache_hits_total", "ghaccess_token_cache_misses_total",
                 "ghaccess_github_requests_total", "ghaccess_github_points_used_total",
                 "ghaccess_github_points_remaining", "ghaccess_snapshot_age_seconds",
                 "ghaccess_sync_duration_seconds_bucket", "ghaccess_webhook_deliveries_total",
                 "ghaccess_logins_total"):
        assert name in text, "%s missing from /metrics:\n%s" % (name, text)
    promtool = shutil.which("promtool")
    if promtool is None:
        raise Skip("promtool missing (Debian package prometheus)")
    check = subprocess.run([promtool, "check", "metrics"], input=text.encode("utf-8"),
                           capture_output=True, check=False)
    assert check.returncode == 0, "promtool: %s %s\n%s" % (check.stdout, check.stderr, text)


# ---- GitHub Enterprise and GitHub App --------------------------------------------

@test
def enterprise_prefix():
    standin = Standin(scenario_path(WORKED), args=["--prefix", "/api"])
    settings = webhook_settings(standin)
    settings["github"]["api_url"] = standin.url + "/api/v3"
    settings["github"]["graphql_url"] = None     # derived: /api/graphql
    server = Ghaccess(settings, backend=BACKEND).start()
    assert bob_has_access(server) == (True, True, True)
    info = standin.control("GET", "/_standin/info")
    assert info["graphql_path"] == "/api/graphql", info
    assert standin.stats()["graphql_requests"] >= 3


@test
def app_mode_sync():
    standin = Standin(scenario_path(WORKED), args=[
        "--app-id", APP_ID, "--app-public-key", APP_PUBLIC_KEY, "--app-token-ttl", "3600"])
    settings = webhook_settings(standin)
    settings["github"]["token"] = None
    settings["github"]["app_client_id"] = APP_ID
    settings["github"]["app_private_key_file"] = APP_KEY
    server = Ghaccess(settings, backend=BACKEND).start()
    assert bob_has_access(server) == (True, True, True)
    assert "GitHub App installation token minted" in server.log()
    # The App's JWT and key never reach the log.
    with open(APP_KEY, encoding="ascii") as file:
        key_line = file.read().splitlines()[1]
    assert key_line not in server.log()


if __name__ == "__main__":
    run_tests()
