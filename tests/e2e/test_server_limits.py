#!/usr/bin/env python3
"""test_server_limits.py - what an anonymous client or one member can make
the server hold: threads (unknown tokens waiting for GitHub) and
connections (clients that send their headers slowly).

- Unknown tokens while GitHub's /user takes 5 s: a logged-in user's
  requests keep answering within 50 ms (p99), the requests beyond the
  bounds on token checks are refused at once (503 with Retry-After; "no"
  for pypicloud), and the stand-in never sees more concurrent GET /user
  than [github] max_token_checks (per login: max_token_checks_per_login).
- 100 concurrent first logins with one token are still one GET /user.
- 150 connections that send one header line every 5 s: /health answers
  promptly throughout (another address), the slow connections are cut at
  [server] header_timeout, and one address cannot take more than
  [server] max_connections_per_ip connections.
"""

import concurrent.futures
import http.client
import os
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Ghaccess, Standin, basic_auth, first_tokens, run_tests,  # noqa: E402
                     scenario_path, scenario_settings, test, wait_for, workdir)

SCENARIO = scenario_path("worked-example.json")
BACKEND = ("pypicloud", "backend-secret-for-tests")
SLOW_USER_MS = 5000
# The documented defaults of [github] max_token_checks and _per_login.
DEFAULT_CHECKS = 16
DEFAULT_CHECKS_PER_LOGIN = 2


tokens = first_tokens


def start(standin, name="ghaccess", server=None, github=None, wrapper=None):
    settings = scenario_settings(standin)
    settings["server"]["threads"] = 2
    settings["server"].update(server or {})
    # Wait for the slowed /user instead of giving up.
    settings["github"]["timeout"] = 10
    settings["github"].update(github or {})
    settings["index"] = {"storage_dir": os.path.join(workdir(), name + "-packages")}
    return Ghaccess(settings, name=name, backend=BACKEND, wrapper=wrapper).start()


def request(port, target, auth=None, headers=None, source="127.0.0.1", timeout=30.0):
    """One GET on a new connection from source; (status, headers, body, seconds)."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                            source_address=(source, 0))
    all_headers = {"Connection": "close"}
    if auth is not None:
        all_headers["Authorization"] = basic_auth(*auth)
    all_headers.update(headers or {})
    try:
        connection.request("GET", target, headers=all_headers)
        reply = connection.getresponse()
        body = reply.read()
        return (reply.status, {k.lower(): v for k, v in reply.getheaders()}, body,
                time.monotonic() - started)
    finally:
        connection.close()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def backend_query(username, password):
    return "/verify?" + urllib.parse.urlencode({"username": username, "password": password})


def backend_headers():
    return {"Authorization": basic_auth(*BACKEND)}


def unknown_request(port, index, login):
    """A request with a token nobody has, through one of the three front ends."""
    token = "ghp_unknown%030d" % index
    kind = index % 3
    if kind == 0:
        status, headers, body, seconds = request(port, "/simple/acme-core/",
                                                 auth=(login, token))
    elif kind == 1:
        status, headers, body, seconds = request(
            port, "/auth", auth=(login, token),
            headers={"X-Original-URI": "/simple/acme-core/", "X-Original-Method": "GET"})
    else:
        status, headers, body, seconds = request(port, backend_query(login, token),
                                                 headers=backend_headers())
    return {"kind": kind, "status": status, "retry_after": headers.get("retry-after"),
            "body": body, "seconds": seconds}


def logged_in_latencies(port, secret, stop, latencies):
    """bob's requests with his (cached) token until stop is set."""
    targets = [
        ("/simple/", ("bob", secret["bob"]), None),
        (backend_query("bob", secret["bob"]), None, backend_headers()),
        ("/auth", ("bob", secret["bob"]),
         {"X-Original-URI": "/simple/acme-core/", "X-Original-Method": "GET"}),
    ]
    index = 0
    while not stop.is_set():
        target, auth, headers = targets[index % len(targets)]
        status, _, body, seconds = request(port, target, auth=auth, headers=headers)
        assert status == 200, (target, status, body)
        assert not target.startswith("/verify") or body == b"true", (target, body)
        latencies.append(seconds)
        index += 1


