package service_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"google.golang.org/grpc/status"

	"github.com/tmdbstatus/tmdbstatus/service"
)

// exampleTMDB starts a server on loopback that answers like TMDB: a movie
// for /3/movie/550, rate limiting with a Retry-After for /3/search/movie,
// and TMDB's not-found body for anything else.
func exampleTMDB() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		switch r.URL.Path {
		case "/3/movie/550":
			io.WriteString(w, `{"id":550,"title":"Fight Club"}`)
		case "/3/search/movie":
			w.Header().Set("Retry-After", "10")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"success":false,"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`)
		}
	}))
}

func ExampleFromResponse() {
	tmdb := exampleTMDB()
	defer tmdb.Close()

	resp, err := http.Get(tmdb.URL + "/3/movie/0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()

	// In a gRPC handler: return nil, st.Err()
	st := service.FromResponse(resp)
	fmt.Println(st.Code(), st.Message())
	info := service.Details(st).ErrorInfo
	fmt.Println(info.GetReason(), info.GetDomain(), info.GetMetadata())

	// The body is still there, from its start.
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output:
	// NotFound The resource you requested could not be found.
	// RESOURCE_NOT_FOUND api.themoviedb.org map[httpStatus:404 tmdbStatusCode:34]
	// {"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}
}

func ExampleCheckResponse() {
	tmdb := exampleTMDB()
	defer tmdb.Close()

	for _, path := range []string{"/3/movie/550", "/3/movie/0"} {
		resp, err := http.Get(tmdb.URL + path)
		if err != nil {
			fmt.Println(service.RedactURL(err)) // the transport failed: no TMDB answer
			return
		}
		// In a gRPC handler: if err := service.CheckResponse(resp); err != nil { return nil, err }
		if err := service.CheckResponse(resp); err != nil {
			st, _ := status.FromError(err)
			fmt.Println(path, st.Code(), st.Message())
		} else {
			body, _ := io.ReadAll(resp.Body)
			fmt.Println(path, string(body))
		}
		resp.Body.Close()
	}
	// Output:
	// /3/movie/550 {"id":550,"title":"Fight Club"}
	// /3/movie/0 NotFound The resource you requested could not be found.
}

func ExampleDetails() {
	tmdb := exampleTMDB()
	defer tmdb.Close()

	st, _ := service.StatusOf(check(tmdb, "/3/search/movie"))
	d := service.Details(st)
	fmt.Println(d.ErrorInfo.GetReason(), d.ErrorInfo.GetMetadata()[service.MetadataRequestLimit])
	fmt.Println("retry in", d.RetryInfo.GetRetryDelay().AsDuration())
	for _, v := range d.QuotaFailure.GetViolations() {
		fmt.Println("quota of", v.GetSubject(), v.GetQuotaValue())
	}
	fmt.Println(d.Help.GetLinks()[0].GetUrl())
	// Output:
	// REQUEST_LIMIT_EXCEEDED 40
	// retry in 10s
	// quota of api_key 40
	// https://developer.themoviedb.org/docs/errors
}

func ExampleStatusOf() {
	tmdb := exampleTMDB()
	defer tmdb.Close()
	u := tmdb.URL + "/3/movie/0?api_key=secret"
	resp, err := http.Get(u)
	if err != nil {
		return
	}
	defer resp.Body.Close()

	err = fmt.Errorf("fetching %s: %w", u, service.CheckResponse(resp))
	// In a gRPC handler, return st.Err(), not status.FromError's: err's
	// message holds the URL, and so the api_key.
	if st, ok := service.StatusOf(err); ok {
		fmt.Println(st.Err())
	}
	// Output:
	// rpc error: code = NotFound desc = The resource you requested could not be found.
}

func ExampleRedactURL() {
	// Nothing listens on port 1 of loopback.
	_, err := http.Get("http://127.0.0.1:1/3/movie/550?api_key=secret&language=en")
	var ue *url.Error
	if errors.As(service.RedactURL(err), &ue) {
		fmt.Println(ue.Op, ue.URL)
	}
	// Output:
	// Get http://127.0.0.1:1/3/movie/550?api_key=REDACTED&language=en
}

// check fetches path from the example TMDB and checks its response.
func check(tmdb *httptest.Server, path string) error {
	resp, err := http.Get(tmdb.URL + path)
	if err != nil {
		return service.RedactURL(err)
	}
	defer resp.Body.Close()
	return service.CheckResponse(resp)
}

func ExampleIsRetryable() {
	tmdb := exampleTMDB()
	defer tmdb.Close()

	for _, path := range []string{"/3/search/movie", "/3/movie/0"} {
		fmt.Println(path, service.IsRetryable(check(tmdb, path)))
	}
	// TMDB's codes 9, 24, 25, 43 and 46 are retryable, whatever carries them.
	fmt.Println(service.IsRetryable(service.Error(43)))
	// Output:
	// /3/search/movie true
	// /3/movie/0 false
	// true
}

func ExampleRetryDelay() {
	tmdb := exampleTMDB()
	defer tmdb.Close()

	if delay, ok := service.RetryDelay(check(tmdb, "/3/search/movie")); ok {
		fmt.Println("retry in", delay) // TMDB's Retry-After
	}
	if delay, ok := service.RetryDelay(service.Error(25)); ok {
		fmt.Println("retry in", delay) // no Retry-After: the table's default
	}
	// Output:
	// retry in 10s
	// retry in 1s
}
