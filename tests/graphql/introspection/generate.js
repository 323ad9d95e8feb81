// Writes graphql-js.json: the introspection documents that graphql-js's getIntrospectionQuery
// builds (as GraphiQL, graphql-codegen, get-graphql-schema and Apollo's tooling send them), by
// version, with its default options and (16 on) with every option the version knows. graphql-js
// 15 asks `specifiedByUrl`, a name of the spec's draft that servers on the final spec don't have.
//
//   d=$(mktemp -d); for v in 15.8.0 16.0.0 16; do mkdir -p $d/v$v;
//     (cd $d/v$v && npm pack -q graphql@$v && tar xzf graphql-*.tgz); done
//   node tests/graphql/introspection/generate.js $d tests/graphql/introspection/graphql-js.json
const fs = require('fs');
const path = require('path');
const [dir, out] = process.argv.slice(2);
const docs = {};
for (const v of ['15.8.0', '16.0.0', '16']) {
  const g = require(path.resolve(dir, `v${v}`, 'package'));
  docs[`graphql-js-${g.version}-default`] = g.getIntrospectionQuery();
  if (g.version.startsWith('15.')) continue;
  docs[`graphql-js-${g.version}-all-options`] = g.getIntrospectionQuery({
    descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
    schemaDescription: true, inputValueDeprecation: true, oneOf: true,
  });
}
fs.writeFileSync(out, JSON.stringify(docs, null, 2) + '\n');
