package credential

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The JSON-LD library escapes only \t, \n, \r, " and \ in the N-Quads it
// canonicalizes, while RDFC-1.0 also escapes the other C0 controls and
// DEL. Strings with those characters would canonicalize differently here
// and in other verifiers, so Rung keeps them out of what it signs and
// refuses to verify documents that have them.

// isUnsafeControl reports whether r is a control character that
// canonicalization does not agree on.
func isUnsafeControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
}

// cleanText drops the control characters canonicalization does not agree
// on; badge names and descriptions have no use for them.
func cleanText(s string) string {
	if strings.IndexFunc(s, isUnsafeControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isUnsafeControl(r) {
			return -1
		}
		return r
	}, s)
}

// checkIRI reports whether s can stand as an IRI in a signed document: an
// absolute URL or URN with none of the characters N-Quads must escape in
// an IRI (which the JSON-LD library would not).
func checkIRI(s string) error {
	if i := strings.IndexFunc(s, func(r rune) bool { return r <= 0x20 || strings.ContainsRune("<>\"{}|^`\\", r) }); i >= 0 {
		return fmt.Errorf("%q has a character an IRI cannot hold (%q)", s, s[i])
	}
	if u, err := url.Parse(s); err != nil || u.Scheme == "" {
		return fmt.Errorf("%q is not an absolute URL or URN", s)
	}
	return nil
}

// errUnsafeControl is returned for documents with control characters.
var errUnsafeControl = errors.New("the document has control characters (other than tab, newline and carriage return) that canonicalization cannot handle")

// hasUnsafeControl reports whether any key or string in a decoded JSON
// value holds a control character that canonicalization does not agree on.
func hasUnsafeControl(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.IndexFunc(v, isUnsafeControl) >= 0
	case map[string]any:
		for k, x := range v {
			if strings.IndexFunc(k, isUnsafeControl) >= 0 || hasUnsafeControl(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasUnsafeControl(x) {
				return true
			}
		}
	}
	return false
}
