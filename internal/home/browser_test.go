package home_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// TestBrowser loads the page in headless Chromium, from the binary as it
// ships (built here, serving on loopback), checks the table and submits
// the form, reading what the page shows from its DOM. It leaves a
// screenshot, home.png, in the test's artifact directory (go test
// -artifacts keeps it).
func TestBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	srv := testutil.StartServe(t, testutil.BuildBinary(t))
	ctx, console := newBrowser(t, chromium)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#25")); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	checkTable(t, ctx)
	if got := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("tr:target")?.id ?? ""`)); got != "25" {
		t.Errorf("the row /#25 targets is %q; want 25", got)
	}
	// The page's own style runs only if the Content-Security-Policy allows it.
	if got := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).fontFamily`)); !strings.HasPrefix(got, "system-ui") {
		t.Errorf("the body's font is %q; want the page's style, system-ui first", got)
	}

	checkTranslate(t, ctx, console, &tmdbstatusv1.TranslateRequest{
		Body:       `{"success":false,"status_code":25,"status_message":"Your request count (#) is over the allowed limit of (40)."}`,
		HttpStatus: 429,
		RetryAfter: "7",
	}, true)
	if got := run(t, ctx, chromedp.Text(chromedp.CSS(`#result-details > li[data-type="google.rpc.RetryInfo"] pre`))); !strings.Contains(got, `"retryDelay": "7s"`) {
		t.Errorf("the RetryInfo the page shows is %s; want a retryDelay of 7s", got)
	}
	screenshot(t, ctx)

	// A request Translate refuses shows its error, with the same fields.
	checkTranslate(t, ctx, console, &tmdbstatusv1.TranslateRequest{Body: "<html>Bad Gateway</html>"}, false)

	for _, m := range console.messages() {
		if m.Source == "network" && strings.HasSuffix(m.URL, "/v1/statuses:translate") {
			continue // The 400 of the refused request.
		}
		t.Errorf("the page wrote to the console: %s", m)
	}
}

// checkTable checks that the page's table has a row for each entry of the
// table, in order, with its code, HTTP status, gRPC code, retryability,
// reason and message.
func checkTable(t *testing.T, ctx context.Context) {
	t.Helper()
	got := run(t, ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll("tbody tr")].map(
		(tr) => [tr.id, ...[...tr.cells].map((c) => c.textContent)])`))
	var want [][]string
	for _, e := range service.Entries() {
		retryable := "no"
		if e.Retryable {
			retryable = "yes"
		}
		c := fmt.Sprint(e.TMDBCode())
		want = append(want, []string{c, c, fmt.Sprintf("%d %s", e.HTTPStatus, http.StatusText(e.HTTPStatus)),
			code.Code(e.Code).String(), retryable, e.Reason, e.Message})
	}
	if len(got) != len(want) {
		t.Errorf("the page's table has %d rows; want %d, one per entry", len(got), len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the page's table (-want +got):\n%s", diff)
	}
}

// checkTranslate fills the form with req, submits it, and checks that the
// page shows what Translate answers: the translated status if ok, else the
// status of the refused request.
func checkTranslate(t *testing.T, ctx context.Context, console *consoleLog, req *tmdbstatusv1.TranslateRequest, ok bool) {
	t.Helper()
	resp, err := service.New().Translate(ctx, req)
	st := resp.GetStatus()
	if !ok {
		s, isStatus := service.StatusOf(err)
		if !isStatus {
			t.Fatalf("Translate(%v) = %v; want an error status", req, err)
		}
		st = s.Proto()
	} else if err != nil {
		t.Fatalf("Translate(%v): %v", req, err)
	}
	httpStatus := ""
	if req.HttpStatus != 0 {
		httpStatus = fmt.Sprint(req.HttpStatus)
	}
	fields, err := json.Marshal([]string{req.Body, httpStatus, req.RetryAfter})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		// chromedp.SetValue cannot set an empty value: it takes the "" it
		// reads back for a failure. The answer is emptied first, so that
		// the answer waited for is this one.
		chromedp.Evaluate[chromedp.Void](`((v) => {
			const f = document.getElementById("translate-form").elements;
			[f.body.value, f.httpStatus.value, f.retryAfter.value] = v;
			document.getElementById("result").replaceChildren();
		})(`+string(fields)+`)`),
		chromedp.Click(chromedp.CSS(`#translate-form button[type="submit"]`)),
	); err != nil {
		t.Fatalf("submitting the form: %v", err)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(wait, chromedp.WaitVisible(chromedp.ID("result-code"))); err != nil {
		t.Fatalf("waiting for the answer to the form: %v; the page's console: %q", err, console.messages())
	}

	var info errdetails.ErrorInfo
	var types []string
	for _, d := range st.GetDetails() {
		types = append(types, strings.TrimPrefix(d.GetTypeUrl(), "type.googleapis.com/"))
		if d.MessageIs(&info) {
			if err := d.UnmarshalTo(&info); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]string{
		"result-code":    fmt.Sprintf("%s (%d)", code.Code(st.GetCode()), st.GetCode()),
		"result-message": st.GetMessage(),
		"result-reason":  info.GetReason(),
		"result-domain":  info.GetDomain(),
	}
	for id, w := range want {
		if got := run(t, ctx, chromedp.Text(chromedp.ID(id))); got != w {
			t.Errorf("after posting %v, #%s shows %q; want %q", req, id, got, w)
		}
	}
	gotTypes := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#result-details > li")].map((li) => li.dataset.type)`))
	if diff := cmp.Diff(types, gotTypes); diff != "" {
		t.Errorf("after posting %v, the details the page shows (-want +got):\n%s", req, diff)
	}
}

// run runs a and returns its value, failing t if it fails.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("chromedp: %v", err)
	}
	return v
}

// screenshot saves the whole page as home.png in t's artifact directory.
func screenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png := run(t, ctx, chromedp.FullScreenshot(100)) // 100 is PNG
	path := filepath.Join(t.ArtifactDir(), "home.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// chromiumPath returns the path of Chromium. Without it, it skips t, but
// fails it in CI (CI=true), which must run it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		const need = "the browser test needs Chromium: apt-get install chromium (Debian), or put a chromium on PATH"
		if os.Getenv("CI") == "true" {
			t.Fatal(need)
		}
		t.Skip(need)
	}
	return path
}

// newBrowser starts headless Chromium, at path, for t, with a user data
// directory of its own, and returns its context, which ends with t, and
// the collector of what the page writes to its console.
func newBrowser(t *testing.T, path string) (context.Context, *consoleLog) {
	t.Helper()
	// Bounded, so that a browser that hangs fails the test instead.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	return ctx, collectConsole(ctx)
}

// consoleLog collects the messages of a page's console.
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// collectConsole starts collecting the console of the tab of ctx, until
// ctx ends.
func collectConsole(ctx context.Context) *consoleLog {
	c := &consoleLog{}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
		}
	}()
	return c
}

// messages returns the messages collected so far.
func (c *consoleLog) messages() []chromedp.ConsoleMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), c.msgs...)
}
