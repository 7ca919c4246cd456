package program

import (
	"cmp"
	"maps"
	"math"
	"strings"
	"sync/atomic"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"

	"github.com/rung-dev/rung"
)

// fastFn evaluates an expression without CEL for the shapes programs
// mostly use: attributes and fields compared with literals, joined with
// &&, || and !, choices (c ? a : b), arithmetic, min, max, round and floor.
// It answers only where it is sure to give what CEL gives, and says false
// otherwise (a missing attribute, a value of another type, a NaN, an
// overflow), so the caller asks CEL, which gives the same value or the
// error that explains it. CEL costs about a microsecond an expression,
// most of a rebuild's time on events that rules read; this costs tens of
// nanoseconds.
type fastFn func(v *Vars) (fastVal, bool)

// fastVal is a value of a fast evaluation: a bool, an int, a double, a
// string, or CEL's error for an event attribute that is not there
// (fastMissing, s naming it).
type fastVal struct {
	kind fastKind
	b    bool
	i    int64
	f    float64
	s    string
}

type fastKind uint8

const (
	fastBool fastKind = iota + 1
	fastInt
	fastDouble
	fastString
	fastMissing
)

// MissingKeyError is the error an expression gives for an event attribute
// that is not there, worded as CEL words it through Expr.Eval. An
// expression gives the same *MissingKeyError for the same attribute every
// time, so a caller may compare it by pointer (the engine shares the note
// it makes of one among the events that lack the attribute).
type MissingKeyError struct{ msg string }

func (e *MissingKeyError) Error() string { return e.msg }

// missingErrs holds an expression's MissingKeyErrors, by attribute: a map
// replaced, never written, when a new attribute is missing, so that
// engines on several goroutines may share the expression. It holds at most
// one error for each attribute the expression names.
type missingErrs struct {
	m atomic.Pointer[map[string]*MissingKeyError]
}

// missingErr returns the error for x, a fastMissing value, in the
// expression e.
func (e *Expr) missingErr(x fastVal) error {
	if e.missing == nil { // an Expr not made by compile
		return &MissingKeyError{e.Source + ": no such key: " + x.s}
	}
	for {
		old := e.missing.m.Load()
		if old != nil {
			if err, ok := (*old)[x.s]; ok {
				return err
			}
		}
		err := &MissingKeyError{e.Source + ": no such key: " + x.s}
		m := make(map[string]*MissingKeyError, 1)
		if old != nil {
			maps.Copy(m, *old)
		}
		m[x.s] = err
		if e.missing.m.CompareAndSwap(old, &m) {
			return err
		}
	}
}

// num returns a number's value as a float64, as the program's functions
// read numbers (numeric).
func (x fastVal) num() (float64, bool) {
	switch x.kind {
	case fastInt:
		return float64(x.i), true
	case fastDouble:
		return x.f, true
	}
	return 0, false
}

// fastOf returns the fast evaluation of a checked expression, or nil when
// some part of it is not one fastFn knows.
func fastOf(x celast.Expr) fastFn {
	switch x.Kind() {
	case celast.LiteralKind:
		var v fastVal
		switch l := x.AsLiteral().(type) {
		case types.Bool:
			v = fastVal{kind: fastBool, b: bool(l)}
		case types.Int:
			v = fastVal{kind: fastInt, i: int64(l)}
		case types.Double:
			v = fastVal{kind: fastDouble, f: float64(l)}
		case types.String:
			v = fastVal{kind: fastString, s: string(l)}
		default:
			return nil
		}
		return func(*Vars) (fastVal, bool) { return v, true }
	case celast.SelectKind:
		return fastSelect(x)
	case celast.CallKind:
		return fastCall(x)
	}
	return nil
}

