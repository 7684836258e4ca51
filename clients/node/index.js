// Decodes the google.rpc.Status values tmdbstatus sends, with the code
// protoc-gen-es generates from the proto into ./gen. index.d.ts declares
// the types.
import { create, createRegistry, fromBinary, fromJson, fromJsonString, getOption, toBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";

import { CodeSchema } from "./gen/google/rpc/code_pb.js";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  HelpSchema,
  RetryInfoSchema,
  file_google_rpc_error_details,
} from "./gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "./gen/google/rpc/status_pb.js";
import { ErrorReason, ErrorReasonSchema, MetadataKey, MetadataKeySchema, error_domain, metadata_key } from "./gen/tmdbstatus/v1/error_reason_pb.js";
import { TmdbStatusSchema, status as statusOption } from "./gen/tmdbstatus/v1/status_pb.js";

export { StatusSchema };

/** The registry of the detail types, to unpack the Anys of a status. */
export const registry = createRegistry(file_google_rpc_error_details);

/** Returns the (tmdbstatus.v1.error_domain) option of an ErrorReason value. */
export function errorDomain(reason) {
  return getOption(ErrorReasonSchema.value[reason], error_domain);
}

/** Returns the ErrorInfo metadata key a MetadataKey value stands for. */
export function metadataKey(key) {
  return getOption(MetadataKeySchema.value[key], metadata_key);
}

/** The domain of translated TMDB failures, "api.themoviedb.org". */
export const TMDB_DOMAIN = errorDomain(ErrorReason.NO_STATUS_CODE);
/** The domain of tmdbstatus's own errors, "tmdbstatus.github.io". */
export const SERVICE_DOMAIN = errorDomain(ErrorReason.MISSING_STATUS);

const TMDB_STATUS_CODE = metadataKey(MetadataKey.TMDB_STATUS_CODE);
const HTTP_STATUS = metadataKey(MetadataKey.HTTP_STATUS);

// TMDB's table, read once from the (tmdbstatus.v1.status) options.
const table = new Map(
  TmdbStatusSchema.values
    .filter((v) => v.number !== 0)
    .map((v) => {
      const spec = getOption(v, statusOption);
      const entry = {
        code: v.number,
        reason: v.name.replace(/^TMDB_STATUS_/, ""),
        httpStatus: spec.httpStatus,
        message: spec.message,
        grpcCode: spec.grpcCode,
        retryable: spec.retryable,
        fields: [...spec.fields],
      };
      return [v.number, Object.freeze(entry)];
    }),
);

/** Returns TMDB's table, in code order, as the proto's options give it. */
export function tmdbTable() {
  return [...table.values()];
}

/** Returns the table entry of a TMDB status code, or undefined. */
export function lookup(code) {
  return table.get(code);
}

/** Decodes a google.rpc.Status message, such as TranslateResponse.status. */
export function decode(status) {
  const info = {
    code: status.code,
    codeName: CodeSchema.value[status.code]?.name ?? `CODE_${status.code}`,
    message: status.message,
    reason: "",
    domain: "",
    metadata: {},
    tmdbCode: undefined,
    httpStatus: undefined,
    entry: undefined,
    retryable: false,
    retryDelayMs: undefined,
    fieldViolations: [],
    helpLinks: [],
    status,
  };
  let retryInfo;
  for (const any of status.details) {
    let d;
    try {
      d = anyUnpack(any, registry);
    } catch {
      continue; // A detail that does not decode is skipped, as grpc-go does.
    }
    switch (d?.$typeName) {
      case ErrorInfoSchema.typeName:
        if (info.reason === "" && info.domain === "") readErrorInfo(info, d);
        break;
      case RetryInfoSchema.typeName:
        retryInfo ??= d;
        break;
      case BadRequestSchema.typeName:
        for (const v of d.fieldViolations) info.fieldViolations.push({ field: v.field, description: v.description, reason: v.reason });
        break;
      case HelpSchema.typeName:
        for (const l of d.links) info.helpLinks.push({ description: l.description, url: l.url });
        break;
    }
  }
  // Retryability travels on the wire: every retryable status of tmdbstatus
  // carries a RetryInfo, and no other does (AIP-194).
  info.retryable = retryInfo !== undefined;
  info.retryDelayMs = retryInfo && delayMs(retryInfo.retryDelay);
  return info;
}

function readErrorInfo(info, d) {
  info.reason = d.reason;
  info.domain = d.domain;
  info.metadata = { ...d.metadata };
  if (d.domain !== TMDB_DOMAIN) return;
  info.tmdbCode = int32(d.metadata[TMDB_STATUS_CODE]);
  info.httpStatus = int32(d.metadata[HTTP_STATUS]);
  info.entry = info.tmdbCode === undefined ? undefined : table.get(info.tmdbCode);
}

function int32(s) {
  if (s === undefined || !/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

// delayMs is a valid google.protobuf.Duration of zero or more in
// milliseconds, else undefined, as the Go API's RetryDelay reads it.
function delayMs(d) {
  if (d === undefined) return undefined;
  const seconds = Number(d.seconds);
  const nanos = d.nanos;
  const valid = Math.abs(seconds) <= 315576000000 && Math.abs(nanos) < 1e9 && !(seconds > 0 && nanos < 0) && !(seconds < 0 && nanos > 0);
  if (!valid || seconds < 0 || nanos < 0) return undefined;
  return seconds * 1000 + nanos / 1e6;
}

/** Decodes google.rpc.Status wire bytes, such as a grpc-status-details-bin trailer. */
export function decodeBinary(bytes) {
  return decode(fromBinary(StatusSchema, bytes));
}

/** Decodes the google.rpc.Status JSON of a REST error: a string or a parsed object. */
export function decodeJson(json) {
  const opts = { registry, ignoreUnknownFields: true };
  return decode(typeof json === "string" ? fromJsonString(StatusSchema, json, opts) : fromJson(StatusSchema, json, opts));
}

/**
 * Decodes the error of a failed @grpc/grpc-js call: its
 * grpc-status-details-bin trailer or, without one, its code and details.
 */
export function decodeServiceError(err) {
  const bin = err?.metadata?.get?.("grpc-status-details-bin")?.[0];
  if (bin instanceof Uint8Array) return decodeBinary(bin);
  return decode(create(StatusSchema, { code: err?.code ?? 2, message: err?.details ?? String(err?.message ?? err) }));
}

/**
 * Returns the @grpc/grpc-js service definition of a service protoc-gen-es
 * generated, for grpc.makeGenericClientConstructor: its methods take and
 * return the generated messages.
 */
export function grpcServiceDefinition(service) {
  const def = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: `/${service.typeName}/${m.name}`,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: (msg) => Buffer.from(toBinary(m.input, msg)),
      requestDeserialize: (b) => fromBinary(m.input, b),
      responseSerialize: (msg) => Buffer.from(toBinary(m.output, msg)),
      responseDeserialize: (b) => fromBinary(m.output, b),
    };
  }
  return def;
}
