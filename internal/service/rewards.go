package service

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/store"
)

// The rules a redemption can fail (SPEC §4 Rewards). A refusal is
// ECONFLICT with one detail whose Key is the rule, so clients and pages
// can tell which rule failed without reading the message.
const (
	RuleInsufficientBalance = "insufficient_balance"
	RuleNotEligible         = "not_eligible"
	RuleOutOfStock          = "out_of_stock"
	RulePerMemberLimit      = "per_member_limit"
)

// refuse returns the 409 for a rule that failed.
func refuse(rule, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &rung.Error{Code: rung.ECONFLICT, Message: msg, Details: []rung.Detail{{Key: rule, Message: msg}}}
}

// RefusedRule returns the rule a redemption refusal names, or "".
func RefusedRule(err error) string {
	var e *rung.Error
	if !errors.As(err, &e) || e.Code != rung.ECONFLICT || len(e.Details) != 1 {
		return ""
	}
	switch k := e.Details[0].Key; k {
	case RuleInsufficientBalance, RuleNotEligible, RuleOutOfStock, RulePerMemberLimit:
		return k
	}
	return ""
}

// RedeemRequest asks for a catalog reward. A member reward needs Member
// (whose points it spends); a partner reward needs Partner, or a Member
// whose current partner it is for. By is who asked, for the audit log.
type RedeemRequest struct {
	Reward  string `json:"reward"`
	Member  string `json:"member,omitempty"`
	Partner string `json:"partner,omitempty"`
	By      string `json:"-"`
}

// Redeem checks a request against the reward's rules and, when they hold,
// records a pending redemption that holds the points. The check runs
// inside the store's transaction, against the redemptions the database
// holds, so concurrent requests (on any instance) cannot overspend a
// balance, the stock or a member's limit.
func (s *Service) Redeem(ctx context.Context, req RedeemRequest) (rung.Redemption, error) {
	now := s.clock().UTC()
	var rw program.Reward
	r := rung.Redemption{Reward: req.Reward, Status: rung.RedemptionPending, RequestedAt: now, RequestedBy: req.By}
	err := s.Read(func(e *engine.Engine) error {
		prog := e.Program()
		var found *program.Reward
		if prog != nil {
			found = prog.Reward(req.Reward)
		}
		if found == nil {
			return rung.Errorf(rung.ENOTFOUND, "reward %q is not in the catalog; GET /api/v1/rewards lists it", req.Reward)
		}
		rw = *found
		r.Points = rw.Cost
		if req.Member != "" {
			m, ok := e.Member(req.Member)
			if !ok {
				return rung.Errorf(rung.ENOTFOUND, "member %q not found", req.Member)
			}
			if req.Partner != "" && req.Partner != m.Partner {
				return rung.Errorf(rung.EINVALID, "member %q belongs to partner %q, not %q", req.Member, m.Partner, req.Partner)
			}
			r.Partner = m.Partner
			if rw.For != program.SubjectPartner {
				r.Member = m.ID
			}
		} else {
			if rw.For != program.SubjectPartner {
				return rung.Errorf(rung.EINVALID, "reward %q spends a member's points: name the member", rw.ID)
			}
			if _, ok := e.Partner(req.Partner); !ok {
				return rung.Errorf(rung.ENOTFOUND, "partner %q not found", req.Partner)
			}
			r.Partner = req.Partner
		}
		return nil
	})
	if err != nil {
		return rung.Redemption{}, err
	}
	var idb [8]byte
	rand.Read(idb[:])
	r.ID = "rd_" + hex.EncodeToString(idb[:])
	err = s.st.Redeem(ctx, r, func(held []rung.Redemption) error {
		return s.checkRedeem(&rw, &r, held)
	})
	if err != nil {
		return rung.Redemption{}, err
	}
	if err := s.putRedemption(ctx, r); err != nil {
		return r, err
	}
	s.audit(ctx, req.By, "redemption.request", r.ID, fmt.Sprintf("reward %s for %s (%d points)", r.Reward, subjectOf(r), r.Points))
	return r, nil
}

func subjectOf(r rung.Redemption) string {
	if r.Member != "" {
		return "member " + r.Member + " of partner " + r.Partner
	}
	return "partner " + r.Partner
}

