package program

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/rung-dev/rung"
)

// Expr is a compiled CEL expression, or a numeric constant.
type Expr struct {
	Source string
	Line   int
	// Const is set when the expression is a plain number (award: 50); Eval
	// is then not needed.
	Const *float64
	prg   cel.Program
	refs  exprRefs // what it reads of its variables
	fast  fastFn   // nil when CEL must evaluate it (fastexpr.go)
	// missing holds the errors fast gives for missing attributes, made
	// once each (fastexpr.go).
	missing *missingErrs
}

// Vars are the variables an expression sees: `event`, `partner`, `member`.
// Each is a map as built by EventVars, PartnerVars and MemberVars; a nil map
// is an absent variable. Vars implements the CEL activation.
type Vars struct {
	Event   map[string]any
	Partner map[string]any
	Member  map[string]any
	// Body, when set, is the event Event was filled from by
	// FillEventFields with every field the expressions read: the fast
	// evaluations then read its fields and attributes directly rather than
	// through Event's map (fastexpr.go). Nil otherwise.
	Body *rung.Event
}

// ResolveName implements interpreter.Activation: it returns the map of a
// variable, or false when the variable is absent.
func (v *Vars) ResolveName(name string) (any, bool) {
	var m map[string]any
	switch name {
	case "event":
		m = v.Event
	case "partner":
		m = v.Partner
	case "member":
		m = v.Member
	}
	if m == nil {
		return nil, false
	}
	return m, true
}

// Parent implements interpreter.Activation; Vars has none.
func (v *Vars) Parent() interpreter.Activation { return nil }

// Eval evaluates the expression. A constant evaluates to a double. An
// expression that fails (a missing attribute, a division by zero) returns
// an error saying why.
func (e *Expr) Eval(v *Vars) (ref.Val, error) {
	if e.Const != nil {
		return types.Double(*e.Const), nil
	}
	if e.prg == nil {
		return nil, fmt.Errorf("expression %q is not compiled", e.Source)
	}
	var act interpreter.Activation = v
	if v == nil {
		act = interpreter.EmptyActivation()
	}
	out, _, err := e.prg.Eval(act)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Source, err)
	}
	if types.IsError(out) {
		return nil, fmt.Errorf("%s: %v", e.Source, out)
	}
	return out, nil
}

// Bool evaluates an expression that must give a bool.
func (e *Expr) Bool(v *Vars) (bool, error) {
	if e.fast != nil && v != nil {
		if x, ok := e.fast(v); ok {
			switch x.kind {
			case fastBool:
				return x.b, nil
			case fastMissing:
				return false, e.missingErr(x)
			}
		}
	}
	out, err := e.Eval(v)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("%s: expected a bool, got %s", e.Source, describeVal(out))
	}
	return bool(b), nil
}

// Number evaluates an expression that must give a number (int, uint or
// double). Infinities and NaN (say, from a division by 0.0) are errors.
func (e *Expr) Number(v *Vars) (float64, error) {
	if e.Const != nil {
		return *e.Const, nil
	}
	if e.fast != nil && v != nil {
		if x, ok := e.fast(v); ok {
			if x.kind == fastMissing {
				return 0, e.missingErr(x)
			}
			if f, ok := x.num(); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f, nil
			}
		}
	}
	out, err := e.Eval(v)
	if err != nil {
		return 0, err
	}
	f, ok := numeric(out)
	if !ok {
		return 0, fmt.Errorf("%s: expected a number, got %s", e.Source, describeVal(out))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s: expected a number, got %v", e.Source, f)
	}
	return f, nil
}

// Key evaluates an expression and formats its value as a string key
// (numbers in their shortest form, 3.0 as "3"). Strings are themselves,
// bools "true" or "false", timestamps RFC 3339 in UTC. Null, lists and maps
// are errors: they make no key.
func (e *Expr) Key(v *Vars) (string, error) {
	if e.fast != nil && v != nil {
		if x, ok := e.fast(v); ok {
			switch x.kind {
			case fastMissing:
				return "", e.missingErr(x)
			case fastString:
				return x.s, nil
			case fastInt:
				return strconv.FormatInt(x.i, 10), nil
			case fastBool:
				return strconv.FormatBool(x.b), nil
			case fastDouble:
				if f := x.f; !math.IsNaN(f) && !math.IsInf(f, 0) {
					return formatKey(f), nil
				}
			}
		}
	}
	out, err := e.Eval(v)
	if err != nil {
		return "", err
	}
	switch x := out.(type) {
	case types.String:
		return string(x), nil
	case types.Int:
		return strconv.FormatInt(int64(x), 10), nil
	case types.Uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case types.Double:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("%s: expected a key, got %v", e.Source, f)
		}
		return formatKey(f), nil
	case types.Bool:
		return strconv.FormatBool(bool(x)), nil
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return x.Duration.String(), nil
	case types.Bytes:
		return string(x), nil
	}
	return "", fmt.Errorf("%s: expected a string or a number for a key, got %s", e.Source, describeVal(out))
}

