#!/usr/bin/env python3
"""test_pypicloud.py - `ghaccess serve` as pypicloud's remote access backend, end to end.

The real server, the real GitHub client and the GitHub stand-in; pypicloud
itself is replayed by pypicloud_model.  Run by tests/suites/pypicloud-e2e.sh;
`python3 tests/e2e/test_pypicloud.py [TEST...]` runs some tests alone.
"""

import concurrent.futures
import copy
import http.client
import json
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    BACKEND, GHACCESS, Ghaccess, basic_auth, Standin, free_port, ini_text, load_scenario, raw_exchange,
    run_tests, scenario_path, scenario_paths, scenario_settings, test, wait_for, workdir,
)
from pypicloud_model import Pypicloud, group_to_principal  # noqa: E402

WORKED = "worked-example.json"
# The group of every current member, holding the base permission (docs/pypicloud.md).
MEMBERS = "ghaccess:members"
NOBODY = "nobody-at-all"
NO_PACKAGE = "no-such-package"


# ---- helpers ----------------------------------------------------------------

def expected_permissions(scenario):
    table = {}
    for entry in scenario.get("expect", {}).get("permissions", []):
        table[(entry["user"], entry["package"])] = entry["permissions"]
    return table


def first_token(user):
    return user["tokens"][0] if user.get("tokens") else "ghp_no_token_at_all"


def spellings(key):
    """Other spellings of a normalized package name (PEP 503)."""
    return {key.upper(), key.replace("-", "_"), key.replace("-", "."),
            key.title().replace("-", "_"), key.replace("-", "-_.")}


def start_scenario(path, backend=BACKEND, **cache):
    standin = Standin(path)
    server = Ghaccess(scenario_settings(standin, **cache), backend=backend).start()
    return standin, server


def assert_equal(actual, expected, what):
    assert actual == expected, "%s: got %r, expected %r" % (what, actual, expected)


def stop_cleanly(server):
    status = server.stop()
    assert_equal(status, 0, "exit status of ghaccess after SIGTERM (log: ...%s)"
                 % server.log()[-2000:])


# ---- the conformance replay -------------------------------------------------

def check_logins(model, scenario):
    for login in scenario.get("expect", {}).get("logins", []):
        answer = model.verify_user(login["username"], login["password"])
        assert answer is True or answer is False, "verify must be a bare boolean"
        assert_equal(answer, login["ok"], "verify %s" % login["username"])


def owned_names(scenario):
    """The packages and the reserved names (owners only) of a scenario: both
    must be answered as packages, never as two empty objects."""
    expect = scenario["expect"]
    return sorted(set(expect.get("packages", {})) | set(expect.get("reserved", {})))


def check_decisions(model, scenario):
    """Every user x package: what pypicloud decides from our answers."""
    expect = scenario["expect"]
    table = expected_permissions(scenario)
    admins = set(expect.get("admins", []))
    packages = owned_names(scenario)
    for user in scenario["users"]:
        login = user["login"]
        userid = model.authenticate(login, first_token(user))
        for package in packages:
            expected = table.get((login, package), [])
            answers = model.permissions(userid, package, admin_bypass=False)
            assert_equal(answers, expected, "answers for %s on %s" % (login, package))
            decided = model.permissions(userid, package)
            if userid in admins:
                # pypicloud gives admins everything, archived or not.
                assert_equal(decided, ["read", "write"], "admin %s on %s" % (login, package))
            else:
                assert_equal(decided, expected, "pypicloud's decision for %s on %s"
                             % (login, package))
    for package in packages:
        assert_equal(model.permissions(None, package), [], "anonymous on %s" % package)
        users = model.user_permissions(package)
        groups = model.group_permissions(package)
        assert isinstance(users, dict) and isinstance(groups, dict)
        assert users or groups, "%s answered two empty objects" % package
        for spelling in spellings(package):
            assert_equal(model.user_permissions(spelling), users, "user_permissions " + spelling)
            assert_equal(model.group_permissions(spelling), groups,
                         "group_permissions " + spelling)


def members_of(scenario):
    return {user["login"] for user in scenario["users"] if user.get("org_role")}