// checkRedeem applies the reward's rules to r, given the pending and
// fulfilled redemptions of r's partner and of the reward: eligibility by
// tier, stock, the per-member limit, then the balances.
func (s *Service) checkRedeem(rw *program.Reward, r *rung.Redemption, held []rung.Redemption) error {
	return s.Read(func(e *engine.Engine) error {
		if len(rw.Tiers) > 0 {
			tier := e.PartnerTierAt(r.Partner, r.RequestedAt)
			if !slices.Contains(rw.Tiers, tier) {
				return refuse(RuleNotEligible, "reward %s is for partners in tier %s; %s is %s", rw.ID, strings.Join(rw.Tiers, " or "), r.Partner, orNone(tier))
			}
		}
		taken, mine := 0, 0
		for _, h := range held {
			if h.Reward != rw.ID {
				continue
			}
			taken++
			if h.Partner == r.Partner && h.Member == r.Member {
				mine++
			}
		}
		if rw.Stock != nil && taken >= *rw.Stock {
			return refuse(RuleOutOfStock, "reward %s is out of stock (all %d taken)", rw.ID, *rw.Stock)
		}
		if rw.PerMember > 0 && mine >= rw.PerMember {
			return refuse(RulePerMemberLimit, "reward %s can be redeemed %d times per %s, and %s has reached that", rw.ID, rw.PerMember, string(rw.For), who(r))
		}
		mb, pb, err := e.RedeemBalances(r.Partner, r.Member, held, r.RequestedAt)
		if err != nil {
			return err
		}
		if r.Member != "" && mb < r.Points {
			return refuse(RuleInsufficientBalance, "reward %s costs %d points; member %s has %d", rw.ID, r.Points, r.Member, max(mb, 0))
		}
		if pb < r.Points {
			return refuse(RuleInsufficientBalance, "reward %s costs %d points; partner %s has %d left to spend", rw.ID, r.Points, r.Partner, max(pb, 0))
		}
		return nil
	})
}

func who(r *rung.Redemption) string {
	if r.Member != "" {
		return "member " + r.Member
	}
	return "partner " + r.Partner
}

func orNone(tier string) string {
	if tier == "" {
		return "in no tier"
	}
	return "in tier " + tier
}

// DecideRedemption approves (fulfilled) or rejects (points back) a pending
// redemption, with a reason.
func (s *Service) DecideRedemption(ctx context.Context, id, decision, reason, by string) (rung.Redemption, error) {
	var status string
	switch decision {
	case "approve":
		status = rung.RedemptionFulfilled
	case "reject":
		status = rung.RedemptionRejected
	default:
		return rung.Redemption{}, rung.Errorf(rung.EINVALID, "decision %q: use approve (the reward is fulfilled) or reject (the points go back)", decision)
	}
	r, err := s.st.DecideRedemption(ctx, id, status, by, reason, s.clock().UTC())
	if err != nil {
		return r, err
	}
	if err := s.putRedemption(ctx, r); err != nil {
		return r, err
	}
	detail := fmt.Sprintf("reward %s for %s (%d points)", r.Reward, subjectOf(r), r.Points)
	if reason != "" {
		detail += ": " + reason
	}
	s.audit(ctx, by, "redemption."+decision, r.ID, detail)
	return r, nil
}

// putRedemption gives the engine a redemption's new state, on the writer
// goroutine, so a rebuild in progress cannot miss it.
func (s *Service) putRedemption(ctx context.Context, r rung.Redemption) error {
	res := s.do(ctx, &request{kind: kindCustom, custom: func() error {
		s.mu.Lock()
		s.eng.PutRedemption(r)
		s.mu.Unlock()
		return nil
	}})
	return res.err
}

// loadRedemptions gives a loading engine every stored redemption.
func (s *Service) loadRedemptions(ctx context.Context) error {
	rs, err := s.st.ListRedemptions(ctx, store.RedemptionFilter{})
	if err != nil {
		return fmt.Errorf("load redemptions: %w", err)
	}
	for _, r := range rs {
		s.eng.PutRedemption(r)
	}
	return nil
}

// followRedemptions gives the engine the current state of redemptions
// another instance requested or decided.
func (s *Service) followRedemptions(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	rs, err := s.st.RedemptionsByID(ctx, ids)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		s.eng.PutRedemption(r)
	}
	return nil
}

// Redemptions lists redemptions, newest first.
func (s *Service) Redemptions(ctx context.Context, f store.RedemptionFilter) ([]rung.Redemption, error) {
	if err := checkRedemptionStatus(f.Status); err != nil {
		return nil, err
	}
	return s.st.ListRedemptions(ctx, f)
}

