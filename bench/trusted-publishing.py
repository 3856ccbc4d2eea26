#!/usr/bin/env python3
"""trusted-publishing.py - trusted publishing over HTTP, side by side in one run.

Against `ghaccess serve` (optimised build) and the GitHub stand-in playing
GitHub Actions' OIDC issuer (worked-example.json):

- mint: POST /_/oidc/mint-token with a fresh ID token each time, the key
  set warm (one mint before measuring), on a new connection each time as
  the action does (requests.post): p50/p99; and, when memcached is
  installed, the same against an instance with [cache] backend = memcache,
  whose mint also claims the token's jti in memcached (an `add`), the two
  interleaved;
- the same request path with the stand-in's fault "slow" on the issuer
  would only matter for the first mint or a rotation; not measured;
- reads: GET /simple/acme-core/ with the minted token (__token__) and with
  olivia's personal token (cached after the first request): p50/p99 of
  each, and their ratio;
- uploads: POST /legacy/ of a small wheel, each a new version, with each
  kind of credential: p50/p99 and ratio.
Then the in-process numbers (build/bench/bench_trusted_publishing).

    bench/trusted-publishing.py [--report FILE] [--rounds N]

Environment: BUILD (directory holding ghaccess, default build).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import dists  # noqa: E402
from harness import (BUILD, Ghaccess, Memcached, Skip, Standin, helpers_of,  # noqa: E402
                     http_get, scenario_path, scenario_settings, workdir)

_index = helpers_of("test_index")
http_post, upload, fresh_dir = _index.http_post, _index.upload, _index.fresh_dir
AUDIENCE = "bench.example"


def percentiles(samples):
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]


def line(name, samples):
    p50, p99 = percentiles(samples)
    return "%-34s p50 %7.2f ms   p99 %7.2f ms   (%d requests)" % (name, p50 * 1e3, p99 * 1e3,
                                                                    len(samples))


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--report")
    parser.add_argument("--rounds", type=int, default=300)
    options = parser.parse_args()
    rounds = options.rounds
    out = []
    with Standin(scenario_path("worked-example.json")) as standin:
        settings = scenario_settings(standin)
        settings["index"] = {"storage_dir": os.path.join(fresh_dir("storage"), "packages")}
        key = os.path.join(workdir(), "tp-key")
        with open(key, "w") as file:
            file.write(os.urandom(32).hex())
        settings["trusted_publishing"] = {"enabled": "true", "issuer": standin.url + "/oidc",
                                          "audience": AUDIENCE, "key_file": key}
        server = Ghaccess(settings, args=["--no-access-log"]).start()
        olivia = next(u["tokens"][0] for u in standin.scenario["users"] if u["login"] == "olivia")
        query = urllib.parse.urlencode({"audience": AUDIENCE, "repository": "acme/core-lib"})
        ids = [standin.control("GET", "/_standin/oidc/token?" + query)["value"]
               for _ in range(2 * rounds + 2)]

        def mint(token, target=server):
            response = http_post(target.url, "/_/oidc/mint-token",
                                 json.dumps({"token": token}).encode(),
                                 headers={"Content-Type": "application/json"})
            assert response.status == 200, response
            return response.json()["token"]

        try:
            memcached = Memcached()
        except Skip:
            memcached = None
        shared = None
        if memcached is not None:
            secret = os.path.join(workdir(), "cache.secret")
            with open(secret, "w") as file:
                file.write(os.urandom(32).hex())
            shared_settings = json.loads(json.dumps(settings))
            shared_settings["cache"].update({"backend": "memcache", "secret_file": secret,
                                             "memcache.url": "127.0.0.1:%d" % memcached.port})
            shared_settings["index"] = {"storage_dir": os.path.join(fresh_dir("storage"),
                                                                    "packages")}
            shared = Ghaccess(shared_settings, name="shared",
                              args=["--no-access-log"]).start()
        minted = mint(ids[0])   # warms the key set
        if shared is not None:
            mint(ids[1], shared)
        mints, shared_mints = [], []
        for i in range(rounds):
            mints.append(timed(lambda t=ids[2 + 2 * i]: mint(t))[0])
            if shared is not None:
                shared_mints.append(timed(lambda t=ids[3 + 2 * i]: mint(t, shared))[0])
        out.append(line("mint (warm key set)", mints))
        if shared_mints:
            out.append(line("mint, memcache backend (jti add)", shared_mints))
            out.append("ratio mint memcache/memory: %.2f (p50)" % (
                statistics.median(shared_mints) / statistics.median(mints)))

        directory = fresh_dir("dists")
        wheel = dists.wheel(directory, "acme-core", "0.0.1")
        assert upload(server, "__token__", minted, wheel, "acme-core", "0.0.1").status == 200
        http_get(server.url, "/simple/acme-core/", auth=("olivia", olivia))  # cache the token
        reads = {"minted": [], "personal": []}
        for _ in range(rounds):
            for kind, auth in (("minted", ("__token__", minted)), ("personal", ("olivia", olivia))):
                elapsed, response = timed(lambda a=auth: http_get(server.url, "/simple/acme-core/",
                                                                  auth=a))
                assert response.status == 200, response
                reads[kind].append(elapsed)
        out.append(line("read /simple/ with minted token", reads["minted"]))
        out.append(line("read /simple/ with personal token", reads["personal"]))
        uploads = {"minted": [], "personal": []}
        for i in range(max(20, rounds // 5)):
            for kind, auth in (("minted", ("__token__", minted)), ("personal", ("olivia", olivia))):
                version = "1.%d.%d" % (i, 0 if kind == "minted" else 1)
                path = dists.wheel(directory, "acme-core", version)
                elapsed, response = timed(lambda a=auth, p=path, v=version: upload(
                    server, a[0], a[1], p, "acme-core", v))
                assert response.status == 200, response
                uploads[kind].append(elapsed)
        out.append(line("upload with minted token", uploads["minted"]))
        out.append(line("upload with personal token", uploads["personal"]))
        out.append("ratio minted/personal: reads %.2f, uploads %.2f (p50)" % (
            statistics.median(reads["minted"]) / statistics.median(reads["personal"]),
            statistics.median(uploads["minted"]) / statistics.median(uploads["personal"])))
    in_process = subprocess.run([os.path.join(BUILD, "bench", "bench_trusted_publishing"),
                                 "10000", "2000"], capture_output=True, text=True, check=True)
    report = ["# Trusted publishing (bench/trusted-publishing.py, make bench part trusted)", "",
              "%s, %d cores, load average %s." % (time.strftime("%Y-%m-%d", time.gmtime()),
                                                   os.cpu_count(),
                                                   " ".join(open("/proc/loadavg").read().split()[:3])),
              "", "Over HTTP (one new connection per request, as the clients make them):", "",
              "```"] + out + ["```", "", "In process (build/bench/bench_trusted_publishing "
                              "10000 2000):", "", "```", in_process.stdout.rstrip(), "```", ""]
    text = "\n".join(report)
    print(text)
    if options.report:
        with open(options.report, "w") as file:
            file.write(text)


if __name__ == "__main__":
    main()
