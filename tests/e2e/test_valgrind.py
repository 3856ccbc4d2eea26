#!/usr/bin/env python3
"""test_valgrind.py - `ghaccess serve` under valgrind memcheck, end to end.

One server (a build without sanitizers: BUILD=build/valgrind) runs under
`valgrind --leak-check=full --errors-for-leak-kinds=definite` through the
flows that touch most of its memory: syncs from the stand-in, memcached
sharing, logins (new, cached, refused), every pypicloud endpoint, bad
input, the index (upload, simple pages, download) and forward-auth,
signed webhook deliveries and /metrics, a
failed sync, a SIGHUP reload with a changed organization, then SIGTERM;
then `ghaccess sync --out` and a restart from that snapshot file while
GitHub is down.
The test fails on any memcheck error and on any definitely lost block.
Run by tests/suites/valgrind.sh.
"""

import hashlib
import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dists  # noqa: E402
from harness import (GHACCESS, Ghaccess, Memcached, Response, Skip, Standin, basic_auth,  # noqa: E402
                     raw_exchange, run_tests, scenario_path, scenario_settings, test, wait_for,
                     workdir)
from pypicloud_model import Pypicloud  # noqa: E402

BACKEND = ("pypicloud", "backend-password-for-valgrind")
WEBHOOK_SECRET = "webhook-secret-for-valgrind-0123456789"
# Slow under valgrind: generous waits everywhere.
SLOW = 120


def valgrind_argv(log_path):
    suppressions = os.path.join(os.path.dirname(os.path.abspath(__file__)), "valgrind.supp")
    argv = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            "--num-callers=40", "--log-file=" + log_path]
    if os.path.exists(suppressions):
        argv.append("--suppressions=" + suppressions)
    return argv


def token(scenario, login):
    return next(user["tokens"][0] for user in scenario["users"] if user["login"] == login)


def health(server):
    response = server.get("/health")
    return response.status, response.json()


def wait_syncs(server, at_least):
    return wait_for(lambda: health(server)[1].get("syncs", 0) >= at_least, timeout=SLOW,
                    interval=0.5, what="%d syncs" % at_least)


def every_endpoint(server, scenario, check=True):
    """Each pypicloud endpoint, for each user and package, through pypicloud's logic
    (check: compare with the scenario's expectations)."""
    model = Pypicloud(server)
    expect = scenario["expect"]
    for login in expect["logins"]:
        answer = model.verify_user(login["username"], login["password"])
        assert answer is login["ok"] or not check, login
    table = {(e["user"], e["package"]): e["permissions"] for e in expect["permissions"]}
    for user in scenario["users"]:
        login = user["login"]
        model.groups(login)
        model.is_admin(login)
        model.user_package_permissions(login)
        model.user_data(login)
        for package in expect["packages"]:
            if (login, package) in table:
                userid = model.authenticate(login, user["tokens"][0])
                got = model.permissions(userid, package, admin_bypass=False)
                assert got == table[(login, package)] or not check, (login, package, got)
    for package in list(expect["packages"]) + ["no-such-package"]:
        model.user_permissions(package)
        model.group_permissions(package)
    for group in expect.get("group_members", {}):
        model.group_members(group)
        model.group_package_permissions(group)
    model.groups()
    model.user_data()


