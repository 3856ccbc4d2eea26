'use strict';
// GitHub's published GraphQL schema (@octokit/graphql-schema). The package is
// ESM-only and does not export schema.json, so the file is located on disk.

const fs = require('node:fs');
const path = require('node:path');
const { buildClientSchema } = require('graphql');

function findSchemaFile() {
  for (const dir of module.paths) {
    const f = path.join(dir, '@octokit', 'graphql-schema', 'schema.json');
    if (fs.existsSync(f)) return f;
  }
  throw new Error('@octokit/graphql-schema is not installed (run npm ci in tests/github-standin)');
}

let cached = null;

function loadSchema() {
  if (!cached) {
    const json = JSON.parse(fs.readFileSync(findSchemaFile(), 'utf8'));
    // The published file is the introspection result itself ({"__schema": …});
    // accept the {"data": {"__schema": …}} form too.
    cached = buildClientSchema(json.data || json);
  }
  return cached;
}

function schemaVersion() {
  for (const dir of module.paths) {
    const f = path.join(dir, '@octokit', 'graphql-schema', 'package.json');
    if (fs.existsSync(f)) return JSON.parse(fs.readFileSync(f, 'utf8')).version;
  }
  return null;
}

module.exports = { loadSchema, schemaVersion };