// CountRedemptions counts the redemptions a filter selects, its paging
// aside.
func (s *Service) CountRedemptions(ctx context.Context, f store.RedemptionFilter) (int, error) {
	if err := checkRedemptionStatus(f.Status); err != nil {
		return 0, err
	}
	return s.st.CountRedemptions(ctx, f)
}

// checkRedemptionStatus accepts a redemption status filter ("" for all).
func checkRedemptionStatus(st string) error {
	switch st {
	case "", rung.RedemptionPending, rung.RedemptionFulfilled, rung.RedemptionRejected:
		return nil
	}
	return rung.Errorf(rung.EINVALID, "status=%q: use pending, fulfilled or rejected", st)
}

// CatalogItem is a reward as one member (or partner) sees it: whether it
// can be redeemed now, and if not, which rule stands in the way.
type CatalogItem struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Cost        int64    `json:"cost"`
	For         string   `json:"for"`
	Tiers       []string `json:"tiers,omitempty"`
	Stock       *int     `json:"stock,omitempty"`
	StockLeft   *int     `json:"stock_left,omitempty"`
	PerMember   int      `json:"per_member,omitempty"`
	Redeemed    int      `json:"redeemed"` // by this member (partner rewards: by the partner), not rejected
	Eligible    bool     `json:"eligible"` // could be redeemed now
	Blocked     string   `json:"blocked,omitempty"`
	BlockedWhy  string   `json:"blocked_why,omitempty"`
}

// Catalog is the rewards catalog and the balances it is read against.
type Catalog struct {
	Member         string        `json:"member,omitempty"`
	Partner        string        `json:"partner,omitempty"`
	Tier           string        `json:"tier,omitempty"`
	MemberBalance  int64         `json:"member_balance"`
	PartnerBalance int64         `json:"partner_balance"`
	Rewards        []CatalogItem `json:"rewards"`
}