def check_admins_and_groups(model, scenario):
    expect = scenario["expect"]
    logins = [user["login"] for user in scenario["users"]]
    members = members_of(scenario)
    if "admins" in expect:
        admins = {login for login in logins if model.is_admin(login)}
        assert_equal(admins, set(expect["admins"]), "admins")
    for login in logins:
        assert model.is_admin(login) in (True, False)
        groups = model.groups(login)
        # Every member, and nobody else, is in the members group.
        assert_equal(MEMBERS in groups, login in members, "%s in %s" % (login, MEMBERS))
    for login, groups in expect.get("groups", {}).items():
        expected = groups + ([MEMBERS] if login in members else [])
        assert_equal(sorted(model.groups(login)), sorted(expected), "groups of %s" % login)
    for group, group_members in expect.get("group_members", {}).items():
        assert_equal(sorted(model.group_members(group)), sorted(group_members),
                     "members of %s" % group)
    assert_equal(sorted(model.group_members(MEMBERS)), sorted(members), "members of " + MEMBERS)
    all_groups = model.groups()
    assert MEMBERS in all_groups, all_groups
    for groups in expect.get("groups", {}).values():
        assert set(groups) <= set(all_groups), "every group is in /groups"


def check_inverses(model, scenario):
    """/user_package_permissions and /group_package_permissions are the exact
    inverse of the per-package answers."""
    packages = owned_names(scenario)
    by_user, by_group = {}, {}
    for package in packages:
        for login, perms in model.user_permissions(package).items():
            by_user.setdefault(login, set()).add((package, tuple(perms)))
        for group, perms in model.group_permissions(package).items():
            by_group.setdefault(group, set()).add((package, tuple(perms)))
    logins = {user["login"] for user in scenario["users"]} | {NOBODY}
    for login in logins | set(by_user):
        answer = {(item["package"], tuple(item["permissions"]))
                  for item in model.user_package_permissions(login)}
        assert_equal(answer, by_user.get(login, set()), "user_package_permissions " + login)
    # A group is asked for by its name as /groups gives it; its entries are
    # the keys of /group_permissions that pypicloud maps to group:<name>.
    by_principal = {}
    for key, entries in by_group.items():
        by_principal.setdefault(group_to_principal(key), set()).update(entries)
    for key in by_group:
        assert group_to_principal(key).startswith("group:"), "special principal " + key
    groups = set(model.groups()) | {"authenticated", "everyone", "nope", MEMBERS}
    for group in groups:
        answer = {(item["package"], tuple(item["permissions"]))
                  for item in model.group_package_permissions(group)}
        assert_equal(answer, by_principal.get("group:" + group, set()),
                     "group_package_permissions " + group)
    named = {"group:" + group for group in model.groups()}
    assert set(by_principal) <= named, "a /group_permissions key no group has: %r" % (
        set(by_principal) - named)


def check_user_data(model, scenario):
    members = {user["login"] for user in scenario["users"] if user.get("org_role")}
    everybody = model.user_data()
    assert_equal({entry["username"] for entry in everybody}, members, "user_data()")
    for entry in everybody:
        assert_equal(entry["admin"], model.is_admin(entry["username"]), "user_data admin")
    for user in scenario["users"]:
        data = model.user_data(user["login"])
        if user["login"] not in members:
            assert_equal(data, None, "user_data of non-member " + user["login"])
            continue
        assert_equal(data["username"], user["login"], "user_data username")
        assert_equal(data["admin"], model.is_admin(user["login"]), "user_data admin")
        assert_equal(sorted(data["groups"]), sorted(model.groups(user["login"])),
                     "user_data groups")


def check_unknowns(model, server):
    assert_equal(model.is_admin(NOBODY), False, "/admin of an unknown user")
    assert_equal(server.json("/admin"), False, "/admin without username (anonymous)")
    assert_equal(model.groups(NOBODY), [], "/groups of an unknown user")
    assert_equal(model.group_members("no-such-group"), [], "/group_members unknown")
    assert_equal(model.user_permissions(NO_PACKAGE), {}, "/user_permissions unknown")
    assert_equal(model.group_permissions(NO_PACKAGE), {}, "/group_permissions unknown")
    assert_equal(model.user_data(NOBODY), None, "/user_data unknown")
    assert_equal(model.user_package_permissions(NOBODY), [], "inverse of an unknown user")
    assert_equal(model.group_package_permissions("no-such-group"), [], "inverse unknown group")
    assert_equal(model.verify_user(NOBODY, "ghp_whatever"), False, "/verify unknown user")


