package program

import (
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"golang.org/x/text/currency"
	"gopkg.in/yaml.v3"
)

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

func wholeNumber(lo int64) Message {
	switch lo {
	case math.MinInt64:
		return message("a whole number")
	case 0:
		return message("a whole number (0 or more)")
	case 1:
		return message("a positive whole number")
	}
	return message("a whole number of at least %d", lo)
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
func oneOf(values []string) Message {
	if len(values) == 1 {
		return message("%s", values[0])
	}
	return message("%s or %s", strings.Join(values[:len(values)-1], ", "), values[len(values)-1])
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
	choices := Phrase("all, quarter, year, month, week, <N>q (like 4q) or <N>d (like 90d)")
	if challenge {
		choices = Phrase("all, quarter, year, month, week, <N>q (like 4q), <N>d (like 90d) or challenge")
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
		p.errorf(n, path, "expected a CEL expression giving %s, got %s", w.phrase(), describe(n))
		return nil
	}
	e, err := env()
	if err != nil {
		p.errorf(n, path, "CEL is not available: %v", err)
		return nil
	}
	prg, refs, fast, issues := compileRefs(e, n.Value, w)
	if len(issues) > 0 {
		p.celErrors(n, path, w, issues)
		return nil
	}
	p.prog.EventFields |= refs.event
	return &Expr{Source: n.Value, Line: n.Line, prg: prg, refs: refs, fast: fast, missing: new(missingErrs)}
}

// eventExpr compiles an expression evaluated against an event (rules,
// metrics, badges, steps: every variable in scope) and notes whether it
// reads `partner` or `member`.
func (p *parser) eventExpr(n *yaml.Node, path string, w want) *Expr {
	x := p.expr(n, path, fullEnv, w)
	if x != nil {
		p.prog.ReadsPartner = p.prog.ReadsPartner || x.refs.partner
		p.prog.ReadsMember = p.prog.ReadsMember || x.refs.member
	}
	return x
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
	switch {
	case len(issues) == 1 && issues[0].Type != nil: // a type problem, not a syntax one
		p.errorAt(n.Line, col, path, "%s in %q", *issues[0].Type, n.Value)
	case len(issues) == 1 && issues[0].Line == 0:
		p.errorAt(n.Line, col, path, "%s in %q", issues[0].Message, n.Value)
	default:
		// CEL's own messages stay in English.
		p.errorAt(n.Line, col, path, "invalid CEL expression %q: %s", n.Value, strings.Join(msgs, "; "))
	}
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
	return p.eventExpr(n, path, wantNumber)
}

// reference checks, once every section is read, that name is among the
// known ones; builtin, if set, is also accepted.
func (p *parser) reference(n *yaml.Node, path string, what Phrase, name string, known map[string]bool, builtin string) {
	if known[name] || (builtin != "" && name == builtin) {
		return
	}
	names := make([]string, 0, len(known)+1)
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	switch {
	case len(known) == 0 && builtin != "":
		p.errorf(n, path, "unknown %s %q: the program defines none; use %s (built in) or define it", what, name, builtin)
	case len(known) == 0:
		p.errorf(n, path, "unknown %s %q: the program defines none", what, name)
	case builtin != "":
		p.errorf(n, path, "unknown %s %q: expected one of %s, %s (built in)", what, name, strings.Join(names, ", "), builtin)
	default:
		p.errorf(n, path, "unknown %s %q: expected one of %s", what, name, strings.Join(names, ", "))
	}
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// currency reads an ISO 4217 currency code such as EUR or USD.
func (p *parser) currency(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	if !scalar(n) || n.ShortTag() != "!!str" {
		p.errorf(n, path, "expected an ISO 4217 currency code such as EUR or USD, got %s", describe(n))
		return "", false
	}
	if !currencyCode.MatchString(n.Value) {
		if up := strings.ToUpper(n.Value); currencyCode.MatchString(up) {
			if _, err := currency.ParseISO(up); err == nil {
				p.errorf(n, path, "expected an ISO 4217 currency code of three capital letters such as EUR or USD, got %q (did you mean %q?)", n.Value, up)
				return "", false
			}
		}
		p.errorf(n, path, "expected an ISO 4217 currency code of three capital letters such as EUR or USD, got %q", n.Value)
		return "", false
	}
	if _, err := currency.ParseISO(n.Value); err != nil {
		p.errorf(n, path, "unknown currency %q: expected an ISO 4217 currency code such as EUR or USD", n.Value)
		return "", false
	}
	return n.Value, true
}
