"""test_index_api.py - what the built-in index speaks beyond PEP 503/691 (issue 15).

Real clients from Debian (pip 23.0.1, twine, the ghaccess CLI) against
`ghaccess serve` and the GitHub stand-in serving worked-example.json:

    acme-core    bob: read, write; dave: read
    acme-tools   olivia (owner): read, write; dave: read
    acme-client  archived: read only for everybody
    acme-secret  no repository: owners only

  metadata   PEP 658/714: pip resolves from .metadata files and never
             downloads the wheels it rejects; stored wheels get theirs at start
  json       PEP 700 and GET /pypi/<name>/json, field by field against the
             stored METADATA read with Python's email parser
  yank       PEP 592 through the API and the CLI: hidden unless pinned with ==
  delete     [index] allow_delete; a deleted filename is never accepted again
  attacks    a read-only member, an unreadable package, a cross-site form, a
             corrupt wheel, zip bombs, path traversal, a METADATA that names
             another package, malformed names and digests
"""

import email.parser
import email.policy
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.parse
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dists  # noqa: E402
from harness import (GHACCESS, ROOT, Ghaccess, Standin, first_tokens, fresh_dir,  # noqa: E402
                     helpers_of, run_tests, scenario_path, test, wait_for, workdir)

# test_index.py's helpers, without its tests.
_index = helpers_of("test_index")
client_env, http_post, index_url = _index.client_env, _index.http_post, _index.index_url
partial_upload, pip, start_index = _index.partial_upload, _index.pip, _index.start_index
twine_upload, upload = _index.twine_upload, _index.upload

SCENARIO = scenario_path("worked-example.json")
JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def tokens_of(standin):
    secret = first_tokens(standin)
    return {login: (login, token) for login, token in secret.items()}


def accesses(server, path_part):
    """The paths of the server's access log lines that contain path_part."""
    return [line for line in server.log().splitlines()
            if "msg=request" in line and path_part in line]


def api(server, method, path, auth, body=None, content_type="application/json"):
    if method == "DELETE":
        return server.get(path, auth=auth, method="DELETE")
    data = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
    return http_post(server.url, path, data, auth=auth, headers={"Content-Type": content_type})


def publish(server, user, name, versions):
    """Wheels of name at versions, uploaded by user; their paths."""
    directory = fresh_dir("dists")
    paths = []
    for version in versions:
        path = dists.wheel(directory, name, version)
        assert upload(server, *user, path, name, version).status == 200
        paths.append(path)
    return paths


def simple_json(server, user, name):
    response = server.get("/simple/%s/" % name, auth=user, headers=JSON)
    assert response.status == 200, response
    return response.json()


def sanitized():
    """Whether the server is an AddressSanitizer build."""
    with open(GHACCESS, "rb") as file:
        return b"__asan_init" in file.read()


def rss_peak_kib(server):
    with open("/proc/%d/status" % server.popen.pid) as file:
        return int(re.search(r"VmHWM:\s+(\d+)", file.read()).group(1))


# ---- PEP 658 / 714: pip and the .metadata files ---------------------------------

@test
def pip_resolves_from_metadata_files():
    """pip (Debian 12's 23.0.1) backtracks over acme-tools 3.0 and 2.0, which
    need an acme-core that does not exist: it reads their .metadata and never
    downloads those wheels."""
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        user = tokens_of(standin)
        directory = fresh_dir("dists")
        for version, requires in (("1.0", ["acme-core>=1"]), ("2.0", ["acme-core>=5"]),
                                  ("3.0", ["acme-core>=5"])):
            path = dists.wheel(directory, "acme-tools", version, requires=requires,
                               payload=os.urandom(300 << 10))
            assert upload(server, *user["olivia"], path, "acme-tools", version).status == 200
        path = dists.wheel(directory, "acme-core", "1.0", payload=os.urandom(100 << 10))
        assert upload(server, *user["bob"], path, "acme-core", "1.0").status == 200

        report = os.path.join(fresh_dir("report"), "report.json")
        result = pip(client_env(), "install", "-v", "--dry-run", "--report", report,
                     "--index-url", index_url(server, *user["dave"]), "acme-tools")
        assert result.returncode == 0, result.stdout
        with open(report) as file:
            chosen = {item["metadata"]["name"]: item["metadata"]["version"]
                      for item in json.load(file)["install"]}
        assert chosen == {"acme-tools": "1.0", "acme-core": "1.0"}, chosen
        for version in ("3.0", "2.0"):
            wheel = "acme_tools-%s-py3-none-any.whl" % version
            assert "Obtaining dependency information for acme-tools from " in result.stdout
            assert re.search(r"from \S+/%s\.metadata" % re.escape(wheel), result.stdout), \
                result.stdout
            assert accesses(server, "/packages/acme-tools/%s.metadata status=200" % wheel), \
                server.log()
            # The rejected candidate's wheel was never asked for.
            assert not accesses(server, "/packages/acme-tools/%s status=" % wheel), \
                accesses(server, wheel)


