#!/usr/bin/env python3
"""test_github_model.py - GitHub as it really is (issue 11), end to end.

The real server, CLI and GitHub client against the GitHub stand-in, where
the stand-in follows GitHub's documentation in places the client once
misread: collaborator permissions are the highest after every source and
permissionSources says which is direct; nullable fields are null; Apps are
reinstalled; the base permission may be configured and unverifiable;
repositories may be forks and templates.  Run by
tests/suites/github-model-e2e.sh; `python3 tests/e2e/test_github_model.py
[TEST...]` runs some tests alone.
"""

import copy
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    GHACCESS, ROOT, Ghaccess, Standin, ini_text, run_tests, scenario_settings, test, token_of,
    wait_for, workdir,
)

# The repository's own scenario (GHACCESS_SCENARIOS may name another directory).
SOURCES = os.path.join(ROOT, "tests", "scenarios", "permission-sources.json")
SECRET = "webhook-secret-github-model-0123456789"
CORE = "sources-core"        # core-lib's package
# A budget that pays the first sync (about 4 points) and leaves less than
# the 500 points webhook-triggered syncs must leave alone: every webhook
# refresh is skipped, only the removal applied from the payload counts.
LOW_BUDGET = ["--ratelimit-limit", "503"]


# ---- helpers ----------------------------------------------------------------

def secret_file():
    path = os.path.join(workdir(), "webhook.secret")
    if not os.path.exists(path):
        with open(path, "w", encoding="ascii") as file:
            file.write(SECRET + "\n")
        os.chmod(path, 0o600)
    return path


def settings_for(standin, **github):
    settings = scenario_settings(standin)
    settings["webhook"] = {"secret_file": secret_file(), "debounce_ms": 100}
    settings["github"].update(github)
    return settings


def deliver(standin, server, event, **options):
    request = {"url": server.url + "/webhook", "secret": SECRET, "event": event}
    request.update(options)
    report = standin.control("POST", "/_standin/webhook", request)
    assert report["status"] == 202, report
    return report


def permissions(server, login, package):
    """What pypicloud makes of the remote access protocol for login on
    package: login's entry in /user_permissions united with the entries
    of its groups (and "authenticated") in /group_permissions."""
    users = server.json("/user_permissions", package=package)
    groups = server.json("/group_permissions", package=package)
    mine = set(users.get(login, []))
    for group in server.json("/groups", username=login) + ["authenticated"]:
        mine |= set(groups.get(group, []) + groups.get("group:" + group, []))
    return sorted(mine)


