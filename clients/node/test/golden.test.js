// Decodes every golden fixture the Go tests write (clients/testdata/golden)
// from its wire bytes and its JSON, and requires the answers of Go's API.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { decodeBinary, decodeJson, decodeServiceError, lookup, tmdbTable, SERVICE_DOMAIN, TMDB_DOMAIN } from "../index.js";

import { corpus, corpusDir, dir, expected, fixture, fixtures, what } from "./fixtures.js";

test("the fixtures cover every kind of status", () => {
  assert.ok(fixtures.length >= 60, `only ${fixtures.length} fixtures`);
  assert.ok(fixtures.some((f) => f.retryable), "no retryable fixture");
  assert.ok(fixtures.some((f) => f.domain === SERVICE_DOMAIN));
});

test("retryability travels on the wire: a fixture is retryable exactly when it has a delay", () => {
  for (const f of fixtures) assert.equal(f.retryable, f.retryDelayNanos !== null, `${f.name}: ${f.source}`);
});

test("the fixtures hold the whole corpus", () => {
  assert.ok(corpus.length >= 10, `only ${corpus.length} files in the corpus`);
  const names = new Set(fixtures.map((f) => f.name));
  for (const file of corpus) assert.ok(names.has(`corpus-${file.replace(/\.json$/, "")}`), `${file} has no fixture`);
});

for (const file of corpus) {
  test(`corpus ${file}: its want decodes as Go reads it`, () => {
    const c = JSON.parse(readFileSync(new URL(file, corpusDir), "utf8"));
    assert.deepEqual(what(decodeJson(c.want)), expected(fixture(`corpus-${file.replace(/\.json$/, "")}`)), c.description);
  });
}

for (const f of fixtures) {
  test(`fixture ${f.name}`, () => {
    const fromBinary = decodeBinary(readFileSync(new URL(`${f.name}.binpb`, dir)));
    assert.deepEqual(what(fromBinary), expected(f), `${f.source}: from the wire bytes`);
    const fromJson = decodeJson(readFileSync(new URL(`${f.name}.json`, dir), "utf8"));
    assert.deepEqual(what(fromJson), expected(f), `${f.source}: from the JSON`);
    // As a grpc-js ServiceError carries it, in its trailer.
    const trailer = { code: fromBinary.code, details: fromBinary.message, metadata: { get: (k) => (k === "grpc-status-details-bin" ? [readFileSync(new URL(`${f.name}.binpb`, dir))] : []) } };
    assert.deepEqual(what(decodeServiceError(trailer)), expected(f), `${f.source}: from a ServiceError`);
    if (f.domain === TMDB_DOMAIN && lookup(f.tmdbCode)) {
      assert.equal(fromBinary.entry.reason, f.reason, `${f.source}: the table entry`);
    }
  });
}

test("a ServiceError without the trailer keeps its code and message", () => {
  const info = decodeServiceError({ code: 14, details: "connection refused", metadata: { get: () => [] } });
  assert.deepEqual([info.codeName, info.message, info.reason, info.retryable], ["UNAVAILABLE", "connection refused", "", false]);
});

test("a RetryInfo with a negative or invalid delay is retryable with no delay", async () => {
  const { create, toBinary } = await import("@bufbuild/protobuf");
  const { anyPack } = await import("@bufbuild/protobuf/wkt");
  const { RetryInfoSchema } = await import("../gen/google/rpc/error_details_pb.js");
  const { StatusSchema } = await import("../index.js");
  for (const retryDelay of [{ seconds: -1n, nanos: 0 }, { seconds: 1n, nanos: -5 }, undefined]) {
    const st = create(StatusSchema, { code: 14, details: [anyPack(RetryInfoSchema, create(RetryInfoSchema, { retryDelay }))] });
    const info = decodeBinary(toBinary(StatusSchema, st));
    assert.deepEqual([info.retryable, info.retryDelayMs], [true, undefined], JSON.stringify(retryDelay, (_, v) => (typeof v === "bigint" ? String(v) : v)));
  }
});

test("a status without RetryInfo is not retryable, whatever its TMDB code or HTTP status", async () => {
  const { create, toBinary } = await import("@bufbuild/protobuf");
  const { anyPack } = await import("@bufbuild/protobuf/wkt");
  const { ErrorInfoSchema } = await import("../gen/google/rpc/error_details_pb.js");
  const { StatusSchema } = await import("../index.js");
  for (const metadata of [{ tmdbStatusCode: "25", httpStatus: "429" }, { httpStatus: "503" }]) {
    const info = create(ErrorInfoSchema, { reason: "X", domain: TMDB_DOMAIN, metadata });
    const st = create(StatusSchema, { code: 8, details: [anyPack(ErrorInfoSchema, info)] });
    const got = decodeBinary(toBinary(StatusSchema, st));
    assert.deepEqual([got.retryable, got.retryDelayMs], [false, undefined], JSON.stringify(metadata));
  }
});

test("the table comes from the proto's options", () => {
  // The Go tests translate each code of the table alone.
  const alone = fixtures.filter((f) => f.name.startsWith("tmdb-") && /^Translate \{"statusCode":\d+\}$/.test(f.source));
  assert.deepEqual(tmdbTable().map((e) => e.code), alone.map((f) => Number(f.source.match(/\d+/)[0])));
  assert.deepEqual(lookup(25), {
    code: 25, reason: "REQUEST_LIMIT_EXCEEDED", httpStatus: 429, grpcCode: 8, retryable: true, fields: [],
    message: "Your request count (#) is over the allowed limit of (40).",
  });
  assert.equal(lookup(0), undefined);
  assert.equal(lookup(48), undefined);
});
