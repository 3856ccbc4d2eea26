"""test_index.py - the built-in index and forward-auth with real clients.

twine, poetry and pip from Debian against `ghaccess serve` with an [index]
section, nginx (auth_request) in front of a static PEP 503 directory, and
the GitHub stand-in serving tests/scenarios/worked-example.json:

    acme-core    (core-lib)    bob: read, write (team platform); dave: read
    acme-tools   (tools)       olivia: read, write (owner); dave: read (triage)
    acme-client  (old-client)  archived: read only for everybody
    erin                       outside collaborator: cannot log in

Names that no repository declares (here "acme-secret") are readable by
owners only unless [index] unclaimed = members.

The clients run with PATH=/usr/bin:/bin and /usr/bin/python3, so that the
Debian packages are used whatever a developer's PATH holds, and with HOME in
the test's work directory (pip's netrc, poetry's configuration).
"""

import concurrent.futures
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dists  # noqa: E402
from harness import (Ghaccess, Process, Response, Skip, Standin, basic_auth,  # noqa: E402
                     first_tokens, free_port, fresh_dir, http_get, run_tests, scenario_path,
                     scenario_settings, test, wait_for)

PYTHON = "/usr/bin/python3"
TWINE = "/usr/bin/twine"
POETRY = "/usr/bin/poetry"
NGINX = "/usr/sbin/nginx"
SCENARIO = scenario_path("worked-example.json")

tokens = first_tokens


def start_index(standin, storage=None, **index):
    """ghaccess serve with the built-in index (and forward-auth) enabled."""
    settings = scenario_settings(standin)
    settings["index"] = {"storage_dir": storage or os.path.join(fresh_dir("storage"), "packages")}
    settings["index"].update(index)
    return Ghaccess(settings).start()


def client_env(home=None):
    home = home or fresh_dir("home")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        # No desktop keyring here: poetry and twine must not look for one.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "TWINE_NON_INTERACTIVE": "1",
    }
    return env


def run(argv, env, timeout=180, cwd=None):
    return subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def require(path):
    if not os.access(path, os.X_OK):
        raise Skip("%s is not installed (scripts/install-deps.sh)" % path)


def twine_upload(server, user, password, *paths, extra=()):
    require(TWINE)
    return run([TWINE, "upload", "--non-interactive", "--disable-progress-bar",
                "--repository-url", server.url + "/legacy/", "-u", user, "-p", password]
               + list(extra) + list(paths), client_env())


def http_post(base_url, path, body, auth=None, headers=None, timeout=60.0):
    """One POST with a body on a new connection."""
    url = urllib.parse.urlsplit(base_url)
    all_headers = {"Connection": "close"}
    if auth is not None:
        all_headers["Authorization"] = basic_auth(*auth)
    all_headers.update(headers or {})
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=all_headers)
        reply = connection.getresponse()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()},
                        reply.read())
    finally:
        connection.close()


def upload(server, user, password, path, name, version, filetype=None, sha256=None,
           requires_python=None):
    """The legacy upload form over http.client (fixtures; twine is tested apart)."""
    filetype = filetype or ("bdist_wheel" if path.endswith(".whl") else "sdist")
    with open(path, "rb") as file:
        content = file.read()
    form = [(":action", "file_upload"), ("protocol_version", "1"), ("name", name),
            ("version", version), ("filetype", filetype),
            ("sha256_digest", sha256 or dists.sha256_of(path))]
    if requires_python is not None:
        form.append(("requires_python", requires_python))
    head, content, tail, content_type = dists.multipart_upload_body(
        form, os.path.basename(path), content)
    return http_post(server.url, "/legacy/", head + content + tail, auth=(user, password),
                     headers={"Content-Type": content_type})


def assert_no_tokens_logged(server, standin):
    log = server.log()
    for user in standin.scenario["users"]:
        for token in user["tokens"]:
            assert token not in log, "a token of %s is in the log" % user["login"]


