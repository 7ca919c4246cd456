package program

import (
	"errors"
	"math"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

// fastSources are expressions of every shape the fast evaluation knows.
var fastSources = []string{
	`event.attrs.a >= 80`,
	`event.attrs.a < event.attrs.b`,
	`event.attrs.a <= 9223372036854775807`,
	`event.attrs.a > -9223372036854775808`,
	`event.attrs.a == true`,
	`event.attrs.a == 1`,
	`event.attrs.a == 1.0`,
	`event.attrs.a != "a"`,
	`event.attrs.a == event.attrs.b`,
	`event.attrs.a != event.attrs.b`,
	`event.attrs.s < "b"`,
	`event.attrs.a > 4.5 ? 200 : 5`,
	`event.attrs.c ? event.attrs.a : event.attrs.b`,
	`min(1000, event.attrs.a / 100)`,
	`max(event.attrs.a, event.attrs.b)`,
	`min(event.attrs.a, 2.5)`,
	`event.attrs.a + event.attrs.b`,
	`event.attrs.a - event.attrs.b`,
	`event.attrs.a * event.attrs.b`,
	`event.attrs.a / event.attrs.b`,
	`event.attrs.a * 2 + 1`,
	`event.attrs.s == "a" && event.attrs.a >= 80`,
	`event.attrs.s == "a" || event.attrs.a >= 80`,
	`event.attrs.c && event.attrs.s == "a"`,
	`event.attrs.a >= 80 || !event.attrs.c`,
	`event.attrs.a * 2 > 0 && event.attrs.c`,
	`event.attrs.a >= 80 && event.attrs.c`,
	`event.attrs.c || event.attrs.a`,
	`!(event.attrs.c == true)`,
	`!event.attrs.c`,
	`round(event.attrs.a)`,
	`floor(event.attrs.a / 3)`,
	`event.attrs.a`,
	`event.attrs.s`,
	`event.member`,
	`event.type == "t" && event.partner != event.id`,
	`event.source`,
	`event.attrs.n.x > 1`,
	`partner.size == "smb"`,
	`member.role == event.attrs.s`,
}

// fastValue draws an attribute value, with the edges of CEL's numbers.
func fastValue() *rapid.Generator[any] {
	return rapid.OneOf(
		rapid.Just[any](nil),
		rapid.SampledFrom([]any{0.0, math.Copysign(0, -1), 1.0, 1.5, 2.5, 3.0, 79.999, 80.0, 4.5, 100.0, 250000.0,
			1e300, -1e300, 9.3e18, -9.3e18, 9223372036854775807.0, 1 << 53, 1<<53 + 2, math.NaN(), math.Inf(1), math.Inf(-1)}),
		rapid.Map(rapid.Float64(), func(f float64) any { return f }),
		rapid.SampledFrom([]any{int64(0), int64(1), int64(-1), int64(2), int64(80), int64(math.MaxInt64), int64(math.MinInt64),
			int64(1<<53 + 1), int64(-3), 7}),
		rapid.SampledFrom([]any{"", "a", "b", "architect", "80", "smb"}),
		rapid.SampledFrom([]any{true, false}),
		rapid.Just[any](map[string]any{"x": 2.0}),
		rapid.Just[any]([]any{1.0}),
	)
}

// The fast evaluation gives what CEL gives, value or error, for every
// value of every attribute it reads.
func TestFastExprAgreesWithCEL(t *testing.T) {
	env, err := fullEnv()
	if err != nil {
		t.Fatal(err)
	}
	type pair struct{ fast, slow *Expr }
	exprs := make([]pair, len(fastSources))
	for i, src := range fastSources {
		prg, _, fast, issues := compileRefs(env, src, wantAny)
		if issues != nil {
			t.Fatalf("compile %q: %v", src, issues)
		}
		if fast == nil {
			t.Fatalf("%q has no fast evaluation", src)
		}
		exprs[i] = pair{&Expr{Source: src, prg: prg, fast: fast, missing: new(missingErrs)}, &Expr{Source: src, prg: prg}}
	}
	rapid.Check(t, func(t *rapid.T) {
		attrs := map[string]any{}
		for _, k := range []string{"a", "b", "c", "s", "n"} {
			if rapid.IntRange(0, 5).Draw(t, "has "+k) > 0 {
				attrs[k] = fastValue().Draw(t, k)
			}
		}
		if len(attrs) == 0 && rapid.Bool().Draw(t, "nil attrs") {
			attrs = nil
		}
		ev := &rung.Event{ID: "e1", Type: "t", Partner: "p1", Source: rapid.SampledFrom([]string{"", "crm"}).Draw(t, "source"),
			Member: rapid.SampledFrom([]string{"", "m1"}).Draw(t, "member"), Attrs: attrs}
		v := &Vars{Event: EventVars(ev)}
		if rapid.Bool().Draw(t, "partner") {
			v.Partner = map[string]any{"size": fastValue().Draw(t, "size")}
		}
		if rapid.Bool().Draw(t, "member vars") {
			v.Member = map[string]any{"role": fastValue().Draw(t, "role")}
		}
		// The engine's Vars also carry the event itself, which the fast
		// evaluation reads instead of the map: the same answers.
		vb := *v
		vb.Body = ev
		for _, x := range exprs {
			b1, e1 := x.fast.Bool(&vb)
			b2, e2 := x.fast.Bool(v)
			if b1 != b2 || errText(e1) != errText(e2) {
				t.Fatalf("%s with %v: Bool gives %v, %v from the event, %v, %v from the map", x.fast.Source, attrs, b1, e1, b2, e2)
			}
			n1, e1 := x.fast.Number(&vb)
			n2, e2 := x.fast.Number(v)
			if math.Float64bits(n1) != math.Float64bits(n2) || errText(e1) != errText(e2) {
				t.Fatalf("%s with %v: Number gives %v, %v from the event, %v, %v from the map", x.fast.Source, attrs, n1, e1, n2, e2)
			}
			k1, e1 := x.fast.Key(&vb)
			k2, e2 := x.fast.Key(v)
			if k1 != k2 || errText(e1) != errText(e2) {
				t.Fatalf("%s with %v: Key gives %q, %v from the event, %q, %v from the map", x.fast.Source, attrs, k1, e1, k2, e2)
			}
		}
		for _, x := range exprs {
			b1, e1 := x.fast.Bool(v)
			b2, e2 := x.slow.Bool(v)
			if b1 != b2 || errText(e1) != errText(e2) {
				t.Fatalf("%s with %v: Bool gives %v, %v; CEL %v, %v", x.fast.Source, attrs, b1, e1, b2, e2)
			}
			n1, e1 := x.fast.Number(v)
			n2, e2 := x.slow.Number(v)
			if math.Float64bits(n1) != math.Float64bits(n2) || errText(e1) != errText(e2) {
				t.Fatalf("%s with %v: Number gives %v, %v; CEL %v, %v", x.fast.Source, attrs, n1, e1, n2, e2)
			}
			k1, e1 := x.fast.Key(v)
			k2, e2 := x.slow.Key(v)
			if k1 != k2 || errText(e1) != errText(e2) {
				t.Fatalf("%s with %v: Key gives %q, %v; CEL %q, %v", x.fast.Source, attrs, k1, e1, k2, e2)
			}
		}
	})
}

// An expression gives one *MissingKeyError an attribute, whoever asks and
// however often, worded as CEL words it.
func TestMissingKeyErrorIsMadeOncePerAttribute(t *testing.T) {
	p, err := Parse([]byte(`name: p
activities:
  t: {}
points:
  rules:
    - id: r
      on: t
      when: event.attrs.a > 1 && event.attrs.b > 2
      award: 1
`))
	if err != nil {
		t.Fatal(err)
	}
	when := p.Points.Rules[0].When
	eval := func(attrs map[string]any) error {
		ev := &rung.Event{ID: "e", Type: "t", Partner: "p1", Attrs: attrs}
		_, err := when.Bool(&Vars{Event: EventVars(ev), Body: ev})
		return err
	}
	const goroutines = 8
	errs := make([][2]error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			errs[g] = [2]error{eval(nil), eval(map[string]any{"a": 5.0})}
		})
	}
	wg.Wait()
	for i, attr := range []string{"a", "b"} {
		var me *MissingKeyError
		if !errors.As(errs[0][i], &me) {
			t.Fatalf("missing %s: %T %v, want a *MissingKeyError", attr, errs[0][i], errs[0][i])
		}
		if want := when.Source + ": no such key: " + attr; me.Error() != want {
			t.Errorf("missing %s: %q, want %q", attr, me.Error(), want)
		}
		for g := range goroutines {
			if errs[g][i] != errs[0][i] {
				t.Errorf("missing %s: goroutine %d got another error value (%p, %p)", attr, g, errs[g][i], errs[0][i])
			}
		}
	}
	if errs[0][0] == errs[0][1] {
		t.Error("the errors for two attributes are one value")
	}
	// The slow path (CEL) words it the same.
	slow := &Expr{Source: when.Source, prg: when.prg}
	ev := &rung.Event{ID: "e", Type: "t", Partner: "p1"}
	if _, err := slow.Bool(&Vars{Event: EventVars(ev)}); errText(err) != errText(errs[0][0]) {
		t.Errorf("CEL says %v, the fast evaluation %v", err, errs[0][0])
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Shapes the fast evaluation does not know are left to CEL whole.
func TestFastExprLeavesOtherShapesToCEL(t *testing.T) {
	env, err := fullEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{
		`has(event.attrs.a)`,
		`size(event.attrs.s) > 2`,
		`event.attrs.s.startsWith("a")`,
		`event.attrs["a"] > 1`,
		`string(event.attrs.a)`,
		`event.attrs.a % 2 == 0`,
		`event.attrs.a in [1, 2]`,
		`event.occurred_at > timestamp("2026-01-01T00:00:00Z")`,
		`-event.attrs.a`,
	} {
		_, _, fast, issues := compileRefs(env, src, wantAny)
		if issues != nil {
			t.Fatalf("compile %q: %v", src, issues)
		}
		if fast != nil {
			t.Errorf("%q has a fast evaluation", src)
		}
	}
}

func BenchmarkExprFastScoreAtLeast80(b *testing.B) {
	x := compileFast(b, "event.attrs.score >= 80")
	v := attrs("score", 85.0)
	for b.Loop() {
		if ok, err := x.Bool(v); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkExprFastScoreAtLeast80Body is the same read from the event
// itself, as the engine's Vars carry it.
func BenchmarkExprFastScoreAtLeast80Body(b *testing.B) {
	x := compileFast(b, "event.attrs.score >= 80")
	ev := &rung.Event{ID: "e1", Type: "deal.won", Partner: "p1", Attrs: map[string]any{"score": 85.0}}
	v := &Vars{Event: EventVars(ev), Body: ev}
	for b.Loop() {
		if ok, err := x.Bool(v); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkExprMissingAttribute is a quest step's where on an event
// without the attribute it reads: CEL's error, as the engine notes it.
func BenchmarkExprMissingAttribute(b *testing.B) {
	for _, fast := range []bool{false, true} {
		b.Run(map[bool]string{false: "cel", true: "fast"}[fast], func(b *testing.B) {
			x := compileFast(b, `event.attrs.course == "cloud-fundamentals" && event.attrs.score >= 80`)
			if !fast {
				x.fast = nil
			}
			ev := &rung.Event{ID: "e1", Type: "training.completed", Partner: "p1", Attrs: map[string]any{"score": 85.0}}
			v := &Vars{Event: EventVars(ev), Body: ev}
			for b.Loop() {
				if _, err := x.Bool(v); err == nil {
					b.Fatal("no error")
				}
			}
		})
	}
}

func compileFast(t testing.TB, src string) *Expr {
	t.Helper()
	env, err := fullEnv()
	if err != nil {
		t.Fatal(err)
	}
	prg, _, fast, issues := compileRefs(env, src, wantAny)
	if issues != nil {
		t.Fatal(issues)
	}
	return &Expr{Source: src, prg: prg, fast: fast}
}
