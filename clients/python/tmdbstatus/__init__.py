"""Decodes the google.rpc.Status values tmdbstatus sends.

One call gives what a status says: gRPC code, reason, domain, TMDB code, HTTP
status, retryability and retry delay, field violations and help links::

    info = tmdbstatus.decode(response.status)        # TranslateResponse.status
    info = tmdbstatus.from_rpc_error(err)            # a failed call's grpc.RpcError
    info = tmdbstatus.from_json(body)                # a REST error's JSON

The messages are the code protoc generates from the proto (tmdbstatus.v1,
google.rpc) beside this package; TMDB's table is read from the proto's
(tmdbstatus.v1.status) options.
"""

import dataclasses
import datetime
import json
from typing import Dict, List, Mapping, Optional, Union

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2

from tmdbstatus.v1 import error_reason_pb2, status_pb2 as tmdb_status_pb2

__all__ = [
    "SERVICE_DOMAIN", "TMDB_DOMAIN", "Entry", "FieldViolation", "HelpLink", "StatusInfo",
    "decode", "from_bytes", "from_json", "from_rpc_error", "lookup", "table",
    "error_domain", "metadata_key",
]


def error_domain(reason: int) -> str:
    """Returns the (tmdbstatus.v1.error_domain) option of an ErrorReason value."""
    value = error_reason_pb2.ErrorReason.DESCRIPTOR.values_by_number[reason]
    return value.GetOptions().Extensions[error_reason_pb2.error_domain]


def metadata_key(key: int) -> str:
    """Returns the ErrorInfo metadata key a MetadataKey value stands for."""
    value = error_reason_pb2.MetadataKey.DESCRIPTOR.values_by_number[key]
    return value.GetOptions().Extensions[error_reason_pb2.metadata_key]


TMDB_DOMAIN = error_domain(error_reason_pb2.NO_STATUS_CODE)
"""The domain of translated TMDB failures, "api.themoviedb.org"."""
SERVICE_DOMAIN = error_domain(error_reason_pb2.MISSING_STATUS)
"""The domain of tmdbstatus's own errors, "tmdbstatus.github.io"."""