def check_scenario(server, scenario):
    model = Pypicloud(server)
    check_logins(model, scenario)
    check_decisions(model, scenario)
    check_admins_and_groups(model, scenario)
    check_inverses(model, scenario)
    check_user_data(model, scenario)
    check_unknowns(model, server)


@test
def conformance_of_every_shared_scenario():
    for path in scenario_paths():
        scenario = load_scenario(path)
        if "expect" not in scenario:
            continue
        _, server = start_scenario(path, backend=BACKEND)
        try:
            check_scenario(server, scenario)
        except AssertionError as error:
            raise AssertionError("%s: %s" % (os.path.basename(path), error)) from error
        stop_cleanly(server)


# Team names pypicloud would read as something else, and what each team is
# called in our answers (group_name = name, so any display name is a key).
TRICKY_TEAMS = {
    "everyone": "everyone",
    "authenticated": "authenticated",
    "system.Everyone": "system.Everyone",
    "group:platform": "group:platform",
    MEMBERS: "ghaccess:team:" + MEMBERS,
    "ghaccess:team:x": "ghaccess:team:ghaccess:team:x",
}


@test
def special_team_names_never_become_special_principals():
    """Teams named like pypicloud's special principals, or like the members
    group, only reach their own members, and every answer names them alike:
    /group_package_permissions answers for the name /groups and
    /group_members give (pypicloud's admin page of a group)."""
    scenario = load_scenario(scenario_path(WORKED))
    original = expected_permissions(scenario)
    for index, name in enumerate(TRICKY_TEAMS):
        scenario["teams"].append({
            "slug": "tricky-%d" % index, "name": name, "id": 290 + index, "parent": None,
            "members": [{"login": "dave", "role": "MEMBER"}],
            "repositories": [{"name": "core-lib", "permission": "ADMIN"}]})
    standin = Standin(scenario)
    settings = scenario_settings(standin)
    settings["github"]["group_name"] = "name"
    server = Ghaccess(settings).start()
    model = Pypicloud(server)
    groups = model.group_permissions("acme-core")
    assert_equal(groups[MEMBERS], ["read"], "the base permission")
    for key in groups:
        assert group_to_principal(key).startswith("group:"), "special principal " + key
    dave_groups = model.groups("dave")
    for name, shown in TRICKY_TEAMS.items():
        assert shown in dave_groups, (shown, dave_groups)
        assert_equal(model.group_members(shown), ["dave"], "members of " + shown)
        assert_equal(model.group_package_permissions(shown),
                     [{"package": "acme-core", "permissions": ["read", "write"]}],
                     "group_package_permissions " + shown)
        assert_equal(group_to_principal(
            next(key for key in groups if group_to_principal(key) == "group:" + shown)),
            "group:" + shown, "the key of " + shown)
    assert_equal(sorted(model.group_members(MEMBERS)), sorted(members_of(scenario)),
                 "the members group is every member, not the team named like it")
    for user in scenario["users"]:
        login = user["login"]
        userid = model.authenticate(login, first_token(user))
        expected = (["read", "write"] if login == "dave"
                    else original.get((login, "acme-core"), []))
        assert_equal(model.permissions(userid, "acme-core", admin_bypass=False), expected,
                     "%s on acme-core" % login)
    assert_equal(model.permissions(None, "acme-core"), [], "anonymous")
    stop_cleanly(server)


# ---- pypicloud's web sessions --------------------------------------------------

def remove_members(standin, scenario, logins):
    changed = copy.deepcopy(scenario)
    for user in changed["users"]:
        if user["login"] in logins:
            user["org_role"] = None
    for team in changed["teams"]:
        team["members"] = [m for m in team["members"] if m["login"] not in logins]
    standin.set_scenario(changed)
    return changed


