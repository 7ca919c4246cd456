package program

import (
	"math"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/env"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/stdlib"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
)

// The CEL environments. Program expressions see `event`, `partner` and
// `member`; cohort expressions see only `partner`.
var (
	fullEnv    = sync.OnceValues(func() (*cel.Env, error) { return newEnv("event", "partner", "member") })
	partnerEnv = sync.OnceValues(func() (*cel.Env, error) { return newEnv("partner") })
)

// arithmetic are the standard operators Rung redeclares so that ints and
// doubles mix: numbers from JSON are doubles, literals in a program are ints.
var arithmetic = []string{operators.Add, operators.Subtract, operators.Multiply, operators.Divide}

// newEnv builds a CEL environment with the named variables, each a
// map(string, dyn), and Rung's functions.
func newEnv(vars ...string) (*cel.Env, error) {
	exclude := make([]*env.Function, len(arithmetic))
	for i, name := range arithmetic {
		exclude[i] = &env.Function{Name: name}
	}
	opts := []cel.EnvOption{
		cel.StdLib(cel.StdLibSubset(&env.LibrarySubset{ExcludeFunctions: exclude})),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		ext.Strings(),
	}
	for _, v := range vars {
		opts = append(opts, cel.Variable(v, cel.MapType(cel.StringType, cel.DynType)))
	}
	opts = append(opts, arithmeticFunctions()...)
	opts = append(opts, numberFunctions()...)
	return cel.NewCustomEnv(opts...)
}

// arithmeticFunctions declares +, -, * and / with the standard overloads
// plus (double, int) and (int, double), both giving a double, and one
// binding that promotes an int operand to double when the other is a
// double. Dyn operands are resolved at run time by the same binding.
func arithmeticFunctions() []cel.EnvOption {
	std := map[string][]cel.FunctionOpt{}
	for _, fn := range stdlib.Functions() {
		for _, name := range arithmetic {
			if fn.Name() != name {
				continue
			}
			for _, o := range fn.OverloadDecls() {
				std[name] = append(std[name], cel.Overload(o.ID(), o.ArgTypes(), o.ResultType()))
			}
		}
	}
	ids := map[string]string{
		operators.Add:      "add",
		operators.Subtract: "subtract",
		operators.Multiply: "multiply",
		operators.Divide:   "divide",
	}
	var opts []cel.EnvOption
	for _, name := range arithmetic {
		fopts := append(std[name],
			cel.Overload(ids[name]+"_double_int", []*cel.Type{cel.DoubleType, cel.IntType}, cel.DoubleType),
			cel.Overload(ids[name]+"_int_double", []*cel.Type{cel.IntType, cel.DoubleType}, cel.DoubleType),
			cel.SingletonBinaryBinding(arithmeticBinding(name)),
		)
		opts = append(opts, cel.Function(name, fopts...))
	}
	return opts
}

// arithmeticBinding returns the run-time implementation of an operator.
func arithmeticBinding(op string) func(lhs, rhs ref.Val) ref.Val {
	return func(lhs, rhs ref.Val) ref.Val {
		lhs, rhs = promote(lhs, rhs)
		switch op {
		case operators.Add:
			if a, ok := lhs.(traits.Adder); ok {
				return a.Add(rhs)
			}
		case operators.Subtract:
			if s, ok := lhs.(traits.Subtractor); ok {
				return s.Subtract(rhs)
			}
		case operators.Multiply:
			if m, ok := lhs.(traits.Multiplier); ok {
				return m.Multiply(rhs)
			}
		case operators.Divide:
			if d, ok := lhs.(traits.Divider); ok {
				return d.Divide(rhs)
			}
		}
		return types.MaybeNoSuchOverloadErr(lhs)
	}
}

// promote turns an int or uint operand into a double when the other operand
// is a double, so 250000.0 / 100 is 2500.0.
func promote(lhs, rhs ref.Val) (ref.Val, ref.Val) {
	_, ld := lhs.(types.Double)
	_, rd := rhs.(types.Double)
	switch {
	case ld && !rd:
		if f, ok := integer(rhs); ok {
			return lhs, types.Double(f)
		}
	case rd && !ld:
		if f, ok := integer(lhs); ok {
			return types.Double(f), rhs
		}
	}
	return lhs, rhs
}

