// Runs the package against a running tmdbstatus, at TMDBSTATUS_GRPC_ADDR
// and TMDBSTATUS_HTTP_ADDR (go test ./examples builds the binary, serves it
// and sets them; without them the tests skip): every response of the corpus
// translated over gRPC and REST, and the service's own errors over both,
// each decoded as Go decodes its golden fixture.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { create, toJson } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

import { decode, decodeJson, decodeServiceError, grpcServiceDefinition } from "../index.js";
import { LookupRequestSchema, StatusService, TranslateRequestSchema } from "../gen/tmdbstatus/v1/service_pb.js";
import { corpus, corpusDir, expected, fixture, what } from "./fixtures.js";

const grpcAddr = process.env.TMDBSTATUS_GRPC_ADDR;
const httpAddr = process.env.TMDBSTATUS_HTTP_ADDR;
const skip = grpcAddr && httpAddr ? false : "TMDBSTATUS_GRPC_ADDR and TMDBSTATUS_HTTP_ADDR are not set: go test ./examples sets them";

let client;
function call(method, req) {
  client ??= new (grpc.makeGenericClientConstructor(grpcServiceDefinition(StatusService), "StatusService"))(
    grpcAddr, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) =>
    client[method](req, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res))));
}

// request is the TranslateRequest of a corpus file's response.
function request(r) {
  const body = r.bodyBase64 === undefined ? Buffer.from(r.body ?? "", "utf8") : Buffer.from(r.bodyBase64, "base64");
  return create(TranslateRequestSchema, { httpStatus: r.httpStatus, headers: r.headers ?? [], bodyBytes: body });
}

async function rest(method, path, body) {
  const res = await fetch(`http://${httpAddr}${path}`, {
    method, body, headers: body === undefined ? {} : { "Content-Type": "application/json" }, signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, json: await res.json() };
}

test("the binary's answers decode as Go decodes them", { skip }, async (t) => {
  for (const file of corpus) {
    const c = JSON.parse(readFileSync(new URL(file, corpusDir), "utf8"));
    const want = expected(fixture(`corpus-${file.replace(/\.json$/, "")}`));
    await t.test(`corpus ${file}`, async () => {
      const res = await call("translate", request(c.response));
      assert.deepEqual(what(decode(res.status)), want, `gRPC: ${c.description}`);
      const r = await rest("POST", "/v1/statuses:translate", JSON.stringify(toJson(TranslateRequestSchema, request(c.response))));
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(what(decodeJson(r.json.status)), want, `REST: ${c.description}`);
    });
  }
  for (const [name, method, req] of [
    ["service-unknown-code", "lookup", create(LookupRequestSchema, { code: 99 })],
    ["service-invalid-code", "lookup", create(LookupRequestSchema, { code: 0 })],
    ["service-missing-status", "translate", create(TranslateRequestSchema, {})],
  ]) {
    await t.test(`gRPC ${name}`, async () => {
      const err = await call(method, req).then(() => assert.fail("no error"), (err) => err);
      assert.deepEqual(what(decodeServiceError(err)), expected(fixture(name)));
    });
  }
  for (const [name, method, path] of [
    ["service-unknown-code", "GET", "/v1/statuses/99"],
    ["rest-route-not-found", "GET", "/v1/nothing"],
    ["rest-method-not-allowed", "DELETE", "/v1/statuses"],
  ]) {
    await t.test(`REST ${method} ${path}`, async () => {
      const r = await rest(method, path);
      assert.notEqual(r.status, 200);
      assert.deepEqual(what(decodeJson(r.json)), expected(fixture(name)));
    });
  }
  client?.close();
});
