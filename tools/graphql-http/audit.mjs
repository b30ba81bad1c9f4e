// Runs graphql-http's GraphQL-over-HTTP server audit against the URL given and prints the
// results as JSON, one object per audit: {id, name, status, reason} (status: ok|warn|error|notice).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://host:port/graphql');
  process.exit(2);
}
const results = await auditServer({ url });
console.log(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason }))));
