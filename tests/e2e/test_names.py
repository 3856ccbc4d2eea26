#!/usr/bin/env python3
"""test_names.py - package name takeover through filtered or disabled repositories.

The attack of issue 10, item 1, end to end: the real server, the real
GitHub client, the stand-in serving tests/scenarios/name-takeover.json, and
twine, pip and pypicloud's replayed logic as clients.

An owner uploaded sandbox_pkg-1.0.0 to the built-in index; sandbox (older)
is in repo_exclude_list.  mallory, a member, creates mallory-sbx declaring
Sandbox_Pkg; after the next sync she must be able neither to read the
owner's file nor to upload 9.0.0.  The same for the names of a disabled
repository (old-service), of one outside repo_pattern (Legacy-Tools) and of
one outside repo_include_list (hidden-lib).  Such a name is reserved: owners
only in the built-in index, forward-auth and pypicloud, never sent to
fallback_url, and `sync` and `explain` report the conflict.
"""

import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dists  # noqa: E402
from harness import (GHACCESS, Ghaccess, Standin, helpers_of, ini_text,  # noqa: E402
                     load_scenario, run_tests, scenario_path, scenario_settings, test)
from pypicloud_model import Pypicloud  # noqa: E402

# The index tests' clients: twine, pip, the upload form.
_index = helpers_of("test_index")
client_env, fresh_dir, index_url = _index.client_env, _index.fresh_dir, _index.index_url
pip, tokens, twine_upload, upload = _index.pip, _index.tokens, _index.twine_upload, _index.upload

SCENARIO = scenario_path("name-takeover.json")
BACKEND = ("pypicloud", "backend-password-for-names")
FALLBACK = "https://pypi.example/simple/"
# The names mallory's repositories declare, with the older owner's variant.
RESERVED = {
    "sandbox-pkg": "mallory-sbx",      # owner in repo_exclude_list
    "old-service": "mallory-old",      # owner disabled
    "legacy-tools": "mallory-legacy",  # owner outside repo_pattern
    "hidden-lib": "mallory-hidden",    # owner outside repo_include_list
}
# How mallory spells them in her pyproject.toml (the takeover's spelling).
SPELLING = {"sandbox-pkg": "Sandbox_Pkg", "old-service": "old.service",
            "legacy-tools": "Legacy_Tools", "hidden-lib": "hidden.lib"}


def before_takeover(scenario):
    """The organization before mallory created her repositories."""
    later = set(RESERVED.values()) | {"mallory-core", "mallory-archived", "sandbox-copy"}
    earlier = json.loads(json.dumps(scenario))
    earlier["repositories"] = [r for r in earlier["repositories"] if r["name"] not in later]
    for team in earlier["teams"]:
        team["repositories"] = [g for g in team["repositories"] if g["name"] not in later]
    return earlier


def start_server(standin):
    settings = scenario_settings(standin)
    settings["index"] = {"storage_dir": os.path.join(fresh_dir("storage"), "packages"),
                         "fallback_url": FALLBACK}
    return Ghaccess(settings, backend=BACKEND).start()


def resync(server):
    """SIGHUP: a sync from GitHub now; wait until it is in place."""
    before = server.health()[1]["syncs"]
    server.signal(signal.SIGHUP)
    server.wait_health(200, check=lambda body: body["syncs"] > before)


def forward_auth(server, user, target, method="GET"):
    return server.get("/auth", auth=user, headers={"X-Original-URI": target,
                                                   "X-Original-Method": method}).status


def wheel_name(name, version):
    return "%s-%s-py3-none-any.whl" % (dists.escaped(name), version)


def assert_owners_only(server, name, mallory, bob, olivia):
    """Every front end answers the reserved name for owners only."""
    model = Pypicloud(server)
    page = "/simple/%s/" % name
    file_path = "/packages/%s/%s" % (name, wheel_name(name, "1.0.0"))
    for who in (mallory, bob):
        response = server.get(page, auth=who)
        assert response.status == 404 and "location" not in response.headers, \
            (who[0], name, response)
        assert server.get(file_path, auth=who).status == 404, (who[0], file_path)
        assert name not in server.get("/simple/", auth=who).body.decode(), (who[0], name)
        assert forward_auth(server, who, page) == 403, (who[0], name)
        assert forward_auth(server, who, "/x/" + wheel_name(name, "1.0.0")) == 403
        assert model.permissions(model.authenticate(*who), name) == [], (who[0], name)
    assert server.get(page, auth=olivia).status == 200, name
    assert server.get(file_path, auth=olivia).status == 200, name
    assert forward_auth(server, olivia, page) == 200, name
    # pypicloud: a package only owners may use, never two empty objects
    # (which would let pypi.default_read give it to every member).
    assert model.user_permissions(name) == {"olivia": ["read", "write"]}, name
    assert model.group_permissions(name) == {"ghaccess:members": []}, name
    assert model.user_permissions(SPELLING[name]) == model.user_permissions(name)
    assert model.permissions("olivia", name) == ["read", "write"], name
    # Whatever pypicloud's defaults: they never apply to the name.
    lax = Pypicloud(server, default_read=("everyone", "authenticated"),
                    default_write=("authenticated",))
    assert lax.permissions(lax.authenticate(*mallory), name) == [], name


