package program

import (
	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types/ref"
)

// Expr is a compiled CEL expression, or a numeric constant.
type Expr struct {
	Source string
	Line   int
	// Const is set when the expression is a plain number (award: 50); Eval
	// is then not needed.
	Const *float64
	prg   cel.Program
}

// Vars are the variables an expression sees: `event`, `partner`, `member`.
// Each is a map as built by EventVars, PartnerVars and MemberVars; a nil map
// is an absent variable. Vars implements the CEL activation.
type Vars struct {
	Event   map[string]any
	Partner map[string]any
	Member  map[string]any
}

// Eval evaluates the expression.
func (e *Expr) Eval(v *Vars) (ref.Val, error) { panic("TODO") }

// Bool evaluates an expression that must give a bool.
func (e *Expr) Bool(v *Vars) (bool, error) { panic("TODO") }

// Number evaluates an expression that must give a number (int, uint or double).
func (e *Expr) Number(v *Vars) (float64, error) { panic("TODO") }

// Key evaluates an expression and formats its value as a string key
// (numbers in their shortest form, 3.0 as "3").
func (e *Expr) Key(v *Vars) (string, error) { panic("TODO") }
