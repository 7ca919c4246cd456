package registration

import (
	"context"
	"encoding/csv"
	"io"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// MeetingWindow is the window of the registration-to-meeting rate.
const MeetingWindow = 14 * 24 * time.Hour

// Metrics are the seven registration measures of a group of registrations
// (seed 003): the registration-to-meeting rate within 14 days; the
// approval rate; conflicts settled against disputes still open; win rate
// and volume on approved registrations; time to first response and to
// approval; active protection windows by region and product; and
// attribution per won deal (Attribution).
type Metrics struct {
	Registrations int `json:"registrations"`

	MeetingsWithin14d int      `json:"meetings_within_14d"`
	MeetingRate       *float64 `json:"meeting_rate"` // of registrations submitted

	Approved     int      `json:"approved"`
	Declined     int      `json:"declined"`
	ApprovalRate *float64 `json:"approval_rate"` // approved / (approved + declined)

	ConflictsSettled    int `json:"conflicts_settled"` // by policy or an admin: disputes avoided
	ConflictsByPolicy   int `json:"conflicts_settled_by_policy"`
	ConflictsUnresolved int `json:"conflicts_unresolved"`

	Won       int      `json:"won"`
	Lost      int      `json:"lost"`
	WinRate   *float64 `json:"win_rate"` // won / (won + lost)
	WonVolume float64  `json:"won_volume"`

	FirstResponseHours *float64 `json:"first_response_hours_median"`
	ApprovalHours      *float64 `json:"approval_hours_median"`
	OverdueReviews     int      `json:"overdue_reviews"`

	ActiveProtection          int            `json:"active_protection"`
	ActiveProtectionByRegion  map[string]int `json:"active_protection_by_region"`
	ActiveProtectionByProduct map[string]int `json:"active_protection_by_product"`
}

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	f := float64(n) / float64(d)
	return &f
}

func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	sort.Float64s(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	m = float64(int64(m*10+0.5)) / 10
	return &m
}

// Measure computes the metrics of registrations at now. A conflict pair is
// counted once, by the registration that came second.
func Measure(rs []store.Registration, now time.Time) Metrics {
	m := Metrics{ActiveProtectionByRegion: map[string]int{}, ActiveProtectionByProduct: map[string]int{}}
	var response, approval []float64
	for _, r := range rs {
		m.Registrations++
		if !r.MeetingAt.IsZero() && r.MeetingAt.Sub(r.SubmittedAt) <= MeetingWindow {
			m.MeetingsWithin14d++
		}
		if !r.ApprovedAt.IsZero() {
			m.Approved++
			approval = append(approval, r.ApprovedAt.Sub(r.SubmittedAt).Hours())
		} else if r.Status == store.RegDeclined {
			m.Declined++
		}
		if !r.RespondedAt.IsZero() {
			response = append(response, r.RespondedAt.Sub(r.SubmittedAt).Hours())
		}
		if r.Status == store.RegSubmitted && now.After(r.ReviewDue) {
			m.OverdueReviews++
		}
		for _, c := range r.Conflicts {
			if c.Second != r.ID {
				continue
			}
			switch {
			case c.Winner == "":
				m.ConflictsUnresolved++
			case c.DecidedBy == "policy":
				m.ConflictsSettled++
				m.ConflictsByPolicy++
			default:
				m.ConflictsSettled++
			}
		}
		if !r.ApprovedAt.IsZero() {
			switch r.Status {
			case store.RegWon:
				m.Won++
				m.WonVolume += r.Amount
			case store.RegLost:
				m.Lost++
			}
		}
		if (r.Status == store.RegApproved || r.Status == store.RegMeeting) && now.Before(r.ProtectedUntil) {
			m.ActiveProtection++
			m.ActiveProtectionByRegion[orNone(r.Region)]++
			m.ActiveProtectionByProduct[orNone(r.Product)]++
		}
	}
	m.MeetingRate = ratio(m.MeetingsWithin14d, m.Registrations)
	m.ApprovalRate = ratio(m.Approved, m.Approved+m.Declined)
	m.WinRate = ratio(m.Won, m.Won+m.Lost)
	m.FirstResponseHours, m.ApprovalHours = median(response), median(approval)
	return m
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Attribution is the commission record of one won registration: the
// partner that sourced the deal and the partners whose registrations of
// the same company lost to it (influenced).
type Attribution struct {
	Registration string    `json:"registration"`
	Company      string    `json:"company"`
	Domain       string    `json:"domain"`
	Sourced      string    `json:"sourced_partner"`
	Member       string    `json:"member,omitempty"`
	Influenced   []string  `json:"influenced_partners"`
	Amount       float64   `json:"amount"`
	WonAt        time.Time `json:"won_at"`
	Kind         string    `json:"kind"`
}

// Attributions lists the won registrations among rs, oldest win first;
// all maps every registration id to its registration, for the partners
// of the other side of conflicts.
func Attributions(rs []store.Registration, all map[string]store.Registration) []Attribution {
	var out []Attribution
	for _, r := range rs {
		if r.Status != store.RegWon {
			continue
		}
		a := Attribution{Registration: r.ID, Company: r.CompanyName, Domain: r.RegistrableDomain, Sourced: r.Partner,
			Member: r.Member, Amount: r.Amount, WonAt: r.ClosedAt, Kind: r.Kind, Influenced: []string{}}
		seen := map[string]bool{r.Partner: true}
		for _, c := range r.Conflicts {
			if o, ok := all[c.Other(r.ID)]; ok && !seen[o.Partner] {
				seen[o.Partner] = true
				a.Influenced = append(a.Influenced, o.Partner)
			}
		}
		sort.Strings(a.Influenced)
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].WonAt.Before(out[j].WonAt) })
	return out
}

