package service_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

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
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			fmt.Println(info.GetReason(), info.GetDomain(), info.GetMetadata())
		}
	}

	// The body is still there, from its start.
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output:
	// NotFound The resource you requested could not be found.
	// RESOURCE_NOT_FOUND api.themoviedb.org map[httpStatus:404 tmdbStatusCode:34]
	// {"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}
}

func ExampleTransport() {
	tmdb := exampleTMDB()
	defer tmdb.Close()

	// An existing TMDB client gets TMDB's failures as errors.
	client := &http.Client{Transport: &service.Transport{}}

	resp, err := client.Get(tmdb.URL + "/3/movie/550")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}

	_, err = client.Get(tmdb.URL + "/3/movie/0?api_key=secret")
	var re *service.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.StatusCode, re.Status.Code())
	}
	// Output:
	// 200 {"id":550,"title":"Fight Club"}
	// 404 NotFound
}

func ExampleStatusOf() {
	tmdb := exampleTMDB()
	defer tmdb.Close()
	client := &http.Client{Transport: &service.Transport{}}

	_, err := client.Get(tmdb.URL + "/3/movie/0?api_key=secret")
	// In a gRPC handler, return st.Err(), not err: err's message holds the
	// URL, and so the api_key.
	if st, ok := service.StatusOf(err); ok {
		fmt.Println(st.Err())
	}
	// Output:
	// rpc error: code = NotFound desc = The resource you requested could not be found.
}

func ExampleIsRetryable() {
	tmdb := exampleTMDB()
	defer tmdb.Close()
	client := &http.Client{Transport: &service.Transport{}}

	for _, path := range []string{"/3/search/movie", "/3/movie/0"} {
		_, err := client.Get(tmdb.URL + path)
		fmt.Println(path, service.IsRetryable(err))
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
	client := &http.Client{Transport: &service.Transport{}}

	_, err := client.Get(tmdb.URL + "/3/search/movie")
	if delay, ok := service.RetryDelay(err); ok {
		fmt.Println("retry in", delay)
	}
	// Output:
	// retry in 10s
}
