package registration

import (
	"context"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// allowed are the edges of the state machine.
var allowed = map[string][]string{
	"":                 {store.RegSubmitted},
	store.RegSubmitted: {store.RegApproved, store.RegNeedsInfo, store.RegDeclined},
	store.RegNeedsInfo: {store.RegSubmitted, store.RegDeclined},
	store.RegApproved:  {store.RegMeeting, store.RegWon, store.RegLost, store.RegExpired, store.RegDeclined},
	store.RegMeeting:   {store.RegWon, store.RegLost, store.RegExpired, store.RegDeclined}, // an admin settling a conflict
	store.RegDeclined:  {},
	store.RegWon:       {},
	store.RegLost:      {},
	store.RegExpired:   {},
}

// TestRandomOperationsKeepTheInvariants runs random sequences of
// submissions, decisions, meetings, outcomes, conflict decisions, sweeps
// and passing time under each policy, and checks after each: every
// history follows the state machine's edges in time order; a partner
// holds at most one active registration of a company; every conflict pair
// has two partners and one company; a closed registration holds no
// protection; every transition's event is in the log.
func TestRandomOperationsKeepTheInvariants(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		policy := rapid.SampledFrom([]string{PolicyFirstSubmitted, PolicyFirstMeeting, PolicyManual}).Draw(rt, "policy")
		f := newFixture(t, policy)
		ctx := context.Background()
		companies := []string{"initech.com", "globex.com", "hooli.xyz"}
		var ids []string
		steps := rapid.IntRange(1, 25).Draw(rt, "steps")
		for range steps {
			pick := func() string {
				if len(ids) == 0 {
					return "R-NONE0000"
				}
				return rapid.SampledFrom(ids).Draw(rt, "id")
			}
			var err error
			switch op := rapid.IntRange(0, 8).Draw(rt, "op"); op {
			case 0, 1:
				p := rapid.SampledFrom([]string{"p1", "p2"}).Draw(rt, "partner")
				c := rapid.SampledFrom(companies).Draw(rt, "company")
				var r store.Registration
				r, _, err = f.desk.Submit(ctx, input(p, "Company "+c, c))
				if err == nil {
					ids = append(ids, r.ID)
				}
			case 2:
				d := rapid.SampledFrom([]string{DecisionApprove, DecisionDecline, DecisionNeedsInfo}).Draw(rt, "decision")
				_, err = f.desk.Decide(ctx, pick(), d, "because", "admin")
			case 3:
				_, err = f.desk.Answer(ctx, pick(), "more", "partner")
			case 4:
				_, err = f.desk.Meeting(ctx, pick(), time.Time{}, "partner")
			case 5:
				_, err = f.desk.Close(ctx, pick(), rapid.Bool().Draw(rt, "won"), 1000, "", "crm")
			case 6:
				id := pick()
				r, gerr := f.desk.Get(ctx, id)
				if gerr == nil && len(r.Conflicts) > 0 {
					_, err = f.desk.SettleConflict(ctx, id, r.Conflicts[0].Other(id), "admin says", "admin")
				}
			case 7:
				f.clock.add(time.Duration(rapid.IntRange(1, 40).Draw(rt, "days")) * 24 * time.Hour)
			case 8:
				_, err = f.desk.Sweep(ctx, f.clock.now())
			}
			if err != nil {
				switch rung.ErrorCode(err) {
				case rung.EINVALID, rung.ECONFLICT, rung.ENOTFOUND:
				default:
					rt.Fatalf("unexpected error: %v", err)
				}
			}
			checkInvariants(rt, f)
		}
	})
}

func checkInvariants(rt *rapid.T, f *fixture) {
	rs, err := f.desk.List(context.Background(), store.RegistrationFilter{})
	if err != nil {
		rt.Fatal(err)
	}
	byID := map[string]store.Registration{}
	holds := map[string]string{}
	for _, r := range rs {
		byID[r.ID] = r
		prev, at := "", time.Time{}
		for _, tr := range r.History {
			ok := false
			for _, to := range allowed[prev] {
				ok = ok || to == tr.To
			}
			if !ok || tr.From != prev || tr.At.Before(at) && tr.To != store.RegMeeting {
				rt.Fatalf("%s: transition %s → %s at %s is not allowed (history %+v)", r.ID, prev, tr.To, tr.At, r.History)
			}
			prev, at = tr.To, tr.At
		}
		if prev != r.Status {
			rt.Fatalf("%s: status %s, history ends at %s", r.ID, r.Status, prev)
		}
		if Active(r) {
			k := r.Partner + " " + r.CompanyKey
			if other, ok := holds[k]; ok {
				rt.Fatalf("partner %s holds %s and %s of %s", r.Partner, other, r.ID, r.CompanyKey)
			}
			holds[k] = r.ID
		}
		for _, ev := range Events(r) {
			if _, ok := f.event(ev.ID); !ok {
				rt.Fatalf("event %s of %s is not in the log", ev.ID, r.ID)
			}
		}
	}
	for _, r := range rs {
		for _, c := range r.Conflicts {
			a, b := byID[c.First], byID[c.Second]
			if a.Partner == b.Partner || a.CompanyKey != b.CompanyKey || !a.SubmittedAt.Before(b.SubmittedAt) && a.SubmittedAt != b.SubmittedAt {
				rt.Fatalf("bad conflict pair %+v: %s/%s, %s/%s", c, a.Partner, a.CompanyKey, b.Partner, b.CompanyKey)
			}
			if c.Winner != "" && c.Winner != c.First && c.Winner != c.Second {
				rt.Fatalf("conflict %+v won by a stranger", c)
			}
			if c.Winner != "" && Active(byID[c.Other(c.Winner)]) {
				rt.Fatalf("conflict %+v settled, but the loser %s is %s", c, c.Other(c.Winner), byID[c.Other(c.Winner)].Status)
			}
		}
	}
}
