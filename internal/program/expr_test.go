package program

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

// compileExpr compiles src in the program environment.
func compileExpr(t testing.TB, src string, w want) *Expr {
	t.Helper()
	e, err := fullEnv()
	if err != nil {
		t.Fatal(err)
	}
	prg, issues := compile(e, src, w)
	if issues != nil {
		t.Fatalf("compile %q: %v", src, issues)
	}
	return &Expr{Source: src, prg: prg}
}

func attrs(kv ...any) *Vars {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return &Vars{Event: EventVars(&rung.Event{ID: "e1", Type: "deal.won", Partner: "p1", Attrs: m})}
}

func TestExprMixesIntsAndDoubles(t *testing.T) {
	cases := []struct {
		src  string
		vars *Vars
		want float64
	}{
		{"min(1000, event.attrs.amount / 100)", attrs("amount", 250000.0), 1000},
		{"min(1000, event.attrs.amount / 100)", attrs("amount", 50000.0), 500},
		{"min(1000, event.attrs.amount / 100)", attrs("amount", 12345.0), 123.45},
		{"event.attrs.amount * 2", attrs("amount", 1.5), 3},
		{"2 * event.attrs.amount", attrs("amount", 1.5), 3},
		{"event.attrs.a + 1", attrs("a", 2.5), 3.5},
		{"1 + event.attrs.a", attrs("a", 2.5), 3.5},
		{"event.attrs.a - 1", attrs("a", 2.5), 1.5},
		{"10 - event.attrs.a", attrs("a", 2.5), 7.5},
		{"100 / event.attrs.a", attrs("a", 8.0), 12.5},
		{"event.attrs.a * 1.5", attrs("a", 2), 3},                       // a Go int attribute
		{"event.attrs.a / event.attrs.b", attrs("a", 3, "b", 2.0), 1.5}, // dyn and dyn
		{"7 / 2", nil, 3}, // int division stays CEL's
		{"7.0 / 2", nil, 3.5},
		{"2 * 1.5", nil, 3},
		{"max(1, 2.5)", nil, 2.5},
		{"max(event.attrs.a, 3)", attrs("a", 2.5), 3},
		{"min(3, 4)", nil, 3},
		{"round(2.5)", nil, 3},
		{"round(-2.5)", nil, -3},
		{"round(event.attrs.a)", attrs("a", 2.4), 2},
		{"round(7)", nil, 7},
		{"floor(2.7)", nil, 2},
		{"floor(-2.2)", nil, -3},
		{"floor(event.attrs.a / 3)", attrs("a", 10.0), 3},
	}
	for _, tc := range cases {
		x := compileExpr(t, tc.src, wantNumber)
		got, err := x.Number(tc.vars)
		if err != nil || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s = %v, %v; want %v", tc.src, got, err, tc.want)
		}
	}
}

func TestExprComparesIntsWithDoubles(t *testing.T) {
	cases := []struct {
		src  string
		vars *Vars
		want bool
	}{
		{"event.attrs.score >= 80", attrs("score", 91.0), true},
		{"event.attrs.score >= 80", attrs("score", 79.5), false},
		{"event.attrs.n == 3", attrs("n", 3.0), true},
		{"event.attrs.n != 3", attrs("n", 3.5), true},
		{"event.attrs.qualified == true", attrs("qualified", true), true},
		{"has(event.attrs.score) && event.attrs.score >= 80", attrs(), false},
		{"event.type == 'deal.won' && event.partner == 'p1'", attrs(), true},
		{"event.attrs.cert.lowerAscii() == 'architect'", attrs("cert", "Architect"), true},
	}
	for _, tc := range cases {
		x := compileExpr(t, tc.src, wantBool)
		got, err := x.Bool(tc.vars)
		if err != nil || got != tc.want {
			t.Errorf("%s = %v, %v; want %v", tc.src, got, err, tc.want)
		}
	}
}

func TestExprMissingAttributeIsAnError(t *testing.T) {
	x := compileExpr(t, "event.attrs.score >= 80", wantBool)
	_, err := x.Bool(attrs())
	if err == nil || !strings.Contains(err.Error(), "score") {
		t.Errorf("err = %v, want one naming the missing attribute", err)
	}
}

func TestExprAbsentVariableIsAnError(t *testing.T) {
	x := compileExpr(t, "member.role == 'sales'", wantBool)
	if _, err := x.Bool(attrs()); err == nil {
		t.Error("want an error for an absent member")
	}
	if _, err := x.Bool(nil); err == nil {
		t.Error("want an error for nil Vars")
	}
}