@test
def pip_index_versions():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        user = tokens_of(standin)
        publish(server, user["bob"], "acme-core", ("1.0", "1.10", "2.0rc1", "1.9"))
        result = pip(client_env(), "index", "versions", "--index-url",
                     index_url(server, *user["dave"]), "acme-core")
        assert result.returncode == 0, result.stdout
        assert "acme-core (1.10)" in result.stdout, result.stdout
        assert "Available versions: 1.10, 1.9, 1.0" in result.stdout, result.stdout
        result = pip(client_env(), "index", "versions", "--pre", "--index-url",
                     index_url(server, *user["dave"]), "acme-core")
        assert "Available versions: 2.0rc1, 1.10, 1.9, 1.0" in result.stdout, result.stdout
        # Not readable: nothing.
        result = pip(client_env(), "index", "versions", "--index-url",
                     index_url(server, *user["dave"]), "acme-secret")
        assert result.returncode != 0 and "No matching distribution" in result.stdout, \
            result.stdout


@test
def stored_wheels_get_their_metadata_at_start():
    """Files an older version stored (or an operator copied in) are served
    at once and get their METADATA from a thread: requests do not wait."""
    with Standin(SCENARIO) as standin:
        storage = os.path.join(fresh_dir("storage"), "packages")
        project = os.path.join(storage, "acme-core")
        os.makedirs(project)
        good = [dists.wheel(project, "acme-core", "1.%d" % i, payload=os.urandom(200 << 10))
                for i in range(20)]
        broken = os.path.join(project, "acme_core-0.1-py3-none-any.whl")
        with open(broken, "wb") as file:
            file.write(b"PK\x03\x04 an old upload that is no zip")
        server = start_index(standin, storage=storage)
        user = tokens_of(standin)
        # Answered at once, whatever the backfill has done so far.
        document = simple_json(server, user["dave"], "acme-core")
        assert len(document["files"]) == 21, document

        def complete():
            files = simple_json(server, user["dave"], "acme-core")["files"]
            return all("core-metadata" in f for f in files if not f["filename"].startswith(
                "acme_core-0.1"))
        wait_for(complete, timeout=60, what="every good wheel's METADATA")
        files = {f["filename"]: f for f in simple_json(server, user["dave"], "acme-core")["files"]}
        assert "core-metadata" not in files["acme_core-0.1-py3-none-any.whl"], files
        for path in good:
            name = os.path.basename(path)
            with zipfile.ZipFile(path) as archive:
                expected = archive.read("acme_core-%s.dist-info/METADATA" % name.split("-")[1])
            response = server.get("/packages/acme-core/%s.metadata" % name, auth=user["dave"])
            assert response.status == 200 and response.body == expected, (name, response)
            assert files[name]["core-metadata"]["sha256"] == hashlib.sha256(expected).hexdigest()
        assert "msg=\"index: stored files completed\" metadata=20 metadata_failed=1" in \
            server.log(), server.log()
        # The broken file is still served, and not tried again at the next start.
        assert server.get("/packages/acme-core/acme_core-0.1-py3-none-any.whl",
                          auth=user["dave"]).status == 200
        server.stop()
        again = start_index(standin, storage=storage)
        simple_json(again, user["dave"], "acme-core")
        assert "stored files completed" not in again.log(), again.log()


# ---- PEP 700 and the JSON API ---------------------------------------------------------

