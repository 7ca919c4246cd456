package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

// reference is what encoding/json writes for s.
func reference(t testing.TB, s string, escapeHTML bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var cases = []string{
	"", "plain", "exactly8", "sixteen bytes ok", `quote " and \ backslash in the middle`,
	"tab\there\nnew line\rcr\bbs\fff\x00nul\x1fus\x7fdel", "<a href=\"x\">&amp;</a>",
	"Zürich — 東京 😀", "bad \xff byte", "\xe2\x80\xa8 line and \xe2\x80\xa9 paragraph",
	"eight..<", "12345678\"12345678\\", "truncated \xe6\x9d",
}

func TestAppendIsEncodingJSON(t *testing.T) {
	for _, html := range []bool{false, true} {
		for _, s := range cases {
			if got, want := Append([]byte("x"), s, html), append([]byte("x"), reference(t, s, html)...); !bytes.Equal(got, want) {
				t.Errorf("Append(%q, html %v) = %s, want %s", s, html, got, want)
			}
		}
	}
}

func FuzzAppendIsEncodingJSON(f *testing.F) {
	for _, s := range cases {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		if got, want := Append(nil, s, html), reference(t, s, html); !bytes.Equal(got, want) {
			t.Errorf("Append(%q, html %v) = %s, want %s", s, html, got, want)
		}
	})
}
