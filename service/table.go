package service

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// reasonPrefix starts every TmdbStatus value name; the rest is the reason.
const reasonPrefix = "TMDB_STATUS_"

// Entry is one row of TMDB's status-code table with its gRPC mapping.
type Entry struct {
	Status     tmdbstatusv1.TmdbStatus // TMDB's code as an enum value
	HTTPStatus int                     // the HTTP status TMDB answers with
	Message    string                  // TMDB's message, verbatim
	Code       codes.Code              // the canonical gRPC code
	Reason     string                  // the ErrorInfo reason: the enum name without TMDB_STATUS_
	Retryable  bool                    // whether the same request may succeed if retried
	RetryDelay time.Duration           // a retryable code's default_retry_delay; else zero
}

// TMDBCode returns the TMDB status code of e.
func (e Entry) TMDBCode() int32 { return int32(e.Status) }

// entry is an Entry with the messages built once for it.
type entry struct {
	Entry
	fields      []string // request parameters for BadRequest violations
	pb          *tmdbstatusv1.StatusEntry
	lookup      *tmdbstatusv1.LookupResponse
	translation *built // of a response holding only this code
}

// table is TMDB's table; byCode[code] is nil for a code TMDB does not define.
type table struct {
	byCode        []*entry
	entries       []Entry
	list          *tmdbstatusv1.ListStatusesResponse
	fallbackDelay time.Duration // the enum's fallback_retry_delay
}

// tmdb is the table built from the proto at start-up.
var tmdb = mustBuildTable()

func mustBuildTable() *table {
	enum := tmdbstatusv1.TmdbStatus(0).Descriptor()
	t, err := buildTable(enum.Values())
	if err == nil {
		t.fallbackDelay, err = fallbackRetryDelay(enum.Options())
	}
	if err != nil {
		panic("tmdbstatus: " + err.Error()) // the table is compiled in
	}
	return t
}

// validDelay reports whether d is a positive delay of up to maxRetryAfter.
func validDelay(d *durationpb.Duration) bool {
	return d.CheckValid() == nil && d.AsDuration() > 0 && d.AsDuration() <= maxRetryAfter
}

// fallbackRetryDelay returns the fallback_retry_delay of the enum's TableSpec.
func fallbackRetryDelay(opts proto.Message) (time.Duration, error) {
	spec, _ := proto.GetExtension(opts, tmdbstatusv1.E_Table).(*tmdbstatusv1.TableSpec)
	if d := spec.GetFallbackRetryDelay(); validDelay(d) {
		return d.AsDuration(), nil
	}
	return 0, fmt.Errorf("TmdbStatus: (tmdbstatus.v1.table) option lacks a fallback_retry_delay of up to %v", maxRetryAfter)
}

// buildTable reads the StatusSpec option of every enum value but zero.
func buildTable(values protoreflect.EnumValueDescriptors) (*table, error) {
	t := &table{list: &tmdbstatusv1.ListStatusesResponse{}}
	for i := range values.Len() {
		v := values.Get(i)
		if v.Number() == 0 {
			continue
		}
		e, err := entryOf(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Name(), err)
		}
		for len(t.byCode) <= int(v.Number()) {
			t.byCode = append(t.byCode, nil)
		}
		t.byCode[v.Number()] = e
		t.entries = append(t.entries, e.Entry)
		t.list.Entries = append(t.list.Entries, e.pb)
	}
	return t, nil
}

// entryOf checks the StatusSpec option of v and builds its entry.
func entryOf(v protoreflect.EnumValueDescriptor) (*entry, error) {
	spec, _ := proto.GetExtension(v.Options(), tmdbstatusv1.E_Status).(*tmdbstatusv1.StatusSpec)
	c, name, delay := codes.Code(spec.GetGrpcCode()), string(v.Name()), spec.GetDefaultRetryDelay()
	switch {
	case v.Number() < 0:
		return nil, fmt.Errorf("negative code %d", v.Number())
	case spec.GetMessage() == "":
		return nil, errors.New("missing (tmdbstatus.v1.status) option")
	case spec.GetHttpStatus() < 100 || spec.GetHttpStatus() > 599:
		return nil, fmt.Errorf("http_status %d outside 100-599", spec.GetHttpStatus())
	case c > codes.Unauthenticated:
		return nil, fmt.Errorf("grpc_code %d is not a gRPC code", c)
	case !strings.HasPrefix(name, reasonPrefix):
		return nil, fmt.Errorf("name lacks the %s prefix", reasonPrefix)
	case c == codes.OK && spec.GetRetryable():
		return nil, errors.New("a success code cannot be retryable")
	case !spec.GetRetryable() && delay != nil:
		return nil, errors.New("default_retry_delay on a code that is not retryable")
	case spec.GetRetryable() && !validDelay(delay):
		return nil, fmt.Errorf("a retryable code needs a default_retry_delay of up to %v", maxRetryAfter)
	}
	e := &entry{
		Entry: Entry{
			Status:     tmdbstatusv1.TmdbStatus(v.Number()),
			HTTPStatus: int(spec.GetHttpStatus()),
			Message:    spec.GetMessage(),
			Code:       c,
			Reason:     strings.TrimPrefix(name, reasonPrefix),
			Retryable:  spec.GetRetryable(),
			RetryDelay: delay.AsDuration(),
		},
		fields: spec.GetFields(),
	}
	e.pb = &tmdbstatusv1.StatusEntry{
		Status:            e.Status,
		Code:              int32(v.Number()),
		HttpStatus:        spec.GetHttpStatus(),
		Message:           e.Message,
		GrpcCode:          spec.GetGrpcCode(),
		Reason:            e.Reason,
		Retryable:         e.Retryable,
		DefaultRetryDelay: delay,
	}
	e.lookup = &tmdbstatusv1.LookupResponse{Entry: e.pb}
	e.translation = newShared(e.alone(), e)
	return e, nil
}

// entry returns the entry of code, or nil if TMDB does not define it.
func (t *table) entry(code int32) *entry {
	if code <= 0 || int(code) >= len(t.byCode) {
		return nil
	}
	return t.byCode[code]
}

// Lookup returns the table entry of a TMDB status code, and reports whether there is one.
func Lookup(code int32) (Entry, bool) {
	if e := tmdb.entry(code); e != nil {
		return e.Entry, true
	}
	return Entry{}, false
}

// Entries returns a copy of TMDB's whole table in code order.
func Entries() []Entry { return slices.Clone(tmdb.entries) }