// Catalog returns the catalog for a member (or, with member empty, a
// partner, or with both empty, the bare catalog), with what is left of
// each reward's stock and whether each rule holds now.
func (s *Service) Catalog(ctx context.Context, member, partner string) (Catalog, error) {
	var prog *program.Program
	var c Catalog
	now := s.clock().UTC()
	err := s.Read(func(e *engine.Engine) error {
		prog = e.Program()
		if member != "" {
			m, ok := e.Member(member)
			if !ok {
				return rung.Errorf(rung.ENOTFOUND, "member %q not found", member)
			}
			partner = m.Partner
		}
		if partner != "" {
			if _, ok := e.Partner(partner); !ok {
				return rung.Errorf(rung.ENOTFOUND, "partner %q not found", partner)
			}
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	c.Member, c.Partner, c.Rewards = member, partner, []CatalogItem{}
	if prog == nil {
		return c, nil
	}
	var held []rung.Redemption
	if partner != "" {
		pending, err := s.st.ListRedemptions(ctx, store.RedemptionFilter{Partner: partner, Status: rung.RedemptionPending})
		if err != nil {
			return c, err
		}
		done, err := s.st.ListRedemptions(ctx, store.RedemptionFilter{Partner: partner, Status: rung.RedemptionFulfilled})
		if err != nil {
			return c, err
		}
		held = append(pending, done...)
		s.Read(func(e *engine.Engine) error {
			c.Tier = e.PartnerTierAt(partner, now)
			c.MemberBalance, c.PartnerBalance, _ = e.RedeemBalances(partner, member, held, now)
			return nil
		})
	}
	for _, rw := range prog.Rewards {
		it := CatalogItem{ID: rw.ID, Name: rw.Name, Description: rw.Description, Cost: rw.Cost, For: string(rw.For),
			Tiers: rw.Tiers, Stock: rw.Stock, PerMember: rw.PerMember}
		var others []rung.Redemption
		if rw.Stock != nil {
			all, err := s.st.ListRedemptions(ctx, store.RedemptionFilter{Reward: rw.ID})
			if err != nil {
				return c, err
			}
			others = all
			left := *rw.Stock
			for _, o := range all {
				if o.Status != rung.RedemptionRejected {
					left--
				}
			}
			left = max(left, 0)
			it.StockLeft = &left
		}
		if partner != "" {
			r := rung.Redemption{Reward: rw.ID, Partner: partner, Points: rw.Cost, RequestedAt: now}
			if rw.For != program.SubjectPartner {
				r.Member = member
			}
			for _, h := range held {
				if h.Reward == rw.ID && h.Member == r.Member {
					it.Redeemed++
				}
			}
			if rw.For != program.SubjectPartner && member == "" {
				it.Blocked, it.BlockedWhy = RuleNotEligible, "redeemed by a member, with the member's points"
			} else {
				check := append(append([]rung.Redemption(nil), held...), notHeld(others, partner)...)
				err := s.checkRedeem(rw, &r, check)
				it.Eligible = err == nil
				if rule := RefusedRule(err); rule != "" {
					it.Blocked, it.BlockedWhy = rule, rung.ErrorMessage(err)
				}
			}
		}
		c.Rewards = append(c.Rewards, it)
	}
	return c, nil
}

// notHeld keeps the other partners' pending and fulfilled redemptions (the
// partner's own are in held already).
func notHeld(rs []rung.Redemption, partner string) []rung.Redemption {
	var out []rung.Redemption
	for _, r := range rs {
		if r.Partner != partner && r.Status != rung.RedemptionRejected {
			out = append(out, r)
		}
	}
	return out
}

// LiabilityReport is the points outstanding and what they are worth.
type LiabilityReport struct {
	AsOf       time.Time       `json:"as_of"`
	Currency   string          `json:"currency,omitempty"`
	PointValue float64         `json:"point_value"`
	Partners   []LiabilityLine `json:"partners"`
	Total      LiabilityLine   `json:"total"`
}

// LiabilityLine is one partner's line, or the total.
type LiabilityLine struct {
	Partner   string  `json:"partner,omitempty"`
	Name      string  `json:"name,omitempty"`
	Points    int64   `json:"points"`     // balance: unexpired, not redeemed
	Value     float64 `json:"value"`      // Points × point_value
	Held      int64   `json:"held"`       // held by pending redemptions
	HeldValue float64 `json:"held_value"` // Held × point_value
}

// Liability returns the points outstanding at t (zero: now), by partner
// (most points first) and in total, valued at the program's point_value.
func (s *Service) Liability(t time.Time) LiabilityReport {
	var rep LiabilityReport
	s.Read(func(e *engine.Engine) error {
		if t.IsZero() {
			t = s.clock()
		}
		rep.AsOf = t.UTC()
		if p := e.Program(); p != nil {
			rep.Currency, rep.PointValue = p.Currency, p.PointValue
		}
		rep.Partners = []LiabilityLine{}
		for _, l := range e.Liability(t) {
			rep.Partners = append(rep.Partners, LiabilityLine{Partner: l.Partner, Name: l.Name, Points: l.Points, Held: l.Held})
		}
		return nil
	})
	for i := range rep.Partners {
		l := &rep.Partners[i]
		l.Value, l.HeldValue = money(l.Points, rep.PointValue), money(l.Held, rep.PointValue)
		rep.Total.Points += l.Points
		rep.Total.Held += l.Held
	}
	rep.Total.Value, rep.Total.HeldValue = money(rep.Total.Points, rep.PointValue), money(rep.Total.Held, rep.PointValue)
	// The largest liability first; ties by partner id.
	sort.SliceStable(rep.Partners, func(i, j int) bool { return rep.Partners[i].Points > rep.Partners[j].Points })
	return rep
}

// money is points × value, rounded to a hundredth of the currency unit's
// hundredth, so sums do not show float noise.
func money(points int64, value float64) float64 {
	v := float64(points) * value
	return float64(int64(v*10000+copysignHalf(v))) / 10000
}

func copysignHalf(v float64) float64 {
	if v < 0 {
		return -0.5
	}
	return 0.5
}

// WriteLiabilityCSV writes the report as CSV: a header, one line per
// partner, and a total line with an empty partner id. Amounts use a dot
// and no grouping, so spreadsheets in any locale read them.
func WriteLiabilityCSV(w io.Writer, rep LiabilityReport) error {
	cw := csv.NewWriter(w)
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	cw.Write([]string{"partner", "name", "points", "value", "held", "held_value", "currency", "as_of"})
	asOf := rep.AsOf.Format("2006-01-02T15:04:05Z07:00")
	for _, l := range rep.Partners {
		cw.Write([]string{l.Partner, csvSafe(l.Name), strconv.FormatInt(l.Points, 10), num(l.Value), strconv.FormatInt(l.Held, 10), num(l.HeldValue), rep.Currency, asOf})
	}
	t := rep.Total
	cw.Write([]string{"", "Total", strconv.FormatInt(t.Points, 10), num(t.Value), strconv.FormatInt(t.Held, 10), num(t.HeldValue), rep.Currency, asOf})
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a name as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
