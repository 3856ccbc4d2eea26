"""pypicloud_model.py - pypicloud 1.3's use of the remote access answers, in Python.

This replays what pypicloud/access/remote.py, pypicloud/access/base.py and
pypicloud/auth.py (1.3.12) do with the answers of the remote backend
(docs/pypicloud.md), so that a test can ask "what would pypicloud decide?"
through the real server:

- the user of a request (PypicloudSecurityPolicy.identity) comes from the
  web session first: the login form (views/login.py do_login) asks /verify
  once and stores the login in the session cookie, and every later request
  with that cookie has that user WITHOUT asking /verify again (Beaker
  cookie sessions do not expire unless configured to).  Without a session,
  Basic credentials are checked with /verify on every request;
- principals: user:<login as typed>, system.Everyone, system.Authenticated,
  "admin" when /admin says so, and group:<g> for each g of
  /groups?username=; an anonymous request has system.Everyone only;
- admins get every permission;
- /group_permissions keys map through group_to_principal;
- when /user_permissions and /group_permissions are both empty, the defaults
  pypi.default_read (["authenticated"] unless set) and pypi.default_write
  ([]) apply.

Answers are used raw, as pypicloud does: truthiness for verify and admin.
"""

EVERYONE = "system.Everyone"
AUTHENTICATED = "system.Authenticated"


def group_to_principal(group):
    """pypicloud's mapping of a /group_permissions key to a principal."""
    if group in (EVERYONE, AUTHENTICATED) or group.startswith("group:"):
        return group
    if group == "everyone":
        return EVERYONE
    if group == "authenticated":
        return AUTHENTICATED
    return "group:" + group


class Session:
    """pypicloud's web session: a cookie holding the login (request.session["user"])."""

    def __init__(self, userid):
        self.userid = userid


class Pypicloud:
    """pypicloud with `pypi.auth = remote` pointed at a ghaccess server."""

    def __init__(self, server, default_read=("authenticated",), default_write=()):
        self.server = server
        self.default_read = list(default_read)
        self.default_write = list(default_write)
        self.calls = {}       # path -> how many times pypicloud called it

    # -- the calls of RemoteAccessBackend ------------------------------------
    def _call(self, path, **params):
        self.calls[path] = self.calls.get(path, 0) + 1
        return self.server.json(path, **params)

    def verify_user(self, username, password):
        return self._call("/verify", username=username, password=password)

    def groups(self, username=None):
        return self._call("/groups", username=username)

    def group_members(self, group):
        return self._call("/group_members", group=group)

    def is_admin(self, username):
        return self._call("/admin", username=username)

    def group_permissions(self, package):
        return self._call("/group_permissions", package=package)

    def user_permissions(self, package):
        return self._call("/user_permissions", package=package)

    def user_package_permissions(self, username):
        return self._call("/user_package_permissions", username=username)

    def group_package_permissions(self, group):
        return self._call("/group_package_permissions", group=group)

    def user_data(self, username=None):
        return self._call("/user_data", username=username)

    # -- the security policy (pypicloud/auth.py, views/login.py) -------------
    def authenticate(self, username, password):
        """The userid of a request with Basic credentials (pip, twine):
        /verify on every request."""
        return username if self.verify_user(username, password) else None

    def login_form(self, username, password):
        """POST /login: /verify once; a Session on success, else None."""
        return Session(username) if self.verify_user(username, password) else None

    @staticmethod
    def session_user(session):
        """The userid of a later request carrying the session cookie: taken
        from the cookie, /verify is not asked."""
        return session.userid if session is not None else None

    # -- IAccessBackend's logic ----------------------------------------------
    def allowed_permissions(self, package):
        all_perms = {}
        for user, perms in self.user_permissions(package).items():
            all_perms["user:" + user] = tuple(perms)
        for group, perms in self.group_permissions(package).items():
            all_perms[group_to_principal(group)] = tuple(perms)
        if not all_perms:
            for principal in self.default_read:
                all_perms[group_to_principal(principal)] = ("read",)
            for principal in self.default_write:
                all_perms[group_to_principal(principal)] = ("read", "write")
        return all_perms

    def user_principals(self, username):
        if username is None:
            return [EVERYONE]
        principals = ["user:" + username, EVERYONE, AUTHENTICATED]
        if self.is_admin(username):
            principals.append("admin")
        for group in self.groups(username):
            principals.append("group:" + group)
        return principals

    def has_permission(self, userid, package, perm, admin_bypass=True):
        """pypicloud's decision; admin_bypass=False shows what the answers
        alone grant (admins otherwise get everything)."""
        if admin_bypass and userid is not None and self.is_admin(userid):
            return True
        perms = self.allowed_permissions(package)
        principals = self.user_principals(userid)
        return any(perm in perms.get(principal, ()) for principal in principals)

    def permissions(self, userid, package, admin_bypass=True):
        """["read"], ["read", "write"] or [] as tests/scenarios/README.md writes them."""
        granted = [perm for perm in ("read", "write")
                   if self.has_permission(userid, package, perm, admin_bypass)]
        return granted