RICH_METADATA = [
    "Home-page: https://core.example",
    "Author: Bob Builder",
    "Author-email: bob@example.com",
    "License: MIT",
    "Keywords: core,acme",
    "Classifier: Programming Language :: Python :: 3",
    "Classifier: License :: OSI Approved :: MIT License",
    "Project-URL: Source, https://git.example/core",
    "Project-URL: Issues, https://git.example/core/issues",
    "Requires-Dist: acme-tools>=1",
    "Requires-Dist: rich ; extra == \"fancy\"",
    "Provides-Extra: fancy",
    "Description-Content-Type: text/markdown",
]


def parsed_metadata(data):
    """METADATA read as pip and PyPI read it (email, compat32)."""
    return email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)


def project_urls(message):
    urls = {}
    if message.get("Home-page"):
        urls["Homepage"] = message["Home-page"]
    if message.get("Download-URL"):
        urls["Download"] = message["Download-URL"]
    for value in message.get_all("Project-URL") or []:
        label, _, url = value.partition(",")
        if label.strip() and url.strip():
            urls[label.strip()] = url.strip()
    return urls or None


@test
def json_api_matches_the_stored_metadata():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        user = tokens_of(standin)
        directory = fresh_dir("dists")
        wheel = dists.wheel(directory, "acme-core", "1.0", requires_python=">=3.8",
                            extra_metadata=RICH_METADATA, body="# Acme core\n\nThe *core*.\n")
        sdist = dists.sdist(directory, "acme-core", "1.0")
        newer = dists.wheel(directory, "acme-core", "1.1rc1")
        for path, version in ((wheel, "1.0"), (sdist, "1.0"), (newer, "1.1rc1")):
            assert upload(server, *user["bob"], path, os.path.basename(path).split("-")[0]
                          .replace("_", "-"), version).status == 200

        response = server.get("/pypi/acme-core/json", auth=user["dave"])
        assert response.status == 200 and response.headers["content-type"] == "application/json"
        document = response.json()
        stored = server.get("/packages/acme-core/%s.metadata" % os.path.basename(wheel),
                            auth=user["dave"]).body
        with zipfile.ZipFile(wheel) as archive:
            assert stored == archive.read("acme_core-1.0.dist-info/METADATA")
        message = parsed_metadata(stored)
        info = document["info"]
        # 1.1rc1 is a pre-release: the latest is 1.0, as on PyPI.
        expected = {
            "name": message["Name"], "version": "1.0", "summary": message["Summary"],
            "description": message.get_payload(), "author": message["Author"],
            "author_email": message["Author-email"], "license": message["License"],
            "keywords": message["Keywords"], "home_page": message["Home-page"],
            "requires_python": message["Requires-Python"],
            "description_content_type": message["Description-Content-Type"],
            "classifiers": message.get_all("Classifier"),
            "requires_dist": message.get_all("Requires-Dist"),
            "provides_extra": message.get_all("Provides-Extra"),
            "project_urls": project_urls(message), "yanked": False, "yanked_reason": None,
            "maintainer": None, "download_url": None, "platform": None, "dynamic": None,
        }
        for key, value in expected.items():
            assert info[key] == value, (key, info[key], value)
        assert sorted(document["releases"]) == ["1.0", "1.1rc1"], document["releases"].keys()
        assert list(document["releases"]) == ["1.1rc1", "1.0"], "newest first"
        listed = {f["filename"]: f for f in simple_json(server, user["dave"], "acme-core")["files"]}
        for entry in document["urls"]:
            path = os.path.join(directory, entry["filename"])
            with open(path, "rb") as file:
                data = file.read()
            assert entry["digests"] == {"md5": hashlib.md5(data).hexdigest(),
                                        "sha256": hashlib.sha256(data).hexdigest(),
                                        "blake2b_256": hashlib.blake2b(data, digest_size=32)
                                        .hexdigest()}, entry
            assert entry["md5_digest"] == entry["digests"]["md5"]
            assert entry["size"] == len(data)
            assert entry["upload_time_iso_8601"] == listed[entry["filename"]]["upload-time"]
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["upload_time_iso_8601"])
            assert entry["upload_time"] == entry["upload_time_iso_8601"][:-1]
            url = urllib.parse.urljoin(server.url + "/pypi/acme-core/json", entry["url"])
            fetched = server.get(urllib.parse.urlsplit(url).path, auth=user["dave"])
            assert fetched.status == 200 and fetched.body == data, url
            assert entry["packagetype"] == ("bdist_wheel" if path.endswith(".whl") else "sdist")
            assert entry["python_version"] == ("py3" if path.endswith(".whl") else "source")
            if path.endswith(".whl"):
                assert entry["core-metadata"] == {
                    "sha256": hashlib.sha256(stored).hexdigest()}, entry
            else:
                assert entry["core-metadata"] is False

        # PEP 700 on the simple JSON page.
        page = simple_json(server, user["dave"], "acme-core")
        assert page["meta"]["api-version"] == "1.1"
        assert sorted(page["versions"]) == ["1.0", "1.1rc1"], page["versions"]
        assert all(isinstance(f["size"], int) for f in page["files"]), page
        assert "dist-info-metadata" not in json.dumps(page), "PEP 714: JSON says core-metadata"

        # One release: the same info, no "releases".
        release = server.get("/pypi/acme-core/1.1rc1/json", auth=user["dave"]).json()
        assert release["info"]["version"] == "1.1rc1" and "releases" not in release
        assert [f["filename"] for f in release["urls"]] == [os.path.basename(newer)]
        url = urllib.parse.urljoin(server.url + "/pypi/acme-core/1.1rc1/json",
                                   release["urls"][0]["url"])
        assert server.get(urllib.parse.urlsplit(url).path, auth=user["dave"]).status == 200
        assert server.get("/pypi/acme-core/9.9/json", auth=user["dave"]).status == 404
        # Other spellings redirect, before any login.
        for path, location in (("/pypi/Acme_Core/json", "../acme-core/json"),
                               ("/pypi/acme-core/json/", "../../acme-core/json"),
                               ("/pypi/ACME.core/1.0/json", "../../acme-core/1.0/json")):
            response = server.get(path, auth=None)
            assert response.status == 301 and response.headers["location"] == location, \
                (path, response)
        # The access rule of the simple page.
        assert server.get("/pypi/acme-core/json", auth=None).status == 401
        hidden = server.get("/pypi/acme-secret/json", auth=user["dave"])
        absent = server.get("/pypi/no-such-thing/json", auth=user["dave"])
        assert hidden.status == absent.status == 404 and hidden.body == absent.body
        assert server.get("/pypi/acme-core/json", auth=("erin", first_tokens(standin)["erin"])) \
            .status == 401