// fastSelect evaluates a chain of field selections from a variable, such
// as event.attrs.score.
func fastSelect(x celast.Expr) fastFn {
	var path []string
	for x.Kind() == celast.SelectKind {
		sel := x.AsSelect()
		if sel.IsTestOnly() {
			return nil
		}
		path = append(path, sel.FieldName())
		x = sel.Operand()
	}
	if x.Kind() != celast.IdentKind {
		return nil
	}
	var root func(*Vars) map[string]any
	switch x.AsIdent() {
	case "event":
		root = func(v *Vars) map[string]any { return v.Event }
	case "partner":
		root = func(v *Vars) map[string]any { return v.Partner }
	case "member":
		root = func(v *Vars) map[string]any { return v.Member }
	default:
		return nil
	}
	// path is innermost last: reverse it.
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	if f := fastEventField(x.AsIdent(), path); f != nil {
		return f
	}
	if len(path) == 2 {
		a, b := path[0], path[1]
		return func(v *Vars) (fastVal, bool) {
			m, ok := root(v)[a].(map[string]any)
			if !ok {
				return fastVal{}, false
			}
			return fastNative(m[b])
		}
	}
	return func(v *Vars) (fastVal, bool) {
		m := root(v)
		for _, f := range path[:len(path)-1] {
			var ok bool
			if m, ok = m[f].(map[string]any); !ok {
				return fastVal{}, false
			}
		}
		return fastNative(m[path[len(path)-1]])
	}
}

// fastEventField evaluates event.attrs.<key> and the event's string fields
// (event.type, event.member...) from Vars.Body when it is set, without the
// map lookups of Vars.Event: FillEventFields puts exactly these values
// there (Attrs, or an empty map when it is nil: a lookup of a missing key
// gives nil either way). Without Body it reads Vars.Event as fastSelect
// does. Nil for other paths.
func fastEventField(root string, path []string) fastFn {
	if root != "event" {
		return nil
	}
	if len(path) == 2 && path[0] == "attrs" {
		k := path[1]
		return func(v *Vars) (fastVal, bool) {
			var a any
			var there bool
			if v.Body != nil {
				a, there = v.Body.Attrs[k]
			} else {
				m, ok := v.Event["attrs"].(map[string]any)
				if !ok {
					return fastVal{}, false
				}
				a, there = m[k]
			}
			if !there {
				return fastVal{kind: fastMissing, s: k}, true
			}
			return fastNative(a)
		}
	}
	if len(path) != 1 {
		return nil
	}
	var field func(*rung.Event) string
	switch k := path[0]; k {
	case "id":
		field = func(e *rung.Event) string { return e.ID }
	case "type":
		field = func(e *rung.Event) string { return e.Type }
	case "partner":
		field = func(e *rung.Event) string { return e.Partner }
	case "member":
		field = func(e *rung.Event) string { return e.Member }
	case "source":
		field = func(e *rung.Event) string { return e.Source }
	default:
		return nil
	}
	k := path[0]
	return func(v *Vars) (fastVal, bool) {
		if v.Body != nil {
			return fastVal{kind: fastString, s: field(v.Body)}, true
		}
		return fastNative(v.Event[k])
	}
}

// fastNative converts a variable's value as CEL does, for the types a
// fastVal holds; nil (a missing key, a null) and others are not.
func fastNative(a any) (fastVal, bool) {
	switch a := a.(type) {
	case float64:
		return fastVal{kind: fastDouble, f: a}, true
	case string:
		return fastVal{kind: fastString, s: a}, true
	case bool:
		return fastVal{kind: fastBool, b: a}, true
	case int64:
		return fastVal{kind: fastInt, i: a}, true
	case int:
		return fastVal{kind: fastInt, i: int64(a)}, true
	}
	return fastVal{}, false
}