def publish_fixtures(server, standin, directory):
    """acme-core 1.0.0 (bob), acme-tools 1.0.0 needing acme-core (olivia, owner),
    acme-secret 1.0 (unclaimed, olivia)."""
    secret = tokens(standin)
    files = {
        "core": dists.wheel(directory, "acme-core", "1.0.0", requires_python=">=3.7"),
        "core_sdist": dists.sdist(directory, "acme-core", "1.0.0"),
        "tools": dists.wheel(directory, "acme-tools", "1.0.0", requires=["acme-core>=1.0"]),
        "secret": dists.wheel(directory, "acme-secret", "1.0"),
    }
    for key, user, name, version in (("core", "bob", "acme-core", "1.0.0"),
                                     ("core_sdist", "bob", "acme-core", "1.0.0"),
                                     ("tools", "olivia", "acme-tools", "1.0.0"),
                                     ("secret", "olivia", "acme-secret", "1.0")):
        response = upload(server, user, secret[user], files[key], name, version,
                          requires_python=">=3.7" if key == "core" else None)
        assert response.status == 200, (key, response)
    return files


# ---- the simple API and downloads over plain HTTP ----------------------------

@test
def simple_api_and_downloads():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        dave = ("dave", secret["dave"])
        olivia = ("olivia", secret["olivia"])
        files = publish_fixtures(server, standin, fresh_dir("dists"))

        response = server.get("/simple/", auth=None)
        assert response.status == 401, response
        assert response.headers["www-authenticate"].startswith('Basic realm="ghaccess"'), response
        assert server.get("/simple/", auth=("dave", "ghp_wrong")).status == 401
        assert server.get("/simple/", auth=("erin", secret["erin"])).status == 401

        # The list holds what the caller may read.
        listing = server.get("/simple/", auth=dave).body.decode()
        assert 'href="acme-core/"' in listing and 'href="acme-tools/"' in listing, listing
        assert "acme-secret" not in listing, listing
        assert "acme-secret" in server.get("/simple/", auth=olivia).body.decode()

        page = server.get("/simple/acme-core/", auth=dave)
        # The User-Agent too: pip before 23.2 gets HTML (PEP 714).
        assert page.status == 200 and page.headers["vary"] == "Accept, User-Agent", page
        assert page.headers["content-type"].startswith("text/html"), page.headers
        html = page.body.decode()
        sha = dists.sha256_of(files["core"])
        assert ("../../packages/acme-core/acme_core-1.0.0-py3-none-any.whl#sha256=" + sha) in html
        assert 'data-requires-python="&gt;=3.7"' in html, html

        page = server.get("/simple/acme-core/", auth=dave, headers={
            "Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"})
        assert page.headers["content-type"] == "application/vnd.pypi.simple.v1+json", page
        document = page.json()
        assert document["meta"]["api-version"] == "1.1"  # PEP 700
        assert {f["filename"] for f in document["files"]} == {
            "acme_core-1.0.0-py3-none-any.whl", "acme_core-1.0.0.tar.gz"}
        assert server.get("/simple/acme-core/", auth=dave,
                          headers={"Accept": "application/json"}).status == 406

        # Other spellings redirect (before any login), relative to the page.
        for path, location in (("/simple/Acme_Core/", "../acme-core/"),
                               ("/simple/acme.core", "acme-core/"),
                               ("/simple", "simple/")):
            response = server.get(path, auth=None)
            assert response.status == 301 and response.headers["location"] == location, (
                path, response)

        # Unreadable and unknown look the same.
        assert server.get("/simple/acme-secret/", auth=dave).status == 404
        assert server.get("/simple/no-such-thing/", auth=dave).status == 404
        secret_file = "/packages/acme-secret/acme_secret-1.0-py3-none-any.whl"
        assert server.get(secret_file, auth=dave).status == 404
        assert server.get(secret_file, auth=olivia).status == 200

        # Downloads: whole, validators, ranges.
        path = "/packages/acme-core/acme_core-1.0.0-py3-none-any.whl"
        with open(files["core"], "rb") as file:
            data = file.read()
        response = server.get(path, auth=dave)
        assert response.status == 200 and response.body == data, response
        assert response.headers["content-length"] == str(len(data))
        assert response.headers["etag"] == '"%s"' % sha
        assert server.get(path, auth=dave, headers={"If-None-Match": '"%s"' % sha}).status == 304
        response = server.get(path, auth=dave, headers={"Range": "bytes=10-19"})
        assert response.status == 206 and response.body == data[10:20], response
        assert response.headers["content-range"] == "bytes 10-19/%d" % len(data)
        response = server.get(path, auth=dave, headers={"Range": "bytes=-5"})
        assert response.status == 206 and response.body == data[-5:], response
        response = server.get(path, auth=dave, headers={"Range": "bytes=%d-" % len(data)})
        assert response.status == 416, response
        assert response.headers["content-range"] == "bytes */%d" % len(data)
        response = server.get(path, auth=dave, headers={"Range": "bytes=0-1,5-6"})
        assert response.status == 200 and response.body == data, response
        response = server.get(path, auth=dave, method="HEAD")
        assert response.status == 200 and response.body == b"", response
        assert response.headers["content-length"] == str(len(data))
        for bad in ("/packages/acme-core/../acme-secret/acme_secret-1.0-py3-none-any.whl",
                    "/packages/acme-core/", "/packages/Acme_Core/acme_core-1.0.0.tar.gz",
                    "/packages/acme-core/acme_core-9.9.tar.gz"):
            assert server.get(bad, auth=dave).status == 404, bad
        assert_no_tokens_logged(server, standin)


