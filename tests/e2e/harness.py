"""harness.py - run the GitHub stand-in, memcached and `ghaccess serve` for end-to-end tests.

Standard library only.  Every process started here is registered and
stopped when the test program exits (normally, by exception, or by SIGTERM /
SIGINT), and every file lives in one temporary directory that is removed
afterwards (kept when GHACCESS_E2E_KEEP=1, for debugging).

    from harness import Standin, Ghaccess, test, run_tests

    @test
    def verify_works():
        with Standin(scenario_path("worked-example.json")) as standin:
            server = Ghaccess(standin).start()
            assert server.json("/verify", username="bob", password="ghp_bob...") is True

    run_tests()

Environment: BUILD (directory holding the ghaccess binary, default "build"),
GHACCESS_SCENARIOS (a directory of scenarios, default tests/scenarios).
"""

import atexit
import base64
import http.client
import importlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
# The scenarios the tests run (tests/scenarios/README.md); GHACCESS_SCENARIOS
# names another directory of scenarios in the same format.
SCENARIOS = os.environ.get("GHACCESS_SCENARIOS") or os.path.join(ROOT, "tests", "scenarios")
GHACCESS = os.path.join(BUILD, "ghaccess")
STANDIN = os.path.join(ROOT, "tests", "github-standin", "server.js")

_processes = []
_workdir = None


class Skip(Exception):
    """Raised by a test (or a fixture) that cannot run here, e.g. without memcached."""


def workdir():
    """The temporary directory of this test program (created on first use)."""
    global _workdir
    if _workdir is None:
        _workdir = tempfile.mkdtemp(prefix="ghaccess-e2e-")
    return _workdir


def scenario_path(name):
    return os.path.join(SCENARIOS, name)


_fresh_dirs = [0]


def fresh_dir(name):
    """A new, empty directory in the work directory."""
    _fresh_dirs[0] += 1
    path = os.path.join(workdir(), "%s-%d" % (name, _fresh_dirs[0]))
    os.makedirs(path)
    return path


def first_tokens(standin):
    """login -> the first token of every user of the stand-in's scenario."""
    return {user["login"]: user["tokens"][0] for user in standin.scenario["users"]}


def scenario_paths():
    directory = SCENARIOS
    return sorted(os.path.join(directory, name) for name in os.listdir(directory)
                  if name.endswith(".json"))


def load_scenario(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def free_port():
    """A TCP port that was free a moment ago (the caller retries if it is taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout=10.0, interval=0.05, what="condition"):
    """Call condition() until it returns something true; return that, or fail."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (OSError, http.client.HTTPException, ValueError) as error:
            last_error = error
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s%s" % (
        timeout, what, " (last error: %s)" % last_error if last_error else ""))


# ---- HTTP -----------------------------------------------------------------

def resident_memory(pid):
    """{"VmRSS": bytes, "VmHWM": bytes} of a process (/proc/PID/status);
    VmHWM is the peak of its whole life."""
    values = {}
    with open("/proc/%d/status" % pid, encoding="ascii") as file:
        for line in file:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers        # dict, lower-case names
        self.body = body              # bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:200])


def basic_auth(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
    return "Basic " + token


def http_get(base_url, path, params=None, query=None, auth=None, headers=None, timeout=10.0,
             method="GET"):
    """One request on a new connection (as pypicloud makes them).

    params: dict or list of pairs, form-encoded like python-requests does
    (None values left out); query: a raw query string instead; auth: a
    (user, password) pair for Basic credentials.
    """
    url = urllib.parse.urlsplit(base_url)
    target = path
    if params is not None:
        pairs = params.items() if isinstance(params, dict) else params
        target += "?" + urllib.parse.urlencode([(k, v) for k, v in pairs if v is not None])
    elif query is not None:
        target += "?" + query
    all_headers = {"Connection": "close"}
    if auth is not None:
        all_headers["Authorization"] = basic_auth(*auth)
    all_headers.update(headers or {})
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        connection.request(method, target, headers=all_headers)
        reply = connection.getresponse()
        body = reply.read()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, body)
    finally:
        connection.close()


