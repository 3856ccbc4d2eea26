'use strict';
// GitHub's static query analysis: pagination boundaries on every connection,
// the 500,000-node limit and the point cost of a query.
//
// Rule (docs.github.com, "Rate limits and node limits for the GraphQL API"):
//   requests(connection) = product of the `first`/`last` values of the
//                          connections enclosing it (1 at the top level)
//   nodes(connection)    = requests(connection) * its own `first`/`last`
//   cost                 = max(1, round(sum(requests) / 100))
//   nodeCount            = sum(nodes), at most 500,000
// `first`/`last` given through variables are resolved with the request's
// variables.

const { Kind, getNamedType, isObjectType, isInterfaceType, getArgumentValues, getLocation } = require('graphql');

const MAX_PAGE = 100;
const MAX_NODES = 500000;

function isConnectionField(def) {
  const named = getNamedType(def.type);
  return (
    isObjectType(named) &&
    named.name.endsWith('Connection') &&
    def.args.some((a) => a.name === 'first' || a.name === 'last')
  );
}

function fmt(n) {
  return n.toLocaleString('en-US');
}

function loc(node) {
  if (!node.loc || !node.loc.source) return undefined;
  const { line, column } = getLocation(node.loc.source, node.loc.start);
  return [{ line, column }];
}

/**
 * analyze(schema, document, operation, variableValues)
 *   -> { errors: [GitHub-shaped error objects], cost, nodeCount, requests }
 * `variableValues` must already be coerced (graphql's getVariableValues).
 */
function analyze(schema, document, operation, variableValues) {
  const fragments = Object.create(null);
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;
  }
  const errors = [];
  let requests = 0;
  let nodes = 0;
  let firstOverLimit = null;

  function walk(selectionSet, parentType, mult, path, fragStack) {
    for (const sel of selectionSet.selections) {
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        if (name.startsWith('__')) continue;
        if (!isObjectType(parentType) && !isInterfaceType(parentType)) continue;
        const def = parentType.getFields()[name];
        if (!def) continue;
        const key = sel.alias ? sel.alias.value : name;
        const here = path.concat(key);
        let childMult = mult;
        if (isConnectionField(def)) {
          let args;
          try {
            args = getArgumentValues(def, sel, variableValues);
          } catch (e) {
            errors.push({ path: here, locations: loc(sel), message: e.message });
            continue;
          }
          const first = args.first;
          const last = args.last;
          if (first == null && last == null) {
            errors.push({
              type: 'MISSING_PAGINATION_BOUNDARIES',
              path: here,
              locations: loc(sel),
              message: `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
            });
            continue;
          }
          if (first != null && last != null) {
            errors.push({
              type: 'INVALID_PAGINATION',
              path: here,
              locations: loc(sel),
              message: `Passing both \`first\` and \`last\` to paginate the \`${name}\` connection is not supported.`,
            });
            continue;
          }
          const argName = first != null ? 'first' : 'last';
          const n = first != null ? first : last;
          if (n > MAX_PAGE) {
            errors.push({
              type: 'EXCESSIVE_PAGINATION',
              path: here,
              locations: loc(sel),
              message: `Requesting ${n} records on the \`${name}\` connection exceeds the \`${argName}\` limit of ${MAX_PAGE} records.`,
            });
            continue;
          }
          if (n < 1) {
            errors.push({
              type: 'INVALID_PAGINATION',
              path: here,
              locations: loc(sel),
              message: `\`${argName}\` on the \`${name}\` connection must be between 1 and ${MAX_PAGE}; ${n} was given.`,
            });
            continue;
          }
          requests += mult;
          nodes += mult * n;
          childMult = mult * n;
          if (childMult > MAX_NODES && !firstOverLimit) firstOverLimit = { name, count: childMult };
        }
        if (sel.selectionSet) walk(sel.selectionSet, getNamedType(def.type), childMult, here, fragStack);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parentType;
        if (t) walk(sel.selectionSet, t, mult, path, fragStack);
      } else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = fragments[sel.name.value];
        if (!frag || fragStack.includes(frag)) continue;
        const t = schema.getType(frag.typeCondition.name.value);
        if (t) walk(frag.selectionSet, t, mult, path, fragStack.concat(frag));
      }
    }
  }

  const rootType =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  if (rootType) walk(operation.selectionSet, rootType, 1, [], []);

  if (!errors.length && nodes > MAX_NODES) {
    errors.push({
      type: 'MAX_NODE_LIMIT_EXCEEDED',
      message: firstOverLimit
        ? `By the time this query traverses to the ${firstOverLimit.name} connection, it is requesting up to ${fmt(firstOverLimit.count)} possible nodes which exceeds the maximum limit of ${fmt(MAX_NODES)}.`
        : `This query requests up to ${fmt(nodes)} possible nodes which exceeds the maximum limit of ${fmt(MAX_NODES)}.`,
    });
  }
  const cost = Math.max(1, Math.round(requests / 100));
  return { errors, cost, nodeCount: nodes, requests };
}

module.exports = { analyze, isConnectionField, loc, MAX_PAGE, MAX_NODES };