@test
def unclaimed_members_setting():
    with Standin(SCENARIO) as standin:
        server = start_index(standin, unclaimed="members")
        secret = tokens(standin)
        publish_fixtures(server, standin, fresh_dir("dists"))
        assert server.get("/simple/acme-secret/", auth=("dave", secret["dave"])).status == 200
        # Readable, still not writable by a member.
        path = dists.wheel(fresh_dir("dists"), "acme-secret", "2.0")
        response = upload(server, "dave", secret["dave"], path, "acme-secret", "2.0")
        assert response.status == 403, response


@test
def fallback_only_for_unclaimed_names():
    with Standin(SCENARIO) as standin:
        server = start_index(standin, fallback_url="https://pypi.example/simple/")
        secret = tokens(standin)
        dave = ("dave", secret["dave"])
        publish_fixtures(server, standin, fresh_dir("dists"))
        response = server.get("/simple/requests/", auth=dave)
        assert response.status == 302, response
        assert response.headers["location"] == "https://pypi.example/simple/requests/"
        # Claimed by an organization repository: never sent away, even when
        # the index holds no file of it (dependency confusion).
        for name in ("acme-client", "acme-secret"):
            response = server.get("/simple/%s/" % name, auth=dave)
            assert response.status == 404 and "location" not in response.headers, (name, response)
        # Still a login first.
        assert server.get("/simple/requests/", auth=None).status == 401


# ---- uploads with twine and poetry ------------------------------------------

@test
def twine_upload_permissions():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        directory = fresh_dir("dists")
        wheel = dists.wheel(directory, "acme-core", "1.0.0")
        sdist = dists.sdist(directory, "acme-core", "1.0.0")

        result = twine_upload(server, "bob", secret["bob"], wheel, sdist)
        assert result.returncode == 0, result.stdout

        result = twine_upload(server, "dave", secret["dave"],
                              dists.wheel(fresh_dir("dists"), "acme-core", "1.0.1"))
        assert result.returncode != 0, result.stdout
        assert "403" in result.stdout and "dave may not upload acme-core" in result.stdout, \
            result.stdout

        result = twine_upload(server, "bob", "ghp_not_a_valid_token_000000000000000000",
                              dists.wheel(fresh_dir("dists"), "acme-core", "1.0.2"))
        assert result.returncode != 0 and "401" in result.stdout, result.stdout
        assert "invalid credentials" in result.stdout, result.stdout

        # Archived: nobody uploads, owners included.
        result = twine_upload(server, "olivia", secret["olivia"],
                              dists.wheel(fresh_dir("dists"), "acme-client", "2.0"))
        assert result.returncode != 0 and "archived" in result.stdout, result.stdout

        # The same file again: 409, which twine --skip-existing accepts.
        result = twine_upload(server, "bob", secret["bob"], wheel)
        assert result.returncode != 0 and "already exists" in result.stdout, result.stdout
        result = twine_upload(server, "bob", secret["bob"], wheel, extra=["--skip-existing"])
        assert result.returncode == 0, result.stdout

        listing = server.get("/simple/acme-core/", auth=("dave", secret["dave"])).body.decode()
        assert "acme_core-1.0.0.tar.gz" in listing and "1.0.1" not in listing, listing
        assert_no_tokens_logged(server, standin)


