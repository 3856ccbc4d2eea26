#!/usr/bin/env python3
"""test_sso.py - [github] verify_token_org_access in an organization that
enforces SAML SSO (the stand-in's organization.saml_sso and
users[].tokens_without_sso, as GitHub documents them).

GET /user accepts a token that the organization's SAML SSO has not
authorized; only the organization's resources refuse it (403 with
X-GitHub-SSO: required; url=...).  With verify_token_org_access a login
also asks GET /user/memberships/orgs/{org} with the person's token:

- an authorized token logs in, and the membership call is cached with the
  login (one call for many requests, single flight for a burst);
- a token without SSO authorization is refused everywhere, and the
  refusal that twine and pip print names the URL that authorizes it;
- an outside collaborator and an invitation not yet accepted are refused
  with a hint about the token's scopes;
- without the setting (the default) such a token still logs in: the gap
  the setting closes.
"""

import concurrent.futures
import copy
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dists  # noqa: E402
from harness import (Ghaccess, Skip, Standin, basic_auth, http_get,  # noqa: E402
                     load_scenario, run_tests, scenario_path, scenario_settings, test, workdir)

WORKED = scenario_path("worked-example.json")
BACKEND = ("pypicloud", "backend-secret-for-tests")
NO_SSO = "ghp_bob_token_without_sso_00000000000000"
TWINE = "/usr/bin/twine"
PYTHON = "/usr/bin/python3"
URL_PREFIX = "/orgs/acme/sso?authorization_request="


def sso_scenario():
    scenario = load_scenario(WORKED)
    scenario["organization"]["saml_sso"] = True
    for user in scenario["users"]:
        if user["login"] == "bob":
            user["tokens_without_sso"] = [NO_SSO]
    scenario["users"].append({"login": "frank", "id": 106, "tokens": ["ghp_frank_invited_0000"],
                              "org_role": None, "membership_state": "pending"})
    return scenario


def start(standin, verify=True):
    settings = scenario_settings(standin)
    settings["github"]["verify_token_org_access"] = verify
    settings["index"] = {"storage_dir": os.path.join(workdir(), "packages-%d" % os.getpid())}
    return Ghaccess(settings, backend=BACKEND).start()


def calls(standin, route):
    """Requests the stand-in answered on a route since its stats were reset."""
    return standin.stats()["routes"].get(route, 0)


def get(server, path, auth=None, headers=None):
    return http_get(server.url, path, auth=auth, headers=headers)


def reason_of(server, path, auth):
    """The status and HTTP reason phrase (what twine and pip print)."""
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": basic_auth(*auth),
                                                 "Connection": "close"})
        reply = connection.getresponse()
        reply.read()
        return reply.status, reply.reason
    finally:
        connection.close()


def client_env():
    home = os.path.join(workdir(), "home")
    os.makedirs(home, exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "NO_COLOR": "1",
            "PIP_CONFIG_FILE": os.devnull, "PIP_NO_CACHE_DIR": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "TWINE_NON_INTERACTIVE": "1", "COLUMNS": "400"}


def run(argv):
    return subprocess.run(argv, env=client_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=180)


@test
def authorized_token_logs_in_and_the_check_is_cached():
    with Standin(sso_scenario()) as standin:
        server = start(standin)
        bob = standin.scenario["users"][1]["tokens"][0]
        standin.reset_stats()
        for _ in range(3):
            assert get(server, "/simple/", auth=("bob", bob)).status == 200
            assert server.json("/verify", username="bob", password=bob) is True
        # One GET /user and one membership call for the whole login.
        assert calls(standin, "user") == 1, standin.stats()
        assert calls(standin, "user_membership") == 1, standin.stats()


