package program

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"gopkg.in/yaml.v3"

	"github.com/rung-dev/rung"
)

// maxDetails caps the problems listed for one file; the message still
// counts them all.
const maxDetails = 200

// Parse reads, validates and compiles a program file. On failure it returns
// a *rung.Error with code EINVALID whose Details list every problem with its
// line, key and what was expected.
//
// Defaults for keys the file leaves out: timezone UTC, fiscal_year_start 1,
// points never expire; tiers: window 4q, decision_days 10, grace 1,
// nudge_at 0.8, appeal_days 10; challenges: for member, winners 3,
// finalize_after 24h; leaderboards: for member, window all; steps: count 1,
// from joined_at; registration: review_within 2d, hold 90d, conflict
// first_submitted. Names default to ids.
func Parse(src []byte) (*Program, error) {
	p := &parser{
		prog: &Program{
			Timezone:        "UTC",
			FiscalYearStart: 1,
			Activities:      map[string]Activity{},
			Metrics:         map[string]*Metric{},
			Source:          bytes.Clone(src),
		},
		loc:          time.UTC,
		metricKinds:  map[string]MetricKind{},
		cohorts:      map[string]bool{},
		tiers:        map[string]bool{},
		badges:       map[string]bool{},
		challenges:   map[string]bool{},
		rewardBadges: map[string]bool{},
	}
	if root := p.document(src); root != nil {
		p.program(root)
	}
	for _, check := range p.checks {
		check()
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	cal, err := NewCalendar(p.prog.Timezone, p.prog.FiscalYearStart)
	if err != nil { // already reported; kept for safety
		return nil, rung.Errorf(rung.EINVALID, "program: %v", err)
	}
	p.prog.Calendar = cal
	return p.prog, nil
}

// parser collects the problems of one file while building its Program.
type parser struct {
	prog *Program
	errs []rung.Detail
	loc  *time.Location
	// checks run after every section is read: references between sections.
	checks []func()

	// Names defined in the file, known even when their definition is broken,
	// so one mistake does not also show up as unknown references.
	metricKinds  map[string]MetricKind // 0 when the definition is broken
	cohorts      map[string]bool
	tiers        map[string]bool
	hasTiers     bool
	badges       map[string]bool
	challenges   map[string]bool
	rewardBadges map[string]bool // badges some challenge gives as a reward
}

// err builds the error for the collected problems, ordered by line.
func (p *parser) err() *rung.Error {
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	n := len(p.errs)
	msg := fmt.Sprintf("program has %d errors", n)
	if n == 1 {
		msg = "program has 1 error"
	}
	details := p.errs
	if n > maxDetails {
		details = details[:maxDetails]
		msg += fmt.Sprintf(" (the first %d are listed)", maxDetails)
	}
	return &rung.Error{Code: rung.EINVALID, Message: msg, Details: details}
}

// errorf records a problem at a node.
func (p *parser) errorf(n *yaml.Node, key, format string, args ...any) {
	d := rung.Detail{Key: key, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		d.Line, d.Column = n.Line, n.Column
	}
	if d.Line == 0 {
		d.Line = 1
	}
	p.errs = append(p.errs, d)
}

// later queues a check that needs every section read.
func (p *parser) later(f func()) { p.checks = append(p.checks, f) }

var yamlLine = regexp.MustCompile(`line (\d+)(?:, column (\d+))?: `)

// document decodes the YAML and returns its root mapping, or nil after
// recording why there is none.
func (p *parser) document(src []byte) (root *yaml.Node) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	err := decode(dec, &doc)
	if errors.Is(err, io.EOF) {
		p.errorf(nil, "", "the program is empty: expected a mapping with name, points, metrics and the other sections")
		return nil
	}
	if err != nil {
		p.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := decode(dec, &extra); !errors.Is(err, io.EOF) {
		if err != nil {
			p.yamlError(err)
		} else {
			p.errorf(&extra, "", "expected one YAML document, found another one here (remove the ---)")
		}
	}
	root = &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errorf(root, "", "the program is empty: expected a mapping with name, points, metrics and the other sections")
			return nil
		}
		root = root.Content[0]
	}
	root = deref(root)
	if isNull(root) {
		p.errorf(root, "", "the program is empty: expected a mapping with name, points, metrics and the other sections")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "", "expected a mapping with name, points, metrics and the other sections, got %s", describe(root))
		return nil
	}
	return root
}

