package lane

import (
	"context"
	"net/url"
	"testing"
)

// checkPlainTarget fails t unless, for a target request.parse and
// plainTarget accept, the URL build makes without parsing is the one
// url.ParseRequestURI makes.
func checkPlainTarget(t *testing.T, target string) {
	t.Helper()
	if len(target) == 0 || target[0] != '/' || !plainTarget(target) {
		return
	}
	for _, c := range []byte(target) {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return // request.parse refuses it
		}
	}
	want, err := url.ParseRequestURI(target)
	if err != nil {
		t.Fatalf("plainTarget(%q) is true, but url.ParseRequestURI refuses it: %v", target, err)
	}
	c := &conn{ctx: context.Background()}
	q := request{method: "GET", target: target, head: "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n", lines: 1, host: "x"}
	r, ok := q.build(c, nil)
	if !ok {
		t.Fatalf("build refused %q", target)
	}
	if *r.URL != *want {
		t.Fatalf("for %q build made %#v, url.ParseRequestURI %#v", target, *r.URL, *want)
	}
}

func TestPlainTargetsAreTheURLsNetHTTPParses(t *testing.T) {
	for _, target := range []string{
		"/", "/healthz", "/api/v1/leaderboards/quarter-points?limit=100",
		"/api/v1/leaderboards/q?limit=1&around=bench-m-17", "/a?", "/a??", "/a?b?c", "//x/y",
		"/a.b/~c/_d-e", "/?", "/x?%zz", "/x?a=%20&b=+",
	} {
		checkPlainTarget(t, target)
	}
	for target, want := range map[string]bool{
		"/a%20b": false, "/a b": false, "/a+b": false, "/a:b": false, "/é": false, "/a?b c": true,
	} {
		if got := plainTarget(target); got != want {
			t.Errorf("plainTarget(%q) = %v, want %v", target, got, want)
		}
	}
}

func FuzzPlainTarget(f *testing.F) {
	for _, s := range []string{"/", "/a?b", "/a?", "/a/b/c?x=y&z", "//", "/~?#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		checkPlainTarget(t, "/"+target)
	})
}