# ---- PEP 592: yanking ---------------------------------------------------------------

@test
def yank_hides_a_release_unless_pinned():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        user = tokens_of(standin)
        publish(server, user["bob"], "acme-core", ("1.0", "2.0"))
        response = api(server, "POST", "/api/package/acme-core/2.0/yank", user["bob"],
                       {"reason": "broken build, use 1.0"})
        assert response.status == 200, response
        assert response.json() == {"action": "yank", "project": "acme-core", "target": "2.0",
                                   "files": ["acme_core-2.0-py3-none-any.whl"], "changed": 1}
        assert "action=yank user=bob decision=allow" in server.log()
        url = index_url(server, *user["dave"])

        def download(requirement):
            target = fresh_dir("downloads")
            result = pip(client_env(), "download", "--no-deps", "-d", target, "--index-url", url,
                         requirement)
            return result, sorted(os.listdir(target))

        result, files = download("acme-core")
        assert result.returncode == 0 and files == ["acme_core-1.0-py3-none-any.whl"], \
            (result.stdout, files)
        result, files = download("acme-core>=2")
        assert result.returncode != 0, result.stdout
        result, files = download("acme-core==2.0")
        assert result.returncode == 0 and files == ["acme_core-2.0-py3-none-any.whl"], \
            result.stdout
        assert "yanked" in result.stdout and "broken build, use 1.0" in result.stdout, \
            result.stdout
        json_api = server.get("/pypi/acme-core/2.0/json", auth=user["dave"]).json()
        assert json_api["info"]["yanked"] is True
        assert json_api["info"]["yanked_reason"] == "broken build, use 1.0"
        assert server.get("/pypi/acme-core/json", auth=user["dave"]).json()["info"]["version"] \
            == "1.0"

        response = api(server, "POST", "/api/package/acme-core/2.0/unyank", user["bob"])
        assert response.status == 200, response
        result, files = download("acme-core")
        assert files == ["acme_core-2.0-py3-none-any.whl"], (result.stdout, files)