@test
def token_without_sso_is_refused_with_the_authorization_url():
    with Standin(sso_scenario()) as standin:
        server = start(standin)
        base = standin.url
        status, reason = reason_of(server, "/simple/", ("bob", NO_SSO))
        assert status == 401, (status, reason)
        assert "not authorized for the SAML single sign-on of acme" in reason, reason
        assert ("authorize it at " + base + URL_PREFIX) in reason, reason
        response = get(server, "/auth", auth=("bob", NO_SSO),
                       headers={"X-Original-URI": "/simple/acme-core/",
                                "X-Original-Method": "GET"})
        assert response.status == 401 and (base + URL_PREFIX).encode() in response.body, response
        assert server.json("/verify", username="bob", password=NO_SSO) is False
        # Never cached: a fresh URL each time, and an authorization counts
        # at the next request.
        first = reason_of(server, "/simple/", ("bob", NO_SSO))[1]
        second = reason_of(server, "/simple/", ("bob", NO_SSO))[1]
        assert first != second, (first, second)
        authorized = copy.deepcopy(standin.scenario)
        for user in authorized["users"]:
            if user["login"] == "bob":
                user["tokens"].append(NO_SSO)
                user["tokens_without_sso"] = []
        standin.set_scenario(authorized)
        assert get(server, "/simple/", auth=("bob", NO_SSO)).status == 200
        assert NO_SSO not in server.log(), "a token in the log"


@test
def twine_and_pip_print_the_url():
    if not os.access(TWINE, os.X_OK):
        raise Skip("twine is not installed (scripts/install-deps.sh)")
    with Standin(sso_scenario()) as standin:
        server = start(standin)
        directory = os.path.join(workdir(), "dists")
        os.makedirs(directory, exist_ok=True)
        wheel = dists.wheel(directory, "acme-core", "1.0")
        result = run([TWINE, "upload", "--non-interactive", "--disable-progress-bar",
                      "--repository-url", server.url + "/legacy/", "-u", "bob", "-p", NO_SSO,
                      wheel])
        assert result.returncode != 0, result.stdout
        assert (standin.url + URL_PREFIX) in result.stdout, result.stdout
        print("twine: " + " | ".join(line.strip() for line in result.stdout.splitlines()
                                     if line.strip()), flush=True)
        url = urllib.parse.urlsplit(server.url)
        index = "http://bob:%s@%s:%d/simple/" % (NO_SSO, url.hostname, url.port)
        result = run([PYTHON, "-m", "pip", "download", "-vv", "--no-deps", "-d",
                      os.path.join(workdir(), "downloads"), "--index-url", index, "acme-core"])
        assert result.returncode != 0, result.stdout
        # pip tells why an index page failed at -vv ("Could not fetch URL").
        assert (standin.url + URL_PREFIX) in result.stdout, result.stdout
        print("pip -vv: " + " | ".join(line for line in result.stdout.splitlines()
                                       if "sso" in line.lower()), flush=True)


@test
def one_burst_is_one_check():
    with Standin(sso_scenario()) as standin:
        server = start(standin)
        standin.reset_stats()
        standin.fault("slow", target="user", delay_ms=800)
        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(lambda _: get(server, "/simple/",
                                                   auth=("bob", NO_SSO)).status, range(50)))
        assert statuses == [401] * 50, statuses
        assert calls(standin, "user") == 1, standin.stats()
        assert calls(standin, "user_membership") == 1, standin.stats()
        standin.clear_fault()


@test
def outsiders_and_invitations_are_refused_with_a_scope_hint():
    with Standin(sso_scenario()) as standin:
        server = start(standin)
        erin = standin.scenario["users"][4]["tokens"][0]
        for login, token in [("erin", erin), ("frank", "ghp_frank_invited_0000")]:
            status, reason = reason_of(server, "/simple/", (login, token))
            assert status == 401, (login, status, reason)
            assert "read:org" in reason and "Members read" in reason, reason
            assert server.json("/verify", username=login, password=token) is False


@test
def without_the_setting_a_token_without_sso_still_logs_in():
    with Standin(sso_scenario()) as standin:
        server = start(standin, verify=False)
        standin.reset_stats()
        assert get(server, "/simple/", auth=("bob", NO_SSO)).status == 200
        assert calls(standin, "user") == 1 and calls(standin, "user_membership") == 0


if __name__ == "__main__":
    run_tests()
