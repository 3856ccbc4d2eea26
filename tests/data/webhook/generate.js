#!/usr/bin/env node
'use strict';
// generate.js - writes the webhook payload fixtures of this directory and the
// fuzz corpus fuzz/corpus/webhook/ from the stand-in's payload builder, which
// shapes them after @octokit/webhooks-examples.  Run from the repository root:
//     node tests/data/webhook/generate.js
// Fixtures are <event>.<action>.json (the body GitHub would sign); corpus
// files are "<event>\n<body>" (the fuzz harness's input format).
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');
const standin = path.join(root, 'tests/github-standin');
const { State } = require(path.join(standin, 'lib/state.js'));
const { buildPayload } = require(path.join(standin, 'lib/webhooks.js'));
const examples = require(path.join(standin, 'node_modules/@octokit/webhooks-examples'));
const scenarioPath = process.env.SCENARIO || path.resolve(root, 'tests/scenarios/worked-example.json');
const state = new State(JSON.parse(fs.readFileSync(scenarioPath, 'utf8')));

// name -> request to buildPayload (targets from the worked example)
const cases = {
  'organization.member_removed': { event: 'organization', payload_action: 'member_removed', login: 'bob' },
  'organization.member_added': { event: 'organization', payload_action: 'member_added', login: 'bob' },
  'organization.member_invited': { event: 'organization', payload_action: 'member_invited', login: 'newbie' },
  'organization.renamed': { event: 'organization', payload_action: 'renamed' },
  'membership.removed': { event: 'membership', payload_action: 'removed', login: 'carol', team: 'platform-infra' },
  'membership.added': { event: 'membership', payload_action: 'added', login: 'dave', team: 'platform' },
  'team.created': { event: 'team', payload_action: 'created', team: 'platform' },
  'team.deleted': { event: 'team', payload_action: 'deleted', team: 'platform' },
  'team.edited': { event: 'team', payload_action: 'edited', team: 'platform' },
  'team.edited_parent': { event: 'team', payload_action: 'edited', team: 'platform-infra', old_name: 'Infra' },
  'team.edited_permission': { event: 'team', payload_action: 'edited', team: 'platform', repository: 'core-lib', old_permission: 'admin' },
  'team.added_to_repository': { event: 'team', payload_action: 'added_to_repository', team: 'platform', repository: 'tools' },
  'team.removed_from_repository': { event: 'team', payload_action: 'removed_from_repository', team: 'platform', repository: 'core-lib' },
  'member.added': { event: 'member', payload_action: 'added', login: 'erin', repository: 'tools' },
  'member.removed': { event: 'member', payload_action: 'removed', login: 'erin', repository: 'core-lib' },
  'member.edited': { event: 'member', payload_action: 'edited', login: 'erin', repository: 'tools', old_permission: 'admin' },
  'repository.created': { event: 'repository', payload_action: 'created', repository: 'tools' },
  'repository.deleted': { event: 'repository', payload_action: 'deleted', repository: 'docs' },
  'repository.archived': { event: 'repository', payload_action: 'archived', repository: 'docs' },
  'repository.renamed': { event: 'repository', payload_action: 'renamed', repository: 'docs', old_name: 'documentation' },
  'repository.transferred': { event: 'repository', payload_action: 'transferred', repository: 'docs', old_owner: 'octocat' },
  'repository.publicized': { event: 'repository', payload_action: 'publicized', repository: 'docs' },
  'push.pyproject': { event: 'push', repository: 'core-lib' },
  'push.readme': { event: 'push', repository: 'core-lib', modified: ['README.md'] },
  'push.branch': { event: 'push', repository: 'core-lib', ref: 'refs/heads/feature' },
};

const written = [];
for (const [name, request] of Object.entries(cases)) {
  const body = JSON.stringify(buildPayload(state, request));
  fs.writeFileSync(path.join(__dirname, `${name}.json`), body);
  fs.writeFileSync(path.join(root, 'fuzz/corpus/webhook', name), `${request.event}\n${body}`);
  written.push(name);
}
// The untouched examples of the events ghaccess reads, plus ping and installation.
for (const group of examples) {
  if (!['ping', 'installation', 'organization', 'membership', 'team', 'member', 'repository', 'push'].includes(group.name)) continue;
  group.examples.forEach((example, i) => {
    const name = `example.${group.name}.${i}`;
    fs.writeFileSync(path.join(root, 'fuzz/corpus/webhook', name), `${group.name}\n${JSON.stringify(example)}`);
  });
}
fs.writeFileSync(path.join(__dirname, 'ping.json'), JSON.stringify(examples.find((g) => g.name === 'ping').examples[0]));
console.log(`wrote ${written.length} fixtures and the corpus`);