@test
def a_member_who_leaves_loses_everything_through_an_old_web_session():
    """pypicloud's login form asks /verify once and keeps the login in a
    cookie session; later requests never ask /verify again and get
    system.Authenticated.  So the base permission must not ride on
    "authenticated": a member who leaves the organization must read nothing
    through a session opened before (recommended pypi.default_read empty)."""
    scenario = load_scenario(scenario_path(WORKED))
    table = expected_permissions(scenario)
    packages = sorted(scenario["expect"]["packages"])
    standin, server = start_scenario(scenario_path(WORKED))
    model = Pypicloud(server, default_read=())
    leavers = ("carol", "dave", "olivia")
    sessions = {}
    for user in scenario["users"]:
        if user["login"] in leavers:
            sessions[user["login"]] = model.login_form(user["login"], first_token(user))
            assert sessions[user["login"]] is not None, "login form for " + user["login"]
    verifies = model.calls["/verify"]
    for login, session in sessions.items():
        userid = model.session_user(session)
        for package in packages:
            assert_equal(model.permissions(userid, package, admin_bypass=False),
                         table.get((login, package), []), "%s on %s by session" % (login, package))
    assert_equal(model.calls["/verify"], verifies, "a session never asks /verify again")
    assert model.permissions(model.session_user(sessions["dave"]), "acme-core") == ["read"], \
        "dave reads acme-core through the base permission only"

    remove_members(standin, scenario, leavers)
    server.reload()
    server.wait_health(200, check=lambda body: body["members"] == 1)
    for login, session in sessions.items():
        userid = model.session_user(session)
        assert_equal(userid, login, "the cookie still names " + login)
        assert_equal(model.groups(login), [], "groups of %s after leaving" % login)
        assert_equal(model.is_admin(login), False, "admin after leaving: " + login)
        for package in packages + [NO_PACKAGE]:
            assert_equal(model.permissions(userid, package), [],
                         "%s on %s through the old session" % (login, package))
    assert_equal(model.calls["/verify"], verifies, "the session path asks no /verify")
    assert_equal(model.verify_user("carol", first_token(scenario["users"][2])), False,
                 "a new login is refused too")
    # Why pypi.default_read must be empty: with pypicloud's default
    # (["authenticated"]) a leaver's session still reads packages that no
    # repository declares.
    defaults = Pypicloud(server)
    assert_equal(defaults.permissions(defaults.session_user(sessions["dave"]), NO_PACKAGE),
                 ["read"], "pypicloud's default_read on an unclaimed package")
    stop_cleanly(server)


# ---- no backend credentials: the protocol is off -----------------------------

PYPICLOUD_CALLS = [
    ("/user_data", {}), ("/user_data", {"username": "olivia"}), ("/groups", {}),
    ("/groups", {"username": "carol"}), ("/group_members", {"group": "platform"}),
    ("/user_package_permissions", {"username": "olivia"}),
    ("/group_package_permissions", {"group": "platform"}), ("/admin", {"username": "olivia"}),
    ("/user_permissions", {"package": "acme-core"}),
    ("/group_permissions", {"package": "acme-core"}),
]


def anonymous_answers(server, token):
    """Every pypicloud call without credentials, as an anonymous client makes it."""
    calls = PYPICLOUD_CALLS + [("/verify", {"username": "bob", "password": token})]
    return [(path, server.get(path, params=params, auth=None)) for path, params in calls]