@test
def upload_checks():
    with Standin(SCENARIO) as standin:
        server = start_index(standin, max_upload_size="1M")
        secret = tokens(standin)
        bob = secret["bob"]
        directory = fresh_dir("dists")
        big = dists.wheel(directory, "acme-core", "3.0", payload=os.urandom(2 << 20))
        result = twine_upload(server, "bob", bob, big)
        assert result.returncode != 0 and "413" in result.stdout, result.stdout
        assert "max_upload_size" in result.stdout, result.stdout

        small = dists.wheel(directory, "acme-core", "3.1")
        # Another project's name, another version, a wrong digest.
        response = upload(server, "bob", bob, small, "acme-core", "3.2")
        assert response.status == 400 and b"not a file of version" in response.body, response
        tools = dists.wheel(directory, "acme-tools", "3.1")
        response = upload(server, "olivia", secret["olivia"], tools, "acme-core", "3.1")
        assert response.status == 400 and b"not a file of project" in response.body, response
        response = upload(server, "bob", bob, small, "acme-core", "3.1", sha256="0" * 64)
        assert response.status == 400 and b"sha256_digest does not match" in response.body, \
            response
        response = upload(server, "bob", bob, small, "acme-core", "3.1", filetype="sdist")
        assert response.status == 400 and b"filetype" in response.body, response
        assert server.get("/simple/acme-core/", auth=("bob", bob)).status == 404
        # Nothing half-stored.  The temporary file goes when the request is
        # complete, just after the answer was sent: give it a moment.
        storage = server.settings["index"]["storage_dir"]
        wait_for(lambda: not [n for n in os.listdir(storage) if n.startswith(".upload-")],
                 timeout=5, what="the refused uploads' temporary files to go")


@test
def poetry_publish_permissions():
    require(POETRY)
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        project = fresh_dir("poetry-project")
        with open(os.path.join(project, "pyproject.toml"), "w", encoding="utf-8") as file:
            file.write('[tool.poetry]\nname = "Acme_Core"\nversion = "2.0.0"\n'
                       'description = "test"\nauthors = ["Bob <bob@example.com>"]\n'
                       'packages = [{include = "acme_core"}]\n\n'
                       '[tool.poetry.dependencies]\npython = ">=3.8"\n\n'
                       '[build-system]\nrequires = ["poetry-core"]\n'
                       'build-backend = "poetry.core.masonry.api"\n')
        os.makedirs(os.path.join(project, "acme_core"))
        with open(os.path.join(project, "acme_core", "__init__.py"), "w") as file:
            file.write("VERSION = '2.0.0'\n")
        env = client_env()
        result = run([POETRY, "config", "repositories.acme", server.url + "/legacy/"], env,
                     cwd=project)
        assert result.returncode == 0, result.stdout
        result = run([POETRY, "build", "-n"], env, cwd=project)
        assert result.returncode == 0, result.stdout

        def publish(user, password):
            publish_env = dict(env)
            publish_env["POETRY_HTTP_BASIC_ACME_USERNAME"] = user
            publish_env["POETRY_HTTP_BASIC_ACME_PASSWORD"] = password
            return run([POETRY, "publish", "-r", "acme", "-n"], publish_env, cwd=project)

        result = publish("dave", secret["dave"])
        assert result.returncode != 0, result.stdout
        assert "403" in result.stdout and "dave may not upload acme-core" in result.stdout, \
            result.stdout
        result = publish("bob", "ghp_wrong_wrong_wrong")
        assert result.returncode != 0 and "401" in result.stdout, result.stdout
        result = publish("bob", secret["bob"])
        assert result.returncode == 0, result.stdout
        listing = server.get("/simple/acme-core/", auth=("dave", secret["dave"])).body.decode()
        assert "acme_core-2.0.0-py3-none-any.whl" in listing, listing
        assert "acme_core-2.0.0.tar.gz" in listing, listing


# ---- pip ----------------------------------------------------------------------

def pip(env, *args):
    return run([PYTHON, "-m", "pip"] + list(args), env)


def index_url(server, user=None, password=None):
    url = urllib.parse.urlsplit(server.url)
    credentials = "%s:%s@" % (user, urllib.parse.quote(password, safe="")) if user else ""
    return "http://%s%s:%d/simple/" % (credentials, url.hostname, url.port)


