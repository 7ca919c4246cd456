// Package program parses, validates and compiles the program file: the YAML
// a channel manager writes to define points, metrics, levels, badges, tiers,
// challenges, leaderboards, rewards and registration rules. Parse returns a
// *Program whose expressions are compiled CEL, ready for the engine; every
// problem is reported with its line, key and what was expected.
package program

import (
	"time"
)

// Subject is who a rule, metric or board is about.
type Subject string

// The subjects.
const (
	SubjectMember  Subject = "member"
	SubjectPartner Subject = "partner"
)

// Program is a parsed, validated and compiled program file.
type Program struct {
	Name            string
	Description     string // optional
	Timezone        string
	FiscalYearStart int // month 1..12
	Calendar        *Calendar
	// Currency is the ISO 4217 code (like EUR) of the metrics whose unit is
	// currency; empty when the file names none.
	Currency string
	// PointValue is what one point is worth in Currency, for the
	// liability report (`point_value`); 0 when the file gives none.
	PointValue float64

	Activities map[string]Activity
	// Cohorts in file order. Each expression is CEL over `partner` giving a
	// string (the cohort value).
	Cohorts []Cohort
	// Metrics by name, with MetricOrder keeping file order.
	Metrics     map[string]*Metric
	MetricOrder []string

	Points       Points
	Levels       []Level // ascending by At; the first is at 0
	Badges       []*Badge
	Tiers        *Tiers // nil when the file has no tiers section
	Challenges   []*Challenge
	Leaderboards []*Leaderboard
	Rewards      []*Reward
	Registration *Registration // nil when absent

	// Sources map CRM, LMS and CSV changes to events (sources.go).
	Sources []*SourceMapping

	// Source is the YAML as given.
	Source []byte
	// EventFields are the keys of the `event` variable that some
	// expression of the program reads; evaluators fill only those.
	EventFields EventFields
	// ReadsPartner and ReadsMember say whether some expression evaluated
	// against an event (rules, metrics, badges, steps) reads the
	// `partner` or the `member` variable; evaluators build them only
	// then.
	ReadsPartner, ReadsMember bool
}

// Activity labels an event type; a vanity type is shown in feeds but never
// scored or ranked.
type Activity struct {
	Label  string
	Vanity bool
}

// Cohort is a named way to group partners.
type Cohort struct {
	Name string
	Expr *Expr // over `partner`, yields a string
	Line int
}

// MetricKind is how a metric aggregates events.
type MetricKind int

// The metric kinds. MetricPoints is the built-in `points` metric: points
// awarded in the window.
const (
	MetricCount MetricKind = iota + 1
	MetricSum
	MetricAvg
	MetricDistinct
	MetricRatio
	MetricPoints
)

// Metric is a KPI: an aggregate over the event log for a subject and window.
type Metric struct {
	Name  string
	Kind  MetricKind
	Types []string // event types counted (count, sum, avg, distinct)
	Where *Expr    // optional filter, bool
	Value *Expr    // sum, avg: a number; distinct: any value, compared as a string
	// Ratio: Num / Den, both names of other (non-ratio) metrics; undefined
	// while Den < MinSample.
	Num, Den  string
	MinSample float64
	Label     string // optional, for display
	// Unit says how values read: a plain number, money in the program's
	// currency, or a share shown as a percentage (0.45 is 45 %).
	Unit Unit
	Line int
}

// Unit is what a metric's values measure, for display.
type Unit string

// The units. UnitNumber is the default.
const (
	UnitNumber   Unit = "number"
	UnitCurrency Unit = "currency"
	UnitPercent  Unit = "percent"
)

// PointsMetric is the built-in metric named "points".
var PointsMetric = &Metric{Name: "points", Kind: MetricPoints, Unit: UnitNumber}

// ExpiryKind is when awarded points expire.
type ExpiryKind int

// The expiry kinds.
const (
	ExpireNever ExpiryKind = iota
	ExpireQuarter
	ExpireYear
	ExpireDays
)

// Expiry says when points awarded at a time expire.
type Expiry struct {
	Kind ExpiryKind
	Days int // for ExpireDays
}

// Points is the points section.
type Points struct {
	Expire Expiry
	Rules  []*Rule
}

// Rule awards points for events.
type Rule struct {
	ID    string
	Label string   // optional, for display
	On    []string // event types
	When  *Expr    // optional, bool
	// Award is the number of points: a constant (Award.Const) or CEL giving a
	// number. Rounded half away from zero; negative results award nothing.
	Award *Expr
	// To is who receives the points. "" means the member when the event
	// has one, else the partner.
	To         Subject
	Limit      *Limit
	OncePer    *Expr              // optional key; awards once per subject and key
	Multiplier map[string]float64 // by the partner's tier when the event occurred
	Line       int
}