func TestExprResultTypeIsChecked(t *testing.T) {
	if _, err := compileExpr(t, "event.attrs.flag", wantBool).Bool(attrs("flag", "yes")); err == nil {
		t.Error("Bool of a string: want an error")
	}
	if _, err := compileExpr(t, "event.attrs.amount", wantNumber).Number(attrs("amount", "12")); err == nil {
		t.Error("Number of a string: want an error")
	}
	if _, err := compileExpr(t, "event.attrs.amount / 0.0", wantNumber).Number(attrs("amount", 1.0)); err == nil {
		t.Error("Number of +Inf: want an error")
	}
	if _, err := compileExpr(t, "event.attrs.list", wantAny).Key(attrs("list", []any{1.0})); err == nil {
		t.Error("Key of a list: want an error")
	}
}

func TestExprKeyFormatsValues(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("X", 3600))
	cases := []struct {
		vars *Vars
		want string
	}{
		{attrs("k", 3.0), "3"},
		{attrs("k", 2.5), "2.5"},
		{attrs("k", 7), "7"},
		{attrs("k", -0.0), "0"},
		{attrs("k", 1e21), "1000000000000000000000"},
		{attrs("k", "AWS-123"), "AWS-123"},
		{attrs("k", true), "true"},
		{attrs("k", at), "2026-03-01T11:00:00Z"},
	}
	x := compileExpr(t, "event.attrs.k", wantAny)
	for _, tc := range cases {
		got, err := x.Key(tc.vars)
		if err != nil || got != tc.want {
			t.Errorf("Key(%v) = %q, %v; want %q", tc.vars.Event["attrs"], got, err, tc.want)
		}
	}
}

func TestExprConstantNeedsNoCEL(t *testing.T) {
	v := 50.0
	x := &Expr{Source: "50", Const: &v}
	if n, err := x.Number(nil); err != nil || n != 50 {
		t.Errorf("Number = %v, %v", n, err)
	}
	if out, err := x.Eval(nil); err != nil || out.Value() != 50.0 {
		t.Errorf("Eval = %v, %v", out, err)
	}
}

func TestEventVarsExposeTheEvent(t *testing.T) {
	e := &rung.Event{ID: "crm:1:deal.won", Type: "deal.won", Partner: "p1", Member: "m1", Source: "crm",
		OccurredAt: time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)}
	vars := &Vars{Event: EventVars(e)}
	for _, src := range []string{
		"event.id == 'crm:1:deal.won'",
		"event.member == 'm1' && event.source == 'crm'",
		"size(event.attrs) == 0",
		"event.occurred_at > timestamp('2026-11-01T00:00:00Z')",
		"event.occurred_at.getHours() == 9",
		"event.occurred_at.getHours('Europe/Berlin') == 10",
	} {
		if ok, err := compileExpr(t, src, wantBool).Bool(vars); err != nil || !ok {
			t.Errorf("%s = %v, %v", src, ok, err)
		}
	}
}

func TestPartnerAndMemberVarsExposeTheirFields(t *testing.T) {
	p := &rung.Partner{ID: "p1", Name: "Acme", Type: "isv", Region: "emea", Size: "smb", Domains: []string{"acme.com"},
		Attrs: map[string]any{"employees": 40.0}}
	m := &rung.Member{ID: "m1", Partner: "p1", Name: "Ada", Email: "ada@acme.com", Role: "sales"}
	vars := &Vars{Partner: PartnerVars(p, "Select"), Member: MemberVars(m)}
	for _, src := range []string{
		"partner.tier == 'Select' && partner.type == 'isv' && partner.size == 'smb' && partner.region == 'emea'",
		"'acme.com' in partner.domains",
		"partner.attrs.employees < 50",
		"member.role == 'sales' && member.email.endsWith('@acme.com') && member.partner == partner.id",
		"size(member.attrs) == 0",
	} {
		if ok, err := compileExpr(t, src, wantBool).Bool(vars); err != nil || !ok {
			t.Errorf("%s = %v, %v", src, ok, err)
		}
	}
	bare := &Vars{Partner: PartnerVars(&rung.Partner{ID: "p2"}, "")}
	if ok, err := compileExpr(t, "size(partner.domains) == 0 && partner.tier == ''", wantBool).Bool(bare); err != nil || !ok {
		t.Errorf("bare partner: %v, %v", ok, err)
	}
}

func TestCohortExpressionSeesOnlyPartner(t *testing.T) {
	e, err := partnerEnv()
	if err != nil {
		t.Fatal(err)
	}
	if _, issues := compile(e, "partner.size", wantString); issues != nil {
		t.Errorf("partner.size: %v", issues)
	}
	if _, issues := compile(e, "event.type", wantString); issues == nil {
		t.Error("event in a cohort: want an error")
	}
}