@test
def pip_install_and_download():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        publish_fixtures(server, standin, fresh_dir("dists"))

        # Credentials in the index URL; a private dependency comes along.
        env = client_env()
        target = fresh_dir("target")
        url = index_url(server, "dave", secret["dave"])
        result = pip(env, "install", "--target", target, "--index-url", url, "acme-tools")
        assert result.returncode == 0, result.stdout
        installed = sorted(os.listdir(target))
        assert "acme_tools" in installed and "acme_core" in installed, installed

        result = pip(env, "install", "--target", fresh_dir("target"), "--index-url", url,
                     "acme-secret")
        assert result.returncode != 0, result.stdout
        assert "No matching distribution found for acme-secret" in result.stdout, result.stdout

        # ~/.netrc instead (pip looks the host up without the port).
        home = fresh_dir("home")
        with open(os.path.join(home, ".netrc"), "w") as file:
            file.write("machine 127.0.0.1 login dave password %s\n" % secret["dave"])
        os.chmod(os.path.join(home, ".netrc"), 0o600)
        env = client_env(home)
        downloads = fresh_dir("downloads")
        result = pip(env, "download", "-d", downloads, "--index-url", index_url(server),
                     "acme-tools==1.0.0")
        assert result.returncode == 0, result.stdout
        assert sorted(os.listdir(downloads)) == ["acme_core-1.0.0-py3-none-any.whl",
                                                 "acme_tools-1.0.0-py3-none-any.whl"], \
            os.listdir(downloads)
        result = pip(env, "download", "-d", fresh_dir("downloads"), "--index-url",
                     index_url(server), "acme-secret")
        assert result.returncode != 0, result.stdout

        # An owner reads the unclaimed package.
        result = pip(client_env(), "download", "-d", fresh_dir("downloads"), "--index-url",
                     index_url(server, "olivia", secret["olivia"]), "acme-secret")
        assert result.returncode == 0, result.stdout

        # Wrong credentials: nothing (pip, not interactive, reports no match).
        result = pip(client_env(), "download", "-d", fresh_dir("downloads"), "--index-url",
                     index_url(server, "dave", "ghp_wrong"), "acme-core")
        assert result.returncode != 0, result.stdout
        assert "status=401" in server.log(), server.log()
        assert_no_tokens_logged(server, standin)


# ---- nginx with auth_request in front of a static index --------------------------

NGINX_CONF = """
worker_processes 1;
%(user)s
error_log %(dir)s/error.log info;
pid %(dir)s/nginx.pid;
events { worker_connections 64; }
http {
    access_log %(dir)s/access.log;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    types { application/octet-stream whl gz; text/html html; }
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s;
        location = /_ghaccess_auth {
            internal;
            proxy_pass %(ghaccess)s/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
        }
        location / {
            auth_request /_ghaccess_auth;
            auth_request_set $ghaccess_user $upstream_http_x_ghaccess_user;
            add_header X-Served-For $ghaccess_user always;
            index index.html;
        }
    }
}
"""


def static_index(root, wheels):
    """A PEP 503 directory: /simple/<name>/index.html and /packages/<name>/<file>."""
    names = {}
    for name, path in wheels:
        names.setdefault(name, []).append(path)
    os.makedirs(os.path.join(root, "simple"))
    with open(os.path.join(root, "simple", "index.html"), "w") as file:
        file.write("".join('<a href="%s/">%s</a>\n' % (n, n) for n in sorted(names)))
    for name, paths in names.items():
        os.makedirs(os.path.join(root, "simple", name))
        os.makedirs(os.path.join(root, "packages", name))
        links = ""
        for path in paths:
            filename = os.path.basename(path)
            shutil.copy(path, os.path.join(root, "packages", name, filename))
            links += '<a href="../../packages/%s/%s#sha256=%s">%s</a>\n' % (
                name, filename, dists.sha256_of(path), filename)
        with open(os.path.join(root, "simple", name, "index.html"), "w") as file:
            file.write(links)