func fastCall(x celast.Expr) fastFn {
	call := x.AsCall()
	if call.IsMemberFunction() {
		return nil
	}
	args := make([]fastFn, len(call.Args()))
	for i, a := range call.Args() {
		if args[i] = fastOf(a); args[i] == nil {
			return nil
		}
	}
	name := call.FunctionName()
	if len(args) == 1 {
		a := args[0]
		switch name {
		case operators.LogicalNot:
			return func(v *Vars) (fastVal, bool) {
				x, ok := a(v)
				if ok && x.kind == fastMissing {
					return x, true
				}
				if !ok || x.kind != fastBool {
					return fastVal{}, false
				}
				return fastVal{kind: fastBool, b: !x.b}, true
			}
		case "round":
			return fastRounding(a, math.Round)
		case "floor":
			return fastRounding(a, math.Floor)
		}
		return nil
	}
	if len(args) == 3 && name == operators.Conditional {
		c, t, f := args[0], args[1], args[2]
		return func(v *Vars) (fastVal, bool) {
			x, ok := c(v)
			if ok && x.kind == fastMissing {
				return x, true
			}
			if !ok || x.kind != fastBool {
				return fastVal{}, false
			}
			if x.b {
				return t(v)
			}
			return f(v)
		}
	}
	if len(args) != 2 {
		return nil
	}
	a, b := args[0], args[1]
	switch name {
	case operators.LogicalAnd, operators.LogicalOr:
		// false && anything is false, true || anything is true, even
		// an error; otherwise both sides must be bools.
		// A missing attribute on either side is the error, unless the
		// other side decides (the left one's first).
		short := name == operators.LogicalOr
		return func(v *Vars) (fastVal, bool) {
			x, ok := a(v)
			if !ok || x.kind != fastBool && x.kind != fastMissing {
				return fastVal{}, false
			}
			if x.kind == fastBool && x.b == short {
				return x, true
			}
			y, ok := b(v)
			if !ok || y.kind != fastBool && y.kind != fastMissing {
				return fastVal{}, false
			}
			if x.kind == fastMissing && (y.kind == fastMissing || y.b != short) {
				return x, true
			}
			return y, true
		}
	case operators.Equals, operators.NotEquals:
		neg := name == operators.NotEquals
		return func(v *Vars) (fastVal, bool) {
			x, ok1 := a(v)
			y, ok2 := b(v)
			if m, ok := firstMissing(x, ok1, y, ok2); ok {
				return m, true
			}
			if !ok1 || !ok2 {
				return fastVal{}, false
			}
			eq, ok := fastEqual(x, y)
			return fastVal{kind: fastBool, b: eq != neg}, ok
		}
	case operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		return func(v *Vars) (fastVal, bool) {
			x, ok1 := a(v)
			y, ok2 := b(v)
			if m, ok := firstMissing(x, ok1, y, ok2); ok {
				return m, true
			}
			if !ok1 || !ok2 {
				return fastVal{}, false
			}
			c, ok := fastCompare(x, y)
			if !ok {
				return fastVal{}, false
			}
			var r bool
			switch name {
			case operators.Less:
				r = c < 0
			case operators.LessEquals:
				r = c <= 0
			case operators.Greater:
				r = c > 0
			default:
				r = c >= 0
			}
			return fastVal{kind: fastBool, b: r}, true
		}
	case operators.Add, operators.Subtract, operators.Multiply, operators.Divide:
		return func(v *Vars) (fastVal, bool) {
			x, ok1 := a(v)
			y, ok2 := b(v)
			if m, ok := firstMissing(x, ok1, y, ok2); ok {
				return m, true
			}
			if !ok1 || !ok2 {
				return fastVal{}, false
			}
			return fastArith(name, x, y)
		}
	case "min", "max":
		// pick: the operands promoted to double when they mix, and b
		// when it is better than a, compared as float64s.
		isMin := name == "min"
		return func(v *Vars) (fastVal, bool) {
			x, ok1 := a(v)
			y, ok2 := b(v)
			if m, ok := firstMissing(x, ok1, y, ok2); ok {
				return m, true
			}
			if !ok1 || !ok2 {
				return fastVal{}, false
			}
			xf, ok1 := x.num()
			yf, ok2 := y.num()
			if !ok1 || !ok2 || math.IsNaN(xf) || math.IsNaN(yf) {
				return fastVal{}, false
			}
			x, y = fastPromote(x, y)
			if isMin && yf < xf || !isMin && yf > xf {
				return y, true
			}
			return x, true
		}
	}
	return nil
}

func fastRounding(a fastFn, f func(float64) float64) fastFn {
	return func(v *Vars) (fastVal, bool) {
		x, ok := a(v)
		switch {
		case !ok:
			return fastVal{}, false
		case x.kind == fastMissing, x.kind == fastInt:
			return x, true
		case x.kind == fastDouble:
			return fastVal{kind: fastDouble, f: f(x.f)}, true
		}
		return fastVal{}, false
	}
}