# ---- deleting ---------------------------------------------------------------------

@test
def delete_and_reupload_refused():
    with Standin(SCENARIO) as standin:
        server = start_index(standin, allow_delete="true")
        user = tokens_of(standin)
        directory = fresh_dir("dists")
        wheel = dists.wheel(directory, "acme-core", "1.0")
        sdist = dists.sdist(directory, "acme-core", "1.0")
        result = twine_upload(server, *user["bob"], wheel, sdist)
        assert result.returncode == 0, result.stdout
        name = os.path.basename(wheel)
        response = api(server, "DELETE", "/api/package/acme-core/%s" % name, user["bob"])
        assert response.status == 200 and response.json()["files"] == [name], response
        for path in ("/packages/acme-core/" + name, "/packages/acme-core/%s.metadata" % name):
            assert server.get(path, auth=user["dave"]).status == 404, path
        # Never again, not even with --skip-existing (it is not there).
        for extra in ((), ("--skip-existing",)):
            result = twine_upload(server, *user["bob"], wheel, extra=extra)
            assert result.returncode != 0, result.stdout
            assert "400" in result.stdout and "already been used" in result.stdout, result.stdout
        # The rest of the release, then a new version.
        response = api(server, "DELETE", "/api/package/acme-core/1.0", user["bob"])
        assert response.json()["files"] == [os.path.basename(sdist)], response
        assert server.get("/simple/acme-core/", auth=user["dave"]).status == 404
        assert api(server, "DELETE", "/api/package/acme-core/1.0", user["bob"]).status == 404
        newer = dists.wheel(directory, "acme-core", "1.0.1")
        assert twine_upload(server, *user["bob"], newer).returncode == 0
        # After a restart, still refused.
        server.stop()
        restarted = Ghaccess(server.settings, name="restarted").start()
        result = twine_upload(restarted, *user["bob"], sdist)
        assert result.returncode != 0 and "already been used" in result.stdout, result.stdout
        assert "action=delete user=bob decision=allow" in server.log()


@test
def changes_refused_to_those_who_may_not_write():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)       # allow_delete off
        user = tokens_of(standin)
        directory = fresh_dir("dists")
        core = dists.wheel(directory, "acme-core", "1.0")
        assert upload(server, *user["bob"], core, "acme-core", "1.0").status == 200
        secret = dists.wheel(directory, "acme-secret", "1.0")
        assert upload(server, *user["olivia"], secret, "acme-secret", "1.0").status == 200

        def unchanged():
            document = simple_json(server, user["dave"], "acme-core")
            assert [f["yanked"] for f in document["files"]] == [False], document

        # dave reads acme-core: 403, with the reason.
        for method, path in (("POST", "/api/package/acme-core/1.0/yank"),
                             ("POST", "/api/package/acme-core/1.0/unyank"),
                             ("DELETE", "/api/package/acme-core/1.0")):
            response = api(server, method, path, user["dave"], {"reason": "mine now"})
            assert response.status == 403, (path, response)
            assert b"dave may not" in response.body and b"read-only access" in response.body
        unchanged()
        # A package dave may not read is a package that does not exist.
        hidden = api(server, "POST", "/api/package/acme-secret/1.0/yank", user["dave"])
        absent = api(server, "POST", "/api/package/no-such-thing/1.0/yank", user["dave"])
        assert hidden.status == absent.status == 404 and hidden.body == absent.body
        # No credentials, wrong ones, an outside collaborator.
        assert api(server, "POST", "/api/package/acme-core/1.0/yank", None).status == 401
        assert api(server, "POST", "/api/package/acme-core/1.0/yank",
                   ("bob", "ghp_wrong")).status == 401
        assert api(server, "POST", "/api/package/acme-core/1.0/yank",
                   ("erin", first_tokens(standin)["erin"])).status == 401
        # A cross-site form (the browser adds Basic credentials it cached):
        # not JSON, refused before anything changes.
        # A form with enctype="text/plain" can even send a valid JSON body:
        # name '{"reason": "x", "pad": "', value '"}'.
        response = http_post(server.url, "/api/package/acme-core/1.0/yank",
                             b'{"reason": "x", "pad": "="}', auth=user["bob"],
                             headers={"Content-Type": "text/plain"})
        assert response.status == 415, response
        response = api(server, "POST", "/api/package/acme-core/1.0/yank", user["bob"],
                       b"reason=x", "application/x-www-form-urlencoded")
        assert response.status == 415, response
        unchanged()
        # The archived package: read-only for its owners too.
        response = api(server, "POST", "/api/package/acme-client/1.0/yank", user["olivia"])
        assert response.status == 403 and b"archived" in response.body, response
        # Deleting is off unless configured, even for a writer.
        response = api(server, "DELETE", "/api/package/acme-core/1.0", user["bob"])
        assert response.status == 403 and b"allow_delete" in response.body, response
        # A reason that would split a log line or a header.
        response = api(server, "POST", "/api/package/acme-core/1.0/yank", user["bob"],
                       {"reason": "x\r\nX-Injected: 1"})
        assert response.status == 400, response
        response = api(server, "POST", "/api/package/acme-core/1.0/yank", user["bob"],
                       {"reason": 42})
        assert response.status == 400, response
        unchanged()
        log = server.log()
        assert "action=yank user=dave decision=deny reason=\"no write access\"" in log, log
        assert "action=delete user=bob decision=deny reason=\"allow_delete is off\"" in log
        for token in first_tokens(standin).values():
            assert token not in log