@test
def pypicloud_protocol_is_off_without_backend_credentials():
    """The attack: with no backend credentials configured, an anonymous
    client asks who the members, owners and teams are, which private
    packages exist, and uses /verify to test tokens.  Every call is 404 and
    GitHub is never asked; check-config and the start-up log say how to turn
    the protocol on; a reload that sets credentials turns it on (401 without
    them), and one that removes them turns it off again."""
    scenario = load_scenario(scenario_path(WORKED))
    bob = first_token(scenario["users"][1])
    standin = Standin(scenario_path(WORKED))
    server = Ghaccess(scenario_settings(standin), backend=None).start()
    before = user_requests(standin)
    for path, response in anonymous_answers(server, bob):
        assert_equal(response.status, 404, "%s without backend credentials" % path)
        for secret in ("olivia", "carol", "platform", "acme-core", "true"):
            assert secret.encode() not in response.body, (path, response.body)
    assert_equal(user_requests(standin) - before, 0, "GitHub asked about a token: an oracle")
    for path, params in PYPICLOUD_CALLS[:2]:
        response = server.get(path, params=params, auth=BACKEND)
        assert_equal(response.status, 404, "%s with credentials nobody configured" % path)
    assert_equal(server.get("/health", auth=None).status, 200, "/health stays open")
    wait_for(lambda: "pypicloud protocol is off" in server.log(), what="the start-up warning")
    assert "backend_user" in server.log(), "the log says how to turn it on"
    check = subprocess.run([GHACCESS, "check-config", "--config", server.config_path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=30, check=False)
    assert_equal(check.returncode, 0, "check-config: " + check.stderr)
    assert re.search(r"^# the pypicloud protocol is off \(404\): set \[server\] backend_user",
                     check.stdout, re.M), check.stdout

    # A reload with credentials turns it on: anonymous 401, pypicloud 200.
    server.backend = BACKEND
    server.settings["server"].update(backend_user=BACKEND[0], backend_password=BACKEND[1])
    server.write_config()
    server.reload()
    wait_for(lambda: server.get("/admin", params={"username": "olivia"}).status == 200,
             what="the protocol after a reload with credentials")
    for path, response in anonymous_answers(server, bob):
        assert_equal(response.status, 401, "%s anonymous, credentials configured" % path)
    assert_equal(server.json("/admin", username="olivia"), True, "pypicloud's call")
    assert_equal(user_requests(standin) - before, 0, "no token check for anonymous calls")

    # And a reload without them turns it off again.
    del server.settings["server"]["backend_user"], server.settings["server"]["backend_password"]
    server.write_config()
    server.reload()
    wait_for(lambda: server.get("/admin", params={"username": "olivia"}).status == 404,
             what="the protocol off after a reload without credentials")
    stop_cleanly(server)


# ---- the token cache, seen from outside -------------------------------------

def user_requests(standin):
    return standin.stats()["user_requests"]


@test
def verify_asks_github_once_and_membership_every_time():
    scenario = load_scenario(scenario_path(WORKED))
    standin, server = start_scenario(scenario_path(WORKED))
    users = {user["login"]: user for user in scenario["users"]}
    model = Pypicloud(server)

    before = user_requests(standin)
    for _ in range(5):
        assert_equal(model.verify_user("dave", first_token(users["dave"])), True, "dave")
    assert_equal(user_requests(standin) - before, 1, "GET /user for 5 verifies of one token")

    # 100 concurrent first requests for one new token: one GitHub call.
    before = user_requests(standin)
    carol = first_token(users["carol"])
    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(lambda _: model.verify_user("carol", carol), range(100)))
    assert_equal(answers, [True] * 100, "100 concurrent verifies")
    assert_equal(user_requests(standin) - before, 1, "GET /user for 100 concurrent verifies")

    # Keep-alive: several answers on one connection (libmicrohttpd closes
    # the connection when an answer is queued too early).
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for _ in range(3):
        connection.request("GET", "/admin?username=olivia",
                           headers={"Authorization": basic_auth(*server.backend)})
        reply = connection.getresponse()
        assert_equal(reply.read(), b"true", "/admin on a kept-alive connection")
        assert reply.getheader("Connection", "").lower() != "close", reply.getheaders()
    connection.close()

    # A definite no is cached too (negative_ttl), briefly.
    before = user_requests(standin)
    for _ in range(3):
        assert_equal(model.verify_user("carol", "wrong-token"), False, "wrong token")
    assert_equal(user_requests(standin) - before, 1, "GET /user for a refused token")

    # Remove bob from the organization; after the refresh his cached, still
    # valid token no longer logs in.
    bob = first_token(users["bob"])
    assert_equal(model.verify_user("bob", bob), True, "bob before")
    remove_members(standin, scenario, ("bob",))
    server.reload()
    server.wait_health(200, check=lambda body: body["members"] == 3)
    before = user_requests(standin)
    for _ in range(3):
        assert_equal(model.verify_user("bob", bob), False, "bob after removal")
    assert user_requests(standin) - before <= 1, "the token is cached; membership decides"
    assert_equal(model.groups("bob"), [], "bob's groups after removal")
    assert "bob" not in json.dumps(model.group_members("platform"))
    assert_equal(model.verify_user("carol", carol), True, "carol still logs in")
    stop_cleanly(server)


