package program

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

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
func describe(n *yaml.Node) Message {
	n = deref(n)
	if n == nil {
		return message("nothing")
	}
	switch n.Kind {
	case yaml.MappingNode:
		return message("a mapping")
	case yaml.SequenceNode:
		return message("a list")
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		switch n.ShortTag() {
		case "!!null":
			return message("nothing (null)")
		case "!!bool":
			return message("a boolean (%s)", v)
		case "!!int", "!!float":
			return message("a number (%s)", v)
		case "!!timestamp":
			return message("a date (%s)", v)
		case "!!str":
			return message("a string (%q)", v)
		}
		return message("a value tagged %s", n.ShortTag())
	}
	return message("something else")
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
func (p *parser) entries(n *yaml.Node, path string, expected Phrase) ([]entry, bool) {
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
func (p *parser) fields(n *yaml.Node, path string, what Phrase, allowed ...string) *mapping {
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
			if s := suggest(e.key, allowed); s != "" {
				p.errorf(e.k, join(path, e.key), "unknown key %q: allowed keys are %s (did you mean %q?)", e.key, strings.Join(allowed, ", "), s)
			} else {
				p.errorf(e.k, join(path, e.key), "unknown key %q: allowed keys are %s", e.key, strings.Join(allowed, ", "))
			}
			continue
		}
		m.keys[e.key], m.vals[e.key] = e.k, e.v
	}
	return m
}

// textKeys hold free text, which may contain commas even inside {...}.
var textKeys = []string{"label", "name", "description"}

// require reports a missing key and returns its value node, or nil.
func (p *parser) require(m *mapping, key string, expected Phrase) *yaml.Node {
	return p.requireAs(m, key, expected)
}

// requireAs is require with what is expected as a Phrase or a Message.
func (p *parser) requireAs(m *mapping, key string, expected any) *yaml.Node {
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
func (p *parser) list(n *yaml.Node, path string, expected Phrase) ([]*yaml.Node, bool) {
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

// textItem is one text of a list, with where it is.
type textItem struct {
	text string
	node *yaml.Node
	path string
}

// texts reads a list of free texts, leaving out (and reporting) items that
// are not text.
func (p *parser) texts(n *yaml.Node, path string, expected Phrase) ([]textItem, bool) {
	items, ok := p.list(n, path, expected)
	if !ok {
		return nil, false
	}
	out := make([]textItem, 0, len(items))
	for i, it := range items {
		if s, good := p.text(it, index(path, i)); good {
			out = append(out, textItem{s, it, index(path, i)})
		} else {
			ok = false
		}
	}
	return out, ok
}

// textsOf returns the texts of items.
func textsOf(items []textItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.text
	}
	return out
}
