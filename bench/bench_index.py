"""bench_index.py - the built-in index against nginx serving the same file (bench/bench-index.sh).

Measures, on one machine:

  download  `pip download` of one wheel through the built-in index (Basic
            credentials, the access check, the file sent zero-copy) versus
            nginx serving the same PEP 503 directory from disk without any
            authentication; the median of RUNS runs each, alternating, and
            their ratio.  pip's own start-up is most of a run, so the same
            comparison is also made with curl fetching only the file.
  upload    one file of UPLOAD_MB MiB posted with curl -F to /legacy/ (the
            multipart form twine sends): MiB/s, the median of UPLOAD_RUNS.

Writes the results to bench/results-index.md and prints them.
Environment: BUILD (default build), RUNS (default 7), WHEEL_MB (default 5),
UPLOAD_MB (default 50), UPLOAD_RUNS (default 3).
"""

import datetime
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import dists  # noqa: E402
import test_index  # noqa: E402  (Nginx, static_index, client_env)
from harness import Ghaccess, Standin, scenario_path, scenario_settings, workdir  # noqa: E402

RUNS = int(os.environ.get("RUNS", "7"))
WHEEL_MB = int(os.environ.get("WHEEL_MB", "5"))
UPLOAD_MB = int(os.environ.get("UPLOAD_MB", "50"))
UPLOAD_RUNS = int(os.environ.get("UPLOAD_RUNS", "3"))
RESULTS = os.path.join(ROOT, "bench", "results-index.md")
NO_AUTH_NGINX = """
worker_processes 1;
%(user)s
error_log %(dir)s/error.log;
pid %(dir)s/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    types { application/octet-stream whl; text/html html; }
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s;
        location / { index index.html; }
    }
}
"""


def timed(argv, env):
    started = time.monotonic()
    result = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=600)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise AssertionError("%s failed: %s" % (argv[0], result.stdout[-2000:]))
    return elapsed


def pip_download(index_url, env):
    target = os.path.join(workdir(), "pip-%d" % time.monotonic_ns())
    elapsed = timed(["/usr/bin/python3", "-m", "pip", "download", "--no-deps", "-q", "-d", target,
                     "--index-url", index_url, "acme-core==1.0.0"], env)
    shutil.rmtree(target)
    return elapsed


def curl_download(url, user=None):
    argv = ["curl", "-sf", "-o", "/dev/null"]
    if user:
        argv += ["-u", user]
    return timed(argv + [url], dict(os.environ))


class PlainNginx(test_index.Nginx):
    """nginx serving root as-is, no auth_request."""

    def __init__(self, root):
        test_index.NGINX_CONF, saved = NO_AUTH_NGINX, test_index.NGINX_CONF
        try:
            super().__init__(root, "http://unused")
        finally:
            test_index.NGINX_CONF = saved