# ---- hostile and broken input -------------------------------------------------

def assert_serving(server, token):
    assert_equal(server.get("/health").status, 200, "health after bad input")
    assert_equal(server.json("/verify", username="olivia", password=token), True,
                 "a good verify after bad input")


@test
def bad_input_gets_a_safe_no_and_the_server_keeps_serving():
    scenario = load_scenario(scenario_path(WORKED))
    olivia = first_token(scenario["users"][0])
    bob = first_token(scenario["users"][1])
    _, server = start_scenario(scenario_path(WORKED), backend=BACKEND)

    def raw(query, path="/verify"):
        response = server.get(path, query=query)
        assert_equal(response.status, 200, "%s?%s" % (path, query))
        assert_equal(response.headers.get("content-type"), "application/json", "content type")
        return response.json()

    # Missing, empty, repeated parameters.
    assert_equal(raw(""), False, "verify without parameters")
    assert_equal(raw("username=bob"), False, "verify without password")
    assert_equal(raw("password=" + bob), False, "verify without username")
    assert_equal(raw("username=&password=" + bob), False, "empty username")
    assert_equal(raw("username=bob&password="), False, "empty password")
    assert_equal(raw("username=bob&username=bob&password=" + bob), False, "username twice")
    assert_equal(raw("username=bob&password=%s&password=%s" % (bob, bob)), False, "password twice")
    assert_equal(raw("username=bob&password=" + bob), True, "the same, once")
    assert_equal(raw("package=acme-core&package=acme-core", "/user_permissions"), {},
                 "package twice")
    assert_equal(raw("", "/user_permissions"), {}, "no package")
    assert_equal(raw("", "/group_permissions"), {}, "no package")
    assert_equal(raw("username=olivia&username=olivia", "/admin"), False, "username twice")
    assert_equal(raw("username=bob&username=bob", "/groups"), [], "groups, username twice")
    assert_equal(raw("", "/group_members"), [], "group_members without group")
    assert_equal(raw("username=x&username=y", "/user_data"), None, "user_data twice")
    # Invalid UTF-8, bad escapes, NUL, over-long values.
    assert_equal(raw("username=bob%C3&password=" + bob), False, "truncated UTF-8")
    assert_equal(raw("username=b%C0%AFob&password=" + bob), False, "overlong UTF-8")
    assert_equal(raw("username=bob%00&password=" + bob), False, "NUL")
    assert_equal(raw("username=bob&password=%zz"), False, "bad escape")
    assert_equal(raw("username=bob&password=" + bob + "%"), False, "truncated escape")
    assert_equal(raw("package=acme%FFcore", "/user_permissions"), {}, "invalid UTF-8 package")
    assert_equal(raw("username=olivia%ED%A0%80", "/admin"), False, "surrogate")
    assert_equal(raw("username=bob&password=" + "A" * 5000), False, "over-long password")
    assert_equal(raw("package=" + "a" * 5000, "/user_permissions"), {}, "over-long package")
    assert_equal(raw("username=bob+&password=" + bob), False, "plus is a space")
    assert_equal(raw("username=%62%6F%62&password=" + bob), True, "escaped letters decode")

    # Backend credentials: missing, wrong, malformed, duplicated.
    for auth in (None, ("pypicloud", "wrong"), ("other", BACKEND[1]), ("", ""),
                 (BACKEND[0], BACKEND[1] + "x")):
        response = server.get("/admin", params={"username": "olivia"}, auth=auth)
        assert_equal(response.status, 401, "credentials %r" % (auth,))
        assert response.headers.get("www-authenticate", "").startswith("Basic realm="), \
            response.headers
        assert_equal(response.headers.get("content-type"), "application/json", "401 type")
    for header in ("Basic", "Basic !!!!", "Bearer x", "Basic cHlwaWNsb3Vk"):
        response = server.get("/admin", params={"username": "olivia"}, auth=None,
                              headers={"Authorization": header})
        assert_equal(response.status, 401, "Authorization %r" % header)
    assert_equal(server.get("/health", auth=None).status, 200, "/health needs no credentials")
    assert_equal(server.get("/nope").status, 404, "unknown path")
    assert_equal(server.get("/verify/").status, 404, "trailing slash")
    assert_equal(server.get("/verify", method="POST").status, 405, "POST")

    # Malformed HTTP on raw sockets.
    port = server.port
    for data in (b"GARBAGE\r\n\r\n", b"GET /verify HTTP/9.9\r\n\r\n",
                 b"GET /verify HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n",
                 b"GET  /verify  HTTP/1.1\r\n\r\n", b"\x00\xff\xfe\r\n\r\n",
                 b"GET /verify?username=bob HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"GET /verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                 b"GET /verify?username=bob HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                 b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                 b"GET /verify HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc",
                 b"GET /verify?username=bob&password=" + bob.encode() + b" HTTP/1.1\r\n"):
        reply = raw_exchange(port, data, timeout=2)
        assert not reply.startswith(b"HTTP/1.1 2") or b"false" in reply, (data, reply)
    huge = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"
    reply = raw_exchange(port, huge, timeout=5)
    assert not reply.startswith(b"HTTP/1.1 200"), reply[:100]
    many = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n"
    reply = raw_exchange(port, many, timeout=5)
    assert not reply.startswith(b"HTTP/1.1 200"), reply[:100]
    long_uri = b"GET /verify?username=" + b"b" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    reply = raw_exchange(port, long_uri, timeout=5)
    assert not reply.startswith(b"HTTP/1.1 200"), reply[:100]
    # A client that opens and says nothing, and one that stops half way.
    idle = socket.create_connection(("127.0.0.1", port))
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"GET /verify?username=bob&pass")
    assert_serving(server, olivia)
    idle.close()
    half.close()
    assert_serving(server, olivia)

    # Nothing secret in the log: tokens, passwords, query strings.
    stop_cleanly(server)
    log = server.log()
    secrets = [BACKEND[1], "wrong-token"] + [t for u in scenario["users"] for t in u["tokens"]]
    for secret in secrets:
        assert secret not in log, "the log holds a secret"
    for line in log.splitlines():
        if "msg=request" in line:
            path = re.search(r" path=(\S+)", line)
            assert path and "?" not in path.group(1) and "=" not in path.group(1), line
    assert "password=" not in log and "username=" not in log, "a query string was logged"
    assert "user=olivia" in log, "verified users are named in the access log"