def raw_exchange(port, data, timeout=5.0):
    """Send raw bytes (or a list of byte buffers, sent one after the other
    without joining them) to 127.0.0.1:port and return whatever comes back
    before the server closes the connection or timeout passes."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            for part in data if isinstance(data, list) else [data]:
                sock.sendall(part)
        except OSError:
            pass
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    return received


# ---- processes ------------------------------------------------------------

class Process:
    """A child process with its output in files of the work directory."""

    def __init__(self, name):
        self.name = name
        self.popen = None
        self.stderr_path = os.path.join(workdir(), "%s-%d.stderr" % (name, len(_processes)))
        self.stdout_path = self.stderr_path[:-len("stderr")] + "stdout"

    def _spawn(self, argv, env=None, stdout_pipe=False):
        self._stderr = open(self.stderr_path, "wb")
        stdout = subprocess.PIPE if stdout_pipe else open(self.stdout_path, "wb")
        self.popen = subprocess.Popen(argv, stdout=stdout, stderr=self._stderr,
                                      stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
        _processes.append(self)

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def log(self):
        """Everything the process wrote to standard error so far."""
        with open(self.stderr_path, "rb") as file:
            return file.read().decode("utf-8", "replace")

    def signal(self, number):
        if self.running():
            self.popen.send_signal(number)

    def stop(self, timeout=15.0):
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self._stderr.close()
        if self in _processes:
            _processes.remove(self)
        return self.popen.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Standin(Process):
    """The GitHub stand-in (tests/github-standin/server.js) on a free port."""

    def __init__(self, scenario=None, name="standin", generate=None, args=()):
        """scenario: a path or a dict; or generate: "repos=N,teams=N,members=N"
        for a generated organization (then .scenario is fetched from the
        stand-in).  args: more command-line options (--ratelimit-limit N)."""
        super().__init__(name)
        if isinstance(scenario, dict):
            path = os.path.join(workdir(), "scenario-%d.json" % len(_processes))
            with open(path, "w", encoding="utf-8") as file:
                json.dump(scenario, file)
            scenario = path
        self.scenario_file = scenario
        source = ["--scenario", scenario] if generate is None else ["--generate", generate]
        self._spawn(["node", STANDIN] + source + ["--listen", "127.0.0.1:0"] + list(args),
                    stdout_pipe=True)
        line = self.popen.stdout.readline().decode("utf-8").strip()
        if not line.startswith("listening on "):
            self.stop()
            raise AssertionError("stand-in did not start: %r %s" % (line, self.log()))
        self.url = line[len("listening on "):]
        self.scenario = (load_scenario(scenario) if generate is None
                         else self.control("GET", "/_standin/scenario"))

    def control(self, method, path, body=None):
        url = urllib.parse.urlsplit(self.url)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        try:
            data = json.dumps(body).encode("utf-8") if body is not None else None
            connection.request(method, path, body=data,
                               headers={"Content-Type": "application/json"})
            reply = connection.getresponse()
            answer = json.loads(reply.read().decode("utf-8"))
            if reply.status != 200:
                raise AssertionError("stand-in %s %s: %d %r" % (method, path, reply.status, answer))
            return answer
        finally:
            connection.close()

    def stats(self):
        return self.control("GET", "/_standin/stats")

    def reset_stats(self):
        return self.control("POST", "/_standin/stats/reset", {})

    def set_scenario(self, scenario):
        self.scenario = scenario
        return self.control("POST", "/_standin/scenario", scenario)

    def fault(self, mode, **options):
        options["mode"] = mode
        return self.control("POST", "/_standin/faults", options)

    def clear_fault(self):
        return self.fault("none")


def token_of(standin, login):
    """The first token the stand-in's scenario gives login."""
    for user in standin.scenario["users"]:
        if user["login"] == login:
            return user["tokens"][0]
    raise AssertionError("no user " + login)