@test
def a_member_cannot_take_over_a_reserved_name():
    scenario = load_scenario(SCENARIO)
    with Standin(before_takeover(scenario)) as standin:
        server = start_server(standin)
        secret = tokens(standin)
        olivia = ("olivia", secret["olivia"])
        mallory = ("mallory", secret["mallory"])
        bob = ("bob", secret["bob"])
        directory = fresh_dir("dists")
        # The owner's files, before the takeover.
        for name in RESERVED:
            path = dists.wheel(directory, name, "1.0.0")
            response = upload(server, "olivia", secret["olivia"], path, name, "1.0.0")
            assert response.status == 200, (name, response)

        # mallory creates her repositories; the next sync sees them.
        standin.set_scenario(scenario)
        resync(server)

        for name, repository in RESERVED.items():
            assert_owners_only(server, name, mallory, bob, olivia)
            # She cannot upload a newer version (twine, the real client) ...
            path = dists.wheel(fresh_dir("dists"), SPELLING[name], "9.0.0")
            result = twine_upload(server, "mallory", secret["mallory"], path)
            assert result.returncode != 0, (name, result.stdout)
            shown = " ".join(result.stdout.split())    # twine wraps long lines
            assert "403" in shown and "mallory may not upload %s" % name in shown, shown
            assert "an older repository of the organization declares this name" in shown, \
                shown
            # ... nor can bob, whose team has WRITE on mallory-sbx and sandbox.
            response = upload(server, "bob", secret["bob"], path, SPELLING[name], "9.0.0")
            assert response.status == 403, (name, response)
            # The owner still can.
            path = dists.wheel(fresh_dir("dists"), name, "2.0.0")
            response = upload(server, "olivia", secret["olivia"], path, name, "2.0.0")
            assert response.status == 200, (name, response)
            assert not os.path.exists(os.path.join(
                server.settings["index"]["storage_dir"], name, wheel_name(SPELLING[name],
                                                                          "9.0.0")))

        # pip, as mallory: the owner's package does not exist for her, and
        # she is not sent to the public index instead.
        result = pip(client_env(), "download", "--no-deps", "-d", fresh_dir("downloads"),
                     "--index-url", index_url(server, *mallory), "sandbox-pkg")
        assert result.returncode != 0, result.stdout
        assert "pypi.example" not in result.stdout, result.stdout
        result = pip(client_env(), "download", "--no-deps", "-d", fresh_dir("downloads"),
                     "--index-url", index_url(server, *olivia), "sandbox-pkg==2.0.0")
        assert result.returncode == 0, result.stdout

        # A newer repository declaring a package's name gets nothing either.
        path = dists.wheel(fresh_dir("dists"), "acme-core", "9.0.0")
        assert upload(server, "mallory", secret["mallory"], path, "acme-core",
                      "9.0.0").status == 403
        # A reserved name the index does not hold is not sent away either;
        # a name nobody declares is.
        standin.set_scenario(dict(scenario, repositories=scenario["repositories"] + [{
            "name": "zz-excluded", "id": 1006, "archived": False, "disabled": True,
            "default_branch": "main", "collaborators": [],
            "files": {"pyproject.toml": "[project]\nname = \"never-uploaded\"\n"}}]))
        resync(server)
        for who in (mallory, olivia):
            response = server.get("/simple/never-uploaded/", auth=who)
            assert response.status == 404 and "location" not in response.headers, response
        response = server.get("/simple/requests/", auth=mallory)
        assert response.status == 302 and response.headers["location"] == \
            FALLBACK + "requests/", response
        assert server.stop() == 0


def ghaccess_cli(*args):
    return subprocess.run([GHACCESS] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=120)


@test
def sync_and_explain_report_the_conflicts():
    scenario = load_scenario(SCENARIO)
    with Standin(scenario) as standin:
        config = os.path.join(fresh_dir("config"), "ghaccess.ini")
        with open(config, "w", encoding="utf-8") as file:
            file.write(ini_text({"github": scenario_settings(standin)["github"]}))
        result = ghaccess_cli("sync", "--config", config, "--json")
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["packages"] == scenario["expect"]["packages"], summary["packages"]
        assert summary["reserved"] == scenario["expect"]["reserved"], summary["reserved"]
        for name, repository in RESERVED.items():
            assert summary["conflicts"][repository] == {
                "name": name, "owner": scenario["expect"]["reserved"][name]}, summary
            assert "conflict: %s is reserved by" % name in summary["skipped"][repository]
        result = ghaccess_cli("sync", "--config", config)
        assert result.returncode == 0, result.stderr
        assert "  mallory-sbx declares sandbox-pkg, which belongs to sandbox (older " \
            "repository)" in result.stdout, result.stdout
        assert "  sandbox-pkg <- sandbox (excluded by repo_exclude_list)" in result.stdout

        result = ghaccess_cli("explain", "--config", config, "mallory", "Sandbox_Pkg")
        assert result.returncode == 1, result
        assert "sandbox-pkg is reserved" in result.stdout, result.stdout
        assert "conflict: the repository mallory-sbx also declares sandbox-pkg" \
            in result.stdout, result.stdout
        result = ghaccess_cli("explain", "--config", config, "olivia", "legacy_tools")
        assert result.returncode == 0 and "read, write: olivia is an owner" in result.stdout, \
            result.stdout


if __name__ == "__main__":
    run_tests()