// firstMissing returns the error of a binary operation on x and y when
// an operand is a missing attribute: CEL gives the left operand's error,
// else the right one's once the left is a value (ok1: one the fast
// evaluation knows; any other could be an error of its own).
func firstMissing(x fastVal, ok1 bool, y fastVal, ok2 bool) (fastVal, bool) {
	switch {
	case ok1 && x.kind == fastMissing:
		return x, true
	case ok1 && ok2 && y.kind == fastMissing:
		return y, true
	}
	return fastVal{}, false
}

// fastPromote turns an int into a double when the other operand is a
// double (promote).
func fastPromote(x, y fastVal) (fastVal, fastVal) {
	switch {
	case x.kind == fastDouble && y.kind == fastInt:
		y = fastVal{kind: fastDouble, f: float64(y.i)}
	case y.kind == fastDouble && x.kind == fastInt:
		x = fastVal{kind: fastDouble, f: float64(x.i)}
	}
	return x, y
}

// fastEqual is CEL's ==, where it is sure: values of one kind, or ints and
// doubles compared as numbers; never a NaN.
func fastEqual(x, y fastVal) (bool, bool) {
	if x.kind == fastDouble && math.IsNaN(x.f) || y.kind == fastDouble && math.IsNaN(y.f) {
		return false, false
	}
	switch {
	case x.kind != y.kind:
		if c, ok := fastCompare(x, y); ok {
			return c == 0, true
		}
		return false, false
	case x.kind == fastBool:
		return x.b == y.b, true
	case x.kind == fastInt:
		return x.i == y.i, true
	case x.kind == fastDouble:
		return x.f == y.f, true
	default:
		return x.s == y.s, true
	}
}

// fastCompare orders two numbers (ints and doubles cross-compared as CEL
// does) or two strings; NaN cannot be ordered.
func fastCompare(x, y fastVal) (int, bool) {
	switch {
	case x.kind == fastString && y.kind == fastString:
		return strings.Compare(x.s, y.s), true
	case x.kind == fastInt && y.kind == fastInt:
		return cmp.Compare(x.i, y.i), true
	case x.kind == fastDouble && y.kind == fastDouble:
		if math.IsNaN(x.f) || math.IsNaN(y.f) {
			return 0, false
		}
		return cmp.Compare(x.f, y.f), true
	case x.kind == fastDouble && y.kind == fastInt:
		return cmpDoubleInt(x.f, y.i)
	case x.kind == fastInt && y.kind == fastDouble:
		c, ok := cmpDoubleInt(y.f, x.i)
		return -c, ok
	}
	return 0, false
}

// cmpDoubleInt is CEL's compareDoubleInt.
func cmpDoubleInt(d float64, i int64) (int, bool) {
	switch {
	case math.IsNaN(d):
		return 0, false
	case d < math.MinInt64:
		return -1, true
	case d > math.MaxInt64:
		return 1, true
	}
	return cmp.Compare(d, float64(i)), true
}

// fastArith is the program's +, -, * and / on numbers (arithmeticBinding):
// an int promoted to double beside a double; ints overflowing or divided
// by zero are CEL's errors, left to CEL.
func fastArith(op string, x, y fastVal) (fastVal, bool) {
	x, y = fastPromote(x, y)
	switch {
	case x.kind == fastDouble && y.kind == fastDouble:
		var r float64
		switch op {
		case operators.Add:
			r = x.f + y.f
		case operators.Subtract:
			r = x.f - y.f
		case operators.Multiply:
			r = x.f * y.f
		default:
			r = x.f / y.f
		}
		return fastVal{kind: fastDouble, f: r}, true
	case x.kind == fastInt && y.kind == fastInt:
		a, b := x.i, y.i
		var r int64
		switch op {
		case operators.Add:
			r = a + b
			if (r > a) != (b > 0) {
				return fastVal{}, false
			}
		case operators.Subtract:
			r = a - b
			if (r < a) != (b > 0) {
				return fastVal{}, false
			}
		case operators.Multiply:
			if a == -1 && b == math.MinInt64 || b == -1 && a == math.MinInt64 {
				return fastVal{}, false
			}
			r = a * b
			if a != 0 && r/a != b {
				return fastVal{}, false
			}
		default:
			if b == 0 || a == math.MinInt64 && b == -1 {
				return fastVal{}, false
			}
			r = a / b
		}
		return fastVal{kind: fastInt, i: r}, true
	}
	return fastVal{}, false
}
