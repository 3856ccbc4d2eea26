#!/usr/bin/env python3
"""github_reply_seeds.py - write the seed corpus of fuzz_github_reply from
real answers of the GitHub stand-in (tests/github-standin).

For each scenario it runs the seven queries of src/github/queries with small
pages (so nested lists have follow-ups with cursors), GET /orgs/{org} and
GET /user, and writes inputs in the harness's format (see
fuzz/fuzz_github_reply.c): one file per page kind and one whole sync as a
sequence of pages.  Replies are compacted JSON to keep the corpus small.

    fuzz/github_reply_seeds.py [scenario.json ...]   (default: the shared worked example and edge cases)
"""

import json
import os
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUERIES = os.path.join(ROOT, "src", "github", "queries")
OUT = os.path.join(ROOT, "fuzz", "corpus", "github_reply")
SCENARIOS = os.environ.get("GHACCESS_SCENARIOS") or os.path.join(ROOT, "tests", "scenarios")


def query(name):
    with open(os.path.join(QUERIES, name + ".graphql"), encoding="utf-8") as file:
        text = file.read()
    # The client appends the CollaboratorEdge fragment (with permissionSources).
    if "...CollaboratorEdge" in text:
        with open(os.path.join(QUERIES, "collaborator_edge.graphql"), encoding="utf-8") as file:
            text += file.read()
    return text


class Standin:
    def __init__(self, scenario):
        self.process = subprocess.Popen(
            ["node", os.path.join(ROOT, "tests", "github-standin", "server.js"),
             "--scenario", scenario, "--ratelimit-limit", "1000000"],
            stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        self.url = line.split()[-1]
        with open(scenario, encoding="utf-8") as file:
            self.scenario = json.load(file)
        self.token = self.scenario["server_token"]
        self.org = self.scenario["organization"]["login"]

    def request(self, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers={
            "Authorization": "Bearer " + (token or self.token),
            "User-Agent": "ghaccess-seeds", "Content-Type": "application/json"})
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read())

    def graphql(self, query_name, **variables):
        operation = {"org_members": "OrgMembers", "org_teams": "OrgTeams",
                     "org_repositories": "OrgRepos", "team_members": "TeamMembers",
                     "team_repositories": "TeamRepositories",
                     "repository_collaborators": "RepositoryCollaborators",
                     "repository": "Repository"}[query_name]
        variables.setdefault("org", self.org)
        return self.request("/graphql", {"query": query(query_name), "variables": variables,
                                         "operationName": operation})

    def close(self):
        self.process.terminate()
        self.process.wait()


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def write(name, pages):
    """pages: [(header, reply)] -> one input."""
    text = "\n%%\n".join(header + "\n" + compact(reply) for header, reply in pages)
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as file:
        file.write(text)


def seeds(scenario_path):
    tag = os.path.splitext(os.path.basename(scenario_path))[0]
    standin = Standin(scenario_path)
    try:
        members = standin.graphql("org_members", first=2)
        teams = standin.graphql("org_teams", first=3)
        repositories = standin.graphql("org_repositories", first=3)
        # Only the fields the parsers read, and a few they skip.
        org = {key: value for key, value in standin.request("/orgs/" + standin.org).items()
               if key in ("login", "id", "node_id", "type", "default_repository_permission")}
        users = standin.scenario["users"]
        user = {key: value
                for key, value in standin.request("/user", token=users[0]["tokens"][0]).items()
                if key in ("login", "id", "node_id", "type", "site_admin")}
        team_nodes = teams["data"]["organization"]["teams"]["nodes"]
        repository_nodes = repositories["data"]["organization"]["repositories"]["nodes"]
        followups = []
        for index, team in enumerate(team_nodes):
            for kind, name in (("team-members", "team_members"),
                               ("team-repositories", "team_repositories")):
                followups.append(("%s %d" % (kind, index),
                                  standin.graphql(name, slug=team["slug"], first=1)))
        for index, repository in enumerate(repository_nodes):
            followups.append(("collaborators %d" % index,
                              standin.graphql("repository_collaborators",
                                              name=repository["name"], first=1)))
        write(tag + ".members", [("members", members)])
        write(tag + ".teams", [("teams", teams)])
        write(tag + ".repositories", [("repositories", repositories)])
        write(tag + ".rest", [("org", org), ("user", user)])
        # A targeted read: one repository, then its collaborators' next page.
        if repository_nodes:
            name = repository_nodes[0]["name"]
            write(tag + ".repository", [
                ("repository", standin.graphql("repository", name=name, first=1)),
                ("collaborators 0", standin.graphql("repository_collaborators", name=name,
                                                    first=1))])
        write(tag + ".sync", [("org", org), ("members", members), ("teams", teams),
                              ("repositories", repositories)] + followups[:6])
    finally:
        standin.close()


# The unit tests' canned replies (tests/data/github): the odd cases.
DATA_KINDS = {
    "collaborators-followup-forbidden": "collaborators 0", "collaborators-followup": "collaborators 0",
    "duplicate-key": "members", "login-with-nul": "members", "members-last-page": "members",
    "members-page": "members", "members-nulls": "members", "members-null-list": "members",
    "next-page-without-cursor": "members", "no-data": "teams",
    "not-an-object": "members", "org-rest-bad-permission": "org", "org-rest-hidden": "org",
    "org-rest-wrong-type": "org", "org-rest": "org", "organization-not-found": "members",
    "rate-limited": "teams", "repositories-forbidden-out-of-range": "repositories",
    "repositories-forbidden": "repositories", "repositories-other-error": "repositories",
    "repositories-nulls": "repositories",
    "team-gone": "team-members 0", "team-members-followup": "team-members 0",
    "team-repositories-followup": "team-repositories 0", "teams-page-nested-next": "teams",
    "truncated": "repositories", "unknown-permission": "teams", "user-wrong-type": "user",
    "user": "user", "validation-error": "members", "wrong-type-data": "members",
    "wrong-type-edges": "members", "wrong-type-id": "members",
}


def data_seeds():
    directory = os.path.join(ROOT, "tests", "data", "github")
    for name, header in sorted(DATA_KINDS.items()):
        with open(os.path.join(directory, name + ".json"), "rb") as file:
            body = file.read()
        # Follow-ups need a team or repository collected first.
        prefix = b""
        if header.startswith("team-"):
            prefix = b"teams\n" + open(os.path.join(directory, "teams-page-nested-next.json"),
                                       "rb").read() + b"\n%%\n"
        elif header.startswith("collaborators"):
            prefix = b"repositories\n" + open(os.path.join(directory, "repositories-forbidden.json"),
                                              "rb").read() + b"\n%%\n"
        with open(os.path.join(OUT, "data." + name), "wb") as file:
            file.write(prefix + header.encode() + b"\n" + body)


def main():
    os.makedirs(OUT, exist_ok=True)
    data_seeds()
    scenarios = sys.argv[1:] or [os.path.join(SCENARIOS, name)
                                 for name in ("worked-example.json", "edge-cases.json",
                                              "permission-sources.json")]
    for scenario in scenarios:
        seeds(scenario)


if __name__ == "__main__":
    main()
