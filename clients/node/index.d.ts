// Types of index.js.
import type { Registry } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { Code } from "./gen/google/rpc/code_pb.js";
import type { Status } from "./gen/google/rpc/status_pb.js";
import type { ErrorReason, MetadataKey } from "./gen/tmdbstatus/v1/error_reason_pb.js";

export { StatusSchema } from "./gen/google/rpc/status_pb.js";

/** One row of TMDB's table, from the (tmdbstatus.v1.status) option of a TmdbStatus value. */
export interface TableEntry {
  readonly code: number;
  /** The ErrorInfo reason: the TmdbStatus name without "TMDB_STATUS_". */
  readonly reason: string;
  readonly httpStatus: number;
  readonly message: string;
  readonly grpcCode: Code;
  readonly retryable: boolean;
  readonly fields: readonly string[];
}

/** A google.rpc.BadRequest field violation. */
export interface FieldViolation {
  field: string;
  description: string;
  reason: string;
}

/** A google.rpc.Help link. */
export interface HelpLink {
  description: string;
  url: string;
}

/** What a google.rpc.Status of tmdbstatus says. */
export interface StatusInfo {
  /** The gRPC code. */
  code: Code;
  /** The gRPC code's name, "RESOURCE_EXHAUSTED". */
  codeName: string;
  message: string;
  /** The ErrorInfo's reason; "" without one (an OK status). */
  reason: string;
  /** The ErrorInfo's domain: TMDB_DOMAIN or SERVICE_DOMAIN. */
  domain: string;
  metadata: Record<string, string>;
  /** TMDB's status code, when TMDB gave one. */
  tmdbCode?: number;
  /** The HTTP status of TMDB's answer, when known. */
  httpStatus?: number;
  /** The table entry of tmdbCode, when the table has it. */
  entry?: TableEntry;
  /** Whether the same request may succeed if sent again: the status carries a RetryInfo. */
  retryable: boolean;
  /** The RetryInfo's delay, in milliseconds, when it has a valid one. */
  retryDelayMs?: number;
  fieldViolations: FieldViolation[];
  helpLinks: HelpLink[];
  /** The status decoded. */
  status: Status;
}

/** The subset of @grpc/grpc-js's ServiceError the decoder reads. */
export interface GrpcError {
  code?: number;
  details?: string;
  message?: string;
  metadata?: { get(key: string): (string | Uint8Array)[] };
}

export declare const registry: Registry;
export declare const TMDB_DOMAIN: string;
export declare const SERVICE_DOMAIN: string;
export declare function errorDomain(reason: ErrorReason): string;
export declare function metadataKey(key: MetadataKey): string;
export declare function tmdbTable(): TableEntry[];
export declare function lookup(code: number): TableEntry | undefined;
export declare function decode(status: Status): StatusInfo;
export declare function decodeBinary(bytes: Uint8Array): StatusInfo;
export declare function decodeJson(json: string | object): StatusInfo;
export declare function decodeServiceError(err: GrpcError): StatusInfo;
export declare function grpcServiceDefinition<T extends GenServiceMethods>(service: GenService<T>): Record<string, object>;