// integer returns the value of an int or uint as a float64.
func integer(v ref.Val) (float64, bool) {
	switch n := v.(type) {
	case types.Int:
		return float64(n), true
	case types.Uint:
		return float64(n), true
	}
	return 0, false
}

// numeric returns the value of any CEL number as a float64.
func numeric(v ref.Val) (float64, bool) {
	if d, ok := v.(types.Double); ok {
		return float64(d), true
	}
	return integer(v)
}

// numberFunctions declares min, max, round and floor.
func numberFunctions() []cel.EnvOption {
	pairs := func(fn string) []cel.FunctionOpt {
		I, D, U := cel.IntType, cel.DoubleType, cel.UintType
		return []cel.FunctionOpt{
			cel.Overload(fn+"_int_int", []*cel.Type{I, I}, I),
			cel.Overload(fn+"_uint_uint", []*cel.Type{U, U}, U),
			cel.Overload(fn+"_double_double", []*cel.Type{D, D}, D),
			cel.Overload(fn+"_int_double", []*cel.Type{I, D}, D),
			cel.Overload(fn+"_double_int", []*cel.Type{D, I}, D),
		}
	}
	unary := func(fn string) []cel.FunctionOpt {
		return []cel.FunctionOpt{
			cel.Overload(fn+"_int", []*cel.Type{cel.IntType}, cel.IntType),
			cel.Overload(fn+"_uint", []*cel.Type{cel.UintType}, cel.UintType),
			cel.Overload(fn+"_double", []*cel.Type{cel.DoubleType}, cel.DoubleType),
		}
	}
	return []cel.EnvOption{
		cel.Function("min", append(pairs("min"),
			cel.FunctionDocs("the smaller of two numbers"),
			cel.SingletonBinaryBinding(pick(func(a, b float64) bool { return b < a })))...),
		cel.Function("max", append(pairs("max"),
			cel.FunctionDocs("the larger of two numbers"),
			cel.SingletonBinaryBinding(pick(func(a, b float64) bool { return b > a })))...),
		cel.Function("round", append(unary("round"),
			cel.FunctionDocs("a number rounded to the nearest integer, halves away from zero"),
			cel.SingletonUnaryBinding(rounding(math.Round)))...),
		cel.Function("floor", append(unary("floor"),
			cel.FunctionDocs("the greatest integer not above a number"),
			cel.SingletonUnaryBinding(rounding(math.Floor)))...),
	}
}

// pick implements min and max: it returns b when better(a, b), else a,
// promoting to double when the operands mix ints and doubles.
func pick(better func(a, b float64) bool) func(a, b ref.Val) ref.Val {
	return func(a, b ref.Val) ref.Val {
		x, ok1 := numeric(a)
		y, ok2 := numeric(b)
		if !ok1 || !ok2 {
			bad := a
			if ok1 {
				bad = b
			}
			return types.NewErr("expected numbers, got %s", bad.Type().TypeName())
		}
		a, b = promote(a, b)
		if math.IsNaN(x) || math.IsNaN(y) {
			return types.Double(math.NaN())
		}
		if better(x, y) {
			return b
		}
		return a
	}
}

// rounding implements round and floor: ints pass through, doubles are
// rounded by f.
func rounding(f func(float64) float64) func(ref.Val) ref.Val {
	return func(v ref.Val) ref.Val {
		switch n := v.(type) {
		case types.Int, types.Uint:
			return n
		case types.Double:
			return types.Double(f(float64(n)))
		}
		return types.NewErr("expected a number, got %s", v.Type().TypeName())
	}
}

// want is the result type an expression must have.
type want int

const (
	wantAny want = iota
	wantBool
	wantNumber
	wantString
)

func (w want) String() string { return string(w.phrase()) }

// phrase says in English what w asks for.
func (w want) phrase() Phrase {
	switch w {
	case wantBool:
		return "a bool"
	case wantNumber:
		return "a number"
	case wantString:
		return "a string"
	}
	return "a value"
}

