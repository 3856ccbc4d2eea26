"""bench_metadata.py - what PEP 658 metadata files save pip (bench/run.sh metadata).

One package, acme-tools, with VERSIONS versions of a WHEEL_MB MiB wheel on
the built-in index, and Debian's pip (23.0.1) resolving it with and
without the index's metadata files.  The same server binary and the same
files: "without" is the storage with the metadata announcements taken out
of the records (as for wheels whose METADATA could not be read), so the
pages differ only by data-dist-info-metadata.

  newest       `pip install --dry-run --report` of acme-tools: the newest
               version fits
  download     `pip download --no-deps acme-tools` of the newest
  backtrack    `pip install --dry-run --report acme-tools`, where every
               version but the oldest needs an acme-core that does not
               exist: pip tries each candidate in turn

For each: the bytes the server sent and the wall time, the median of
RUNS runs.  pip runs as people run it: over HTTPS (pip caches nothing
fetched over plain HTTP), with its HTTP cache (empty at the start of each
run).  The server is reached through a relay that terminates TLS (a
self-signed certificate made here with openssl, given to pip), counts
the bytes the server sends and paces them to a LINK_MBIT link (a LAN, a
VPN to the index): on loopback a wheel costs next to nothing to send,
which hides what pip saves.  Writes bench/results-metadata.md.

Environment: BUILD (default build), RUNS (default 3), VERSIONS (30),
WHEEL_MB (20), LINK_MBIT (100; 0: as fast as loopback), PIP_PYTHON (the
Python whose pip runs, default Debian's /usr/bin/python3).
"""

import datetime
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import dists  # noqa: E402
from harness import (Ghaccess, Standin, first_tokens, helpers_of, scenario_path,  # noqa: E402
                     scenario_settings, wait_for, workdir)

index_tests = helpers_of("test_index")
RUNS = int(os.environ.get("RUNS", "3"))
VERSIONS = int(os.environ.get("VERSIONS", "30"))
WHEEL_MB = int(os.environ.get("WHEEL_MB", "20"))
RESULTS = os.path.join(ROOT, "bench", "results-metadata.md")
PIP_PYTHON = os.environ.get("PIP_PYTHON", "/usr/bin/python3")
LINK_MBIT = float(os.environ.get("LINK_MBIT", "100"))


