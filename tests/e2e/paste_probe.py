"""paste_probe.py - what Debian's PasteDeploy makes of a server.ini, for test_pypicloud_ini.py.

Run with /usr/bin/python3 (python3-pastedeploy):

    /usr/bin/python3 paste_probe.py SERVER_INI EGG_DIR

EGG_DIR holds stand-in distributions named pypicloud, waitress and
fakefilter (written by test_pypicloud_ini.py) whose entry points return
what PasteDeploy hands them, so that the real loadapp and loadserver run
their real lookups without pypicloud installed.  Prints one JSON object:

- settings: the keyword settings pypicloud's main(global_config,
  **settings) receives, and global: the global_config;
- remote_auth: the (user, password) pypicloud's RemoteAccessBackend sends,
  read through pypicloud's EnvironSettings rule (PPC_ + the key in upper
  case with dots as underscores wins over the file);
- server: what loadserver returned;
- lookups: PasteDeploy's section lookups without a name (name None, as
  some tools ask) for the application and the server, "ok" or the error.
"""

import json
import os
import sys


def environ_get(settings, key):
    """pypicloud.util.EnvironSettings.get (pypicloud 1.3.12)."""
    env_key = "PPC_" + key.upper().replace(".", "_")
    if env_key in os.environ:
        return os.environ[env_key]
    return settings.get(key)


def main():
    path, eggs = os.path.abspath(sys.argv[1]), sys.argv[2]
    sys.path.insert(0, eggs)
    from paste.deploy import loadapp, loadserver
    from paste.deploy.loadwsgi import APP, SERVER, ConfigLoader

    app = loadapp("config:" + path)
    settings = app["settings"]
    user = environ_get(settings, "auth.user")
    password = environ_get(settings, "auth.password") if user is not None else None
    server = loadserver("config:" + path)
    lookups = {}
    loader = ConfigLoader(path)
    for label, kind in (("app", APP), ("server", SERVER)):
        try:
            loader.find_config_section(kind, name=None)
            lookups[label] = "ok"
        except LookupError as error:
            lookups[label] = "LookupError: %s" % error
    print(json.dumps({"settings": settings, "global": app["global"],
                      "remote_auth": [user, password] if user is not None else None,
                      "server": server({}) if callable(server) else repr(server),
                      "lookups": lookups}))


if __name__ == "__main__":
    main()