class Nginx(Process):
    def __init__(self, root, ghaccess_url):
        super().__init__("nginx")
        require(NGINX)
        self.dir = fresh_dir("nginx")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as file:
            file.write(NGINX_CONF % {
                "dir": self.dir, "port": self.port, "root": root, "ghaccess": ghaccess_url,
                # As root, workers would drop to nobody, who cannot read
                # the private work directory.
                "user": "user root;" if os.geteuid() == 0 else ""})
        self._spawn([NGINX, "-p", self.dir, "-c", conf, "-g", "daemon off;"])
        wait_for(self._listening, timeout=10, what="nginx")

    def _listening(self):
        if not self.running():
            raise AssertionError("nginx exited: " + self.log())
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0


@test
def nginx_forward_auth_static_index():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        directory = fresh_dir("dists")
        root = fresh_dir("static")
        static_index(root, [
            ("acme-core", dists.wheel(directory, "acme-core", "1.0.0")),
            ("acme-tools", dists.wheel(directory, "acme-tools", "1.0.0",
                                       requires=["acme-core"])),
            ("acme-secret", dists.wheel(directory, "acme-secret", "1.0")),
        ])
        nginx = Nginx(root, server.url)
        dave = ("dave", secret["dave"])

        response = http_get(nginx.url, "/simple/acme-core/", auth=None)
        assert response.status == 401, response
        assert response.headers.get("www-authenticate", "").startswith("Basic"), response
        response = http_get(nginx.url, "/simple/acme-core/", auth=dave)
        assert response.status == 200 and response.headers["x-served-for"] == "dave", response
        assert http_get(nginx.url, "/simple/acme-secret/", auth=dave).status == 403
        assert http_get(nginx.url, "/packages/acme-secret/acme_secret-1.0-py3-none-any.whl",
                        auth=dave).status == 403
        # The project list of a static index cannot be filtered: owners only.
        assert http_get(nginx.url, "/simple/", auth=dave).status == 403
        assert http_get(nginx.url, "/simple/", auth=("olivia", secret["olivia"])).status == 200
        # Uploads cannot be checked per package through a proxy: owners only.
        assert http_get(nginx.url, "/simple/", auth=dave, method="POST").status == 403
        # An owner's browser made to POST by a page elsewhere (it names the
        # page in Origin): refused; without Origin the proxy lets it through
        # to the static server, which answers 405.
        olivia = ("olivia", secret["olivia"])
        assert http_get(nginx.url, "/simple/", auth=olivia, method="POST").status == 405
        assert http_get(nginx.url, "/simple/", auth=olivia, method="POST",
                        headers={"Origin": "https://evil.example"}).status == 403
        # A client's own X-Forwarded-* headers do not fool the check.
        response = http_get(nginx.url, "/simple/acme-secret/", auth=dave,
                            headers={"X-Forwarded-Uri": "/simple/acme-core/",
                                     "X-Forwarded-Method": "GET"})
        assert response.status in (403, 500), response

        env = client_env()
        url = urllib.parse.urlsplit(nginx.url)
        index = "http://dave:%s@%s:%d/simple/" % (secret["dave"], url.hostname, url.port)
        target = fresh_dir("target")
        result = pip(env, "install", "--target", target, "--index-url", index, "acme-tools")
        assert result.returncode == 0, result.stdout
        assert "acme_core" in os.listdir(target), os.listdir(target)
        result = pip(env, "install", "--target", fresh_dir("target"), "--index-url", index,
                     "acme-secret")
        assert result.returncode != 0, result.stdout
        nginx.stop()


@test
def forward_auth_requests():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        dave = ("dave", secret["dave"])
        olivia = ("olivia", secret["olivia"])

        def auth(user, target, method="GET", family="Original", extra=None):
            headers = {"X-%s-%s" % (family, "URI" if family == "Original" else "Uri"): target,
                       "X-%s-Method" % family: method}
            headers.update(extra or {})
            return server.get("/auth", auth=user, headers=headers)

        assert auth(dave, "/simple/acme-core/").status == 200
        assert auth(dave, "/simple/ACME.core/", family="Forwarded").status == 200
        assert auth(dave, "/x/acme_tools-1.0-py3-none-any.whl").headers["x-ghaccess-user"] == \
            "dave"
        assert auth(dave, "/x/acme_secret-1.0.tar.gz").status == 403
        assert auth(olivia, "/x/acme_secret-1.0.tar.gz").status == 200
        assert auth(dave, "/simple/acme-core/", method="POST").status == 403
        assert auth(olivia, "/", method="POST").status == 200
        assert auth(dave, "/simple/../simple/acme-secret/").status == 403
        assert auth(dave, "/simple/acme%2Dsecret/").status == 403
        assert auth(None, "/simple/acme-core/").status == 401
        assert auth(("erin", secret["erin"]), "/simple/acme-core/").status == 401
        # The proxy did not describe the request, or two families speak.
        assert server.get("/auth", auth=dave).status == 400
        assert auth(dave, "/simple/acme-core/",
                    extra={"X-Forwarded-Uri": "/simple/acme-core/"}).status == 400
        assert_no_tokens_logged(server, standin)