// formatKey formats a finite double as a key: its shortest form, 3.0 as
// "3", -0 as "0".
func formatKey(f float64) string {
	if f == 0 {
		return "0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// describeVal names a value's type for a message.
func describeVal(v ref.Val) string {
	switch v.(type) {
	case types.Null:
		return "null"
	case types.Bool:
		return "a bool"
	case types.String:
		return "a string"
	case types.Int, types.Uint, types.Double:
		return "a number"
	}
	switch v.Type().TypeName() {
	case "list":
		return "a list"
	case "map":
		return "a map"
	}
	return v.Type().TypeName()
}

// EventVars returns the `event` variable for an event: id, type, partner,
// member ("" when none), occurred_at (a timestamp), attrs (never nil) and
// source. The attrs map is the event's own, not a copy.
func EventVars(e *rung.Event) map[string]any {
	return FillEventVars(make(map[string]any, 7), e)
}

// noAttrs is the attrs of an event without any; expressions never write to
// it.
var noAttrs = map[string]any{}

// EventFields is a set of the `event` variable's keys: the ones a
// program's expressions read.
type EventFields uint8

// The keys of the `event` variable.
const (
	EventID EventFields = 1 << iota
	EventType
	EventPartner
	EventMember
	EventOccurredAt
	EventAttrs
	EventSource

	// AllEventFields is every key: what an expression that uses `event`
	// as a whole (size(event), event[k]) needs.
	AllEventFields = EventID | EventType | EventPartner | EventMember | EventOccurredAt | EventAttrs | EventSource
)

var eventFieldNames = map[string]EventFields{
	"id": EventID, "type": EventType, "partner": EventPartner, "member": EventMember,
	"occurred_at": EventOccurredAt, "attrs": EventAttrs, "source": EventSource,
}

// FillEventVars sets the `event` variable's keys in m and returns it, so an
// evaluator can reuse one map for every event instead of allocating one.
func FillEventVars(m map[string]any, e *rung.Event) map[string]any {
	return FillEventFields(m, e, AllEventFields)
}

// FillEventFields sets only the keys in f: an evaluator that reuses m for
// every event of a program sets the keys its expressions read
// (Program.EventFields) and saves boxing the others. Keys outside f are
// never set, so m must not have held them before.
func FillEventFields(m map[string]any, e *rung.Event, f EventFields) map[string]any {
	if f&EventID != 0 {
		m["id"] = e.ID
	}
	if f&EventType != 0 {
		m["type"] = e.Type
	}
	if f&EventPartner != 0 {
		m["partner"] = e.Partner
	}
	if f&EventMember != 0 {
		m["member"] = e.Member
	}
	if f&EventOccurredAt != 0 {
		m["occurred_at"] = e.OccurredAt
	}
	if f&EventAttrs != 0 {
		attrs := e.Attrs
		if attrs == nil {
			attrs = noAttrs
		}
		m["attrs"] = attrs
	}
	if f&EventSource != 0 {
		m["source"] = e.Source
	}
	return m
}

// PartnerVars returns the `partner` variable for a partner and the tier it
// holds at the time of evaluation ("" when none): id, name, type, region,
// size, joined_at, domains (never nil), attrs (never nil) and tier.
func PartnerVars(p *rung.Partner, tier string) map[string]any {
	attrs := p.Attrs
	if attrs == nil {
		attrs = map[string]any{}
	}
	domains := p.Domains
	if domains == nil {
		domains = []string{}
	}
	return map[string]any{
		"id":        p.ID,
		"name":      p.Name,
		"type":      p.Type,
		"region":    p.Region,
		"size":      p.Size,
		"joined_at": p.JoinedAt,
		"domains":   domains,
		"attrs":     attrs,
		"tier":      tier,
	}
}

// MemberVars returns the `member` variable for a member: id, partner, name,
// email, role, joined_at and attrs (never nil).
func MemberVars(m *rung.Member) map[string]any {
	attrs := m.Attrs
	if attrs == nil {
		attrs = map[string]any{}
	}
	return map[string]any{
		"id":        m.ID,
		"partner":   m.Partner,
		"name":      m.Name,
		"email":     m.Email,
		"role":      m.Role,
		"joined_at": m.JoinedAt,
		"attrs":     attrs,
	}
}