func BenchmarkExprScoreAtLeast80(b *testing.B) {
	x := compileExpr(b, "event.attrs.score >= 80", wantBool)
	v := attrs("score", 91.0)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := x.Bool(v); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkExprMinAward(b *testing.B) {
	x := compileExpr(b, "min(1000, event.attrs.amount / 100)", wantNumber)
	v := attrs("amount", 250000.0)
	b.ReportAllocs()
	for b.Loop() {
		if n, err := x.Number(v); err != nil || n != 1000 {
			b.Fatal(n, err)
		}
	}
}

func TestEventFields(t *testing.T) {
	e, err := fullEnv()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src  string
		want EventFields
	}{
		{"event.attrs.amount > 5", EventAttrs},
		{"has(event.attrs.sourced) && event.attrs.sourced", EventAttrs},
		{"event.member", EventMember},
		{"event.type == 'x' ? event.partner : event.source", EventType | EventPartner | EventSource},
		{"event.occurred_at > timestamp('2026-01-01T00:00:00Z')", EventOccurredAt},
		{"event.id", EventID},
		{"partner.size == 'smb'", 0},
		{"size(event) > 3", AllEventFields},
		{"event['type'] == 'x'", AllEventFields},
		{"event.all(k, k != '')", AllEventFields},
	}
	for _, tt := range tests {
		_, refs, _, issues := compileRefs(e, tt.src, wantAny)
		got := refs.event
		if issues != nil {
			t.Fatalf("%s: %v", tt.src, issues)
		}
		if got != tt.want {
			t.Errorf("%s: fields %07b, want %07b", tt.src, got, tt.want)
		}
	}
}

// TestFillEventFields checks that an expression evaluated with only the
// keys it reads gives what it gives with every key.
func TestFillEventFields(t *testing.T) {
	p, err := Parse([]byte(`
name: t
timezone: UTC
activities: {deal.won: {label: Won}}
metrics:
  won: {count: deal.won, where: "event.attrs.amount > 10 && event.member != ''"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.EventFields != EventAttrs|EventMember {
		t.Fatalf("program fields %07b", p.EventFields)
	}
	ev := &rung.Event{ID: "a", Type: "deal.won", Partner: "p", Member: "m", Attrs: map[string]any{"amount": 20.0}}
	some := FillEventFields(map[string]any{}, ev, p.EventFields)
	if len(some) != 2 {
		t.Errorf("filled %v, want attrs and member only", some)
	}
	w := p.Metrics["won"].Where
	a, err1 := w.Bool(&Vars{Event: some})
	b, err2 := w.Bool(&Vars{Event: EventVars(ev)})
	if a != b || !a || err1 != nil || err2 != nil {
		t.Errorf("with the program's fields %v %v, with all %v %v", a, err1, b, err2)
	}
}

// A program notes whether its event expressions read `partner` or
// `member`; cohorts, which read only `partner`, do not count.
func TestProgramReadsPartnerAndMember(t *testing.T) {
	tests := []struct {
		name          string
		rule          string
		partner, memb bool
	}{
		{"event only", "event.attrs.score >= 80", false, false},
		{"partner field", "partner.size == 'smb'", true, false},
		{"partner tier", "partner.tier == 'Select' && event.attrs.score > 1", true, false},
		{"member role", "member.role == 'sales'", false, true},
		{"both, as a whole", "size(partner) > 0 && size(member) > 0", true, true},
		{"has on member", "has(member.attrs.x)", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(`
name: t
timezone: UTC
activities: {deal.won: {label: Won}}
cohorts:
  size: partner.size
points:
  rules:
    - {id: r, on: deal.won, when: "` + tt.rule + `", award: 1}
`))
			if err != nil {
				t.Fatal(err)
			}
			if p.ReadsPartner != tt.partner || p.ReadsMember != tt.memb {
				t.Errorf("reads partner %v, member %v; want %v, %v", p.ReadsPartner, p.ReadsMember, tt.partner, tt.memb)
			}
		})
	}
}

// Every place an event expression can be written counts.
func TestProgramReadsEverywhere(t *testing.T) {
	for _, body := range []string{
		"metrics: {m: {count: deal.won, where: \"member.role == 'x'\"}}",
		"metrics: {m: {sum: deal.won, value: \"size(member.attrs) + 1.0\"}}",
		"points: {rules: [{id: r, on: deal.won, award: \"size(member.attrs) + 1\"}]}",
		"points: {rules: [{id: r, on: deal.won, award: 1, once_per: member.id}]}",
		"badges: [{id: b, name: B, on: deal.won, when: \"member.role == 'x'\", evidence: event.id}]",
		"badges: [{id: b, name: B, on: deal.won, evidence: member.id}]",
		"badges: [{id: b, name: B, for: member, steps: [{type: deal.won, where: \"member.role == 'x'\"}]}]",
	} {
		p, err := Parse([]byte("name: t\ntimezone: UTC\nactivities: {deal.won: {label: Won}}\n" + body + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if !p.ReadsMember || p.ReadsPartner {
			t.Errorf("%s: reads member %v, partner %v; want true, false", body, p.ReadsMember, p.ReadsPartner)
		}
	}
}