# ---- concurrency and crashes ------------------------------------------------------

@test
def twenty_concurrent_uploads():
    with Standin(SCENARIO) as standin:
        # Twenty at once by one user: above the default bounds on uploads in
        # progress (test_upload_limits.py tests those), raised here.
        server = start_index(standin, max_concurrent_uploads=20,
                             max_concurrent_uploads_per_user=20)
        secret = tokens(standin)
        directory = fresh_dir("dists")
        wheels = [dists.wheel(directory, "acme-core", "4.0.%d" % i, payload=os.urandom(65536))
                  for i in range(20)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(
                lambda path: twine_upload(server, "bob", secret["bob"], path), wheels))
        for result in results:
            assert result.returncode == 0, result.stdout
        document = server.get("/simple/acme-core/", auth=("dave", secret["dave"]), headers={
            "Accept": "application/vnd.pypi.simple.v1+json"}).json()
        stored = {f["filename"]: f["hashes"]["sha256"] for f in document["files"]}
        assert stored == {os.path.basename(p): dists.sha256_of(p) for p in wheels}, stored


def partial_upload(server, user, password, path, name, version, send_bytes):
    """Send the headers and the first send_bytes of an upload; keep the socket open."""
    with open(path, "rb") as file:
        content = file.read()
    head, content, tail, content_type = dists.multipart_upload_body(
        [(":action", "file_upload"), ("name", name), ("version", version),
         ("filetype", "bdist_wheel")], os.path.basename(path), content)
    body = head + content + tail
    url = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest("POST", "/legacy/")
    connection.putheader("Authorization", basic_auth(user, password))
    connection.putheader("Content-Type", content_type)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    connection.send(body[:send_bytes])
    return connection


@test
def kill_during_large_upload():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        storage = server.settings["index"]["storage_dir"]
        directory = fresh_dir("dists")
        done = dists.wheel(directory, "acme-core", "5.0")
        assert upload(server, "bob", secret["bob"], done, "acme-core", "5.0").status == 200
        large = dists.wheel(directory, "acme-core", "5.1", payload=os.urandom(30 << 20))
        connection = partial_upload(server, "bob", secret["bob"], large, "acme-core", "5.1",
                                    20 << 20)
        # The server is writing the temporary file: kill it mid-stream.
        wait_for(lambda: [n for n in os.listdir(storage) if n.startswith(".upload-")],
                 what="the upload's temporary file")
        server.popen.send_signal(signal.SIGKILL)
        server.popen.wait()
        connection.close()
        visible = sorted(os.listdir(os.path.join(storage, "acme-core")))
        assert visible == ["acme_core-5.0-py3-none-any.whl",
                           "acme_core-5.0-py3-none-any.whl.meta.json",
                           "acme_core-5.0-py3-none-any.whl.metadata"], visible

        # A restart on the same storage: the partial file is gone, the
        # completed one is intact.
        restarted = Ghaccess(server.settings, name="ghaccess-restarted").start()
        assert [n for n in os.listdir(storage) if n.startswith(".")] == [], os.listdir(storage)
        document = restarted.get("/simple/acme-core/", auth=("dave", secret["dave"]), headers={
            "Accept": "application/vnd.pypi.simple.v1+json"}).json()
        assert [f["filename"] for f in document["files"]] == ["acme_core-5.0-py3-none-any.whl"]
        response = restarted.get("/packages/acme-core/acme_core-5.0-py3-none-any.whl",
                                 auth=("dave", secret["dave"]))
        with open(done, "rb") as file:
            assert response.status == 200 and response.body == file.read()
        # And the large upload succeeds when sent again.
        assert upload(restarted, "bob", secret["bob"], large, "acme-core", "5.1").status == 200


if __name__ == "__main__":
    run_tests()
