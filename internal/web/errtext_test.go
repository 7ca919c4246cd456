package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

// shownErrorFiles are the files whose rung.Errorf messages the console and
// the portal show to users (analytics periods, registration metrics, tier
// reviews and appeals, registration CSV files, simulations, digest
// previews).
var shownErrorFiles = []string{
	"../analytics/query.go",
	"../analytics/snapshot.go",
	"regmetrics.go",
	"notifications.go",
	"../service/tiers.go",
	"../registration/csv.go",
	"../simulate/hooks.go",
	"../simulate/report.go",
	"../simulate/simulate.go",
}

var errVerb = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

func TestErrorCatalogCoversShownErrors(t *testing.T) {
	fset := token.NewFileSet()
	n := 0
	used := map[string]bool{}
	for _, name := range shownErrorFiles {
		f, err := parser.ParseFile(fset, filepath.FromSlash(name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			call, ok := node.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Errorf" {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "rung" {
				return true
			}
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !ok {
				t.Errorf("%s: rung.Errorf with a format that is not a literal", fset.Position(call.Pos()))
				return true
			}
			format, _ := strconv.Unquote(lit.Value)
			n++
			used[format] = true
			de, ok := deErrors[format]
			if !ok {
				t.Errorf("%s: no German text for %q (add it to deErrors)", fset.Position(call.Pos()), format)
				return true
			}
			if a, b := errVerb.FindAllString(format, -1), errVerb.FindAllString(de, -1); !slices.Equal(a, b) {
				t.Errorf("%q: the German text has verbs %v, the English %v", format, b, a)
			}
			return true
		})
	}
	if n < 20 {
		t.Errorf("found only %d formats: did the files move?", n)
	}
	for k := range deErrors {
		if !used[k] {
			t.Errorf("deErrors has %q, which no file in shownErrorFiles uses", k)
		}
	}
}

func TestErrTextTranslatesAndKeepsTheArguments(t *testing.T) {
	err := rung.Errorf(rung.EINVALID, "period=%q is not a quarter such as 2026-Q4", "soon")
	if got := newLocale("en", nil).Err(err); got != `period="soon" is not a quarter such as 2026-Q4` {
		t.Errorf("en: %q", got)
	}
	if got := newLocale("de", nil).Err(err); got != `period="soon" ist kein Quartal wie 2026-Q4` {
		t.Errorf("de: %q", got)
	}
	// a format without a translation stays English; an internal error says
	// nothing of itself
	other := rung.Errorf(rung.EINVALID, "no such %s", "thing")
	if got := newLocale("de", nil).Err(other); got != "no such thing" {
		t.Errorf("untranslated: %q", got)
	}
	if got := newLocale("de", nil).Err(errPlain("disk on fire")); strings.Contains(got, "fire") || got != de["Something went wrong on our side. The server log has the details."] {
		t.Errorf("internal: %q", got)
	}
}

type errPlain string

func (e errPlain) Error() string { return string(e) }

func TestPagesShowInputErrorsInGerman(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.staff(adminEmail, adminPassword)
	admin.lang = "de"
	_, body := admin.get("/admin/analytics/points?from=someday")
	if want := `from=&#34;someday&#34; ist kein Datum`; !strings.Contains(body, want) {
		t.Errorf("analytics: no %q in\n%s", want, body)
	}
	_, body = admin.get("/admin/analytics/points?cohort=planet:mars")
	if want := html.EscapeString(`Das Feld "planet" ist keines von region, size, type`); !strings.Contains(body, want) {
		t.Errorf("analytics cohort: no %q", want)
	}
	res, body := admin.get("/admin/registrations/metrics?period=soon")
	if want := `period=&#34;soon&#34; ist kein Quartal wie 2026-Q4`; res.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
		t.Errorf("registration metrics: %d, no %q in\n%s", res.StatusCode, want, body)
	}
	admin.lang = ""
	_, body = admin.get("/admin/registrations/metrics?period=soon")
	if want := `period=&#34;soon&#34; is not a quarter such as 2026-Q4`; !strings.Contains(body, want) {
		t.Errorf("registration metrics in English: no %q", want)
	}
}
