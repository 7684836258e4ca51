package service

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/durationpb"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// publishedRow is one row of TMDB's published table.
type publishedRow struct {
	code       int32
	httpStatus int
	message    string
}

// readPublished reads TMDB's table as TMDB publishes it (a copy is kept in
// testdata), so the proto cannot drift from it unnoticed.
func readPublished(t *testing.T) []publishedRow {
	t.Helper()
	f, err := os.Open("testdata/tmdb-status-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []publishedRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 3 {
			continue
		}
		code, err1 := strconv.Atoi(strings.TrimSpace(cols[0]))
		httpStatus, err2 := strconv.Atoi(strings.TrimSpace(cols[1]))
		if err1 != nil || err2 != nil {
			continue // header and separator lines
		}
		rows = append(rows, publishedRow{int32(code), httpStatus, strings.TrimSpace(cols[2])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestTableMatchesPublished(t *testing.T) {
	published := readPublished(t)
	if len(published) != 47 {
		t.Fatalf("read %d rows of TMDB's table; want 47", len(published))
	}
	entries := Entries()
	if len(entries) != len(published) {
		t.Fatalf("Entries() has %d entries; TMDB publishes %d", len(entries), len(published))
	}
	for i, p := range published {
		e, ok := Lookup(p.code)
		if !ok {
			t.Errorf("Lookup(%d) found nothing; TMDB publishes it", p.code)
			continue
		}
		if e.TMDBCode() != p.code || e.HTTPStatus != p.httpStatus || e.Message != p.message {
			t.Errorf("Lookup(%d) = %d, HTTP %d, %q; TMDB publishes %d, HTTP %d, %q",
				p.code, e.TMDBCode(), e.HTTPStatus, e.Message, p.code, p.httpStatus, p.message)
		}
		if entries[i] != e {
			t.Errorf("Entries()[%d] = %+v; want %+v (code order)", i, entries[i], e)
		}
	}
}

func TestEveryEnumValueHasItsOption(t *testing.T) {
	values := tmdbstatusv1.TmdbStatus(0).Descriptor().Values()
	seenReasons := map[string]bool{}
	for i := range values.Len() {
		v := values.Get(i)
		spec, _ := proto.GetExtension(v.Options(), tmdbstatusv1.E_Status).(*tmdbstatusv1.StatusSpec)
		if v.Number() == 0 {
			if spec != nil {
				t.Errorf("%s carries a status option; the zero value must not", v.Name())
			}
			continue
		}
		if spec == nil || spec.GetHttpStatus() == 0 || spec.GetMessage() == "" {
			t.Errorf("%s: status option = %v; want http_status and message set", v.Name(), spec)
		}
		reason := strings.TrimPrefix(string(v.Name()), reasonPrefix)
		if len(reason) > 63 || strings.Trim(reason, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			t.Errorf("reason %q is not UPPER_SNAKE_CASE of at most 63 characters", reason)
		}
		if seenReasons[reason] {
			t.Errorf("reason %q is not unique", reason)
		}
		seenReasons[reason] = true
	}
	for _, r := range []string{ReasonUnknownStatusCode, ReasonNoStatusCode} {
		if seenReasons[r] {
			t.Errorf("fallback reason %q collides with a TmdbStatus name", r)
		}
	}
}

// enumOf builds an enum descriptor whose values carry the given options.
func enumOf(t *testing.T, values map[string]*tmdbstatusv1.StatusSpec, numbers map[string]int32) protoreflect.EnumValueDescriptors {
	t.Helper()
	ed := &descriptorpb.EnumDescriptorProto{Name: proto.String("Broken")}
	ed.Value = append(ed.Value, &descriptorpb.EnumValueDescriptorProto{Name: proto.String("BROKEN_UNSPECIFIED"), Number: proto.Int32(0)})
	for name, spec := range values {
		opts := &descriptorpb.EnumValueOptions{}
		if spec != nil {
			proto.SetExtension(opts, tmdbstatusv1.E_Status, spec)
		}
		ed.Value = append(ed.Value, &descriptorpb.EnumValueDescriptorProto{Name: proto.String(name), Number: proto.Int32(numbers[name]), Options: opts})
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:       proto.String("broken_test.proto"),
		Package:    proto.String("broken"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"tmdbstatus/v1/status.proto"},
		EnumType:   []*descriptorpb.EnumDescriptorProto{ed},
	}, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Enums().Get(0).Values()
}

func TestBuildTableRejectsBrokenOptions(t *testing.T) {
	good := func() *tmdbstatusv1.StatusSpec {
		return &tmdbstatusv1.StatusSpec{HttpStatus: 404, Message: "Not found.", GrpcCode: code.Code_NOT_FOUND}
	}
	if _, err := buildTable(enumOf(t, map[string]*tmdbstatusv1.StatusSpec{"TMDB_STATUS_GOOD": good()}, map[string]int32{"TMDB_STATUS_GOOD": 3})); err != nil {
		t.Fatalf("buildTable(a good value) = %v; want nil", err)
	}
	for _, tc := range []struct {
		name   string
		number int32
		spec   func(*tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec
	}{
		{"TMDB_STATUS_NO_OPTION", 3, func(*tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec { return nil }},
		{"TMDB_STATUS_NO_MESSAGE", 3, func(s *tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec { s.Message = ""; return s }},
		{"TMDB_STATUS_BAD_HTTP", 3, func(s *tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec { s.HttpStatus = 700; return s }},
		{"TMDB_STATUS_BAD_GRPC", 3, func(s *tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec { s.GrpcCode = 17; return s }},
		{"NO_PREFIX", 3, func(s *tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec { return s }},
		{"TMDB_STATUS_RETRYABLE_OK", 3, func(s *tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec {
			s.GrpcCode, s.Retryable = code.Code_OK, true
			return s
		}},
		{"TMDB_STATUS_NEGATIVE", -3, func(s *tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec { return s }},
		{"TMDB_STATUS_RETRYABLE_NO_DELAY", 3, func(s *tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec {
			s.Retryable = true
			return s
		}},
		{"TMDB_STATUS_RETRYABLE_ZERO_DELAY", 3, func(s *tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec {
			s.Retryable, s.DefaultRetryDelay = true, durationpb.New(0)
			return s
		}},
		{"TMDB_STATUS_DELAY_NOT_RETRYABLE", 3, func(s *tmdbstatusv1.StatusSpec) *tmdbstatusv1.StatusSpec {
			s.DefaultRetryDelay = durationpb.New(time.Second)
			return s
		}},
	} {
		values := enumOf(t, map[string]*tmdbstatusv1.StatusSpec{tc.name: tc.spec(good())}, map[string]int32{tc.name: tc.number})
		if _, err := buildTable(values); err == nil {
			t.Errorf("buildTable(%s) = nil error; want one", tc.name)
		}
	}
}

// TestFallbackRetryDelay checks the enum's TableSpec option as the table
// reads it, and that a missing or impossible one is refused.
func TestFallbackRetryDelay(t *testing.T) {
	if d, err := fallbackRetryDelay(tmdbstatusv1.TmdbStatus(0).Descriptor().Options()); err != nil || d != time.Second {
		t.Errorf("fallbackRetryDelay(TmdbStatus) = %v, %v; want 1s, nil", d, err)
	}
	for _, spec := range []*tmdbstatusv1.TableSpec{nil, {}, {FallbackRetryDelay: durationpb.New(-time.Second)}, {FallbackRetryDelay: durationpb.New(48 * time.Hour)}} {
		opts := &descriptorpb.EnumOptions{}
		if spec != nil {
			proto.SetExtension(opts, tmdbstatusv1.E_Table, spec)
		}
		if d, err := fallbackRetryDelay(opts); err == nil {
			t.Errorf("fallbackRetryDelay(%v) = %v, nil; want an error", spec, d)
		}
	}
}

func TestMappingByMeaning(t *testing.T) {
	// The rows where TMDB's HTTP status would mislead, and the groups whose
	// meaning is fixed by google/rpc/code.proto.
	success := map[int32]bool{1: true, 12: true, 13: true, 40: true}
	for _, e := range Entries() {
		if got, want := e.Code == codes.OK, success[e.TMDBCode()]; got != want {
			t.Errorf("code %d (%s) maps to %v; success is %v", e.TMDBCode(), e.Reason, e.Code, want)
		}
		if e.Retryable {
			switch e.Code {
			case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
			default:
				t.Errorf("code %d is retryable but maps to %v", e.TMDBCode(), e.Code)
			}
		}
	}
	for _, tc := range []struct {
		code int32
		want codes.Code
	}{
		{7, codes.Unauthenticated},    // invalid API key
		{8, codes.AlreadyExists},      // duplicate entry, sent as 403
		{21, codes.NotFound},          // entry not found, sent as 200
		{25, codes.ResourceExhausted}, // rate limited
		{34, codes.NotFound},          // sent as 404, not UNIMPLEMENTED
		{44, codes.InvalidArgument},   // invalid id, sent as 500
		{9, codes.Unavailable},
		{46, codes.Unavailable},
	} {
		if e, _ := Lookup(tc.code); e.Code != tc.want {
			t.Errorf("Lookup(%d).Code = %v; want %v", tc.code, e.Code, tc.want)
		}
	}
}

func TestLookupOutsideTable(t *testing.T) {
	for _, code := range []int32{0, -1, 48, 1 << 30, -1 << 31} {
		if e, ok := Lookup(code); ok {
			t.Errorf("Lookup(%d) = %+v, true; want false", code, e)
		}
	}
}

func TestEntriesIsACopy(t *testing.T) {
	a := Entries()
	a[0].Message = "changed"
	if b := Entries(); b[0].Message == "changed" {
		t.Errorf("Entries() shares its backing array with the table")
	}
}

func TestLookupErrorCache(t *testing.T) {
	// Cached or not, the error of a code with no row is the one built anew.
	for _, code := range []int32{0, 48, 99, 1023, 1024, 5000, -1} {
		for range 2 { // the second call is served from the cache
			got, want := status.Convert(lookupError(code)), status.Convert(newLookupError(code))
			if !proto.Equal(got.Proto(), want.Proto()) {
				t.Errorf("lookupError(%d) = %v; want %v", code, got.Proto(), want.Proto())
			}
		}
	}
}