# ---- hostile uploads ------------------------------------------------------------------

def raw_wheel(directory, filename, members, compression=zipfile.ZIP_DEFLATED):
    """A zip of (name, bytes) members, duplicates allowed."""
    path = os.path.join(directory, filename)
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def metadata_bomb(directory, filename, inflated):
    """A wheel whose METADATA inflates to `inflated` bytes of zeros, written
    in pieces so that the test never holds them."""
    path = os.path.join(directory, filename)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("acme_core-1.0.dist-info/METADATA", "w") as member:
            member.write(b"Name: acme-core\nVersion: 1.0\n\n")
            chunk = bytes(1 << 20)
            for _ in range(inflated >> 20):
                member.write(chunk)
    return path


def directory_bomb(directory, filename):
    """700 members with 16,000 empty extra fields each: 45 MB of zip
    directory (and as much in local headers) that libzip would hold at
    about 8 bytes per byte read."""
    path = os.path.join(directory, filename)
    metadata = dists.metadata("acme-core", "1.0")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("acme_core-1.0.dist-info/METADATA", metadata)
        for i in range(700):
            info = zipfile.ZipInfo("acme_core/f%d" % i)
            info.extra = b"\xfe\xca\x00\x00" * 16000
            archive.writestr(info, b"")
    return path