// Period is a calendar period in the program's time zone.
type Period string

// The periods a limit can use.
const (
	PerDay     Period = "day"
	PerWeek    Period = "week"
	PerMonth   Period = "month"
	PerQuarter Period = "quarter"
	PerYear    Period = "year"
)

// Limit caps the points one subject can get from a rule in a period.
type Limit struct {
	Max int64
	Per Period
}

// Level is a member level reached at a number of lifetime points.
type Level struct {
	Name string
	At   int64
}

// Badge is an achievement. Exactly one of three kinds:
//   - event badge: On (+ optional When), Evidence required;
//   - metric badge: Metric with Levels (Bronze: 5, ...), ascending;
//   - step badge: Steps completed Within a duration From joined_at or the
//     first step.
type Badge struct {
	ID          string
	Name        string // defaults to ID
	Description string
	For         Subject // "" means member for event badges with a member, else partner
	On          []string
	When        *Expr
	Evidence    *Expr
	Metric      string
	Levels      []BadgeLevel
	Steps       []Step
	Within      time.Duration
	From        string // "joined_at" | "first_step"
	Ordered     bool
	Role        string // optional: only members with this role
	Points      int64  // optional bonus points
	Line        int
}

// BadgeLevel is one level of a metric badge.
type BadgeLevel struct {
	Name string
	At   float64
}

// Step is one step of a step badge or quest: an event type, an optional
// filter and how many such events are needed (default 1).
type Step struct {
	Type  string
	Where *Expr
	Count int
}

// Tiers is the partner tier section.
type Tiers struct {
	Levels       []string // lowest first
	Window       Window
	DecisionDays int
	Grace        int
	AutoUpgrade  bool
	NudgeAt      float64
	Criteria     map[string][]Criterion            // by tier name
	ByType       map[string]map[string][]Criterion // partner type → tier → criteria
	Benefits     map[string][]string
	AppealDays   int // SLA for answering appeals; default 10
	Line         int
}

// Criterion is one checklist item for a tier: a metric at least (or at
// most) a target.
type Criterion struct {
	ID      string
	Metric  string
	Label   string
	AtLeast *float64
	AtMost  *float64
	Line    int
}

// Challenge is a time-boxed competition, or a quest when it has Steps.
type Challenge struct {
	ID            string
	Name          string // defaults to ID
	Description   string
	Starts        time.Time // local midnight of the start date
	Ends          time.Time // local midnight after the (inclusive) end date
	For           Subject
	Metric        string
	Goal          *float64
	Cohort        string
	Winners       int
	Reward        ChallengeReward
	FinalizeAfter time.Duration // default 24h
	Steps         []Step
	Within        time.Duration
	From          string
	Ordered       bool
	Role          string
	Line          int
}

// ChallengeReward is what a challenge's winners get.
type ChallengeReward struct {
	Points int64
	Badge  string
}

// WindowKind is the shape of a time window.
type WindowKind int

// The window kinds.
const (
	WindowAll WindowKind = iota + 1
	WindowQuarter
	WindowYear
	WindowMonth
	WindowWeek
	WindowQuarters  // the quarter containing the time and the N-1 before it (4q)
	WindowDays      // the N local days ending with the day containing the time
	WindowChallenge // the window of the leaderboard's challenge
)

// Window is a time window of a metric, leaderboard or tier review.
type Window struct {
	Kind WindowKind
	N    int
}

// Leaderboard ranks subjects by a metric over a window.
type Leaderboard struct {
	ID          string
	Name        string // defaults to ID
	Description string
	Metric      string // a metric name or "points"
	For         Subject
	Window      Window
	Cohort      string // optional cohort name
	Challenge   string // for WindowChallenge
	Line        int
}

// Reward is an item of the rewards catalog.
type Reward struct {
	ID          string
	Name        string // defaults to ID
	Description string
	Cost        int64
	Tiers       []string
	Stock       *int
	PerMember   int     // 0 = unlimited
	For         Subject // whose points it spends: member (default) or partner
	Line        int
}

// Registration holds the lead and deal registration settings.
type Registration struct {
	ReviewWithin    time.Duration
	Hold            time.Duration
	MeetingWithin   time.Duration
	ExtendOnMeeting time.Duration
	Conflict        string // first_meeting | first_submitted | manual
	Line            int
}