// decode runs the YAML decoder, turning a panic inside it into an error.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot read the file: %v", r)
		}
	}()
	return dec.Decode(n)
}

// yamlError records a YAML syntax error with the line it names.
func (p *parser) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	d := rung.Detail{Line: 1}
	if g := yamlLine.FindStringSubmatchIndex(msg); g != nil {
		d.Line, _ = strconv.Atoi(msg[g[2]:g[3]])
		if g[4] >= 0 {
			d.Column, _ = strconv.Atoi(msg[g[4]:g[5]])
		}
		msg = msg[:g[0]] + msg[g[1]:]
		// The YAML parser (not its scanner) counts lines from 0 in its
		// messages; it names the line where the broken list or mapping
		// starts.
		if slices.Contains(yamlParserProblems, msg) {
			d.Line++
		}
	}
	d.Message = "invalid YAML: " + msg
	p.errs = append(p.errs, d)
}

// yamlParserProblems are the messages of the YAML parser, as opposed to
// its scanner.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether a node is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == yaml.AliasNode || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe says what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "a boolean (" + v + ")"
		case "!!int", "!!float":
			return "a number (" + v + ")"
		case "!!timestamp":
			return "a date (" + v + ")"
		case "!!str":
			return fmt.Sprintf("a string (%q)", v)
		}
		return "a value tagged " + n.ShortTag()
	}
	return "something else"
}

