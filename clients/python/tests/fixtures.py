"""The golden fixtures the Go tests write (clients/testdata/golden) and the
corpus of TMDB's responses (service/testdata/responses), which the tests
share."""

import datetime
import json
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(_HERE, "..", "..", "testdata", "golden")
# The corpus, whose file NAME.json is the golden fixture corpus-NAME.
CORPUS = os.path.join(_HERE, "..", "..", "..", "service", "testdata", "responses")
CORPUS_FILES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".json"))


def load(name, mode="rb"):
    """Returns the golden file name."""
    with open(os.path.join(GOLDEN, name), mode) as f:
        return f.read()


FIXTURES = json.loads(load("index.json", "r"))
_BY_NAME = {f["name"]: f for f in FIXTURES}


def fixture(name):
    """Returns the fixture named name, which must exist."""
    return _BY_NAME[name]


def corpus_case(file):
    """Returns the corpus's file, parsed."""
    with open(os.path.join(CORPUS, file)) as f:
        return json.load(f)


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
    """What a fixture says its status decodes to, in what's terms."""
    want = {k: v for k, v in f.items() if k not in ("name", "source", "retryDelayNanos")}
    nanos = f["retryDelayNanos"]
    want["retryDelayMicros"] = None if nanos is None else int(nanos) // 1000
    return want