class Relay:
    """A TCP relay to the server that counts the bytes the server sends and
    paces them, all connections together, to LINK_MBIT."""

    def __init__(self, port, tls):
        self.tls = tls
        self.target = ("127.0.0.1", port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.sent = 0
        self.lock = threading.Lock()
        self.link_free_at = 0.0    # when the paced link has sent what it was given
        threading.Thread(target=self._accept, daemon=True).start()

    def _pace(self, size):
        if LINK_MBIT <= 0:
            return
        with self.lock:
            start = max(self.link_free_at, time.monotonic())
            self.link_free_at = start + size * 8 / (LINK_MBIT * 1e6)
            wait = self.link_free_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
                client = self.tls.wrap_socket(client, server_side=True)
            except (OSError, ssl.SSLError):
                continue
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source, sink, count):
        try:
            while True:
                data = source.recv(1 << 16)
                if not data:
                    break
                if count:
                    self._pace(len(data))
                sink.sendall(data)
                if count:
                    with self.lock:
                        self.sent += len(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def take(self):
        with self.lock:
            value, self.sent = self.sent, 0
        return value


def certificate():
    """A self-signed certificate for 127.0.0.1: (server context, its file)."""
    directory = os.path.join(workdir(), "tls")
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert


def build_storage(storage):
    """acme-tools 1.0 .. VERSIONS.0 (every one but 1.0 needs acme-core>=99
    in the backtracking copy) and acme-core 1.0, copied in as an operator
    would: the server computes their records."""
    for variant in ("fits", "backtrack"):
        project = os.path.join(storage[variant], "acme-tools")
        os.makedirs(project)
        for number in range(1, VERSIONS + 1):
            requires = ["acme-core>=1"] if variant == "fits" or number == 1 else ["acme-core>=99"]
            dists.wheel(project, "acme-tools", "%d.0" % number, requires=requires,
                        payload=os.urandom(WHEEL_MB << 20))
        os.makedirs(os.path.join(storage[variant], "acme-core"))
        dists.wheel(os.path.join(storage[variant], "acme-core"), "acme-core", "1.0")


def without_metadata(storage):
    """Take the metadata files out: records say why there are none."""
    for project in os.listdir(storage):
        directory = os.path.join(storage, project)
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if name.endswith(".metadata"):
                os.unlink(path)
            elif name.endswith(".meta.json"):
                with open(path) as file:
                    record = json.load(file)
                record.pop("metadata_sha256", None)
                record.pop("metadata_size", None)
                record["metadata_error"] = "taken out for the benchmark"
                with open(path, "w") as file:
                    json.dump(record, file)


def serve(standin, storage, name):
    settings = scenario_settings(standin)
    settings["index"] = {"storage_dir": storage}
    settings["server"]["threads"] = 4
    server = Ghaccess(settings, name=name, args=["--no-access-log"]).start()
    return server


def wait_for_metadata(server, user):
    def done():
        for project in ("acme-tools", "acme-core"):
            response = server.get("/simple/%s/" % project, auth=user, headers={
                "Accept": "application/vnd.pypi.simple.v1+json"})
            if not all("core-metadata" in f for f in response.json()["files"]):
                return False
        return True
    wait_for(done, timeout=600, interval=0.5, what="the backfill")


def one_run(relay, user, case):
    env = index_tests.client_env()
    env["PIP_CERT"] = relay.cert
    # pip's own HTTP cache, as people have it (empty at each run's start).
    del env["PIP_NO_CACHE_DIR"]
    env["PIP_CACHE_DIR"] = os.path.join(workdir(), "pip-cache")
    shutil.rmtree(env["PIP_CACHE_DIR"], ignore_errors=True)
    url = "https://%s:%s@127.0.0.1:%d/simple/" % (user[0], user[1], relay.port)
    target = os.path.join(workdir(), "run")
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    if case == "download":
        argv = ["download", "--no-deps", "-d", target, "--index-url", url, "acme-tools"]
    else:
        argv = ["install", "--dry-run", "--report", os.path.join(target, "report.json"),
                "--index-url", url, "acme-tools"]
    relay.take()
    started = time.monotonic()
    result = index_tests.run([PIP_PYTHON, "-m", "pip"] + argv, env)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise AssertionError("pip %s failed: %s" % (case, result.stdout[-2000:]))
    if case != "download":
        with open(os.path.join(target, "report.json")) as file:
            chosen = {i["metadata"]["name"]: i["metadata"]["version"]
                      for i in json.load(file)["install"]}
        expected = "1.0" if case == "backtrack" else "%d.0" % VERSIONS
        assert chosen.get("acme-tools") == expected, chosen
    return relay.take(), elapsed


def measure(standin, storages, with_metadata, tls):
    user = ("dave", first_tokens(standin)["dave"])
    results = {}
    for case, variant in (("newest", "fits"), ("download", "fits"), ("backtrack", "backtrack")):
        server = serve(standin, storages[variant], "bench-%s-%s" % (variant, with_metadata))
        if with_metadata:
            wait_for_metadata(server, user)
        relay = Relay(server.port, tls[0])
        relay.cert = tls[1]
        results[case] = [one_run(relay, user, case) for _ in range(RUNS)]
        relay.listener.close()
        server.stop()
    return results


def mib(value):
    return value / (1 << 20)


def main():
    started = time.time()
    storages = {variant: os.path.join(workdir(), "storage-" + variant)
                for variant in ("fits", "backtrack")}
    build_storage(storages)
    tls = certificate()
    with Standin(scenario_path("worked-example.json")) as standin:
        with_files = measure(standin, storages, True, tls)
        for storage in storages.values():
            without_metadata(storage)
        without_files = measure(standin, storages, False, tls)
    rows = []
    titles = {
        "newest": "`pip install --dry-run --report acme-tools` (the newest fits)",
        "download": "`pip download --no-deps acme-tools` (the newest)",
        "backtrack": "`pip install --dry-run --report acme-tools`, %d candidates rejected"
                     % (VERSIONS - 1),
    }
    for case in ("newest", "download", "backtrack"):
        sent_with = statistics.median(b for b, _ in with_files[case])
        sent_without = statistics.median(b for b, _ in without_files[case])
        time_with = statistics.median(t for _, t in with_files[case])
        time_without = statistics.median(t for _, t in without_files[case])
        rows.append("| %s | %.2f MiB | %.2f MiB | %.3f | %.2f s | %.2f s | %.2f |" % (
            titles[case], mib(sent_with), mib(sent_without),
            sent_with / sent_without if sent_without else 0, time_with, time_without,
            time_with / time_without if time_without else 0))
    load = open("/proc/loadavg").read().split()[:3]
    report = "\n".join([
        "# PEP 658 metadata files and pip (bench/bench_metadata.py)",
        "",
        "%s, %d cores, load average %s.  `acme-tools`: %d versions of a %d MiB wheel "
        "(random payload, stored); pip %s (%s) over HTTPS with its HTTP cache, empty at "
        "each run's start; the optimised build in `%s`; median of %d runs each.  The "
        "server is reached through a relay that terminates TLS, counts the bytes the "
        "server sends and paces them to %s.  *With*: the index's metadata files (extracted by the server at start); "
        "*without*: the same storage with the announcements taken out of the records." % (
            datetime.date.today().isoformat(), os.cpu_count(), ", ".join(load), VERSIONS,
            WHEEL_MB, pip_version(), PIP_PYTHON, os.environ.get("BUILD", "build"), RUNS,
            "a %g Mbit/s link" % LINK_MBIT if LINK_MBIT > 0 else "no limit (loopback)"),
        "",
        "| what | bytes sent, with | without | ratio | wall time, with | without | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ] + rows + [
        "",
        "pip downloads the wheels it chooses even with `--dry-run`.  pip before 23.2 "
        "asks for them twice when it read their metadata files (pypa/pip#11847): its "
        "HTTP cache answers the second request (a few hundred bytes more above), but "
        "over plain HTTP, which pip never caches, or with `--no-cache-dir` the wheel is "
        "sent twice.  What the metadata files save is every candidate pip rejects (last "
        "row).",
        "Run: %.0f s." % (time.time() - started),
        "",
    ])
    with open(RESULTS, "w") as file:
        file.write(report)
    print(report)
    # The target: rejected candidates cost their METADATA, not their wheels.
    backtrack_with = statistics.median(b for b, _ in with_files["backtrack"])
    backtrack_without = statistics.median(b for b, _ in without_files["backtrack"])
    if backtrack_with * 4 > backtrack_without:
        print("bench-metadata: metadata files saved less than expected", file=sys.stderr)
        sys.exit(1)


def pip_version():
    result = subprocess.run([PIP_PYTHON, "-m", "pip", "--version"],
                            capture_output=True, text=True)
    return result.stdout.split()[1] if result.returncode == 0 else "?"


if __name__ == "__main__":
    main()