// WriteAttributionCSV writes attributions as CSV for commission runs.
func WriteAttributionCSV(w io.Writer, as []Attribution) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"registration", "won_at", "kind", "company", "domain", "sourced_partner", "member", "influenced_partners", "amount"})
	for _, a := range as {
		inf := ""
		for i, p := range a.Influenced {
			if i > 0 {
				inf += ";"
			}
			inf += p
		}
		cw.Write([]string{a.Registration, a.WonAt.UTC().Format(time.RFC3339), a.Kind, csvSafe(a.Company), a.Domain, csvSafe(a.Sourced),
			csvSafe(a.Member), csvSafe(inf), strconv.FormatFloat(a.Amount, 'f', -1, 64)})
	}
	cw.Flush()
	return cw.Error()
}

// Segments are the ways registration metrics group partners besides one
// by one: a partner field.
var Segments = []string{"type", "region", "size"}

// MeasureBy computes the metrics of rs at now grouped by partner (segment
// "") or by a partner field (type, region or size; "(none)" when the
// partner has none). partner looks a partner up by id.
func MeasureBy(rs []store.Registration, now time.Time, segment string, partner func(id string) rung.Partner) (map[string]Metrics, error) {
	if segment != "" && !slices.Contains(Segments, segment) {
		return nil, rung.Errorf(rung.EINVALID, "segment=%q: use type, region or size", segment)
	}
	groups := map[string][]store.Registration{}
	for _, r := range rs {
		key := r.Partner
		if segment != "" {
			p := partner(r.Partner)
			key = orNone(map[string]string{"type": p.Type, "region": p.Region, "size": p.Size}[segment])
		}
		groups[key] = append(groups[key], r)
	}
	by := make(map[string]Metrics, len(groups))
	for k, g := range groups {
		by[k] = Measure(g, now)
	}
	return by, nil
}

// Submitted returns the registrations submitted in [from, to) — zero
// times leave that end open — of one partner, or of all when partner is
// "", oldest first.
func (d *Desk) Submitted(ctx context.Context, partner string, from, to time.Time) ([]store.Registration, error) {
	rs, err := d.st.ListRegistrations(ctx, store.RegistrationFilter{Partner: partner, Since: from})
	if err != nil || to.IsZero() {
		return rs, err
	}
	out := rs[:0]
	for _, r := range rs {
		if r.SubmittedAt.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Attributions lists the won registrations among rs with the partners
// they influenced, reading the other sides of their conflicts.
func (d *Desk) Attributions(ctx context.Context, rs []store.Registration) ([]Attribution, error) {
	all, err := d.st.ListRegistrations(ctx, store.RegistrationFilter{})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.Registration, len(all))
	for _, r := range all {
		byID[r.ID] = r
	}
	return Attributions(rs, byID), nil
}
