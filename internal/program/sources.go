package program

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
	"gopkg.in/yaml.v3"
)

// The systems a sources section maps changes from (docs/sources.md).
const (
	SourceHubSpot    = "hubspot"
	SourceSalesforce = "salesforce"
	SourceWebhook    = "webhook"
	SourceCSV        = "csv"
)

// SourceKinds are the keys of the sources section, in the order they are
// documented.
var SourceKinds = []string{SourceHubSpot, SourceSalesforce, SourceWebhook, SourceCSV}

var (
	sourceMapKeys = []string{"object", "type", "changed", "when", "record", "occurred_at", "partner", "member", "attrs"}
	lookupKeys    = []string{"field", "domain", "attr"}
)

// recordEnv is the CEL environment of a source mapping's when: `record`,
// the changed CRM record's fields.
var recordEnv = sync.OnceValues(func() (*cel.Env, error) { return newEnv("record") })

// SourceMapping says which change of a CRM, LMS or CSV record becomes which
// event: the event's type, its partner and member, and which of the
// record's fields become its attrs.
type SourceMapping struct {
	Source string // hubspot, salesforce, webhook or csv
	Object string // the record's object: deal, Opportunity, course, ...
	Type   string // the event type made
	// Changed, when set, makes the mapping apply only to deliveries in which
	// this field changed (a HubSpot property change, a Salesforce CDC
	// update's changedFields); full-record deliveries change every field
	// they carry.
	Changed string
	When    *Expr // optional, bool over `record`
	// Record names the field holding the record id; empty: the source's own
	// (objectId, Id, the webhook's id, the CSV's id column).
	Record string
	// OccurredAt names the field holding the event's time; empty: when the
	// change happened.
	OccurredAt string
	Partner    Lookup
	// Member names the field holding the member id; empty: no member.
	Member string
	Attrs  []SourceAttr // in file order
	Line   int
}

// Lookup says how a mapping finds the partner of a record: the partner id
// is in Field; or Field holds an e-mail address, web address or domain
// matched against the partners' domains (Domain); or Field holds a value
// matched against a partner attribute (Attr).
type Lookup struct {
	Field  string
	Domain bool
	Attr   string
}

// SourceAttr copies a record field into an event attribute.
type SourceAttr struct {
	Name  string // the attribute
	Field string // the record field
}

// Fields returns every record field the mapping reads, in a fixed order:
// the partner, member, occurred_at and record fields, then the attrs.
func (m *SourceMapping) Fields() []string {
	var out []string
	for _, f := range []string{m.Partner.Field, m.Member, m.OccurredAt, m.Record} {
		if f != "" {
			out = append(out, f)
		}
	}
	for _, a := range m.Attrs {
		out = append(out, a.Field)
	}
	return out
}