def bad_input(server):
    """Refused requests go through the error paths; the server keeps serving."""
    assert server.get("/verify", query="username=%ZZ&password=x").status == 200
    assert server.get("/verify", query="username=a&username=b&password=x").status == 200
    assert server.get("/user_permissions", query="package=%C0%80").status == 200
    assert server.get("/groups", auth=None).status == 401
    assert server.get("/groups", auth=("pypicloud", "wrong")).status == 401
    assert server.get("/no/such/path").status == 404
    assert server.get("/admin", params={"username": "x" * 5000}).status in (200, 400, 414)
    raw_exchange(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\nab")
    raw_exchange(server.port, b"\x00\x01garbage\r\n\r\n")


def upload(server, user, password, path, name, version):
    """The legacy upload form, as twine sends it."""
    with open(path, "rb") as file:
        content = file.read()
    form = [(":action", "file_upload"), ("protocol_version", "1"), ("name", name),
            ("version", version), ("filetype", "bdist_wheel"),
            ("sha256_digest", hashlib.sha256(content).hexdigest())]
    head, content, tail, content_type = dists.multipart_upload_body(
        form, os.path.basename(path), content)
    url = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=SLOW)
    try:
        connection.request("POST", "/legacy/", body=head + content + tail, headers={
            "Connection": "close", "Authorization": basic_auth(user, password),
            "Content-Type": content_type})
        reply = connection.getresponse()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()},
                        reply.read())
    finally:
        connection.close()