def metric_value(server, series):
    text = server.get("/metrics", auth=None).body.decode("utf-8")
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def load(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def without_team_member(scenario, team, login):
    changed = copy.deepcopy(scenario)
    for entry in changed["teams"]:
        if entry["slug"] == team:
            entry["members"] = [m for m in entry["members"] if m["login"] != login]
    changed.pop("expect", None)
    return changed


def run_cli(command, settings, *args):
    """`ghaccess COMMAND --config FILE ARGS` (settings written to FILE);
    (exit status, stdout, stderr)."""
    path = os.path.join(workdir(), "%s-%d.ini" % (command, time.monotonic_ns()))
    with open(path, "w", encoding="utf-8") as file:
        file.write(ini_text(settings))
    out = subprocess.run([GHACCESS, command, "--config", path] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                         timeout=120)
    return out.returncode, out.stdout.decode("utf-8"), out.stderr.decode("utf-8")


def explain(settings, login, package):
    """`ghaccess explain` with a live sync; its output."""
    return run_cli("explain", settings, login, package)[1]


def sync_cli(settings, *args):
    """`ghaccess sync` with settings; (exit status, stdout, stderr)."""
    return run_cli("sync", settings, *args)


# ---- item 1: direct grants are the direct ones --------------------------------

def team_removal_keeps_only_the_direct_grant(scopes):
    standin = Standin(SOURCES, args=LOW_BUDGET)
    settings = settings_for(standin)
    if scopes is not None:
        scenario = copy.deepcopy(standin.scenario)
        scenario["server_token_scopes"] = scopes
        scenario.pop("expect", None)
        standin.set_scenario(scenario)
        settings["github"]["base_permission"] = "read"
    server = Ghaccess(settings).start()
    assert permissions(server, "frank", CORE) == ["read", "write"]
    text = explain(settings, "frank", CORE)
    assert "read, write: via team platform (of which frank is a member), which has WRITE " \
           "on core-lib" in text, text
    # GitHub's data changes, then the signed event.  GitHub answers in 4 s
    # meanwhile: the removal comes from the payload alone.
    standin.set_scenario(without_team_member(standin.scenario, "platform", "frank"))
    standin.reset_stats()
    standin.fault("slow", target="graphql", delay_ms=4000, count=1)
    started = time.monotonic()
    deliver(standin, server, "membership", payload_action="removed", login="frank",
            team="platform")
    wait_for(lambda: permissions(server, "frank", CORE) == ["read"], timeout=2.0,
             what="frank to keep read and lose write on %s" % CORE)
    print("frank lost write %.0f ms after the delivery" % ((time.monotonic() - started) * 1000),
          flush=True)
    # Then only platform's members are read again (a targeted read), no resync.
    wait_for(lambda: "targeted read" in server.log(), timeout=8, what="the targeted read")
    queries = standin.stats()["queries"]
    assert queries == {"TeamMembers": 1}, "more than the team's members were read: %r" % queries
    assert permissions(server, "frank", CORE) == ["read"]
    # Others keep what they had.
    assert permissions(server, "hank", CORE) == ["read", "write"]
    return settings


@test
def direct_read_survives_team_removal():
    """frank: direct READ on core-lib, WRITE through team platform; the
    budget is too low for a resync; the team removal (webhook) leaves him
    read, not write, within 2 s, and explain names the right source."""
    settings = team_removal_keeps_only_the_direct_grant(None)
    # GitHub now says: frank's highest is READ (base and direct), direct READ.
    text = explain(settings, "frank", CORE)
    assert "read: frank is a direct collaborator with READ on core-lib" in text, text


@test
def direct_read_survives_team_removal_without_admin_org():
    """The same with a token GitHub refuses permissionSources to (no
    admin:org): the direct level is inferred, never above what is known."""
    team_removal_keeps_only_the_direct_grant(["repo", "read:org"])


# ---- item 2: nullable fields cost only their item -------------------------------

@test
def nullable_fields_cost_only_their_item():
    """GitHub cannot tell core-lib's pyproject.toml's encoding (isBinary
    null) and gives olivia's membership no role: the sync succeeds, core-lib
    yields no package, olivia is a member but no owner, with warnings in
    sync, the log and /metrics; every other decision stands."""
    scenario = copy.deepcopy(load(SOURCES))
    scenario.pop("expect")
    for repository in scenario["repositories"]:
        if repository["name"] == "core-lib":
            repository["files"]["pyproject.toml"] = {"text": None, "isBinary": None}
    for user in scenario["users"]:
        if user["login"] == "olivia":
            user["null_fields"] = ["OrganizationMemberEdge.role"]
    standin = Standin(scenario)
    settings = settings_for(standin)
    status, out, err = sync_cli(settings)
    assert status == 0, err
    assert "core-lib: GitHub could not read pyproject.toml" in out, out
    assert "GitHub nulls:    2" in out, out
    assert "answered null for Blob.isBinary" in out, out
    assert "member olivia counts as a member, not an owner" in out, out
    status, out, err = sync_cli(settings, "--json")
    summary = json.loads(out)
    assert summary["github_nulls"] == 2, summary
    assert "sources-core" not in summary["packages"], summary
    assert summary["packages"]["sources-tools"] == "tools", summary
    assert summary["owner_logins"] == [], summary

    server = Ghaccess(settings).start()
    assert metric_value(server, "ghaccess_sync_github_nulls") == 2
    assert "answered null for Blob.isBinary" in server.log()
    assert permissions(server, "gina", "sources-tools") == ["read", "write"]
    assert server.json("/verify", username="olivia",
                       password=token_of(standin, "olivia")) is True
    assert server.json("/admin", username="olivia") is False


# ---- item 5: the App reinstalled ------------------------------------------------

APP_ID = "12345"
APP_KEY = os.path.join(ROOT, "tests", "data", "app", "test-app.pem")
APP_PUBLIC_KEY = os.path.join(ROOT, "tests", "data", "app", "test-app.pub.pem")


def app_server():
    standin = Standin(SOURCES, args=["--app-id", APP_ID, "--app-public-key", APP_PUBLIC_KEY])
    settings = settings_for(standin)
    settings["github"]["token"] = None
    settings["github"]["app_client_id"] = APP_ID
    settings["github"]["app_private_key_file"] = APP_KEY
    server = Ghaccess(settings).start()
    return standin, server


def syncs_ok(server):
    return metric_value(server, 'ghaccess_syncs_total{result="ok"}') or 0


def push(standin, server):
    """A push that touches pyproject.toml on the default branch: a refresh."""
    deliver(standin, server, "push", repository="core-lib")


@test
def app_reinstalled_recovers_without_restart():
    """The App is reinstalled (a new installation id; the old one 404s and
    its tokens are revoked): the next syncs find the new installation."""
    standin, server = app_server()
    before = syncs_ok(server)
    changed = standin.control("POST", "/_standin/app/installation", {"action": "reinstall"})
    push(standin, server)
    wait_for(lambda: syncs_ok(server) > before, timeout=15,
             what="a sync with the new installation")
    log = server.log()
    assert "installation 4242 is gone" in log, log
    assert "installation %d found" % changed["installation_id"] in log, log
    assert server.health()[0] == 200


@test
def app_installation_events_look_up_again():
    """The App is reinstalled (uninstalled, installed: a new id) and the
    installation webhook says so: the refresh it asks for looks the
    installation up first, so no sync fails on the revoked token."""
    standin, server = app_server()
    failed = metric_value(server, 'ghaccess_syncs_total{result="failed"}') or 0
    before = syncs_ok(server)
    changed = standin.control("POST", "/_standin/app/installation", {"action": "reinstall"})
    deliver(standin, server, "installation", payload={
        "action": "deleted", "installation": {"id": 4242, "account": {"login": "acme-sources"}}})
    deliver(standin, server, "installation", payload={
        "action": "created",
        "installation": {"id": changed["installation_id"], "account": {"login": "acme-sources"}}})
    wait_for(lambda: syncs_ok(server) > before, timeout=15, what="a sync after the events")
    log = server.log()
    assert "installation %d found" % changed["installation_id"] in log, log
    assert (metric_value(server, 'ghaccess_syncs_total{result="failed"}') or 0) == failed, log
    assert "is gone" not in log, log


# ---- item 6: a configured base permission nobody can verify ---------------------------

@test
def configured_base_permission_is_flagged_unverified():
    """A token without admin:org and [github] base_permission = read: the
    configured value is in force; every start says so, and /health and
    /metrics too.  With admin:org GitHub's value is verified."""
    scenario = copy.deepcopy(load(SOURCES))
    scenario.pop("expect")
    scenario["server_token_scopes"] = ["repo", "read:org"]
    standin = Standin(scenario)
    settings = settings_for(standin, base_permission="read")
    for start in range(2):
        server = Ghaccess(settings, name="unverified-%d" % start).start()
        wait_for(lambda: "base_permission is in force and unverified" in server.log(),
                 timeout=5, what="the warning at start")
        body = server.health()[1]
        assert body["base_permission"]["level"] == "read", body
        assert body["base_permission"]["source"] == "configured", body
        assert body["base_permission"]["verified"] is False, body
        assert "unverified" in body["base_permission"]["warning"], body
        assert metric_value(server, "ghaccess_base_permission_unverified") == 1
        server.stop()
    verified = Standin(SOURCES)
    server = Ghaccess(settings_for(verified, base_permission="read")).start()
    body = server.health()[1]
    assert body["base_permission"] == {"level": "read", "source": "github", "verified": True}, body
    assert metric_value(server, "ghaccess_base_permission_unverified") == 0
    assert "unverified" not in server.log()


# ---- item 7: forks and templates -------------------------------------------------

@test
def forks_and_templates_reported():
    """sync and explain name forks (with their parent) and templates;
    include_forks = false keeps a fork out, and its name never falls back."""
    standin = Standin(SOURCES)
    settings = settings_for(standin)
    status, out, err = sync_cli(settings)
    assert status == 0, err
    assert "forks:           1\n  requests (fork of psf/requests)\n" in out, out
    assert "templates:       1\n  package-template\n" in out, out
    assert "  requests <- requests (fork of psf/requests)\n" in out, out
    assert "  sources-template <- package-template (template)\n" in out, out
    summary = json.loads(sync_cli(settings, "--json")[1])
    assert summary["forks"] == {"requests": "psf/requests"}, summary
    assert summary["templates"] == ["package-template"], summary
    text = explain(settings, "frank", "requests")
    assert "note: requests is a fork of psf/requests, so the name requests is served from " \
           "the organization, never from another index" in text, text

    settings["github"]["include_forks"] = False
    summary = json.loads(sync_cli(settings, "--json")[1])
    assert "requests" not in summary["packages"], summary
    assert summary["skipped"]["requests"] == "fork of psf/requests (include_forks = false)"
    settings["index"] = {"storage_dir": os.path.join(workdir(), "index-storage"),
                         "fallback_url": "https://pypi.example/simple/"}
    server = Ghaccess(settings).start()
    olivia = ("olivia", token_of(standin, "olivia"))
    # The fork's name is the organization's: not served, never redirected.
    response = server.get("/simple/requests/", auth=olivia)
    assert response.status == 404 and "location" not in response.headers, response
    response = server.get("/simple/left-pad/", auth=olivia)
    assert response.status == 302, response


run_tests()