// join appends a key to a dotted path; keys that are not plain words are
// quoted, as in activities["portal.login"].
func join(path, key string) string {
	if !plainKey.MatchString(key) {
		key = strconv.Quote(key)
		if path == "" {
			return "[" + key + "]"
		}
		return path + "[" + key + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// index appends a list index to a path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// mapping is a YAML mapping whose keys have been checked against the
// allowed ones.
type mapping struct {
	node *yaml.Node
	path string
	keys map[string]*yaml.Node
	vals map[string]*yaml.Node
}

// get returns the value of a key, or nil when it is absent or null.
func (m *mapping) get(key string) *yaml.Node {
	v := deref(m.vals[key])
	if isNull(v) {
		return nil
	}
	return v
}

// has reports whether a key is present with a value.
func (m *mapping) has(key string) bool { return m.get(key) != nil }

// at returns the path of a key.
func (m *mapping) at(key string) string { return join(m.path, key) }

// entry is one key and value of a mapping with free keys.
type entry struct {
	key  string
	k, v *yaml.Node
}

// entries returns the pairs of a mapping in file order, reporting
// duplicate and non-scalar keys. Null values are kept (v is the null node).
func (p *parser) entries(n *yaml.Node, path, expected string) ([]entry, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected %s, got %s", expected, describe(n))
		return nil, false
	}
	var out []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			p.errorf(n.Content[i], path, "expected a plain key, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, join(path, k.Value), "duplicate key %q (first on line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, entry{key: k.Value, k: k, v: deref(v)})
	}
	return out, true
}

// fields reads a mapping whose keys must be among allowed. It reports
// unknown keys and returns nil when n is not a mapping.
func (p *parser) fields(n *yaml.Node, path, what string, allowed ...string) *mapping {
	es, ok := p.entries(n, path, what)
	if !ok {
		return nil
	}
	m := &mapping{node: deref(n), path: path, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	var prev *entry
	for i, e := range es {
		// In {label: Sourced revenue, rolling 4 quarters} YAML reads the
		// words after the comma as a key without a value; no key of ours
		// is ever valueless, so they are taken back into the text before.
		if prev != nil && m.node.Style&yaml.FlowStyle != 0 && !slices.Contains(allowed, e.key) &&
			isNull(e.v) && slices.Contains(textKeys, prev.key) && prev.v.Kind == yaml.ScalarNode && prev.v.ShortTag() == "!!str" {
			prev.v.Value += ", " + e.key
			continue
		}
		prev = &es[i]
		if !slices.Contains(allowed, e.key) {
			msg := fmt.Sprintf("unknown key %q: allowed keys are %s", e.key, strings.Join(allowed, ", "))
			if s := suggest(e.key, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			p.errorf(e.k, join(path, e.key), "%s", msg)
			continue
		}
		m.keys[e.key], m.vals[e.key] = e.k, e.v
	}
	return m
}

// textKeys hold free text, which may contain commas even inside {...}.
var textKeys = []string{"label", "name", "description"}

// require reports a missing key and returns its value node, or nil.
func (p *parser) require(m *mapping, key, expected string) *yaml.Node {
	v := m.get(key)
	if v == nil {
		if k, present := m.keys[key]; present {
			p.errorf(k, m.at(key), "%s has no value: expected %s", key, expected)
		} else {
			p.errorf(m.node, m.at(key), "missing required key %q: expected %s", key, expected)
		}
	}
	return v
}

// suggest returns the allowed key closest to a misspelled one, if close.
func suggest(key string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if d := editDistance(key, a); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// list returns the items of a sequence, reporting anything else.
func (p *parser) list(n *yaml.Node, path, expected string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "expected %s, got %s", expected, describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out, true
}

// scalar reports whether n is a non-null scalar.
func scalar(n *yaml.Node) bool {
	n = deref(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null"
}

// text reads free text such as a name or a label: any scalar.
func (p *parser) text(n *yaml.Node, path string) (string, bool) {
	if !scalar(n) {
		p.errorf(n, path, "expected text, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// texts reads a list of free texts.
func (p *parser) texts(n *yaml.Node, path, expected string) ([]string, bool) {
	items, ok := p.list(n, path, expected)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		if s, ok := p.text(it, index(path, i)); ok {
			out = append(out, s)
		} else {
			ok = false
		}
	}
	return out, ok
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// id reads an identifier: letters, digits, '_', '-' and '.', at most 100.
func (p *parser) id(n *yaml.Node, path string) (string, bool) {
	if !scalar(n) {
		p.errorf(n, path, "expected an id, got %s", describe(n))
		return "", false
	}
	if !idPattern.MatchString(n.Value) || len(n.Value) > 100 {
		p.errorf(n, path, "invalid id %q: use letters, digits, '_', '-' and '.' (at most 100), starting with a letter or digit", n.Value)
		return "", false
	}
	return n.Value, true
}

var typePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// eventType reads an event type name.
func (p *parser) eventType(n *yaml.Node, path string) (string, bool) {
	if !scalar(n) {
		p.errorf(n, path, "expected an event type such as deal.won, got %s", describe(n))
		return "", false
	}
	if !typePattern.MatchString(n.Value) {
		p.errorf(n, path, "invalid event type %q: use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit (like deal.won)", n.Value)
		return "", false
	}
	return n.Value, true
}

// eventTypes reads one event type or a non-empty list of them.
func (p *parser) eventTypes(n *yaml.Node, path string) ([]string, bool) {
	n = deref(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			p.errorf(n, path, "expected an event type or a list of event types, got an empty list")
			return nil, false
		}
		var out []string
		ok := true
		for i, c := range n.Content {
			t, good := p.eventType(deref(c), index(path, i))
			if good && !slices.Contains(out, t) {
				out = append(out, t)
			}
			ok = ok && good
		}
		return out, ok
	}
	if !scalar(n) {
		p.errorf(n, path, "expected an event type or a list of event types, got %s", describe(n))
		return nil, false
	}
	t, ok := p.eventType(n, path)
	return []string{t}, ok
}

// integer reads a whole number of at least lo.
func (p *parser) integer(n *yaml.Node, path string, lo int64) (int64, bool) {
	n = deref(n)
	var v int64
	ok := false
	if scalar(n) {
		switch n.ShortTag() {
		case "!!int":
			ok = n.Decode(&v) == nil
		case "!!float":
			var f float64
			if n.Decode(&f) == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				v, ok = int64(f), true
			}
		}
	}
	if !ok {
		p.errorf(n, path, "expected %s, got %s", wholeNumber(lo), describe(n))
		return 0, false
	}
	if v < lo {
		p.errorf(n, path, "expected %s, got %d", wholeNumber(lo), v)
		return 0, false
	}
	return v, true
}

// smallInt reads a whole number of at least lo that fits an int.
func (p *parser) smallInt(n *yaml.Node, path string, lo int64) (int, bool) {
	v, ok := p.integer(n, path, lo)
	if ok && v > math.MaxInt32 {
		p.errorf(n, path, "expected %s, got %d, which is too large", wholeNumber(lo), v)
		return 0, false
	}
	return int(v), ok
}

func wholeNumber(lo int64) string {
	switch lo {
	case 0:
		return "a whole number (0 or more)"
	case 1:
		return "a positive whole number"
	}
	return fmt.Sprintf("a whole number of at least %d", lo)
}

// number reads a finite number.
func (p *parser) number(n *yaml.Node, path string) (float64, bool) {
	n = deref(n)
	var f float64
	if scalar(n) && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") && n.Decode(&f) == nil &&
		!math.IsNaN(f) && !math.IsInf(f, 0) {
		return f, true
	}
	p.errorf(n, path, "expected a number, got %s", describe(n))
	return 0, false
}

// boolean reads true or false.
func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	n = deref(n)
	var b bool
	if scalar(n) && n.ShortTag() == "!!bool" && n.Decode(&b) == nil {
		return b, true
	}
	p.errorf(n, path, "expected true or false, got %s", describe(n))
	return false, false
}

// enum reads one of a fixed set of words.
func (p *parser) enum(n *yaml.Node, path string, values ...string) (string, bool) {
	n = deref(n)
	if scalar(n) && slices.Contains(values, n.Value) {
		return n.Value, true
	}
	p.errorf(n, path, "expected %s, got %s", oneOf(values), describe(n))
	return "", false
}

// oneOf lists choices: "a, b or c".
func oneOf(values []string) string {
	if len(values) == 1 {
		return values[0]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// subject reads member or partner.
func (p *parser) subject(n *yaml.Node, path string) (Subject, bool) {
	s, ok := p.enum(n, path, "member", "partner")
	return Subject(s), ok
}

var countUnit = regexp.MustCompile(`^([0-9]+)([a-z]+)$`)

// amount splits "14d" into 14 and "d".
func amount(s string) (int, string, bool) {
	g := countUnit.FindStringSubmatch(s)
	if g == nil {
		return 0, "", false
	}
	n, err := strconv.Atoi(g[1])
	if err != nil || n <= 0 || n > 100000 {
		return 0, "", false
	}
	return n, g[2], true
}

// duration reads a positive duration: <N>h, <N>d or <N>w.
func (p *parser) duration(n *yaml.Node, path string) (time.Duration, bool) {
	n = deref(n)
	if scalar(n) {
		if k, unit, ok := amount(n.Value); ok {
			switch unit {
			case "h":
				return time.Duration(k) * time.Hour, true
			case "d":
				return time.Duration(k) * 24 * time.Hour, true
			case "w":
				return time.Duration(k) * 7 * 24 * time.Hour, true
			}
		}
	}
	p.errorf(n, path, "expected a duration such as 24h, 14d or 2w (a positive whole number of hours, days or weeks), got %s", describe(n))
	return 0, false
}

// window reads a time window; challenge is allowed only for leaderboards.
func (p *parser) window(n *yaml.Node, path string, challenge bool) (Window, bool) {
	n = deref(n)
	if scalar(n) {
		switch n.Value {
		case "all":
			return Window{Kind: WindowAll}, true
		case "quarter":
			return Window{Kind: WindowQuarter}, true
		case "year":
			return Window{Kind: WindowYear}, true
		case "month":
			return Window{Kind: WindowMonth}, true
		case "week":
			return Window{Kind: WindowWeek}, true
		case "challenge":
			if challenge {
				return Window{Kind: WindowChallenge}, true
			}
		}
		if k, unit, ok := amount(n.Value); ok {
			switch unit {
			case "q":
				return Window{Kind: WindowQuarters, N: k}, true
			case "d":
				return Window{Kind: WindowDays, N: k}, true
			}
		}
	}
	choices := "all, quarter, year, month, week, <N>q (like 4q) or <N>d (like 90d)"
	if challenge {
		choices = "all, quarter, year, month, week, <N>q (like 4q), <N>d (like 90d) or challenge"
	}
	p.errorf(n, path, "expected a window: %s, got %s", choices, describe(n))
	return Window{}, false
}

// date reads a calendar date like 2026-11-01 and returns its local midnight
// in the program's time zone.
func (p *parser) date(n *yaml.Node, path string) (time.Time, bool) {
	n = deref(n)
	if scalar(n) && (n.ShortTag() == "!!timestamp" || n.ShortTag() == "!!str") {
		if d, err := time.Parse(time.DateOnly, n.Value); err == nil {
			return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, p.loc), true
		}
	}
	p.errorf(n, path, "expected a date like 2026-11-01, got %s", describe(n))
	return time.Time{}, false
}

// expr compiles a CEL expression that must give what w asks for.
func (p *parser) expr(n *yaml.Node, path string, env func() (*cel.Env, error), w want) *Expr {
	n = deref(n)
	if !scalar(n) {
		p.errorf(n, path, "expected a CEL expression giving %s, got %s", w, describe(n))
		return nil
	}
	e, err := env()
	if err != nil {
		p.errorf(n, path, "CEL is not available: %v", err)
		return nil
	}
	prg, issues := compile(e, n.Value, w)
	if len(issues) > 0 {
		p.celErrors(n, path, w, issues)
		return nil
	}
	return &Expr{Source: n.Value, Line: n.Line, prg: prg}
}

// celErrors records CEL's problems, placing each at its column when the
// expression is written on one line.
func (p *parser) celErrors(n *yaml.Node, path string, w want, issues []celIssue) {
	var msgs []string
	col := n.Column
	for i, is := range issues {
		if i == 0 && is.Line == 1 && is.Column > 0 && !strings.Contains(n.Value, "\n") {
			switch n.Style {
			case 0, yaml.FlowStyle:
				col = n.Column + is.Column - 1
			case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
				if !strings.ContainsAny(n.Value, `'"\`) {
					col = n.Column + is.Column
				}
			}
		}
		msgs = append(msgs, is.Message)
	}
	d := rung.Detail{Line: n.Line, Column: col, Key: path}
	if len(issues) == 1 && issues[0].Line == 0 { // a type problem, not a syntax one
		d.Message = fmt.Sprintf("%s in %q", issues[0].Message, n.Value)
	} else {
		d.Message = fmt.Sprintf("invalid CEL expression %q: %s", n.Value, strings.Join(msgs, "; "))
	}
	p.errs = append(p.errs, d)
}

// award reads points: a number, or CEL giving a number.
func (p *parser) award(n *yaml.Node, path string) *Expr {
	n = deref(n)
	if scalar(n) && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		f, ok := p.number(n, path)
		if !ok {
			return nil
		}
		if f < 0 {
			p.errorf(n, path, "expected points of 0 or more, got %s (deduct points with an admin adjustment)", n.Value)
			return nil
		}
		return &Expr{Source: n.Value, Line: n.Line, Const: &f}
	}
	if !scalar(n) || n.ShortTag() != "!!str" {
		p.errorf(n, path, "expected an integer or a CEL expression giving a number, got %s", describe(n))
		return nil
	}
	return p.expr(n, path, fullEnv, wantNumber)
}

// reference checks, once every section is read, that name is among the
// known ones; builtin, if set, is also accepted.
func (p *parser) reference(n *yaml.Node, path, what, name string, known map[string]bool, builtin string) {
	if known[name] || (builtin != "" && name == builtin) {
		return
	}
	names := make([]string, 0, len(known)+1)
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	if builtin != "" {
		names = append(names, builtin+" (built in)")
	}
	switch {
	case len(known) == 0 && builtin != "":
		p.errorf(n, path, "unknown %s %q: the program defines none; use %s (built in) or define it", what, name, builtin)
	case len(known) == 0:
		p.errorf(n, path, "unknown %s %q: the program defines none", what, name)
	default:
		p.errorf(n, path, "unknown %s %q: expected one of %s", what, name, strings.Join(names, ", "))
	}
}