def index_flows(server, scenario):
    bob = ("bob", token(scenario, "bob"))
    dave = ("dave", token(scenario, "dave"))
    directory = os.path.join(workdir(), "dists")
    os.makedirs(directory, exist_ok=True)
    wheel = dists.wheel(directory, "acme-core", "1.0.0")
    response = upload(server, bob[0], bob[1], wheel, "acme-core", "1.0.0")
    assert response.status == 200, response
    refused = upload(server, dave[0], dave[1], wheel, "acme-core", "1.0.1")
    assert refused.status == 403, refused
    page = server.get("/simple/acme-core/", auth=dave)
    assert page.status == 200, page
    links = re.findall(rb'href="([^"#]+)', page.body)
    assert links, page.body
    target = urllib.parse.urlsplit(
        urllib.parse.urljoin(server.url + "/simple/acme-core/", links[0].decode())).path
    download = server.get(target, auth=dave)
    assert download.status == 200 and len(download.body) == os.path.getsize(wheel), download
    assert server.get("/simple/", auth=dave).status == 200
    json_page = server.get("/simple/acme-core/", auth=dave,
                           headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert json_page.status == 200, json_page
    assert server.get("/simple/acme-core/", auth=None).status == 401
    assert server.get("/auth", auth=dave, headers={"X-Original-URI": "/simple/acme-core/",
                                                    "X-Original-Method": "GET"}).status == 200
    assert server.get("/auth", auth=dave).status == 400


def webhook_flows(standin, server):
    """Signed deliveries (a ping, a removal), bad and missing signatures, replays."""
    def deliver(event, **options):
        request = {"url": server.url + "/webhook", "secret": WEBHOOK_SECRET, "event": event}
        request.update(options)
        return standin.control("POST", "/_standin/webhook", request)
    ping = {"zen": "Keep it logically awesome.", "hook_id": 424242}
    delivery = "1f0e7a1c-0000-4000-8000-000000000001"
    assert deliver("ping", payload=ping, delivery=delivery)["status"] == 202
    assert deliver("ping", payload=ping, delivery=delivery)["status"] == 409
    # The same signed body under a new id: a replay too.
    assert deliver("ping", payload=ping)["status"] == 409
    assert deliver("ping", payload=ping, signature_256="sha256=" + "0" * 64)["status"] == 401
    # Unsigned: refused before the body is read.
    assert deliver("ping", payload=ping, signature_256="")["status"] == 401
    report = deliver("membership", payload_action="removed", login="dave", team="platform")
    assert report["status"] in (200, 202), report


def assert_clean(log_path):
    with open(log_path, encoding="utf-8", errors="replace") as file:
        report = file.read()
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    assert summary is not None, "no valgrind summary in %s:\n%s" % (log_path, report[-3000:])
    lost = re.search(r"definitely lost: ([\d,]+) bytes", report)
    assert summary.group(1) == "0", "valgrind errors:\n" + report[-20000:]
    assert lost is None or lost.group(1) == "0", "definite leaks:\n" + report[-20000:]
    print("valgrind: %s; %s" % (summary.group(0), lost.group(0) if lost else
                                "no definite leaks (all heap blocks accounted for)"))


@test
def serve_under_valgrind():
    scenario_file = scenario_path("worked-example.json")
    log_path = os.path.join(workdir(), "valgrind.log")
    with Standin(scenario_file) as standin:
        try:
            memcached = Memcached()
        except Skip:
            memcached = None
        cache = {"expiration": 300, "max_stale": 3600}
        if memcached is not None:
            secret_file = os.path.join(workdir(), "cache.secret")
            with open(secret_file, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32) + "\n")
            os.chmod(secret_file, 0o600)
            cache.update({"backend": "memcache", "secret_file": secret_file,
                          "memcache.url": "127.0.0.1:%d" % memcached.port})
        settings = scenario_settings(standin, **cache)
        settings["index"] = {"storage_dir": os.path.join(workdir(), "packages")}
        webhook_secret = os.path.join(workdir(), "webhook.secret")
        with open(webhook_secret, "w", encoding="ascii") as file:
            file.write(WEBHOOK_SECRET + "\n")
        os.chmod(webhook_secret, 0o600)
        settings["webhook"] = {"secret_file": webhook_secret}
        server = Ghaccess(settings, backend=BACKEND, wrapper=valgrind_argv(log_path))
        server.start(timeout=SLOW)
        scenario = standin.scenario

        every_endpoint(server, scenario)
        every_endpoint(server, scenario)            # cached logins and answers
        bad_input(server)
        index_flows(server, scenario)
        webhook_flows(standin, server)
        assert server.get("/metrics").status == 200

        # A failed sync (garbage from GitHub), then a good one after SIGHUP.
        syncs = health(server)[1].get("syncs", 0)
        standin.fault("garbage", target="graphql")
        server.reload()
        wait_for(lambda: "sync failed" in server.log(), timeout=SLOW, interval=0.5,
                 what="the failed sync")
        assert health(server)[0] == 200            # the last good snapshot serves
        standin.clear_fault()

        # bob leaves the platform team: the reload syncs the new organization.
        changed = dict(scenario)
        changed["teams"] = [dict(team, members=[m for m in team.get("members", [])
                                                if (m if isinstance(m, str)
                                                    else m.get("login")) != "bob"])
                            for team in scenario["teams"]]
        standin.set_scenario(changed)
        server.reload()
        wait_syncs(server, syncs + 1)
        model = Pypicloud(server)
        assert "platform" not in model.groups("bob"), model.groups("bob")
        answer = model.user_permissions("acme-core")
        assert "bob" not in answer, answer

        stop_and_check(server, log_path)

        # `ghaccess sync --out` writes a snapshot file (also under valgrind) ...
        snapshot = os.path.join(workdir(), "snapshot.json")
        log_path = os.path.join(workdir(), "valgrind-sync.log")
        sync = subprocess.run(valgrind_argv(log_path) + [
            GHACCESS, "sync", "--config", server.config_path, "--json", "--out", snapshot],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=SLOW)
        assert sync.returncode == 0, sync.stdout.decode("utf-8", "replace")[-3000:]
        assert_clean(log_path)

        # ... from which a server starts while GitHub is down.
        standin.fault("down")
        log_path = os.path.join(workdir(), "valgrind-restart.log")
        server = Ghaccess(settings, backend=BACKEND, snapshot=snapshot,
                          wrapper=valgrind_argv(log_path))
        server.start(timeout=SLOW)
        every_endpoint(server, changed, check=False)
        server.reload()                             # a refresh now, which fails
        wait_for(lambda: "sync failed" in server.log(), timeout=SLOW, interval=0.5,
                 what="the failed sync")
        stop_and_check(server, log_path)


def stop_and_check(server, log_path):
    server.signal(signal.SIGTERM)
    status = server.stop(timeout=SLOW)
    assert status == 0, "exit status %s (99: valgrind found errors); log: %s" % (
        status, server.log()[-3000:])
    assert_clean(log_path)


if __name__ == "__main__":
    run_tests()
