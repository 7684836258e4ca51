package service

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// reasonPrefix is the prefix every TmdbStatus value name carries; the rest of
// the name is the ErrorInfo reason.
const reasonPrefix = "TMDB_STATUS_"

// Entry is one row of TMDB's status-code table with the gRPC mapping
// tmdbstatus gives it. It is a plain value: changing it changes nothing else.
type Entry struct {
	// Status is the TMDB status code as an enum value; its number is the code.
	Status tmdbstatusv1.TmdbStatus
	// HTTPStatus is the HTTP status TMDB answers with for this code.
	HTTPStatus int
	// Message is TMDB's message for this code, verbatim.
	Message string
	// Code is the canonical gRPC code the TMDB code maps to.
	Code codes.Code
	// Reason is the google.rpc.ErrorInfo reason: the enum name without its
	// TMDB_STATUS_ prefix.
	Reason string
	// Retryable reports whether the same request may succeed if retried.
	Retryable bool
	// RetryDelay is the delay of the RetryInfo of a retryable code when TMDB
	// sent no Retry-After (the entry's default_retry_delay); zero otherwise.
	RetryDelay time.Duration
}

// TMDBCode returns the TMDB status code of e.
func (e Entry) TMDBCode() int32 { return int32(e.Status) }

// entry is an Entry with the messages built once for it.
type entry struct {
	Entry
	fields []string // request parameters for BadRequest violations

	pb          *tmdbstatusv1.StatusEntry
	lookup      *tmdbstatusv1.LookupResponse
	translation *built // of a response holding only this code
}

// table is TMDB's table, indexed by code; codes TMDB does not define are nil.
type table struct {
	byCode  []*entry // byCode[code]
	entries []Entry
	list    *tmdbstatusv1.ListStatusesResponse
	// fallbackDelay is the delay of the RetryInfo of a retryable HTTP
	// fallback without Retry-After: the enum's fallback_retry_delay.
	fallbackDelay time.Duration
}

// tmdb is the table built from the proto descriptors at start-up.
var tmdb = mustBuildTable()

func mustBuildTable() *table {
	enum := tmdbstatusv1.TmdbStatus(0).Descriptor()
	t, err := buildTable(enum.Values())
	if err == nil {
		t.fallbackDelay, err = fallbackRetryDelay(enum.Options())
	}
	if err != nil {
		// The table is compiled in: a broken one is a build defect.
		panic("tmdbstatus: " + err.Error())
	}
	return t
}

// fallbackRetryDelay reads the fallback_retry_delay of the enum's
// TableSpec option, which must be a positive delay.
func fallbackRetryDelay(opts proto.Message) (time.Duration, error) {
	spec, _ := proto.GetExtension(opts, tmdbstatusv1.E_Table).(*tmdbstatusv1.TableSpec)
	d := spec.GetFallbackRetryDelay()
	if d.CheckValid() != nil || d.AsDuration() <= 0 || d.AsDuration() > maxRetryAfter {
		return 0, fmt.Errorf("TmdbStatus: (tmdbstatus.v1.table) option lacks a fallback_retry_delay of up to %v", maxRetryAfter)
	}
	return d.AsDuration(), nil
}

// buildTable reads the StatusSpec option of every enum value. It fails if a
// value lacks the option or holds an impossible one.
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
	code := v.Number()
	if code < 0 {
		return nil, fmt.Errorf("negative code %d", code)
	}
	spec, _ := proto.GetExtension(v.Options(), tmdbstatusv1.E_Status).(*tmdbstatusv1.StatusSpec)
	if spec == nil || spec.GetMessage() == "" {
		return nil, errors.New("missing (tmdbstatus.v1.status) option")
	}
	if h := spec.GetHttpStatus(); h < 100 || h > 599 {
		return nil, fmt.Errorf("http_status %d outside 100-599", h)
	}
	c := codes.Code(spec.GetGrpcCode())
	if c > codes.Unauthenticated {
		return nil, fmt.Errorf("grpc_code %d is not a gRPC code", c)
	}
	name := string(v.Name())
	if !strings.HasPrefix(name, reasonPrefix) {
		return nil, fmt.Errorf("name lacks the %s prefix", reasonPrefix)
	}
	if c == codes.OK && spec.GetRetryable() {
		return nil, errors.New("a success code cannot be retryable")
	}
	delay, err := retryDelayOf(spec)
	if err != nil {
		return nil, err
	}
	e := &entry{
		Entry: Entry{
			Status:     tmdbstatusv1.TmdbStatus(code),
			HTTPStatus: int(spec.GetHttpStatus()),
			Message:    spec.GetMessage(),
			Code:       c,
			Reason:     strings.TrimPrefix(name, reasonPrefix),
			Retryable:  spec.GetRetryable(),
			RetryDelay: delay,
		},
		fields: spec.GetFields(),
	}
	e.pb = &tmdbstatusv1.StatusEntry{
		Status:     e.Status,
		Code:       int32(code),
		HttpStatus: int32(e.HTTPStatus),
		Message:    e.Message,
		GrpcCode:   spec.GetGrpcCode(),
		Reason:     e.Reason,
		Retryable:  e.Retryable,
	}
	if e.Retryable {
		e.pb.DefaultRetryDelay = spec.GetDefaultRetryDelay()
	}
	e.lookup = &tmdbstatusv1.LookupResponse{Entry: e.pb}
	e.translation, err = newShared(e.translate(e.Message, 0, nil, e.RetryDelay), e)
	return e, err
}

// retryDelayOf returns the default_retry_delay of spec: positive, at most
// maxRetryAfter, on a retryable entry, and absent from every other.
func retryDelayOf(spec *tmdbstatusv1.StatusSpec) (time.Duration, error) {
	d := spec.GetDefaultRetryDelay()
	if !spec.GetRetryable() {
		if d != nil {
			return 0, errors.New("default_retry_delay on a code that is not retryable")
		}
		return 0, nil
	}
	if d.CheckValid() != nil || d.AsDuration() <= 0 || d.AsDuration() > maxRetryAfter {
		return 0, fmt.Errorf("a retryable code needs a default_retry_delay of up to %v", maxRetryAfter)
	}
	return d.AsDuration(), nil
}

// entry returns the entry of code, or nil if TMDB does not define it.
func (t *table) entry(code int32) *entry {
	if code <= 0 || int(code) >= len(t.byCode) {
		return nil
	}
	return t.byCode[code]
}

// Lookup returns the table entry of a TMDB status code. It reports false if
// TMDB's table does not define the code.
func Lookup(code int32) (Entry, bool) {
	e := tmdb.entry(code)
	if e == nil {
		return Entry{}, false
	}
	return e.Entry, true
}

// Entries returns TMDB's whole table in code order. The slice is a copy.
func Entries() []Entry {
	return append([]Entry(nil), tmdb.entries...)
}
