package web

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"io"
	"io/fs"
	"maps"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// parserTexts returns every English format and phrase the program parser
// can put into a problem: the formats of errorf, errorAt and message, and
// every constant string that becomes a Phrase (as an argument to a Phrase
// parameter, a conversion, or a result).
func parserTexts(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, "../program", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	isPhrase := func(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "Phrase" }
	// Which parameters of which functions are Phrases.
	phraseParams := map[string][]int{}
	params := func(name string, ft *ast.FuncType) {
		i := 0
		for _, f := range ft.Params.List {
			n := max(len(f.Names), 1)
			for range n {
				if isPhrase(f.Type) {
					phraseParams[name] = append(phraseParams[name], i)
				}
				i++
			}
		}
	}
	formats := map[string]int{"errorf": 2, "errorAt": 3, "message": 0}
	found := map[string]bool{}
	lit := func(e ast.Expr) (string, bool) {
		b, ok := e.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(b.Value)
		return s, err == nil
	}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncDecl:
					params(n.Name.Name, n.Type)
					if n.Type.Results != nil && len(n.Type.Results.List) == 1 && isPhrase(n.Type.Results.List[0].Type) {
						ast.Inspect(n.Body, func(m ast.Node) bool {
							if r, ok := m.(*ast.ReturnStmt); ok && len(r.Results) == 1 {
								if s, ok := lit(r.Results[0]); ok {
									found[s] = true
								}
							}
							return true
						})
					}
				case *ast.AssignStmt:
					if len(n.Lhs) == 1 && len(n.Rhs) == 1 {
						if fl, ok := n.Rhs[0].(*ast.FuncLit); ok {
							params(n.Lhs[0].(*ast.Ident).Name, fl.Type)
						}
					}
				}
				return true
			})
		}
	}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var name string
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				if name == "Phrase" && len(call.Args) == 1 {
					if s, ok := lit(call.Args[0]); ok {
						found[s] = true
					}
				}
				if i, ok := formats[name]; ok && len(call.Args) > i {
					if id, ok := call.Args[i].(*ast.Ident); ok && id.Name == "format" {
						return true // a wrapper passing its own format on
					}
					s, ok := lit(call.Args[i])
					if !ok {
						t.Errorf("%s: the format of %s is not a constant string", fset.Position(call.Pos()), name)
					}
					found[s] = true
				}
				for _, i := range phraseParams[name] {
					if i < len(call.Args) {
						if s, ok := lit(call.Args[i]); ok {
							found[s] = true
						}
					}
				}
				return true
			})
		}
	}
	delete(found, "") // checkAliases returns "" for no problem
	return found
}

// TestEveryParserProblemHasAGermanTranslation checks the German catalog of
// program problems has every format and phrase of the parser, with the same
// format verbs for the same arguments, and nothing else.
func TestEveryParserProblemHasAGermanTranslation(t *testing.T) {
	found := parserTexts(t)
	if len(found) < 100 {
		t.Fatalf("found only %d texts: the extraction is broken", len(found))
	}
	var missing []string
	for s := range found {
		g, ok := deProgram[s]
		if !ok {
			missing = append(missing, s)
			continue
		}
		if !maps.Equal(formatVerbs(s), formatVerbs(g)) {
			t.Errorf("%q and %q have different format verbs", s, g)
		}
	}
	sort.Strings(missing)
	for _, s := range missing {
		t.Errorf("no German for %q", s)
	}
	for s := range deProgram {
		if !found[s] {
			t.Errorf("the catalog has %q, which the parser does not use", s)
		}
	}
}

var verb = regexp.MustCompile(`%(?:\[(\d+)\])?([a-z])`)

// formatVerbs maps each argument of a format (from 1) to its verb, so that
// a translation may take the arguments in another order with %[2]s.
func formatVerbs(f string) map[int]string {
	out := map[int]string{}
	n := 0
	for _, m := range verb.FindAllStringSubmatch(f, -1) {
		n++
		if m[1] != "" {
			n, _ = strconv.Atoi(m[1])
		}
		out[n] = m[2]
	}
	return out
}

