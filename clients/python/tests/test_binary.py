"""Runs the package against a running tmdbstatus, at TMDBSTATUS_GRPC_ADDR and
TMDBSTATUS_HTTP_ADDR (go test ./examples builds the binary, serves it and sets
them; without them the tests skip): every response of the corpus translated
over gRPC and REST, and the service's own errors over both, each decoded as Go
decodes its golden fixture."""

import base64
import json
import os
import unittest
import urllib.error
import urllib.request

import grpc
from google.protobuf import json_format

import tmdbstatus
from tests.fixtures import CORPUS_FILES, corpus_case, expected, fixture, what
from tmdbstatus.v1 import service_pb2, service_pb2_grpc

GRPC_ADDR = os.environ.get("TMDBSTATUS_GRPC_ADDR")
HTTP_ADDR = os.environ.get("TMDBSTATUS_HTTP_ADDR")
TIMEOUT = 10  # seconds, for each call


def request(r):
    """The TranslateRequest of a corpus file's response."""
    body = base64.b64decode(r["bodyBase64"]) if "bodyBase64" in r else r.get("body", "").encode()
    return service_pb2.TranslateRequest(
        http_status=r["httpStatus"], body_bytes=body,
        headers=[service_pb2.Header(name=h["name"], value=h["value"]) for h in r.get("headers", [])])


def rest(method, path, body=None):
    """Sends a REST request and returns its HTTP status and its JSON."""
    req = urllib.request.Request(f"http://{HTTP_ADDR}{path}", method=method, data=body)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


@unittest.skipUnless(GRPC_ADDR and HTTP_ADDR, "TMDBSTATUS_GRPC_ADDR and TMDBSTATUS_HTTP_ADDR are not set: go test ./examples sets them")
class BinaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.channel = grpc.insecure_channel(GRPC_ADDR)
        cls.stub = service_pb2_grpc.StatusServiceStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def test_corpus(self):
        for name in CORPUS_FILES:
            with self.subTest(name):
                case = corpus_case(name)
                want = expected(fixture("corpus-" + name[:-len(".json")]))
                req = request(case["response"])
                res = self.stub.Translate(req, timeout=TIMEOUT)
                self.assertEqual(what(tmdbstatus.decode(res.status)), want, "gRPC: " + case["description"])
                code, answer = rest("POST", "/v1/statuses:translate", json_format.MessageToJson(req).encode())
                self.assertEqual(code, 200, answer)
                self.assertEqual(what(tmdbstatus.from_json(answer["status"])), want, "REST: " + case["description"])

    def test_grpc_errors(self):
        for name, call in (
                ("service-unknown-code", lambda: self.stub.Lookup(service_pb2.LookupRequest(code=99), timeout=TIMEOUT)),
                ("service-invalid-code", lambda: self.stub.Lookup(service_pb2.LookupRequest(code=0), timeout=TIMEOUT)),
                ("service-missing-status", lambda: self.stub.Translate(service_pb2.TranslateRequest(), timeout=TIMEOUT))):
            with self.subTest(name):
                with self.assertRaises(grpc.RpcError) as cm:
                    call()
                self.assertEqual(what(tmdbstatus.from_rpc_error(cm.exception)), expected(fixture(name)))

    def test_rest_errors(self):
        for name, method, path in (
                ("service-unknown-code", "GET", "/v1/statuses/99"),
                ("rest-route-not-found", "GET", "/v1/nothing"),
                ("rest-method-not-allowed", "DELETE", "/v1/statuses")):
            with self.subTest(name):
                code, answer = rest(method, path)
                self.assertNotEqual(code, 200)
                self.assertEqual(what(tmdbstatus.from_json(answer)), expected(fixture(name)))


if __name__ == "__main__":
    unittest.main()
