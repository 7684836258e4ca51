#!/usr/bin/env python3
"""A Python client of tmdbstatus.

It calls Lookup and Translate (of a raw TMDB body), decodes the
google.rpc.ErrorInfo and RetryInfo of the returned statuses, and reads TMDB's
table from the proto's enum-value options with no call at all.

Usage: python3 client.py [grpc-address]   (default localhost:9090)

Needs grpcio and grpcio-tools (Debian: python3-grpcio, python3-grpc-tools)
and, where grpcio-tools is older than protoc 3.15 (Debian 12's bundles protoc
3.5.1), a protoc on the PATH (Debian: protobuf-compiler). The Python code is
generated at start, into a temporary folder, from the repository's proto/
and googleapis' google/api and google/rpc protos, which `make deps` fetches
into third_party/googleapis. Set TMDBSTATUS_PROTO and TMDBSTATUS_GOOGLEAPIS
to use other folders (a monorepo's vendored copies).
"""

import importlib
import os
import shutil
import subprocess
import sys
import tempfile

import grpc
import grpc_tools
from grpc_tools import protoc

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PROTO = os.environ.get("TMDBSTATUS_PROTO") or os.path.join(REPO, "proto")
GOOGLEAPIS = os.environ.get("TMDBSTATUS_GOOGLEAPIS") or os.path.join(REPO, "third_party", "googleapis")
# google/protobuf/descriptor.proto, which status.proto imports, ships with
# grpc_tools.
WELL_KNOWN = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")

FILES = [
    "tmdbstatus/v1/status.proto",
    "tmdbstatus/v1/service.proto",
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/rpc/code.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
]


def grpc_tools_protoc_version():
    """Returns the version of the protoc grpc_tools bundles, as (major,
    minor): it prints it to its own stdout, so ask it in a child process."""
    out = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "--version"],
                         capture_output=True, text=True, check=False).stdout.split()
    try:
        major, minor = out[-1].split(".")[:2]
        return int(major), int(minor)
    except (IndexError, ValueError):
        return 0, 0


def generate(out):
    """Generates the Python modules of FILES into out: messages and the
    service stub."""
    includes = ["-I" + PROTO, "-I" + GOOGLEAPIS, "-I" + WELL_KNOWN]
    # googleapis' error_details.proto has proto3 "optional" fields, which
    # protoc reads since 3.15; the messages must also suit the protobuf
    # runtime. An older grpc_tools generates the stub only.
    messages = ["protoc"] + includes + ["--python_out=" + out] + FILES
    if grpc_tools_protoc_version() >= (3, 15) or not shutil.which("protoc"):
        rc = protoc.main(messages)
    else:
        rc = subprocess.run(messages, check=False).returncode
    if rc != 0:
        raise SystemExit("tmdbstatus example: protoc failed")
    if protoc.main(["protoc"] + includes + ["--grpc_python_out=" + out, "tmdbstatus/v1/service.proto"]) != 0:
        raise SystemExit("tmdbstatus example: grpc_tools.protoc failed")


def format_duration(d):
    """Prints a google.protobuf.Duration as Go and protobuf's JSON do."""
    if d.nanos == 0:
        return "%ds" % d.seconds
    return "%gs" % (d.seconds + d.nanos / 1e9)


def print_details(details, error_details_pb2):
    """Decodes the google.protobuf.Any details of a google.rpc.Status."""
    for any_ in details:
        if any_.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            any_.Unpack(info)
            md = " ".join("%s=%s" % (k, info.metadata[k]) for k in sorted(info.metadata))
            print("  ErrorInfo: %s %s %s" % (info.reason, info.domain, md))
        elif any_.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            any_.Unpack(retry)
            print("  RetryInfo: %s" % format_duration(retry.retry_delay))
        else:
            print("  " + any_.TypeName())


def table_from_proto(status_pb2, code_pb2):
    """Reads TMDB's table from the (tmdbstatus.v1.status) options of the
    TmdbStatus values: the proto alone is enough."""
    rows = []
    for value in status_pb2.TmdbStatus.DESCRIPTOR.values:
        opts = value.GetOptions()
        if value.number == 0 or not opts.HasExtension(status_pb2.status):
            continue
        spec = opts.Extensions[status_pb2.status]
        rows.append((value.number, spec.http_status, code_pb2.Code.Name(spec.grpc_code),
                     value.name[len("TMDB_STATUS_"):], spec.retryable))
    return sorted(rows)


def main():
    addr = sys.argv[1] if len(sys.argv) > 1 else "localhost:9090"
    out = tempfile.mkdtemp(prefix="tmdbstatus-python-")
    try:
        generate(out)
        sys.path.insert(0, out)
        status_pb2 = importlib.import_module("tmdbstatus.v1.status_pb2")
        service_pb2 = importlib.import_module("tmdbstatus.v1.service_pb2")
        service_pb2_grpc = importlib.import_module("tmdbstatus.v1.service_pb2_grpc")
        code_pb2 = importlib.import_module("google.rpc.code_pb2")
        rpc_status_pb2 = importlib.import_module("google.rpc.status_pb2")
        error_details_pb2 = importlib.import_module("google.rpc.error_details_pb2")
    finally:
        shutil.rmtree(out)

    with grpc.insecure_channel(addr) as channel:
        client = service_pb2_grpc.StatusServiceStub(channel)

        e = client.Lookup(service_pb2.LookupRequest(code=7), timeout=10).entry
        print("lookup 7: %s %s retryable=%s" % (code_pb2.Code.Name(e.grpc_code), e.reason,
                                                 "true" if e.retryable else "false"))

        # A raw body as TMDB sent it, with the HTTP status and Retry-After.
        body = ('{"success":false,"status_code":25,"status_message":'
                '"Your request count (41) is over the allowed limit of (40)."}')
        t = client.Translate(service_pb2.TranslateRequest(http_status=429, retry_after="10", body=body),
                             timeout=10)
        print("translate: %s %s" % (code_pb2.Code.Name(t.status.code), t.status.message))
        print_details(t.status.details, error_details_pb2)

        # An RPC error carries its google.rpc.Status in the
        # grpc-status-details-bin trailer.
        try:
            client.Lookup(service_pb2.LookupRequest(code=99), timeout=10)
            print("lookup 99: no error")
        except grpc.RpcError as err:
            trailer = dict(err.trailing_metadata() or ())
            st = rpc_status_pb2.Status.FromString(trailer["grpc-status-details-bin"])
            print("lookup 99 error: %s %s" % (err.code().name, st.message))
            print_details(st.details, error_details_pb2)

    rows = table_from_proto(status_pb2, code_pb2)
    print("table from the proto: %d codes" % len(rows))
    for code, http_status, grpc_code, reason, retryable in rows:
        print("  %d %d %s %s%s" % (code, http_status, grpc_code, reason, " retryable" if retryable else ""))


if __name__ == "__main__":
    main()
