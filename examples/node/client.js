#!/usr/bin/env node
// A Node client of tmdbstatus: Lookup, Translate of a raw TMDB body, the
// google.rpc.ErrorInfo and RetryInfo decoded from the returned statuses, and
// TMDB's table read from the proto's enum-value options with no call at all.
//
// Usage: node client.js [grpc-address]   (default localhost:9090)
//
// It loads the .proto files at run time: the repository's proto/ and
// googleapis' google/api and google/rpc protos, fetched by `make deps` into
// third_party/googleapis. Set TMDBSTATUS_PROTO and TMDBSTATUS_GOOGLEAPIS to
// use other folders (a monorepo's vendored copies).
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const repo = path.join(__dirname, '..', '..');
const includeDirs = [
  process.env.TMDBSTATUS_PROTO || path.join(repo, 'proto'),
  process.env.TMDBSTATUS_GOOGLEAPIS || path.join(repo, 'third_party', 'googleapis'),
  // google/protobuf/descriptor.proto, which status.proto imports, ships
  // with protobufjs.
  path.dirname(require.resolve('protobufjs')),
];
const protoFiles = ['tmdbstatus/v1/service.proto', 'google/rpc/error_details.proto'];

// loadRoot parses the protos with protobufjs, which keeps the custom options
// that @grpc/proto-loader's descriptors drop, and decodes any message.
function loadRoot() {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    for (const dir of includeDirs) {
      const p = path.join(dir, target);
      if (require('fs').existsSync(p)) return p;
    }
    return target;
  };
  root.loadSync(protoFiles, { keepCase: true });
  root.resolveAll();
  return root;
}

const root = loadRoot();
const codeName = (n) => root.lookupEnum('google.rpc.Code').valuesById[n];

// formatDuration prints a google.protobuf.Duration as Go and protobuf's JSON
// do: 10s, 1.5s.
function formatDuration(d) {
  // int64 seconds decode as a Long when the long package is there.
  const secs = typeof d.seconds === 'object' ? d.seconds.toNumber() : Number(d.seconds || 0);
  const nanos = Number(d.nanos || 0);
  if (nanos === 0) return `${secs}s`;
  return `${(secs + nanos / 1e9).toString()}s`;
}

// printDetails decodes the google.protobuf.Any details of a google.rpc.Status.
function printDetails(details) {
  for (const any of details || []) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    switch (typeName) {
      case 'google.rpc.ErrorInfo': {
        const info = root.lookupType(typeName).decode(any.value);
        const md = Object.keys(info.metadata).sort().map((k) => `${k}=${info.metadata[k]}`);
        console.log(`  ErrorInfo: ${info.reason} ${info.domain} ${md.join(' ')}`);
        break;
      }
      case 'google.rpc.RetryInfo': {
        const retry = root.lookupType(typeName).decode(any.value);
        console.log(`  RetryInfo: ${formatDuration(retry.retry_delay)}`);
        break;
      }
      default:
        console.log(`  ${typeName}`);
    }
  }
}

// tableFromProto reads TMDB's table from the (tmdbstatus.v1.status) options
// of the TmdbStatus values: the proto alone is enough. protobufjs flattens
// an option's fields into keys such as "(status).http_status".
function tableFromProto() {
  const e = root.lookupEnum('tmdbstatus.v1.TmdbStatus');
  const rows = [];
  for (const [name, number] of Object.entries(e.values)) {
    const opts = (e.valuesOptions || {})[name];
    if (number === 0 || !opts) continue;
    rows.push({
      code: number,
      httpStatus: opts['(status).http_status'],
      grpcCode: opts['(status).grpc_code'],
      reason: name.replace(/^TMDB_STATUS_/, ''),
      retryable: opts['(status).retryable'] === true,
    });
  }
  return rows.sort((a, b) => a.code - b.code);
}

function call(client, method, req) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 10000);
    client[method](req, { deadline }, (err, resp) => (err ? reject(err) : resolve(resp)));
  });
}

async function main() {
  const addr = process.argv[2] || 'localhost:9090';
  const def = protoLoader.loadSync(protoFiles, {
    keepCase: true, enums: String, longs: Number, defaults: true, includeDirs,
  });
  const v1 = grpc.loadPackageDefinition(def).tmdbstatus.v1;
  const client = new v1.StatusService(addr, grpc.credentials.createInsecure());
  try {
    const lookup = await call(client, 'Lookup', { code: 7 });
    const e = lookup.entry;
    console.log(`lookup 7: ${e.grpc_code} ${e.reason} retryable=${e.retryable}`);

    // A raw body as TMDB sent it, with the HTTP status and Retry-After.
    const body = '{"success":false,"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}';
    const t = await call(client, 'Translate', { http_status: 429, retry_after: '10', body });
    console.log(`translate: ${codeName(t.status.code)} ${t.status.message}`);
    printDetails(t.status.details);

    // An RPC error carries its google.rpc.Status in the
    // grpc-status-details-bin trailer.
    try {
      await call(client, 'Lookup', { code: 99 });
      console.log('lookup 99: no error');
    } catch (err) {
      const [bin] = err.metadata.get('grpc-status-details-bin');
      const st = root.lookupType('google.rpc.Status').decode(bin);
      console.log(`lookup 99 error: ${codeName(err.code)} ${st.message}`);
      printDetails(st.details);
    }
  } finally {
    client.close();
  }

  const rows = tableFromProto();
  console.log(`table from the proto: ${rows.length} codes`);
  for (const r of rows) {
    console.log(`  ${r.code} ${r.httpStatus} ${r.grpcCode} ${r.reason}${r.retryable ? ' retryable' : ''}`);
  }
}

main().catch((err) => {
  console.error(`tmdbstatus example: ${err.message || err}`);
  process.exit(1);
});
