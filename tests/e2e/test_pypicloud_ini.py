#!/usr/bin/env python3
"""test_pypicloud_ini.py - one server.ini for pserve and for ghaccess.

Each file is loaded by Debian's PasteDeploy (/usr/bin/python3 with
python3-pastedeploy, through paste_probe.py: the real loadapp and
loadserver on stand-in eggs), checked by `ghaccess check-config`, and
served by `ghaccess serve`; then the credentials pypicloud would send
(what PasteDeploy and pypicloud's PPC_* environment give it) must be the
ones ghaccess expects.  Run by tests/suites/pypicloud-ini.sh.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    GHACCESS, ROOT, Ghaccess, Skip, Standin, free_port, run_tests, scenario_path, test,
    wait_for, workdir,
)

DEBIAN_PYTHON = "/usr/bin/python3"
PROBE = os.path.join(ROOT, "tests", "e2e", "paste_probe.py")
WORKED = "worked-example.json"
PASSWORD = "shared-ini-backend-password"

# Stand-in distributions: name -> (entry point group, module source).
EGGS = {
    "pypicloud": ("paste.app_factory", "fake_pypicloud",
                  "def main(global_config, **settings):\n"
                  "    return {'global': dict(global_config), 'settings': settings}\n"),
    "waitress": ("paste.server_runner", "fake_waitress",
                 "def main(app, global_conf, **settings):\n"
                 "    return settings\n"),
    "fakefilter": ("paste.filter_factory", "fake_filter",
                   "def main(global_conf, **settings):\n"
                   "    return lambda app: app\n"),
}


def egg_dir():
    directory = os.path.join(workdir(), "eggs")
    if os.path.isdir(directory):
        return directory
    for name, (group, module, source) in EGGS.items():
        info = os.path.join(directory, "%s-1.0.dist-info" % name)
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w", encoding="utf-8") as file:
            file.write("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name)
        with open(os.path.join(info, "entry_points.txt"), "w", encoding="utf-8") as file:
            file.write("[%s]\nmain = %s:main\n" % (group, module))
        with open(os.path.join(directory, module + ".py"), "w", encoding="utf-8") as file:
            file.write(source)
    return directory


def require_pastedeploy():
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import paste.deploy"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if probe.returncode != 0:
        raise Skip("python3-pastedeploy is not installed (scripts/install-deps.sh)")


def paste(path, env=None):
    """What PasteDeploy gives pypicloud from path (see paste_probe.py)."""
    require_pastedeploy()
    result = subprocess.run([DEBIAN_PYTHON, PROBE, path, egg_dir()], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=60, check=False,
                            env=dict(os.environ, **(env or {}), PYTHONDONTWRITEBYTECODE="1"))
    assert result.returncode == 0, "PasteDeploy on %s: %s" % (path, result.stderr[-3000:])
    return json.loads(result.stdout)


def check_config(path, env=None):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("PPC_") and k != "GHACCESS_GITHUB_TOKEN"}
    clean.update(env or {})
    return subprocess.run([GHACCESS, "check-config", "--config", path], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=30, check=False, env=clean)


def printed(output, section, key):
    """The value check-config printed for [section] key."""
    current = None
    for line in output.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and line.split(" =")[0] == key:
            return line.partition(" =")[2].strip()
    raise AssertionError("check-config printed no [%s] %s" % (section, key))


def write(name, text):
    path = os.path.join(workdir(), name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def shared_ini(standin, port, app_section="[app:main]", before="", app_extra="",
               user_line="auth.user = pypicloud"):
    """The server.ini of docs/pypicloud.md, pointed at the stand-in."""
    scenario = standin.scenario
    return before + app_section + """
