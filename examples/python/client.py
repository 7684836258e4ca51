#!/usr/bin/env python3
"""Calls tmdbstatus over gRPC (grpcio) and REST, and decodes each status with
one call of the tmdbstatus package (clients/python, on PYTHONPATH).

Usage: PYTHONPATH=clients/python python3 client.py [grpc-address] [http-address]
"""

import datetime
import json
import sys
import urllib.error
import urllib.request

import grpc

import tmdbstatus
from tmdbstatus.v1 import service_pb2, service_pb2_grpc


def show(label, s):
    delay = "-" if s.retry_delay is None else s.retry_delay // datetime.timedelta(milliseconds=1)
    print(f"{label}: {s.code.name} {s.reason} {s.domain} tmdbCode={s.tmdb_code or '-'} "
          f"httpStatus={s.http_status or '-'} retryable={str(s.retryable).lower()} retryDelayMs={delay}")


def main(grpc_addr="localhost:9090", http_addr="localhost:8080"):
    with grpc.insecure_channel(grpc_addr) as channel:
        stub = service_pb2_grpc.StatusServiceStub(channel)
        # A TMDB answer, translated: the status is in the response.
        res = stub.Translate(service_pb2.TranslateRequest(
            http_status=429, retry_after="10",
            body='{"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}'))
        show("translate", tmdbstatus.decode(res.status))
        # A failed call: the status is in the grpc-status-details-bin trailer.
        try:
            stub.Lookup(service_pb2.LookupRequest(code=99))
        except grpc.RpcError as err:
            show("lookup 99", tmdbstatus.from_rpc_error(err))
    # A REST error: the status is the JSON body.
    try:
        urllib.request.urlopen(f"http://{http_addr}/v1/statuses/99")
    except urllib.error.HTTPError as err:
        show("GET /v1/statuses/99", tmdbstatus.from_json(json.load(err)))
    # TMDB's table, from the proto alone.
    e = tmdbstatus.lookup(25)
    print(f"table 25: {e.reason} {e.http_status} retryable={str(e.retryable).lower()}")


if __name__ == "__main__":
    main(*sys.argv[1:])