// uploadProgram posts a program file to the editor as a browser does, with
// the form's CSRF token.
func uploadProgram(t *testing.T, c *client, src string) (*http.Response, string) {
	t.Helper()
	c.get("/admin/program")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", c.csrf)
	mw.WriteField("action", "validate")
	fw, err := mw.CreateFormFile("file", "program.yaml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, src)
	mw.Close()
	req, _ := http.NewRequest("POST", c.e.srv.URL+"/admin/program", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

func TestProgramProblemsShowInTheUsersLanguage(t *testing.T) {
	e := newEnv(t, envOptions{})
	src := "name: T\ntimezone: Mars/Base\npoints:\n  rules:\n    - {id: a, on: x, award: [1]}\n    - {id: b, on: x, award: 1, when: 'event.attrs.score >='}\n"
	tests := []struct {
		lang string
		want []string
	}{
		{"de", []string{
			`Unbekannte Zeitzone &#34;Mars/Base&#34;: Verwenden Sie einen IANA-Namen wie Europe/Berlin oder America/New_York.`,
			`Erwartet wird eine ganze Zahl oder ein CEL-Ausdruck, der eine Zahl ergibt, angegeben ist eine Liste.`,
			`Ungültiger CEL-Ausdruck &#34;event.attrs.score &gt;=&#34; (Meldung von CEL, auf Englisch): `,
		}},
		{"en", []string{
			`unknown time zone &#34;Mars/Base&#34;: use an IANA name such as Europe/Berlin or America/New_York`,
			`expected an integer or a CEL expression giving a number, got a list`,
			`invalid CEL expression &#34;event.attrs.score &gt;=&#34;: `,
		}},
	}
	for _, tt := range tests {
		c := e.staff(adminEmail, adminPassword)
		c.lang = tt.lang
		res, body := uploadProgram(t, c, src)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d", tt.lang, res.StatusCode)
		}
		for _, w := range tt.want {
			if n := strings.Count(body, w); n != 2 { // in the list and at its line
				t.Errorf("%s: %q shows %d times, want 2", tt.lang, w, n)
			}
		}
		// At its line: right after the line of the rule.
		if testing.Verbose() {
			for _, m := range regexp.MustCompile(`role="note">([^<]*)<`).FindAllStringSubmatch(body, -1) {
				t.Log(tt.lang, html.UnescapeString(m[1]))
			}
		}
		line := regexp.MustCompile(`(?s)id="line-5">.*?</div><div class="msg" role="note">↑ ([^<]*)</div>`).FindStringSubmatch(body)
		if line == nil || !strings.Contains(line[1], tt.want[1]) {
			t.Errorf("%s: line 5 does not show %q: %q", tt.lang, tt.want[1], line)
		}
	}
}

func TestProgramProblemsTranslateTheirPhrases(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"a phrase as what is expected", "name: T\npoints:\n  rules:\n    - {on: x, award: 1}\n",
			`Der Pflichtschlüssel "id" fehlt: Erwartet wird eine eindeutige ID für diesen Eintrag (Regel).`},
		{"arguments in another order", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1}\n    - {id: a, on: y, award: 1}\n",
			`Die ID "a" ist doppelt vergeben (Regel, zuerst in Zeile 4).`},
		{"a described value", "name: T\nfiscal_year_start: March\n",
			`Erwartet wird eine ganze Zahl, angegeben ist ein Text ("March").`},
		{"a suggestion", "name: T\ntimezon: UTC\n",
			`Unbekannter Schlüssel "timezon": Erlaubt sind `},
		{"a type problem in CEL", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, when: \"'a'\"}\n",
			`Erwartet wird ein Ausdruck, der einen Wahrheitswert ergibt; er ergibt aber einen Text: "'a'"`},
		{"joined keys", "name: T\nmetrics:\n  m: {count: x, sum: event.attrs.a}\n",
			`Erwartet wird genau eines von count, sum, avg, distinct oder ratio, angegeben ist count und sum.`},
	}
	de := newLocale("de", time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := program.Parse([]byte(tt.src))
			var re *rung.Error
			if !errors.As(err, &re) {
				t.Fatalf("Parse: %v", err)
			}
			var got []string
			for _, d := range re.Details {
				got = append(got, de.Problem(d))
			}
			if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, tt.want) }) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