# ---- the snapshot lifecycle ---------------------------------------------------

@test
def health_before_first_snapshot_stale_and_recovery():
    scenario = load_scenario(scenario_path(WORKED))
    olivia = first_token(scenario["users"][0])
    # A budget under which a sync every second (expiration) stands: the
    # test needs a failed sync seen before the 3 s max_stale passes.
    standin = Standin(scenario_path(WORKED), args=["--ratelimit-limit", "100000000"])
    standin.fault("down")
    server = Ghaccess(scenario_settings(standin, expiration=1, max_stale=3)).start(ready=False)
    body = server.wait_health(503)
    assert_equal(body["status"], "starting", "status before the first snapshot")
    assert body["snapshot_age_seconds"] is None
    assert_equal(server.json("/verify", username="olivia", password=olivia), False,
                 "no snapshot: no login")
    assert_equal(server.json("/user_permissions", package="acme-core"), {}, "no snapshot")
    assert_equal(server.json("/group_permissions", package="acme-core"), {MEMBERS: []},
                 "no snapshot: no fallback to pypicloud's defaults")
    body = server.wait_health(503, check=lambda b: "last_sync_error" in b)
    standin.clear_fault()
    body = server.wait_health(200)
    assert_equal(body["status"], "ok", "status after recovery")
    assert_equal(body["members"], 4, "members")
    assert_equal(body["packages"], 3, "packages")
    assert_equal(body["teams"], 2, "teams")
    assert_equal(server.json("/verify", username="olivia", password=olivia), True, "login")

    # GitHub goes away: the last snapshot serves until max_stale, then no.
    standin.fault("down")
    body = server.wait_health(503, timeout=15)
    assert_equal(body["status"], "stale", "status when stale")
    assert "max_stale" in body["reason"], body
    assert "last_sync_error" in body, body
    assert_equal(server.json("/verify", username="olivia", password=olivia), False,
                 "stale: even a cached token is refused")
    assert_equal(server.json("/admin", username="olivia"), False, "stale: no admin")
    assert_equal(server.json("/groups", username="carol"), [], "stale: no groups")
    assert_equal(server.json("/user_permissions", package="acme-core"), {}, "stale")
    standin.clear_fault()
    server.wait_health(200, timeout=15)
    assert_equal(server.json("/verify", username="olivia", password=olivia), True, "recovered")
    stop_cleanly(server)


