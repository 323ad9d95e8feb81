// Runs the GraphQL-over-HTTP audit suite (graphql-http's serverAudits) against a live server.
//   node audit.mjs URL [AUTHORIZATION]
// Prints one JSON array: {id, name, status ("ok" | "notice" | "warn" | "error"), reason}.
// With AUTHORIZATION, every request carries it as the Authorization header.
import { serverAudits } from 'graphql-http';

const [url, authorization] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs URL [AUTHORIZATION]');
  process.exit(2);
}

function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  if (authorization) headers.set('authorization', authorization);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  });
}
console.log(JSON.stringify(results));
