"""facts.py - every answer of the pypicloud endpoints as a set of facts.

("verify", login): the login's first token logs in; ("admin", login);
("in", login, group); ("group", group); ("user", login, package, perm);
("group-grant", group, package, perm).  "Never open" is then a subset
test against a good snapshot's facts, and "fail closed" the empty set.
Used by test_faults.py and load.py.
"""

import http.client
import threading

def tokens(scenario):
    return {user["login"]: user["tokens"][0] for user in scenario["users"] if user.get("tokens")}


def get_json(server, path, **params):
    response = server.get(path, params=params)
    assert response.status == 200, "%s %r: %r" % (path, params, response)
    return response.json()


def facts(server, scenario, logins=True):
    """Everything the server grants, as a set of tuples (see the docstring)."""
    found = set()
    packages = sorted(scenario["expect"]["packages"]) + ["no-such-package"]
    users = [user["login"] for user in scenario["users"]]
    if logins:
        for login, token in tokens(scenario).items():
            if get_json(server, "/verify", username=login, password=token) is True:
                found.add(("verify", login))
    for login in users:
        if get_json(server, "/admin", username=login) is True:
            found.add(("admin", login))
        for group in get_json(server, "/groups", username=login):
            found.add(("in", login, group))
        for entry in get_json(server, "/user_package_permissions", username=login):
            for perm in entry["permissions"]:
                found.add(("user", login, entry["package"], perm))
    groups = get_json(server, "/groups")
    for group in groups:
        found.add(("group", group))
        for member in get_json(server, "/group_members", group=group):
            found.add(("in", member, group))
        for entry in get_json(server, "/group_package_permissions", group=group):
            for perm in entry["permissions"]:
                found.add(("group-grant", group, entry["package"], perm))
    for package in packages:
        for user, perms in get_json(server, "/user_permissions", package=package).items():
            for perm in perms:
                found.add(("user", user, package, perm))
        for group, perms in get_json(server, "/group_permissions", package=package).items():
            for perm in perms:
                found.add(("group-grant", group, package, perm))
    for entry in get_json(server, "/user_data"):
        if entry.get("admin"):
            found.add(("admin", entry["username"]))
    return found


def without_logins(found):
    return {fact for fact in found if fact[0] != "verify"}


class Sampler(threading.Thread):
    """Asks everything again and again; records any answer that grants more
    than allowed (the good snapshot's facts), or (exact) any that differs."""

    def __init__(self, server, scenario, allowed, exact=False):
        super().__init__(daemon=True)
        self.server = server
        self.scenario = scenario
        self.allowed = set(allowed)
        self.exact = exact
        self.samples = 0
        self.violations = []
        self.errors = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                found = facts(self.server, self.scenario)
                wrong = found ^ self.allowed if self.exact else found - self.allowed
                if wrong:
                    self.violations.append(sorted(wrong))
                self.samples += 1
            except (OSError, http.client.HTTPException, AssertionError, ValueError) as error:
                self.errors.append(repr(error))
            self._halt.wait(0.2)

    def finish(self):
        self._halt.set()
        self.join(30)
        assert not self.violations, "wrong answers: %r" % self.violations[:3]
        assert not self.errors, "requests failed: %r" % self.errors[:3]
        assert self.samples > 0, "the sampler never completed a pass"
        return self.samples