// accepts reports whether an expression of type t can give what w asks for.
// Dyn is accepted: its type is known only at evaluation.
func (w want) accepts(t *cel.Type) bool {
	if t.Kind() == types.DynKind || t.Kind() == types.AnyKind || w == wantAny {
		return true
	}
	switch w {
	case wantBool:
		return t.Kind() == types.BoolKind
	case wantNumber:
		switch t.Kind() {
		case types.IntKind, types.UintKind, types.DoubleKind:
			return true
		}
	case wantString:
		return t.Kind() == types.StringKind
	}
	return false
}

// celIssue is one problem CEL found in an expression, at a 1-based line and
// column inside the expression.
type celIssue struct {
	Line, Column int
	Message      string
	// Type, for a type problem, is Message as a format and arguments.
	Type *Message
}

// compile parses, checks and plans a CEL expression. It returns the
// problems CEL found, or one when the result has the wrong type.
func compile(e *cel.Env, src string, w want) (cel.Program, []celIssue) {
	prg, _, _, issues := compileRefs(e, src, w)
	return prg, issues
}

// exprRefs is what an expression reads of its variables.
type exprRefs struct {
	event   EventFields // the keys of `event`
	partner bool        // `partner`, in any way
	member  bool        // `member`, in any way
}

// compileRefs is compile that also says what of its variables the
// expression reads, and gives its fast evaluation when it has one.
func compileRefs(e *cel.Env, src string, w want) (cel.Program, exprRefs, fastFn, []celIssue) {
	ast, iss := e.Compile(src)
	if iss != nil && iss.Err() != nil {
		var out []celIssue
		for _, err := range iss.Errors() {
			loc := err.Location
			msg := strings.TrimSpace(err.Message)
			if i := strings.Index(msg, " expecting {"); i > 0 {
				msg = msg[:i] // the parser's list of expected tokens helps nobody
			}
			out = append(out, celIssue{Line: loc.Line(), Column: loc.Column() + 1, Message: msg})
		}
		if len(out) == 0 {
			out = append(out, celIssue{Message: iss.Err().Error()})
		}
		return nil, exprRefs{}, nil, out
	}
	if t := ast.OutputType(); !w.accepts(t) {
		m := message("expected an expression giving %s, but it gives %s", w.phrase(), typeName(t))
		return nil, exprRefs{}, nil, []celIssue{{Message: m.String(), Type: &m}}
	}
	prg, err := e.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, exprRefs{}, nil, []celIssue{{Message: err.Error()}}
	}
	root := ast.NativeRep().Expr()
	return prg, refsOf(root), fastOf(root), nil
}

// refsOf returns what an expression reads: the keys of `event` (every
// `event.<key>` selection, or all keys when `event` is used any other way,
// as a whole or indexed with a computed key), and whether it names
// `partner` or `member` anywhere.
func refsOf(root celast.Expr) exprRefs {
	var r exprRefs
	selected := map[int64]bool{} // ids of `event` idents that are the operand of a selection
	celast.PreOrderVisit(root, celast.NewExprVisitor(func(x celast.Expr) {
		switch x.Kind() {
		case celast.SelectKind:
			sel := x.AsSelect()
			if op := sel.Operand(); op.Kind() == celast.IdentKind && op.AsIdent() == "event" {
				selected[op.ID()] = true
				if k, ok := eventFieldNames[sel.FieldName()]; ok {
					r.event |= k
				}
			}
		case celast.IdentKind:
			switch x.AsIdent() {
			case "event":
				if !selected[x.ID()] {
					r.event = AllEventFields
				}
			case "partner":
				r.partner = true
			case "member":
				r.member = true
			}
		}
	}))
	return r
}

// typeName names a CEL type for a message.
func typeName(t *cel.Type) Message {
	switch t.Kind() {
	case types.BoolKind:
		return message("a bool")
	case types.IntKind, types.UintKind, types.DoubleKind:
		return message("a number (%s)", t.String())
	case types.StringKind:
		return message("a string")
	case types.ListKind:
		return message("a list")
	case types.MapKind:
		return message("a map")
	case types.NullTypeKind:
		return message("null")
	}
	return message("%s", t.String())
}
