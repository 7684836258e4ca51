package service

import (
	"testing"

	"google.golang.org/grpc/status"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// tmdb422Messages are entries of the "errors" list of TMDB's 422 answers,
// in the shape TMDB clients report them, with the parameter each names.
var tmdb422Messages = []struct{ msg, field string }{
	{"page must be less than or equal to 500", "page"},
	{"page must be greater than 0", "page"},
	{"query must be provided", "query"},
	{"language must be a valid ISO 639-1 code", "language"},
	{"region must be a valid ISO 3166-1 code", "region"},
	{"include_adult must be true or false", "include_adult"},
	{"primary_release_year must be an integer", "primary_release_year"},
	{"first_air_date_year must be an integer", "first_air_date_year"},
	{"vote_average.gte must be a number", "vote_average.gte"},
	{"with_genres is invalid", "with_genres"},
	{"session_id should be a valid session", "session_id"},
	{"value cannot be empty", "value"},
	// Messages that name no parameter at their start: no guess.
	{"Invalid id: The pre-requisite id is invalid or not found.", ""},
	{"You must provide a username and password.", ""},
	{"The ID is invalid.", ""},
	{"must be provided", ""},
	{"page", ""},
	{"page  must be provided", ""},
	{"page must", ""},
	{"Page must be less than or equal to 500", ""},
	{"1page must be an integer", ""},
	{"page. must be an integer", ""},
	{"pagemust be provided", ""},
	{"", ""},
}

func TestParamOf(t *testing.T) {
	for _, tc := range tmdb422Messages {
		if got := paramOf(tc.msg); got != tc.field {
			t.Errorf("paramOf(%q) = %q; want %q", tc.msg, got, tc.field)
		}
	}
}

// TestErrorsNameTheirField translates TMDB's {"errors": [...]} body and
// checks each BadRequest field violation's field, in order.
func TestErrorsNameTheirField(t *testing.T) {
	var body []byte
	body = append(body, `{"errors":[`...)
	for i, tc := range tmdb422Messages {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, '"')
		body = append(body, tc.msg...)
		body = append(body, '"')
	}
	body = append(body, "]}"...)
	s, _, err := translateStatus(t, &tmdbstatusv1.TranslateRequest{HttpStatus: 422, Body: string(body)})
	if err != nil {
		t.Fatal(err)
	}
	br := Details(status.FromProto(s)).BadRequest
	if got, want := len(br.GetFieldViolations()), len(tmdb422Messages); got != want {
		t.Fatalf("translate(422 errors) has %d field violations; want %d", got, want)
	}
	for i, v := range br.GetFieldViolations() {
		if want := tmdb422Messages[i]; v.GetField() != want.field || v.GetDescription() != want.msg {
			t.Errorf("violation %d = %q %q; want %q %q", i, v.GetField(), v.GetDescription(), want.field, want.msg)
		}
	}
}
