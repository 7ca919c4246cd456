package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryStringHasAGermanTranslation finds the English texts of the
// templates and the Go code and checks the German catalog has each one,
// with the same format verbs.
func TestEveryStringHasAGermanTranslation(t *testing.T) {
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`\.Tf? "((?:[^"\\]|\\.)*)"`),   // templates
		regexp.MustCompile(`\.Tf?\("((?:[^"\\]|\\.)*)"`),  // Go
		regexp.MustCompile(`newPage\(w, r, "([^"]+)"`),    // page titles
		regexp.MustCompile(`msg = [a-zA-Z.]+, "([^"]+)"`), // error pages
		regexp.MustCompile(`d\.Error = "([^"]+)"`),        // form errors
		regexp.MustCompile(`d\.Errors\["\w+"\](?:, d\.\w+)? = "([^"]+)"`),
	}
	found := map[string]bool{}
	err := fs.WalkDir(os.DirFS("."), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") || (filepath.Ext(p) != ".go" && filepath.Ext(p) != ".html") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				found[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 150 {
		t.Fatalf("found only %d texts: the patterns are broken", len(found))
	}
	verbs := regexp.MustCompile(`%[a-z]`)
	for s := range found {
		g, ok := de[s]
		if !ok {
			t.Errorf("no German for %q", s)
			continue
		}
		if strings.Join(verbs.FindAllString(s, -1), "") != strings.Join(verbs.FindAllString(g, -1), "") {
			t.Errorf("%q and %q have different format verbs", s, g)
		}
	}
	for s := range de {
		if !found[s] {
			t.Errorf("the catalog has %q, which no page uses", s)
		}
	}
}