@test
def hostile_wheels_are_refused():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        user = tokens_of(standin)
        directory = fresh_dir("dists")
        metadata = dists.metadata("acme-core", "1.0")
        name = "acme_core-1.0-py3-none-any.whl"
        corrupt = os.path.join(directory, "c1")
        with open(corrupt, "wb") as file:
            file.write(b"PK\x03\x04" + os.urandom(4000))
        cases = {
            "a corrupt wheel": (corrupt, "not a valid zip archive"),
            "METADATA of another package": (
                dists.wheel(fresh_dir("d"), "acme-core", "1.0",
                            metadata_text=dists.metadata("acme-tools", "1.0")),
                "METADATA names the project acme-tools, not acme-core"),
            "METADATA of another version": (
                dists.wheel(fresh_dir("d"), "acme-core", "1.0",
                            metadata_text=dists.metadata("acme-core", "9.0")),
                "METADATA says version 9.0, not 1.0"),
            "no METADATA": (raw_wheel(directory, "c2", [("acme_core-1.0.dist-info/WHEEL", b"")]),
                            "no acme_core-1.0.dist-info/METADATA"),
            "a path out of the installation": (
                raw_wheel(directory, "c3", [("acme_core-1.0.dist-info/METADATA", metadata),
                                            ("../../../../etc/cron.d/evil", b"* * * * * x")]),
                "would be installed outside the installation directory"),
            "two members of one name": (
                raw_wheel(directory, "c4", [("acme_core-1.0.dist-info/METADATA", metadata),
                                            ("acme_core-1.0.dist-info/METADATA",
                                             dists.metadata("acme-tools", "1.0"))]),
                "not a valid zip archive"),
            "a 256 MiB METADATA bomb": (metadata_bomb(directory, "c5", 256 << 20),
                                      "METADATA is larger than 4194304 bytes"),
            "a huge METADATA": (raw_wheel(directory, "c6", [
                ("acme_core-1.0.dist-info/METADATA", metadata + b"\n" + b"A" * (5 << 20))]),
                "METADATA is larger than 4194304 bytes"),
            "a zip directory bomb": (directory_bomb(directory, "c7"),
                                     "zip directory is larger than the index reads"),
        }
        before = rss_peak_kib(server)
        for what, (path, reason) in cases.items():
            copy = os.path.join(fresh_dir("case"), name)
            with open(path, "rb") as source, open(copy, "wb") as target:
                target.write(source.read())
            response = upload(server, *user["bob"], copy, "acme-core", "1.0")
            assert response.status == 400, (what, response)
            assert reason.encode() in response.body, (what, response.body)
        # The bombs cost the server a bounded amount: libzip reads at most
        # 16 MiB of zip directory (about 8 bytes held per byte read, one
        # wheel at a time), at most 4 MiB of METADATA is inflated.  Measured:
        # 130 MiB with the bound (300 MiB under AddressSanitizer, whose
        # allocations cost more); without it the directory bomb alone takes
        # 350 MiB, and a larger one more.
        grown = rss_peak_kib(server) - before
        limit = (400 if sanitized() else 200) << 10
        print("hostile wheels: peak RSS grew by %d KiB (limit %d KiB)" % (grown, limit))
        assert grown < limit, "peak RSS grew by %d KiB" % grown
        assert server.get("/simple/acme-core/", auth=user["dave"]).status == 404
        # twine reads the wheel it uploads (it refuses a corrupt one itself)
        # and shows the server's reason phrase for one it could read.
        escaping = os.path.join(fresh_dir("twine"), name)
        with open(cases["a path out of the installation"][0], "rb") as source, \
                open(escaping, "wb") as target:
            target.write(source.read())
        result = twine_upload(server, *user["bob"], escaping)
        assert result.returncode != 0 and "400" in result.stdout, result.stdout
        assert "would be installed outside" in result.stdout.replace("\n", " "), result.stdout


@test
def names_and_digests_are_checked():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        user = tokens_of(standin)
        directory = fresh_dir("dists")
        # PEP 625: a legacy sdist name is refused, with the name to use.
        legacy = os.path.join(fresh_dir("legacy"), "acme-core-1.0.tar.gz")
        os.rename(dists.sdist(directory, "acme-core", "1.0"), legacy)
        result = twine_upload(server, *user["bob"], legacy)
        assert result.returncode != 0 and "400" in result.stdout, result.stdout
        assert "accepts acme_core-1.0.tar.gz" in result.stdout.replace("\n", " ") or \
            "acme_core-1.0.tar.gz" in result.stdout, result.stdout
        # Malformed wheel tags.
        good = dists.wheel(directory, "acme-core", "1.0")
        bad_tags = os.path.join(fresh_dir("tags"), "acme_core-1.0-py3..py2-none-any.whl")
        with open(good, "rb") as source, open(bad_tags, "wb") as target:
            target.write(source.read())
        response = upload(server, *user["bob"], bad_tags, "acme-core", "1.0")
        assert response.status == 400 and b"invalid wheel filename" in response.body, response
        # Each digest sent must match (twine and poetry send all three).
        for field, value in (("md5_digest", "0" * 32), ("blake2_256_digest", "1" * 64)):
            with open(good, "rb") as file:
                content = file.read()
            form = [(":action", "file_upload"), ("name", "acme-core"), ("version", "1.0"),
                    ("filetype", "bdist_wheel"), (field, value)]
            head, body, tail, content_type = dists.multipart_upload_body(
                form, os.path.basename(good), content)
            response = http_post(server.url, "/legacy/", head + body + tail, auth=user["bob"],
                                 headers={"Content-Type": content_type})
            assert response.status == 400, (field, response)
            assert ("%s does not match the uploaded file" % field).encode() in response.body
        # twine sends the right ones: accepted.
        assert twine_upload(server, *user["bob"], good).returncode == 0
        server.stop()
        # allow_legacy_sdist: older tools' names are accepted.
        legacy_server = start_index(standin, allow_legacy_sdist="true")
        result = twine_upload(legacy_server, *user["bob"], legacy)
        assert result.returncode == 0, result.stdout