_TMDB_STATUS_CODE = metadata_key(error_reason_pb2.METADATA_KEY_TMDB_STATUS_CODE)
_HTTP_STATUS = metadata_key(error_reason_pb2.METADATA_KEY_HTTP_STATUS)
_CODES = {c.value[0]: c for c in grpc.StatusCode}
_DETAILS_BIN = "grpc-status-details-bin"


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row of TMDB's table, from a TmdbStatus value's option."""
    code: int
    reason: str
    http_status: int
    message: str
    grpc_code: grpc.StatusCode
    retryable: bool
    fields: tuple


@dataclasses.dataclass(frozen=True)
class FieldViolation:
    """A google.rpc.BadRequest field violation."""
    field: str
    description: str
    reason: str


@dataclasses.dataclass(frozen=True)
class HelpLink:
    """A google.rpc.Help link."""
    description: str
    url: str


@dataclasses.dataclass(frozen=True)
class StatusInfo:
    """What a google.rpc.Status of tmdbstatus says."""
    code: grpc.StatusCode
    message: str
    reason: str = ""
    domain: str = ""
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    tmdb_code: Optional[int] = None
    http_status: Optional[int] = None
    entry: Optional[Entry] = None
    retryable: bool = False
    retry_delay: Optional[datetime.timedelta] = None
    field_violations: List[FieldViolation] = dataclasses.field(default_factory=list)
    help_links: List[HelpLink] = dataclasses.field(default_factory=list)
    status: Optional[status_pb2.Status] = None


def _read_table() -> Dict[int, Entry]:
    rows = {}
    for value in tmdb_status_pb2.TmdbStatus.DESCRIPTOR.values:
        if value.number == 0:
            continue
        spec = value.GetOptions().Extensions[tmdb_status_pb2.status]
        rows[value.number] = Entry(
            code=value.number, reason=value.name[len("TMDB_STATUS_"):], http_status=spec.http_status,
            message=spec.message, grpc_code=_CODES.get(spec.grpc_code, grpc.StatusCode.UNKNOWN),
            retryable=spec.retryable, fields=tuple(spec.fields))
    return rows


_TABLE = _read_table()


def table() -> List[Entry]:
    """Returns TMDB's table, in code order, as the proto's options give it."""
    return list(_TABLE.values())


def lookup(code: int) -> Optional[Entry]:
    """Returns the table entry of a TMDB status code, or None."""
    return _TABLE.get(code)


def _int32(s: Optional[str]) -> Optional[int]:
    if s is None:
        return None
    digits = s[1:] if s[:1] in "+-" else s
    if not digits.isascii() or not digits.isdigit():
        return None
    n = int(s)
    return n if -2**31 <= n < 2**31 else None


def _delay(d) -> Optional[datetime.timedelta]:
    """A valid google.protobuf.Duration of zero or more, as the Go API's
    RetryDelay reads it; else None."""
    s, n = d.seconds, d.nanos
    valid = abs(s) <= 315576000000 and abs(n) < 10**9 and not (s > 0 > n) and not (s < 0 < n)
    if not valid or s < 0 or n < 0:
        return None
    return datetime.timedelta(seconds=s, microseconds=n // 1000)


def decode(status: status_pb2.Status) -> StatusInfo:
    """Decodes a google.rpc.Status message, such as TranslateResponse.status."""
    info, retry = {}, None
    violations, links = [], []
    for any_ in status.details:
        for cls in (error_details_pb2.ErrorInfo, error_details_pb2.RetryInfo,
                    error_details_pb2.BadRequest, error_details_pb2.Help):
            if any_.Is(cls.DESCRIPTOR):
                d = cls()
                # A detail that does not decode is skipped, as grpc-go does.
                if any_.Unpack(d):
                    if cls is error_details_pb2.ErrorInfo and not info:
                        info = {"reason": d.reason, "domain": d.domain, "metadata": dict(d.metadata)}
                    elif cls is error_details_pb2.RetryInfo and retry is None:
                        retry = d
                    elif cls is error_details_pb2.BadRequest:
                        violations += [FieldViolation(v.field, v.description, v.reason) for v in d.field_violations]
                    elif cls is error_details_pb2.Help:
                        links += [HelpLink(link.description, link.url) for link in d.links]
    md = info.get("metadata", {})
    tmdb = info.get("domain") == TMDB_DOMAIN
    tmdb_code = _int32(md.get(_TMDB_STATUS_CODE)) if tmdb else None
    http_status = _int32(md.get(_HTTP_STATUS)) if tmdb else None
    entry = _TABLE.get(tmdb_code) if tmdb_code is not None else None
    return StatusInfo(
        code=_CODES.get(status.code, grpc.StatusCode.UNKNOWN), message=status.message,
        reason=info.get("reason", ""), domain=info.get("domain", ""), metadata=md,
        tmdb_code=tmdb_code, http_status=http_status, entry=entry,
        # Retryability travels on the wire: every retryable status of
        # tmdbstatus carries a RetryInfo, and no other does (AIP-194).
        retryable=retry is not None,
        retry_delay=_delay(retry.retry_delay) if retry is not None and retry.HasField("retry_delay") else None,
        field_violations=violations, help_links=links, status=status)


def from_bytes(data: bytes) -> StatusInfo:
    """Decodes google.rpc.Status wire bytes, such as a grpc-status-details-bin trailer."""
    return decode(status_pb2.Status.FromString(data))


def from_json(data: Union[str, bytes, dict]) -> StatusInfo:
    """Decodes the google.rpc.Status JSON of a REST error: text or a parsed dict."""
    if isinstance(data, dict):
        data = json.dumps(data)
    return decode(json_format.Parse(data, status_pb2.Status(), ignore_unknown_fields=True))


def from_rpc_error(err: grpc.RpcError) -> StatusInfo:
    """Decodes the error of a failed grpc call: its grpc-status-details-bin
    trailer or, without one, its code and details."""
    for key, value in (err.trailing_metadata() or ()):
        if key == _DETAILS_BIN:
            return from_bytes(value)
    code = err.code() or grpc.StatusCode.UNKNOWN
    return decode(status_pb2.Status(code=code.value[0], message=err.details() or ""))