use = egg:pypicloud
pypi.auth = remote
auth.backend_server = http://127.0.0.1:%(port)d
%(user_line)s
auth.password = %(password)s
# Packages no repository declares: admins only.
pypi.default_read =
tm.annotate_user = false
auth.otc.github.organization = %(org)s
auth.otc.github.token = %(token)s
%(extra)s
[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = 6543

[ghaccess:github]
api_url = %(url)s
graphql_url = %(url)s/graphql

[ghaccess:server]
listen = 127.0.0.1:%(port)d
""" % {"port": port, "password": PASSWORD.replace("%", "%%"), "org": scenario["organization"]["login"],
       "token": scenario["server_token"], "url": standin.url, "extra": app_extra,
       "user_line": user_line}


class SharedServer(Ghaccess):
    """`ghaccess serve --config` a server.ini written by the test."""

    def __init__(self, path, port, env=None):
        super().__init__({}, name="ghaccess-shared", backend=None, env=env)
        self.config_path = path
        self.fixed_port = port

    def write_config(self):
        pass

    def start(self, ready=True, timeout=20.0):
        self.port = self.fixed_port
        self.url = "http://127.0.0.1:%d" % self.port
        argv = [GHACCESS, "serve", "--config", self.config_path]
        self._spawn(argv, env=self.env)
        wait_for(self._listening, timeout=10, what="ghaccess to listen")
        if ready:
            self.wait_health(200, timeout=timeout)
        return self


def as_pypicloud(server, auth):
    """/admin?username=olivia with the credentials pypicloud would send."""
    return server.get("/admin", params={"username": "olivia"},
                      auth=tuple(auth) if auth else None)


def serve_and_compare(path, standin, port, env=None):
    """PasteDeploy, check-config and serve on one file: pypicloud's
    credentials open the protocol, and nothing else does."""
    loaded = paste(path, env)
    assert_equal(loaded["lookups"], {"app": "ok", "server": "ok"}, "PasteDeploy lookups")
    assert_equal(loaded["server"], {"host": "127.0.0.1", "port": "6543"}, "loadserver")
    auth = loaded["remote_auth"]
    check = check_config(path, env)
    assert_equal(check.returncode, 0, "check-config: " + check.stderr)
    assert_equal(printed(check.stdout, "server", "backend_user"), auth[0], "backend_user")
    assert_equal(printed(check.stdout, "github", "organization"),
                 loaded["settings"]["auth.otc.github.organization"], "organization")
    server = SharedServer(path, port, env=env).start()
    try:
        response = as_pypicloud(server, auth)
        assert_equal((response.status, response.body), (200, b"true"),
                     "pypicloud's credentials from PasteDeploy")
        assert_equal(as_pypicloud(server, None).status, 401, "no credentials")
        assert_equal(as_pypicloud(server, (auth[0], auth[1] + "x")).status, 401, "wrong password")
    finally:
        server.stop()
    return loaded


def assert_equal(actual, expected, what):
    assert actual == expected, "%s: got %r, expected %r" % (what, actual, expected)


# ---- the tests ----------------------------------------------------------------

@test
def the_documented_shared_server_ini_works_for_both():
    require_pastedeploy()
    with Standin(scenario_path(WORKED)) as standin:
        port = free_port()
        path = write("shared.ini", shared_ini(standin, port))
        loaded = serve_and_compare(path, standin, port)
        assert_equal(loaded["remote_auth"], ["pypicloud", PASSWORD], "what pypicloud sends")
        assert_equal(loaded["settings"]["pypi.default_read"], "", "pypi.default_read")
        assert not any(key.startswith("ghaccess") for key in loaded["settings"]), \
            "ghaccess's settings reached pypicloud"


@test
def inline_comment_is_part_of_the_value_for_both():
    """PasteDeploy keeps `; comment` after a value; ghaccess reads the
    server.ini the same way, so pypicloud's user name (comment included)
    is the one ghaccess expects (the README's old snippet)."""
    require_pastedeploy()
    with Standin(scenario_path(WORKED)) as standin:
        port = free_port()
        path = write("comment.ini", shared_ini(
            standin, port, user_line="auth.user = pypicloud            ; when [server] set"))
        loaded = serve_and_compare(path, standin, port)
        assert_equal(loaded["remote_auth"][0], "pypicloud            ; when [server] set",
                     "PasteDeploy keeps inline comments")


@test
def pipeline_default_and_interpolation():
    """[pipeline:main] to [app:pypicloud], [DEFAULT] values through
    %(name)s and "get", a percent sign written %%."""
    require_pastedeploy()
    with Standin(scenario_path(WORKED)) as standin:
        port = free_port()
        text = shared_ini(
            standin, port, app_section="[app:pypicloud]",
            before="[DEFAULT]\nbackend_login = pypicloud\nsecret = 50%%-of-a-password\n"
                   "auth.otc.github.repo_pattern = .*\n\n"
                   "[pipeline:main]\npipeline = tamer pypicloud\n\n"
                   "[filter:tamer]\nuse = egg:fakefilter#main\n\n",
            user_line="auth.user = %(backend_login)s")
        text = text.replace("auth.password = %s" % PASSWORD, "get auth.password = secret")
        path = write("pipeline.ini", text)
        loaded = serve_and_compare(path, standin, port)
        assert_equal(loaded["remote_auth"], ["pypicloud", "50%-of-a-password"], "interpolated")
        check = check_config(path)
        assert_equal(printed(check.stdout, "github", "repo_pattern"), ".*", "from [DEFAULT]")


@test
def pypicloud_environment_variables_for_both():
    """PPC_AUTH_OTC_GITHUB_TOKEN and PPC_AUTH_PASSWORD win over the file,
    for pypicloud and for ghaccess alike."""
    require_pastedeploy()
    with Standin(scenario_path(WORKED)) as standin:
        port = free_port()
        text = shared_ini(standin, port).replace(
            "auth.otc.github.token = %s" % standin.scenario["server_token"],
            "auth.otc.github.token = ghp_not_the_token")
        path = write("environment.ini", text)
        env = {"PPC_AUTH_OTC_GITHUB_TOKEN": standin.scenario["server_token"],
               "PPC_AUTH_PASSWORD": "password-from-the-environment"}
        loaded = serve_and_compare(path, standin, port, env=env)
        assert_equal(loaded["remote_auth"], ["pypicloud", "password-from-the-environment"],
                     "pypicloud's EnvironSettings")


@test
def the_old_layout_breaks_pastedeploy_and_is_refused():
    """ghaccess's [server] next to [server:main]: PasteDeploy's lookup is
    ambiguous (the failure pserve showed), and check-config refuses the
    file and names the fix."""
    require_pastedeploy()
    path = os.path.join(ROOT, "tests", "data", "config", "pypicloud-bare-server.ini")
    loaded = paste(path)
    assert loaded["lookups"]["server"].startswith("LookupError: Ambiguous section names"), \
        loaded["lookups"]
    check = check_config(path)
    assert_equal(check.returncode, 2, "check-config on the old layout")
    assert "write [ghaccess:server]" in check.stderr, check.stderr


@test
def seed_memcache_needs_a_secret_file():
    """A seed server.ini with cache.backend = memcache loads in PasteDeploy
    but is refused by ghaccess until [ghaccess:cache] secret_file is set."""
    require_pastedeploy()
    path = os.path.join(ROOT, "tests", "data", "config", "pypicloud-memcache-without-secret.ini")
    loaded = paste(path)
    assert_equal(loaded["settings"]["auth.otc.github.cache.backend"], "memcache", "seed key")
    check = check_config(path)
    assert_equal(check.returncode, 2, "check-config without secret_file")
    assert "[ghaccess:cache] secret_file: required with backend = memcache" in check.stderr, \
        check.stderr
    secret = write("cache-secret", "a-shared-cache-secret\n")
    with open(path, encoding="utf-8") as file:
        fixed = write("memcache-fixed.ini", file.read() + "\n[ghaccess:cache]\nsecret_file = %s\n"
                      % secret)
    assert_equal(paste(fixed)["lookups"], {"app": "ok", "server": "ok"}, "lookups")
    check = check_config(fixed)
    assert_equal(check.returncode, 0, "check-config with secret_file: " + check.stderr)


if __name__ == "__main__":
    run_tests()
