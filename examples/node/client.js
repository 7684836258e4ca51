// Calls tmdbstatus over gRPC (@grpc/grpc-js) and REST, and decodes each
// status with one call of the tmdbstatus package.
//
// Usage: node client.js [grpc-address] [http-address]
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { decode, decodeJson, decodeServiceError, grpcServiceDefinition, lookup } from "tmdbstatus";
import { LookupRequestSchema, StatusService, TranslateRequestSchema } from "tmdbstatus/gen/tmdbstatus/v1/service_pb.js";

const [grpcAddr = "localhost:9090", httpAddr = "localhost:8080"] = process.argv.slice(2);
const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(StatusService), "StatusService");
const client = new Client(grpcAddr, grpc.credentials.createInsecure());
const call = (method, req) =>
  new Promise((resolve, reject) => client[method](req, (err, res) => (err ? reject(err) : resolve(res))));

function print(label, s) {
  const delay = s.retryDelayMs ?? "-";
  console.log(`${label}: ${s.codeName} ${s.reason} ${s.domain} tmdbCode=${s.tmdbCode ?? "-"} httpStatus=${s.httpStatus ?? "-"} retryable=${s.retryable} retryDelayMs=${delay}`);
}

// A TMDB answer, translated: the status is in the response.
const res = await call("translate", create(TranslateRequestSchema, {
  httpStatus: 429,
  retryAfter: "10",
  body: '{"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}',
}));
print("translate", decode(res.status));

// A failed call: the status is in the grpc-status-details-bin trailer.
try {
  await call("lookup", create(LookupRequestSchema, { code: 99 }));
} catch (err) {
  print("lookup 99", decodeServiceError(err));
}

// A REST error: the status is the JSON body.
const rest = await fetch(`http://${httpAddr}/v1/statuses/99`);
print("GET /v1/statuses/99", decodeJson(await rest.json()));

// TMDB's table, from the proto alone.
const e = lookup(25);
console.log(`table 25: ${e.reason} ${e.httpStatus} retryable=${e.retryable}`);
client.close();
