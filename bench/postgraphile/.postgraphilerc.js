// PostGraphile 4 options for the benchmark's peer. bench/run.py starts
// `postgraphile` with this folder as its working directory, so the CLI reads
// this file; connection, schema, host and port come on the command line.
//
// Production-style settings: no GraphiQL, no per-query console log (the
// PostGraphile docs recommend --disable-query-log in production).
//
// With BENCH_JWT_PUBLIC_KEY_FILE set, requests that carry
// `Authorization: Bearer <jwt>` are verified with that ES256 public key (the
// tenant's key, the same token our service gets) and their claims are set as
// `jwt.claims.*` in a transaction, which is how PostGraphile does auth.
// Requests without the header stay anonymous (no transaction).
const fs = require('fs');

const options = {
  disableQueryLog: true,
  disableGraphiql: true,
  dynamicJson: true,
  setofFunctionsContainNulls: false,
};

const keyFile = process.env.BENCH_JWT_PUBLIC_KEY_FILE;
if (keyFile) {
  options.jwtPublicKey = fs.readFileSync(keyFile, 'utf8');
  options.jwtVerifyOptions = { algorithms: ['ES256'], audience: [] };
}

module.exports = { options };
