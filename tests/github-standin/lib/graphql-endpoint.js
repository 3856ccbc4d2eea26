'use strict';
// POST {prefix}/graphql: parse, validate against GitHub's schema, check
// pagination/node limits, charge the point cost, execute over the scenario,
// and answer in GitHub's shapes (graphql-ruby style messages).

const { parse, validate, execute, getOperationAST, getVariableValues, Kind, TypeInfo, visit, visitWithTypeInfo, getNamedType } = require('graphql');
const { loadSchema } = require('./schema');
const { analyze } = require('./cost');
const { fieldResolver, typeResolver } = require('./resolvers');

const schema = loadSchema();

// query text -> {document, errors}
const docCache = new Map();
const DOC_CACHE_MAX = 500;

function parseAndValidate(query) {
  let entry = docCache.get(query);
  if (entry) return entry;
  try {
    const document = parse(query);
    const errs = validate(schema, document);
    entry = { document, errors: errs.length ? rubyStyle(errs, document) : null };
  } catch (e) {
    entry = { document: null, errors: [syntaxError(e)] };
  }
  if (docCache.size >= DOC_CACHE_MAX) docCache.delete(docCache.keys().next().value);
  docCache.set(query, entry);
  return entry;
}

function syntaxError(e) {
  // GitHub (graphql-ruby): "Parse error on \"}\" (RCURLY) at [1, 5]".
  const out = { message: e.message.replace(/^Syntax Error: /, 'Parse error: ') };
  if (e.locations) out.locations = e.locations;
  return out;
}

// Map AST nodes to graphql-ruby's error paths: ["query Name", "organization", "teams"].
function pathIndex(document) {
  const idx = new Map();
  const walk = (sel, path) => {
    for (const s of sel.selections) {
      if (s.kind === Kind.FIELD) {
        const p = path.concat(s.alias ? s.alias.value : s.name.value);
        idx.set(s, p);
        for (const a of s.arguments || []) idx.set(a, p.concat(a.name.value));
        if (s.selectionSet) walk(s.selectionSet, p);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        const p = path.concat(s.typeCondition ? `... on ${s.typeCondition.name.value}` : '...');
        idx.set(s, p);
        walk(s.selectionSet, p);
      } else if (s.kind === Kind.FRAGMENT_SPREAD) {
        idx.set(s, path.concat(`... ${s.name.value}`));
      }
    }
  };
  for (const d of document.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) {
      const p = [d.name ? `${d.operation} ${d.name.value}` : d.operation];
      idx.set(d, p);
      for (const v of d.variableDefinitions || []) idx.set(v, p);
      walk(d.selectionSet, p);
    } else if (d.kind === Kind.FRAGMENT_DEFINITION) {
      const p = [`fragment ${d.name.value}`];
      idx.set(d, p);
      walk(d.selectionSet, p);
    }
  }
  return idx;
}

const RUBY_MESSAGES = [
  [
    /^Cannot query field "(\w+)" on type "(\w+)"\./,
    (m) => [`Field '${m[1]}' doesn't exist on type '${m[2]}'`, { code: 'undefinedField', typeName: m[2], fieldName: m[1] }],
  ],
  [
    /^Unknown argument "(\w+)" on field "(\w+)\.(\w+)"\./,
    (m) => [
      `Field '${m[3]}' doesn't accept argument '${m[1]}'`,
      { code: 'argumentNotAccepted', name: m[3], typeName: 'Field', argumentName: m[1] },
    ],
  ],
  [
    /^Field "(\w+)" argument "(\w+)" of type "(.+)" is required, but it was not provided\./,
    (m) => [
      `Field '${m[1]}' is missing required arguments: ${m[2]}`,
      { code: 'missingRequiredArguments', className: 'Field', name: m[1], arguments: m[2] },
    ],
  ],
  [
    /^Variable "\$(\w+)" is not defined by operation "(\w+)"\./,
    (m) => [`Variable $${m[1]} is used by ${m[2]} but not declared`, { code: 'variableNotDefined', variableName: m[1] }],
  ],
  [
    /^Variable "\$(\w+)" is never used in operation "(\w+)"\./,
    (m) => [`Variable $${m[1]} is declared by ${m[2]} but not used`, { code: 'variableNotUsed', variableName: m[1] }],
  ],
  [
    /^Field "(\w+)" of type "(.+)" must have a selection of subfields\./,
    (m) => [
      `Field must have selections (field '${m[1]}' returns ${m[2].replace(/[!\[\]]/g, '')} but has no selections. Did you mean '${m[1]} { ... }'?)`,
      { code: 'selectionMismatch', nodeName: `field '${m[1]}'`, typeName: m[2].replace(/[!\[\]]/g, '') },
    ],
  ],
];

