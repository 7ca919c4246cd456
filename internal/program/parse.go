package program

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

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
// no currency, metrics unit number, points never expire; tiers: window 4q, decision_days 10, grace 1,
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
	hasCurrency  bool // the file has a currency key, even a broken one
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
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	p.errorAt(line, col, key, format, args...)
}

// errorAt records a problem at a line and column, keeping its format and
// arguments for translation.
func (p *parser) errorAt(line, col int, key, format string, args ...any) {
	d := rung.Detail{Line: line, Column: col, Key: key, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
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
	for {
		var extra yaml.Node
		err := decode(dec, &extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.yamlError(err)
			return nil
		}
		if len(extra.Content) > 0 && !isNull(extra.Content[0]) {
			p.errorf(&extra, "", "expected one YAML document, found another one here (remove the ---)")
			return nil
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
	if msg := checkAliases(root); msg != "" {
		p.errorf(root, "", "%s", msg)
		return nil
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

// maxAliasExpansion bounds how many nodes aliases may add to a file once
// expanded, so a small file cannot make the parser do unbounded work.
const maxAliasExpansion = 100000

// checkAliases refuses aliases that refer to a node containing themselves
// or that expand the file by more than maxAliasExpansion nodes.
func checkAliases(root *yaml.Node) Phrase {
	raw := 0
	seen := map[*yaml.Node]bool{}
	var count func(n *yaml.Node)
	count = func(n *yaml.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		raw++
		for _, c := range n.Content {
			count(c)
		}
	}
	count(root)

	const onStack = -1
	size := map[*yaml.Node]int{}
	var expand func(n *yaml.Node) int
	expand = func(n *yaml.Node) int {
		if n == nil {
			return 0
		}
		switch s, ok := size[n]; {
		case ok && s == onStack:
			return -1
		case ok:
			return s
		}
		size[n] = onStack
		total := 1
		children := n.Content
		if n.Kind == yaml.AliasNode {
			children = []*yaml.Node{n.Alias}
		}
		for _, c := range children {
			s := expand(c)
			if s < 0 {
				return -1
			}
			total += s
			if total > raw+maxAliasExpansion {
				total = raw + maxAliasExpansion + 1
			}
		}
		size[n] = total
		return total
	}
	switch s := expand(root); {
	case s < 0:
		return "an alias (*name) refers to a node that contains it: remove the loop"
	case s > raw+maxAliasExpansion:
		return "the file's aliases (*name) expand to too much: write the repeated parts out"
	}
	return ""
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
	line, col := 1, 0
	if g := yamlLine.FindStringSubmatchIndex(msg); g != nil {
		line, _ = strconv.Atoi(msg[g[2]:g[3]])
		if g[4] >= 0 {
			col, _ = strconv.Atoi(msg[g[4]:g[5]])
		}
		msg = msg[:g[0]] + msg[g[1]:]
		// The YAML parser (not its scanner) counts lines from 0 in its
		// messages; it names the line where the broken list or mapping
		// starts.
		if slices.Contains(yamlParserProblems, msg) {
			line++
		}
	}
	// The YAML library's own message stays in English.
	p.errorAt(line, col, "", "invalid YAML: %s", msg)
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
