"""pypicloud_model.py - pypicloud 1.3's use of the remote access answers, in Python.

This replays what pypicloud/access/remote.py and pypicloud/access/base.py do
with the answers of the remote backend (docs/pypicloud.md), so that a
test can ask "what would pypicloud decide?" through the real server:

- a request's user is set only when /verify says true;
- principals: system.Everyone, system.Authenticated, user:<login as typed>,
  group:<g> for each g of /groups?username=, and "admin" when /admin says so;
- admins get every permission;
- /group_permissions keys map through group_to_principal;
- when /user_permissions and /group_permissions are both empty, the defaults
  pypi.default_read (["authenticated"]) and pypi.default_write ([]) apply.

Answers are used raw, as pypicloud does: truthiness for verify and admin.
"""

EVERYONE = "system.Everyone"
AUTHENTICATED = "system.Authenticated"


def group_to_principal(group):
    """pypicloud's mapping of a /group_permissions key to a principal."""
    if group == "everyone":
        return EVERYONE
    if group == "authenticated":
        return AUTHENTICATED
    if group.startswith("group:") or group.startswith("system."):
        return group
    return "group:" + group


class Pypicloud:
    """pypicloud with `pypi.auth = remote` pointed at a ghaccess server."""

    def __init__(self, server, default_read=("authenticated",), default_write=()):
        self.server = server
        self.default_read = list(default_read)
        self.default_write = list(default_write)

    # -- the calls of RemoteAccessBackend ------------------------------------
    def _call(self, path, **params):
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

    # -- IAccessBackend's logic ----------------------------------------------
    def authenticate(self, username, password):
        """The userid pypicloud sets for a request with these credentials."""
        return username if self.verify_user(username, password) else None

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
        principals = [EVERYONE, AUTHENTICATED, "user:" + username]
        for group in self.groups(username):
            principals.append("group:" + group)
        if self.is_admin(username):
            principals.append("admin")
        return principals

    def has_permission(self, userid, package, perm, admin_bypass=True):
        """pypicloud's decision; admin_bypass=False shows what the answers
        alone grant (admins otherwise get everything)."""
        if admin_bypass and userid is not None and self.is_admin(userid):
            return True
        perms = self.allowed_permissions(package)
        principals = self.user_principals(userid) if userid is not None else [EVERYONE]
        return any(perm in perms.get(principal, ()) for principal in principals)

    def permissions(self, userid, package, admin_bypass=True):
        """["read"], ["read", "write"] or [] as tests/scenarios/README.md writes them."""
        granted = [perm for perm in ("read", "write")
                   if self.has_permission(userid, package, perm, admin_bypass)]
        return granted