function rubyStyle(errors, document) {
  const idx = pathIndex(document);
  return errors.map((e) => {
    let message = e.message;
    let extensions;
    for (const [re, fn] of RUBY_MESSAGES) {
      const m = re.exec(e.message);
      if (m) {
        [message, extensions] = fn(m);
        break;
      }
    }
    const out = {};
    const node = e.nodes && e.nodes[0];
    const p = node && idx.get(node);
    if (p) out.path = p;
    out.extensions = extensions || { code: 'validationError' };
    if (e.locations) out.locations = e.locations;
    out.message = message;
    return out;
  });
}

/*
 * Fields that need an OAuth scope beyond what reading the organization
 * needs. GitHub checks them before running the query: a token without the
 * scope gets no data at all, only an INSUFFICIENT_SCOPES error naming the
 * field and the scopes (docs.github.com/graphql/guides/forming-calls-with-graphql:
 * "the API will return an error message that states the scopes or
 * permissions your token needs").
 */
const FIELD_SCOPES = {
  'RepositoryCollaboratorEdge.permissionSources': ['admin:org'],
};

function scopeErrors(document, scopes) {
  const typeInfo = new TypeInfo(schema);
  const errors = [];
  const seen = new Set();
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const key = parent ? `${getNamedType(parent).name}.${node.name.value}` : null;
        const needed = key && FIELD_SCOPES[key];
        if (!needed || needed.some((x) => scopes.has(x)) || seen.has(key)) return;
        seen.add(key);
        const granted = [...scopes].sort().map((x) => `'${x}'`).join(', ');
        errors.push({
          type: 'INSUFFICIENT_SCOPES',
          locations: node.loc ? [{ line: node.loc.startToken.line, column: node.loc.startToken.column }] : [],
          message:
            `Your token has not been granted the required scopes to execute this query. The '${node.name.value}' ` +
            `field requires one of the following scopes: [${needed.map((x) => `'${x}'`).join(', ')}], but your ` +
            `token has only been granted the: [${granted}] scopes. Please modify your token's scopes at: ` +
            'https://github.com/settings/tokens.',
        });
      },
    }),
  );
  return errors;
}

function formatExecutionError(e) {
  const orig = e.originalError;
  const out = {};
  if (orig && orig.ghType) out.type = orig.ghType;
  if (e.path) out.path = e.path;
  if (orig && orig.ghExtensions) out.extensions = orig.ghExtensions;
  if (e.locations) out.locations = e.locations;
  out.message = e.message;
  return out;
}

function operationLabel(op, operationName) {
  if (operationName) return operationName;
  if (op && op.name) return op.name.value;
  return '(anonymous)';
}

function dryRunRequested(op, variableValues) {
  for (const s of op.selectionSet.selections) {
    if (s.kind !== Kind.FIELD || s.name.value !== 'rateLimit') continue;
    for (const a of s.arguments || []) {
      if (a.name.value !== 'dryRun') continue;
      if (a.value.kind === Kind.BOOLEAN && a.value.value) return true;
      if (a.value.kind === Kind.VARIABLE && variableValues[a.value.name.value] === true) return true;
    }
  }
  return false;
}

/**
 * handleGraphql(env, rawBody) -> {status, headers, body (object)}.
 * env: {state, principal, budgets, stats, partialFault, limitFor(principal)}
 */
