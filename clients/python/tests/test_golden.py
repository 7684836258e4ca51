"""Decodes every golden fixture the Go tests write (clients/testdata/golden)
from its wire bytes and its JSON, and requires the answers of Go's API."""

import datetime
import json
import os
import re
import unittest

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

import tmdbstatus

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "golden")


def load(name, mode="rb"):
    with open(os.path.join(GOLDEN, name), mode) as f:
        return f.read()


FIXTURES = json.loads(load("index.json", "r"))
# The corpus of TMDB's responses (service/testdata/responses), each with the
# status tmdbstatus answers, which the Go tests also write as corpus-NAME.
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "service", "testdata", "responses")
CORPUS_FILES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".json"))


def what(info):
    """The fields of a decoded status that a fixture records, in its terms."""
    return {
        "code": info.code.name, "reason": info.reason, "domain": info.domain,
        "tmdbCode": info.tmdb_code, "httpStatus": info.http_status, "retryable": info.retryable,
        "retryDelayMicros": None if info.retry_delay is None else info.retry_delay // datetime.timedelta(microseconds=1),
        "fieldViolations": [{"field": v.field, "description": v.description, "reason": v.reason} for v in info.field_violations],
        "helpLinks": [{"description": link.description, "url": link.url} for link in info.help_links],
    }


def expected(f):
    want = {k: v for k, v in f.items() if k not in ("name", "source", "retryDelayNanos")}
    nanos = f["retryDelayNanos"]
    want["retryDelayMicros"] = None if nanos is None else int(nanos) // 1000
    return want


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
        by_name = {f["name"]: f for f in FIXTURES}
        for name in CORPUS_FILES:
            with self.subTest(name):
                f = by_name.get("corpus-" + name[:-len(".json")])
                self.assertIsNotNone(f, name + " has no fixture")
                with open(os.path.join(CORPUS, name)) as file:
                    case = json.load(file)
                self.assertEqual(what(tmdbstatus.from_json(case["want"])), expected(f), case["description"])

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