// Matches evaluates the mapping's when over a record's fields; a mapping
// without when matches every record. A field the expression reads that the
// record lacks is an error, not a silent false.
func (m *SourceMapping) Matches(fields map[string]any) (bool, error) {
	if m.When == nil {
		return true, nil
	}
	if m.When.prg == nil {
		return false, fmt.Errorf("expression %q is not compiled", m.When.Source)
	}
	act, err := interpreter.NewActivation(map[string]any{"record": fields})
	if err != nil {
		return false, err
	}
	out, _, err := m.When.prg.Eval(act)
	if err != nil {
		return false, fmt.Errorf("%s: %w", m.When.Source, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("%s: expected a bool, got %s", m.When.Source, describeVal(out))
	}
	return bool(b), nil
}

// MappingsFor returns the mappings of one source and object, in file order.
// Salesforce object names compare without regard to case, as Salesforce
// does.
func (p *Program) MappingsFor(source, object string) []*SourceMapping {
	var out []*SourceMapping
	for _, m := range p.Sources {
		if m.Source != source {
			continue
		}
		if m.Object == object || (source == SourceSalesforce && strings.EqualFold(m.Object, object)) {
			out = append(out, m)
		}
	}
	return out
}

// fieldPattern is what a record field name may look like: HubSpot property
// names, Salesforce API names (Account.Name for a relation), JSON keys and
// CSV column headers such as "Deal Stage".
var fieldPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_ .()/#&'-]*$`)

func (p *parser) sourceSection(n *yaml.Node) {
	m := p.fields(n, "sources", "a mapping with hubspot, salesforce, webhook and csv, each a list of mappings", SourceKinds...)
	if m == nil {
		return
	}
	for _, kind := range SourceKinds {
		v := m.get(kind)
		if v == nil {
			continue
		}
		items, _ := p.list(v, m.at(kind), "a list of source mappings")
		for i, it := range items {
			if sm := p.sourceMapping(it, index(m.at(kind), i), kind); sm != nil {
				p.prog.Sources = append(p.prog.Sources, sm)
			}
		}
	}
}

func (p *parser) sourceMapping(n *yaml.Node, path, kind string) *SourceMapping {
	m := p.fields(n, path, "a source mapping with object, type and partner", sourceMapKeys...)
	if m == nil {
		return nil
	}
	sm := &SourceMapping{Source: kind, Line: m.node.Line}
	good := true
	if v := p.require(m, "object", "the record's object, like deal or Opportunity"); v != nil {
		var ok bool
		sm.Object, ok = p.id(v, m.at("object"))
		good = good && ok
	} else {
		good = false
	}
	if v := p.require(m, "type", "the event type the change becomes, like deal.won"); v != nil {
		var ok bool
		sm.Type, ok = p.eventType(v, m.at("type"))
		good = good && ok
	} else {
		good = false
	}
	field := func(key string, dst *string) {
		if v := m.get(key); v != nil {
			var ok bool
			*dst, ok = p.field(v, m.at(key))
			good = good && ok
		}
	}
	field("changed", &sm.Changed)
	field("record", &sm.Record)
	field("occurred_at", &sm.OccurredAt)
	field("member", &sm.Member)
	if v := m.get("when"); v != nil {
		sm.When = p.expr(v, m.at("when"), recordEnv, wantBool)
		good = good && sm.When != nil
	}
	if v := p.require(m, "partner", "how the partner is found, like {field: partner_id} or {domain: email}"); v != nil {
		var ok bool
		sm.Partner, ok = p.lookup(v, m.at("partner"))
		good = good && ok
	} else {
		good = false
	}
	if v := m.get("attrs"); v != nil {
		es, ok := p.entries(v, m.at("attrs"), "a mapping of attribute names to record fields, like {amount: amount}")
		good = good && ok
		for _, e := range es {
			epath := join(m.at("attrs"), e.key)
			name, ok := p.id(e.k, epath)
			if !ok {
				good = false
				continue
			}
			f, ok := p.field(e.v, epath)
			good = good && ok
			sm.Attrs = append(sm.Attrs, SourceAttr{Name: name, Field: f})
		}
	}
	if !good {
		return nil
	}
	return sm
}

// lookup reads {field: F}, {domain: F} or {attr: A, field: F}.
func (p *parser) lookup(n *yaml.Node, path string) (Lookup, bool) {
	m := p.fields(n, path, "a partner lookup: {field: F}, {domain: F} or {attr: A, field: F}", lookupKeys...)
	if m == nil {
		return Lookup{}, false
	}
	var l Lookup
	switch f, d := m.get("field"), m.get("domain"); {
	case f != nil && d != nil:
		p.errorf(d, m.at("domain"), "give field or domain, not both: domain names the field holding an e-mail address or domain")
		return Lookup{}, false
	case d != nil:
		if m.has("attr") {
			p.errorf(m.get("attr"), m.at("attr"), "attr goes with field, not with domain")
			return Lookup{}, false
		}
		s, ok := p.field(d, m.at("domain"))
		return Lookup{Field: s, Domain: true}, ok
	case f != nil:
		s, ok := p.field(f, m.at("field"))
		if !ok {
			return Lookup{}, false
		}
		l.Field = s
	default:
		p.errorf(m.node, path, "missing required key %q: expected %s", "field", Phrase("the record field holding the partner id, or domain: a field holding an e-mail address"))
		return Lookup{}, false
	}
	if v := m.get("attr"); v != nil {
		var ok bool
		l.Attr, ok = p.id(v, m.at("attr"))
		if !ok {
			return Lookup{}, false
		}
	}
	return l, true
}

// field reads the name of a record field.
func (p *parser) field(n *yaml.Node, path string) (string, bool) {
	if !scalar(n) {
		p.errorf(n, path, "expected a record field name, got %s", describe(n))
		return "", false
	}
	if !fieldPattern.MatchString(n.Value) || len(n.Value) > 200 {
		p.errorf(n, path, "invalid field name %q: use the CRM's API name or the CSV column header, like dealstage, StageName or \"Deal Stage\"", n.Value)
		return "", false
	}
	return n.Value, true
}