@test
def unknown_tokens_do_not_stall_logged_in_users():
    with Standin(SCENARIO) as standin:
        secret = tokens(standin)
        server = start(standin)
        # bob logs in once: his token is cached from now on.
        assert request(server.port, "/simple/", auth=("bob", secret["bob"]))[0] == 200
        standin.reset_stats()
        standin.fault("slow", target="user", delay_ms=SLOW_USER_MS)

        stop = threading.Event()
        latencies = []
        watcher = threading.Thread(target=logged_in_latencies,
                                   args=(server.port, secret, stop, latencies))
        # 100 unknown tokens at once: half with bob's login (an attacker who
        # knows one login), half with logins that exist nowhere.
        logins = ["bob" if i % 2 == 0 else "nobody%d" % i for i in range(100)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
            futures = [pool.submit(unknown_request, server.port, i, logins[i])
                       for i in range(100)]
            time.sleep(0.5)
            watcher.start()
            results = [future.result() for future in futures]
            # Keep measuring while the admitted checks still wait on GitHub.
            time.sleep(max(0.0, SLOW_USER_MS / 1000.0 - 2.0))
            stop.set()
            watcher.join()

        stats = standin.stats()
        assert stats["max_in_flight"].get("user", 0) <= DEFAULT_CHECKS, stats
        assert len(latencies) >= 20, latencies
        p99 = percentile(latencies, 0.99)
        print("logged-in user while 100 unknown tokens wait: p50 %.1f ms, p99 %.1f ms, "
              "%d requests; GitHub saw at most %d concurrent GET /user" % (
                  percentile(latencies, 0.5) * 1000, p99 * 1000, len(latencies),
                  stats["max_in_flight"].get("user", 0)), flush=True)
        assert p99 < 0.050, "p99 of a logged-in user's requests: %.1f ms (%d requests, max %.1f)" % (
            p99 * 1000, len(latencies), max(latencies) * 1000)

        waited = [r for r in results if r["seconds"] >= SLOW_USER_MS / 1000.0 - 0.5]
        refused = [r for r in results if r not in waited]
        # At most the bounds reached GitHub: 16 in all, 2 of them bob's.
        assert len(waited) <= DEFAULT_CHECKS, len(waited)
        assert len(refused) >= 100 - DEFAULT_CHECKS, len(refused)
        for result in refused:
            assert result["seconds"] < 2.0, result
            if result["kind"] == 2:
                assert result["status"] == 200 and result["body"] == b"false", result
            else:
                assert result["status"] == 503 and result["retry_after"], result
                assert b"too many logins are being checked" in result["body"], result
        for result in waited:
            # GitHub answered 401 in the end: a refusal, never a "yes".
            if result["kind"] == 2:
                assert result["body"] == b"false", result
            else:
                assert result["status"] == 401, result
        log = server.log()
        assert "ghp_unknown" not in log, "a token in the log"
        standin.clear_fault()


@test
def one_login_cannot_take_every_check():
    with Standin(SCENARIO) as standin:
        secret = tokens(standin)
        server = start(standin, github={"max_token_checks": 8,
                                        "max_token_checks_per_login": 2})
        standin.reset_stats()
        standin.fault("slow", target="user", delay_ms=2000)
        # 30 random tokens for bob (in several spellings of his login: one
        # login for GitHub), and at the same time carol's real token.
        spellings = ["bob", "Bob", "BOB"]
        with concurrent.futures.ThreadPoolExecutor(max_workers=31) as pool:
            futures = [pool.submit(unknown_request, server.port, i, spellings[i % 3])
                       for i in range(30)]
            time.sleep(0.3)
            carol = pool.submit(request, server.port, "/simple/acme-core/",
                                ("carol", secret["carol"]))
            results = [future.result() for future in futures]
            status, _, _, seconds = carol.result()
        stats = standin.stats()
        # bob's bound (2) plus carol's one check.
        assert stats["max_in_flight"].get("user", 0) <= 3, stats
        waited = [r for r in results if r["seconds"] >= 1.5]
        assert len(waited) <= 2, waited
        # carol was not refused because of bob: her check ran (2 s).
        assert status in (200, 404) and seconds >= 1.5, (status, seconds)
        standin.clear_fault()


@test
def one_new_token_is_one_github_call():
    with Standin(SCENARIO) as standin:
        secret = tokens(standin)
        server = start(standin)
        standin.reset_stats()
        standin.fault("slow", target="user", delay_ms=1000)
        with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
            answers = list(pool.map(
                lambda i: request(server.port, "/simple/",
                                  auth=("dave", secret["dave"]))[0] if i % 2 else
                request(server.port, backend_query("dave", secret["dave"]),
                        headers=backend_headers())[2],
                range(100)))
        assert answers == [b"true" if i % 2 == 0 else 200 for i in range(100)], answers
        assert standin.stats()["user_requests"] == 1, standin.stats()
        standin.clear_fault()


# ---- slow clients ----------------------------------------------------------------

def slow_header_sockets(port, count):
    """count connections that sent a request line and nothing else yet."""
    sockets = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(5)
        try:
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            pass
        sockets.append(sock)
    return sockets


def feed_slowly(sockets, stop, every=5.0):
    """One more header line per socket every `every` seconds."""
    line = 0
    while not stop.wait(every):
        line += 1
        for sock in sockets:
            try:
                sock.sendall(b"X-Slow-%d: still here\r\n" % line)
            except OSError:
                pass


def closed_by_server(sock):
    """True when the server closed (or reset) the connection."""
    sock.setblocking(False)
    try:
        return sock.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


@test
def slow_header_clients_do_not_starve_health():
    with Standin(SCENARIO) as standin:
        # 200 descriptors: about 136 connections, fewer than the attack.
        server = start(standin, wrapper=["prlimit", "--nofile=200:200"])
        stop = threading.Event()
        sockets = slow_header_sockets(server.port, 150)
        feeder = threading.Thread(target=feed_slowly, args=(sockets, stop))
        feeder.start()
        try:
            # /health from another address (the load balancer) answers
            # promptly all along, while the slow clients keep sending.
            started = time.monotonic()
            slowest = 0.0
            while time.monotonic() - started < 14.0:
                status, _, _, seconds = request(server.port, "/health", source="127.0.0.2",
                                                timeout=10)
                assert status == 200, status
                slowest = max(slowest, seconds)
                time.sleep(0.5)
            assert slowest < 1.0, "slowest /health: %.2f s" % slowest
            # header_timeout (10 s) is over: every slow connection was cut,
            # although each sent a line every 5 s.
            wait_for(lambda: all(closed_by_server(sock) for sock in sockets), timeout=5,
                     what="the server to close the slow connections")
            # And the attacker's own address is served again.
            assert request(server.port, "/health", timeout=5)[0] == 200
        finally:
            stop.set()
            feeder.join()
            for sock in sockets:
                sock.close()


@test
def one_address_cannot_take_every_connection():
    with Standin(SCENARIO) as standin:
        server = start(standin, server={"max_connections_per_ip": 5, "header_timeout": 3})
        idle = slow_header_sockets(server.port, 5)
        try:
            extra = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            # Refused at accept: closed without an answer.
            assert wait_for(lambda: closed_by_server(extra), timeout=3, what="refusal")
            extra.close()
            assert request(server.port, "/health", source="127.0.0.2")[0] == 200
            # A connection that keeps sending a byte a second is still cut
            # when its headers are not complete after header_timeout.
            trickle = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            trickle.settimeout(5)
            trickle.bind(("127.0.0.3", 0))
            trickle.connect(("127.0.0.1", server.port))
            trickle.sendall(b"GET /health HTTP/1.1\r\n")
            started = time.monotonic()
            while not closed_by_server(trickle):
                assert time.monotonic() - started < 8, "still open after 8 s"
                try:
                    trickle.sendall(b"X")
                except OSError:
                    break
                time.sleep(0.5)
            assert time.monotonic() - started >= 2.5, "cut before header_timeout"
            trickle.close()
        finally:
            for sock in idle:
                sock.close()


if __name__ == "__main__":
    run_tests()