# ---- the CLI on a running server's storage -------------------------------------------

def cli(*args, config):
    return subprocess.run([GHACCESS, "index"] + list(args[:1]) + ["--config", config]
                          + list(args[1:]), capture_output=True, text=True, cwd=ROOT, timeout=60)


@test
def cli_changes_a_running_servers_storage():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        user = tokens_of(standin)
        wheels = publish(server, user["bob"], "acme-core", ("1.0", "2.0"))
        directory = fresh_dir("dists")
        storage = server.settings["index"]["storage_dir"]
        # An upload in progress: the CLI must not touch its temporary file.
        large = dists.wheel(directory, "acme-core", "3.0", payload=os.urandom(8 << 20))
        connection = partial_upload(server, *user["bob"], large, "acme-core", "3.0", 4 << 20)
        wait_for(lambda: [n for n in os.listdir(storage) if n.startswith(".upload-")],
                 what="the upload's temporary file")
        temporary = [n for n in os.listdir(storage) if n.startswith(".upload-")]

        result = cli("yank", "--reason", "bad build", "Acme_Core", "1.0",
                     config=server.config_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "yank acme_core-1.0-py3-none-any.whl\n", result.stdout
        assert "msg=audit action=yank user=local:" in result.stderr, result.stderr
        assert "decision=allow reason=\"bad build\" package=acme-core" in result.stderr
        files = {f["filename"]: f for f in simple_json(server, user["dave"], "acme-core")["files"]}
        assert files["acme_core-1.0-py3-none-any.whl"]["yanked"] == "bad build", files
        assert set(temporary) <= set(os.listdir(storage)), "the CLI removed an upload"
        connection.close()

        assert cli("unyank", "acme-core", "1.0", config=server.config_path).returncode == 0
        files = {f["filename"]: f for f in simple_json(server, user["dave"], "acme-core")["files"]}
        assert files["acme_core-1.0-py3-none-any.whl"]["yanked"] is False

        # delete follows [index] allow_delete of the configuration it reads.
        result = cli("delete", "acme-core", "2.0", config=server.config_path)
        assert result.returncode == 1 and "allow_delete" in result.stderr, result.stderr
        allowing = os.path.join(workdir(), "allow-delete.ini")
        with open(server.config_path) as source, open(allowing, "w") as target:
            target.write(source.read().replace("[index]\n", "[index]\nallow_delete = true\n"))
        result = cli("delete", "--reason", "leaked key", "acme-core",
                     "acme_core-2.0-py3-none-any.whl", config=allowing)
        assert result.returncode == 0, result.stderr
        assert server.get("/packages/acme-core/acme_core-2.0-py3-none-any.whl",
                          auth=user["dave"]).status == 404
        response = upload(server, *user["bob"], wheels[1], "acme-core", "2.0")
        assert response.status == 400 and b"already been used" in response.body, response

        # Mistakes.
        assert cli("delete", "acme-core", "9.9", config=allowing).returncode == 1
        assert cli("yank", "acme-core", "not a version", config=allowing).returncode == 2
        assert cli("rename", "acme-core", "1.0", config=allowing).returncode == 2
        assert cli("unyank", "--reason", "x", "acme-core", "1.0", config=allowing).returncode == 2
        assert subprocess.run([GHACCESS, "index"], capture_output=True).returncode == 2
        help_text = subprocess.run([GHACCESS, "--help"], capture_output=True, text=True).stdout
        assert "index" in help_text and "yank, un-yank or delete" in help_text


if __name__ == "__main__":
    run_tests()