class Memcached(Process):
    """A private memcached on a free loopback port; Skip when not installed."""

    def __init__(self, name="memcached", memory_mb=64):
        super().__init__(name)
        self.binary = shutil.which("memcached") or (
            "/usr/bin/memcached" if os.path.exists("/usr/bin/memcached") else None)
        if self.binary is None:
            raise Skip("memcached is not installed")
        self.memory_mb = memory_mb
        for _ in range(5):
            self.port = free_port()
            self._spawn(self._argv())
            try:
                wait_for(self._answers, timeout=5, what="memcached")
                return
            except AssertionError:
                self.stop()
        raise AssertionError("memcached did not start: " + self.log())

    def _argv(self):
        argv = [self.binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m",
                str(self.memory_mb)]
        if os.geteuid() == 0:
            argv += ["-u", "root"]
        return argv

    def kill(self):
        """kill -9: gone at once, with everything it held."""
        self.signal(signal.SIGKILL)
        self.stop()

    def start_again(self):
        """An empty memcached on the same port (where the servers look)."""
        self._spawn(self._argv())
        wait_for(self._answers, timeout=5, what="memcached again")

    def restart(self):
        """kill -9, then an empty memcached on the same port."""
        self.kill()
        self.start_again()

    def _answers(self):
        return self.command(b"version\r\n").startswith(b"VERSION")

    def command(self, data, timeout=5.0):
        """Send a raw text-protocol command; return the first reply line(s)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
            return reply

    def keys(self):
        """Every key stored.  The crawler walks the hash table ("lru_crawler
        metadump hash", memcached 1.6.x): walking the LRUs ("all") can miss
        an item that is being read while the crawl runs (memcached's
        doc/protocol.txt, "lru_crawler metadump"), as an instance polling
        the change log's count does.  One crawl at a time: BUSY waits."""
        deadline = time.monotonic() + 5
        while True:
            reply = self._metadump()
            if not reply.startswith(b"BUSY") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not reply.endswith(b"END\r\n"):
            raise AssertionError("memcached did not list its keys: %r" % reply[:200])
        keys = []
        for line in reply.decode("ascii", "replace").splitlines():
            if line.startswith("key="):
                keys.append(urllib.parse.unquote(line.split()[0][4:]))
        return keys

    def _metadump(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"lru_crawler metadump hash\r\n")
            reply = b""
            while not reply.endswith(b"END\r\n") and not reply.startswith(b"BUSY"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
            return reply

    def set(self, key, value, ttl=0):
        data = b"set %s 0 %d %d\r\n%s\r\n" % (key.encode("ascii"), ttl, len(value), value)
        return self.command(data)

    def get(self, key):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"get %s\r\n" % key.encode("ascii"))
            reply = b""
            while not reply.endswith(b"END\r\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        if not reply.startswith(b"VALUE"):
            return None
        header, _, rest = reply.partition(b"\r\n")
        length = int(header.split()[3])
        return rest[:length]


def ini_text(sections):
    """{"github": {"organization": "acme"}, ...} as INI text (lists joined by ', ')."""
    lines = []
    for section, values in sections.items():
        lines.append("[%s]" % section)
        for key, value in values.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                value = ", ".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            lines.append("%s = %s" % (key, value))
        lines.append("")
    return "\n".join(lines)


def without_member(scenario, login):
    """A copy of scenario after login left the organization: still a GitHub
    user whose tokens GitHub knows, no longer a member, in no team, no
    longer a collaborator."""
    changed = json.loads(json.dumps(scenario))
    for user in changed["users"]:
        if user["login"] == login:
            user["org_role"] = None
    for team in changed["teams"]:
        team["members"] = [m for m in team["members"] if m["login"] != login]
    for repository in changed["repositories"]:
        repository["collaborators"] = [c for c in repository.get("collaborators", [])
                                       if c["login"] != login]
    return changed


def scenario_settings(standin, **cache):
    """The configuration sections for serving standin's scenario."""
    scenario = standin.scenario
    filters = scenario.get("config", {})
    settings = {
        "github": {
            "organization": scenario["organization"]["login"],
            "token": scenario["server_token"],
            "api_url": standin.url,
            "graphql_url": standin.url + "/graphql",
            "repo_pattern": filters.get("repo_pattern"),
            "repo_include_list": filters.get("repo_include_list") or None,
            "repo_exclude_list": filters.get("repo_exclude_list") or None,
            "timeout": 5,
            "connect_timeout": 2,
        },
        "cache": {"expiration": 300},
        "server": {},
        "log": {"level": "info"},
    }
    settings["cache"].update(cache)
    return settings


# The backend credentials every server gets unless a test says otherwise:
# without them the pypicloud protocol is off (404).
BACKEND = ("pypicloud", "e2e-backend-password-never-logged")


class Ghaccess(Process):
    """`ghaccess serve` with a generated configuration on a free port.

    settings: sections as for ini_text (see scenario_settings); the server's
    listen address is filled in.  backend: the (user, password) pair
    configured as backend credentials (BACKEND by default; None: none, so
    the pypicloud protocol is off), used by get()/json().
    """

    def __init__(self, settings, name="ghaccess", backend=BACKEND, snapshot=None, args=(),
                 env=None, wrapper=None):
        super().__init__(name)
        # A command to run the server under (valgrind); GHACCESS_WRAPPER by default.
        if wrapper is None:
            wrapper = shlex.split(os.environ.get("GHACCESS_WRAPPER", ""))
        self.wrapper = list(wrapper)
        self.settings = json.loads(json.dumps(settings))
        self.backend = backend
        self.snapshot = snapshot
        self.args = list(args)
        self.env = dict(os.environ)
        # Shorten the GitHub client's retry waits.
        self.env.setdefault("GHACCESS_TEST_TIME_SCALE", "0.05")
        self.env.update(env or {})
        self.config_path = os.path.join(workdir(), "%s-%d.ini" % (name, len(_processes)))
        if backend is not None:
            self.settings.setdefault("server", {})["backend_user"] = backend[0]
            self.settings["server"]["backend_password"] = backend[1]
        self.port = None
        self.url = None

    def write_config(self):
        with open(self.config_path, "w", encoding="utf-8") as file:
            file.write(ini_text(self.settings))

    def start(self, ready=True, timeout=20.0):
        """Start and (ready) wait until /health answers 200."""
        if not os.access(GHACCESS, os.X_OK):
            raise AssertionError("%s is not built" % GHACCESS)
        for _ in range(5):
            self.port = free_port()
            self.url = "http://127.0.0.1:%d" % self.port
            self.settings.setdefault("server", {})["listen"] = "127.0.0.1:%d" % self.port
            self.write_config()
            argv = self.wrapper + [GHACCESS, "serve", "--config", self.config_path] + self.args
            if self.snapshot is not None:
                argv += ["--snapshot", self.snapshot]
            self._spawn(argv, env=self.env)
            try:
                wait_for(self._listening, timeout=60 if self.wrapper else 10,
                         what="ghaccess to listen")
                break
            except AssertionError:
                if self.running():
                    raise
                if "Address already in use" not in self.log() and "cannot listen" not in self.log():
                    raise AssertionError("ghaccess exited: " + self.log())
                self.stop()
        else:
            raise AssertionError("ghaccess could not find a free port")
        if ready:
            self.wait_health(200, timeout=timeout)
        return self

    def _listening(self):
        if not self.running():
            raise AssertionError("ghaccess exited with %s: %s" % (self.popen.returncode, self.log()))
        return "msg=listening" in self.log()

    def health(self):
        response = self.get("/health")
        return response.status, response.json()

    def wait_health(self, status, timeout=20.0, check=None):
        """Wait until /health answers status (and check(body) holds); return the body."""
        def reached():
            if not self.running():
                raise AssertionError("ghaccess exited: " + self.log())
            code, body = self.health()
            return body if code == status and (check is None or check(body)) else None
        return wait_for(reached, timeout=timeout, what="/health %d" % status)

    def get(self, path, params=None, query=None, auth="backend", **kwargs):
        if auth == "backend":
            auth = self.backend
        return http_get(self.url, path, params=params, query=query, auth=auth, **kwargs)

    def json(self, path, **params):
        """GET path with params; assert 200 and application/json; return the value."""
        response = self.get(path, params=params)
        assert response.status == 200, "%s %r: %r" % (path, params, response)
        assert response.headers.get("content-type") == "application/json", response.headers
        return response.json()

    def reload(self):
        self.signal(signal.SIGHUP)


def _stop_everything():
    for process in list(reversed(_processes)):
        try:
            process.stop(timeout=5)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    if _workdir is not None and os.environ.get("GHACCESS_E2E_KEEP") != "1":
        shutil.rmtree(_workdir, ignore_errors=True)


def _on_signal(number, frame):
    _stop_everything()
    sys.exit(128 + number)


atexit.register(_stop_everything)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


# ---- a minimal test runner ---------------------------------------------------

_tests = []


def test(function):
    """Register a test function (run in definition order by run_tests)."""
    _tests.append(function)
    return function


def helpers_of(module):
    """Import another test program (by module name) for its helpers, without
    registering its tests in this program."""
    registered = len(_tests)
    imported = importlib.import_module(module)
    del _tests[registered:]
    return imported


def run_tests():
    """Run the registered tests (or those named on the command line); exit 1 on failure."""
    selected = [t for t in _tests if len(sys.argv) < 2 or t.__name__ in sys.argv[1:]]
    failed = skipped = 0
    for function in selected:
        started = time.monotonic()
        try:
            function()
            status = "ok"
        except Skip as reason:
            skipped += 1
            status = "skip (%s)" % reason
        except Exception:  # noqa: BLE001 - report every failure, go on
            failed += 1
            status = "FAIL"
            traceback.print_exc()
        finally:
            for process in list(reversed(_processes)):
                process.stop(timeout=5)
        print("%-4s %s (%.1fs)" % (status, function.__name__, time.monotonic() - started),
              flush=True)
    print("%d tests, %d failed, %d skipped" % (len(selected), failed, skipped), flush=True)
    # 77 is the "skipped" status of tests/run-tests.sh: a suite that could
    # not run every test never counts as passed.
    sys.exit(1 if failed else 77 if skipped else 0)