function handleGraphql(env, rawBody) {
  const { principal, budgets, stats } = env;
  const budget = budgets.get('graphql', principal.token, env.limitFor(principal));
  const rlHeaders = () => budgets.headers(budget);
  const reply = (body, status = 200) => ({ status, headers: rlHeaders(), body });

  let req;
  try {
    req = JSON.parse(rawBody || '');
  } catch {
    return {
      status: 400,
      headers: rlHeaders(),
      body: { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/graphql' },
    };
  }
  if (!req || typeof req.query !== 'string' || !req.query.trim()) {
    return reply({ errors: [{ message: 'A query attribute must be specified and must be a string.' }] });
  }
  let variables = req.variables == null ? {} : req.variables;
  if (typeof variables === 'string') {
    try {
      variables = variables.trim() ? JSON.parse(variables) : {};
    } catch {
      return reply({ errors: [{ message: 'Variables are invalid JSON.' }] });
    }
  }
  if (typeof variables !== 'object' || Array.isArray(variables)) {
    return reply({ errors: [{ message: 'Variables are invalid JSON.' }] });
  }
  const operationName = typeof req.operationName === 'string' && req.operationName ? req.operationName : null;

  const { document, errors } = parseAndValidate(req.query);
  if (errors) {
    stats.countQuery(operationName || guessName(req.query));
    return reply({ errors });
  }
  const op = getOperationAST(document, operationName);
  const label = operationLabel(op, operationName);
  stats.countQuery(label);
  if (!op) {
    return reply({
      errors: [
        {
          message: operationName
            ? `No operation named "${operationName}"`
            : 'An operation name is required when the document contains more than one operation.',
        },
      ],
    });
  }
  if (op.operation !== 'query') {
    return reply({
      errors: [{ type: 'FORBIDDEN', message: `The stand-in answers queries only, not ${op.operation}s.` }],
    });
  }
  const coerced = getVariableValues(schema, op.variableDefinitions || [], variables, { maxErrors: 50 });
  if (coerced.errors) {
    return reply({
      errors: coerced.errors.map((e) => {
        const out = { extensions: { code: 'variableMismatch' } };
        if (e.locations) out.locations = e.locations;
        out.message = e.message;
        return out;
      }),
    });
  }
  const analysis = analyze(schema, document, op, coerced.coerced);
  if (analysis.errors.length) return reply({ errors: analysis.errors });
  const refused = scopeErrors(document, principal.scopes);
  if (refused.length) return reply({ data: null, errors: refused });

  const dryRun = dryRunRequested(op, coerced.coerced);
  const cost = analysis.cost;
  if (!dryRun) {
    if (budgets.remaining(budget) < cost) {
      stats.rateLimited++;
      return reply({
        errors: [
          {
            type: 'RATE_LIMITED',
            message: `API rate limit exceeded for ${principal.user ? `user ID ${principal.user.databaseId}` : `installation ID ${env.installationId || 4242}`}.`,
          },
        ],
      });
    }
    budget.used += cost;
    stats.graphql_points += cost;
  }
  const ctx = {
    state: env.state,
    principal,
    scopes: principal.scopes,
    partialFault: !!env.partialFault,
    rateLimit: {
      __typename: 'RateLimit',
      cost,
      limit: budget.limit,
      used: budget.used,
      remaining: budgets.remaining(budget),
      resetAt: new Date(budget.reset * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      nodeCount: analysis.nodeCount,
    },
  };
  const result = execute({
    schema,
    document,
    rootValue: {},
    contextValue: ctx,
    variableValues: coerced.coerced,
    operationName: operationName || undefined,
    fieldResolver,
    typeResolver,
  });
  const body = {};
  body.data = result.data === undefined ? null : result.data;
  if (result.errors && result.errors.length) body.errors = result.errors.map(formatExecutionError);
  return reply(body);
}

function guessName(query) {
  const m = /\b(?:query|mutation|subscription)\s+(\w+)/.exec(query);
  return m ? m[1] : '(anonymous)';
}

module.exports = { handleGraphql, schema, parseAndValidate, FIELD_SCOPES };