def main():
    cores = os.cpu_count()
    with Standin(scenario_path("worked-example.json")) as standin:
        settings = scenario_settings(standin)
        settings["index"] = {"storage_dir": os.path.join(workdir(), "storage"),
                             "max_upload_size": "%dM" % (UPLOAD_MB + 8)}
        server = Ghaccess(settings, args=["--no-access-log"]).start()
        bob = "bob:" + test_index.tokens(standin)["bob"]
        dave_token = test_index.tokens(standin)["dave"]
        directory = os.path.join(workdir(), "dists")
        os.makedirs(directory)
        wheel = dists.wheel(directory, "acme-core", "1.0.0",
                            payload=os.urandom(WHEEL_MB << 20))
        size_mb = os.path.getsize(wheel) / (1 << 20)
        response = test_index.upload(server, "bob", test_index.tokens(standin)["bob"], wheel,
                                     "acme-core", "1.0.0")
        assert response.status == 200, response

        root = os.path.join(workdir(), "static")
        os.makedirs(root)
        test_index.static_index(root, [("acme-core", wheel)])
        nginx = PlainNginx(root)

        env = test_index.client_env()
        port = server.url.rsplit(":", 1)[1]
        ghaccess_index = "http://dave:%s@127.0.0.1:%s/simple/" % (dave_token, port)
        nginx_index = nginx.url + "/simple/"
        file_path = "/packages/acme-core/" + os.path.basename(wheel)
        pip_times = {"ghaccess": [], "nginx": []}
        curl_times = {"ghaccess": [], "nginx": []}
        pip_download(ghaccess_index, env)   # warm both (page cache, imports)
        pip_download(nginx_index, env)
        for _ in range(RUNS):
            pip_times["ghaccess"].append(pip_download(ghaccess_index, env))
            pip_times["nginx"].append(pip_download(nginx_index, env))
            curl_times["ghaccess"].append(curl_download(server.url + file_path,
                                                        "dave:" + dave_token))
            curl_times["nginx"].append(curl_download(nginx.url + file_path))

        upload_rates = []
        for run in range(UPLOAD_RUNS):
            big = dists.wheel(directory, "acme-core", "9.0.%d" % run,
                              payload=os.urandom(UPLOAD_MB << 20))
            megabytes = os.path.getsize(big) / (1 << 20)
            elapsed = timed([
                "curl", "-sf", "-o", "/dev/null", "-u", bob,
                "-F", ":action=file_upload", "-F", "protocol_version=1",
                "-F", "name=acme-core", "-F", "version=9.0.%d" % run,
                "-F", "filetype=bdist_wheel", "-F", "sha256_digest=" + dists.sha256_of(big),
                "-F", "content=@%s;type=application/octet-stream" % big,
                server.url + "/legacy/"], dict(os.environ))
            upload_rates.append(megabytes / elapsed)
            os.unlink(big)
        nginx.stop()

    def median(values):
        return statistics.median(values)

    pip_ratio = median(pip_times["ghaccess"]) / median(pip_times["nginx"])
    curl_ratio = median(curl_times["ghaccess"]) / median(curl_times["nginx"])
    load = os.getloadavg()
    lines = [
        "# The built-in index vs nginx (bench/bench-index.sh)",
        "",
        "%s, %d cores, load average after the run %.2f, %.2f, %.2f.  ghaccess: the build in "
        "`%s` (`--no-access-log`); nginx: one worker, `sendfile on`, no authentication, the "
        "same PEP 503 directory from disk.  Everything on one machine."
        % (datetime.date.today().isoformat(), cores, load[0], load[1], load[2],
           os.environ.get("BUILD", "build")),
        "",
        "## Download (median of %d runs each, alternating)" % RUNS,
        "",
        "| what | built-in index (auth + check) | nginx, no auth | ratio |",
        "|---|---:|---:|---:|",
        "| `pip download --no-deps acme-core==1.0.0` (%.1f MiB wheel) | %.3f s | %.3f s | %.2f |"
        % (size_mb, median(pip_times["ghaccess"]), median(pip_times["nginx"]), pip_ratio),
        "| curl, the file alone | %.4f s | %.4f s | %.2f |"
        % (median(curl_times["ghaccess"]), median(curl_times["nginx"]), curl_ratio),
        "",
        "pip's interpreter start-up and resolver dominate a `pip download`; the curl row "
        "isolates the server (credentials checked through the token cache, the access "
        "decision, the file sent with sendfile).",
        "",
        "## Upload",
        "",
        "| what | MiB/s (median of %d) | runs |" % UPLOAD_RUNS,
        "|---|---:|---|",
        "| curl -F, %d MiB wheel to /legacy/ (streamed to disk, SHA-256, fsync, rename) "
        "| %.1f | %s |" % (UPLOAD_MB, median(upload_rates),
                          ", ".join("%.1f" % rate for rate in upload_rates)),
        "",
    ]
    text = "\n".join(lines)
    with open(RESULTS, "w", encoding="utf-8") as file:
        file.write(text)
    print(text)


if __name__ == "__main__":
    main()