@test
def snapshot_file_serves_without_github():
    """`ghaccess sync --out FILE` while GitHub is there, then `serve
    --snapshot FILE` while it is not."""
    scenario = load_scenario(scenario_path(WORKED))
    path = os.path.join(workdir(), "worked.snapshot.json")
    standin = Standin(scenario_path(WORKED))
    sync_config = os.path.join(workdir(), "sync.ini")
    with open(sync_config, "w", encoding="utf-8") as file:
        file.write(ini_text(scenario_settings(standin)))
    subprocess.run([GHACCESS, "sync", "--config", sync_config, "--out", path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    standin.stop()
    settings = {
        "github": {"organization": "acme", "token": "ghp_unused",
                   "api_url": "http://127.0.0.1:%d" % free_port(),
                   "graphql_url": "http://127.0.0.1:%d/graphql" % free_port(),
                   "timeout": 2, "connect_timeout": 1},
        "cache": {"expiration": 300},
    }
    server = Ghaccess(settings, snapshot=path).start()
    model = Pypicloud(server)
    table = expected_permissions(scenario)
    for user in scenario["users"]:
        for package in scenario["expect"]["packages"]:
            answers = model.allowed_permissions(package)
            granted = [perm for perm in ("read", "write") if any(
                perm in answers.get(p, ()) for p in
                model.user_principals(user["login"]))] if user.get("org_role") else []
            assert_equal(granted, table.get((user["login"], package), []),
                         "%s on %s from the file" % (user["login"], package))
    assert_equal(model.is_admin("olivia"), True, "admin from the file")
    # GitHub is unreachable: nobody's token can be checked.
    assert_equal(model.verify_user("olivia", first_token(scenario["users"][0])), False,
                 "unverifiable login")
    stop_cleanly(server)

    broken = os.path.join(workdir(), "broken.snapshot.json")
    with open(broken, "w", encoding="utf-8") as file:
        file.write('{"format": "ghaccess-snapshot", "version": 1, "members": 3}')
    bad = Ghaccess(settings, snapshot=broken)
    try:
        bad.start(ready=False)
    except AssertionError:
        pass
    wait_for(lambda: not bad.running(), timeout=10, what="exit on a broken snapshot file")
    assert bad.popen.returncode != 0, "a broken snapshot file must not start"


@test
def sighup_with_a_broken_configuration_keeps_serving():
    _, server = start_scenario(scenario_path(WORKED))
    with open(server.config_path, "a", encoding="utf-8") as file:
        file.write("\n[github]\nno_such_key = 1\n")
    server.reload()
    wait_for(lambda: "reload failed" in server.log(), timeout=10, what="the reload error")
    assert_equal(server.health()[0], 200, "still serving")
    server.write_config()
    server.reload()
    wait_for(lambda: "configuration reloaded" in server.log(), timeout=10, what="reload")
    assert_equal(server.health()[0], 200, "serving after a good reload")
    stop_cleanly(server)


if __name__ == "__main__":
    run_tests()
