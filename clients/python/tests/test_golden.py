"""Decodes every golden fixture the Go tests write (clients/testdata/golden)
from its wire bytes and its JSON, and requires the answers of Go's API."""

import re
import unittest

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

import tmdbstatus
from tests.fixtures import CORPUS_FILES, FIXTURES, corpus_case, expected, fixture, load, what


class FakeRpcError(grpc.RpcError):
    """A grpc.RpcError as a failed call raises it."""

    def __init__(self, code, details, trailers):
        super().__init__()
        self._code, self._details, self._trailers = code, details, trailers

    def code(self):
        return self._code

    def details(self):
        return self._details

    def trailing_metadata(self):
        return self._trailers


class GoldenTest(unittest.TestCase):
    def test_fixtures_cover_every_kind(self):
        self.assertGreaterEqual(len(FIXTURES), 60)
        self.assertTrue(any(f["retryable"] for f in FIXTURES))
        self.assertTrue(any(f["domain"] == tmdbstatus.SERVICE_DOMAIN for f in FIXTURES))

    def test_retryable_exactly_with_a_delay(self):
        # Retryability travels on the wire, as RetryInfo.
        for f in FIXTURES:
            self.assertEqual(f["retryable"], f["retryDelayNanos"] is not None, f["name"] + ": " + f["source"])

    def test_corpus(self):
        self.assertGreaterEqual(len(CORPUS_FILES), 10)
        names = {f["name"] for f in FIXTURES}
        for name in CORPUS_FILES:
            with self.subTest(name):
                self.assertIn("corpus-" + name[:-len(".json")], names, name + " has no fixture")
                case = corpus_case(name)
                self.assertEqual(what(tmdbstatus.from_json(case["want"])), expected(fixture("corpus-" + name[:-len(".json")])),
                                 case["description"])

    def test_every_fixture(self):
        for f in FIXTURES:
            with self.subTest(f["name"]):
                wire = load(f["name"] + ".binpb")
                from_bytes = tmdbstatus.from_bytes(wire)
                self.assertEqual(what(from_bytes), expected(f), f["source"] + ": from the wire bytes")
                from_json = tmdbstatus.from_json(load(f["name"] + ".json", "r"))
                self.assertEqual(what(from_json), expected(f), f["source"] + ": from the JSON")
                err = FakeRpcError(from_bytes.code, from_bytes.message, (("grpc-status-details-bin", wire),))
                self.assertEqual(what(tmdbstatus.from_rpc_error(err)), expected(f), f["source"] + ": from an RpcError")
                if f["domain"] == tmdbstatus.TMDB_DOMAIN and tmdbstatus.lookup(f["tmdbCode"] or 0):
                    self.assertEqual(from_bytes.entry.reason, f["reason"])

    def test_rpc_error_without_trailer(self):
        info = tmdbstatus.from_rpc_error(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "connection refused", ()))
        self.assertEqual((info.code, info.message, info.reason, info.retryable),
                         (grpc.StatusCode.UNAVAILABLE, "connection refused", "", False))

    def test_invalid_delay_is_retryable_without_delay(self):
        for delay in (duration_pb2.Duration(seconds=-1), duration_pb2.Duration(seconds=1, nanos=-5), None):
            st = status_pb2.Status(code=14)
            st.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
            info = tmdbstatus.decode(st)
            self.assertEqual((info.retryable, info.retry_delay), (True, None), str(delay))

    def test_no_retry_info_is_not_retryable(self):
        # Whatever the TMDB code or HTTP status: the status alone decides.
        for md in ({"tmdbStatusCode": "25", "httpStatus": "429"}, {"httpStatus": "503"}):
            st = status_pb2.Status(code=8)
            st.details.add().Pack(error_details_pb2.ErrorInfo(reason="X", domain=tmdbstatus.TMDB_DOMAIN, metadata=md))
            info = tmdbstatus.decode(st)
            self.assertEqual((info.retryable, info.retry_delay), (False, None), str(md))

    def test_table_from_the_proto(self):
        alone = [f for f in FIXTURES if f["name"].startswith("tmdb-") and re.fullmatch(r'Translate \{"statusCode":\d+\}', f["source"])]
        self.assertEqual([e.code for e in tmdbstatus.table()], [int(re.search(r"\d+", f["source"]).group()) for f in alone])
        e = tmdbstatus.lookup(25)
        self.assertEqual((e.reason, e.http_status, e.grpc_code, e.retryable),
                         ("REQUEST_LIMIT_EXCEEDED", 429, grpc.StatusCode.RESOURCE_EXHAUSTED, True))
        self.assertIsNone(tmdbstatus.lookup(48))


if __name__ == "__main__":
    unittest.main()
