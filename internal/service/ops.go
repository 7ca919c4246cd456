package service

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/opsmetrics"
	"github.com/rung-dev/rung/internal/program"
)

// Ingest validates and records a set of events, and returns one result per
// event, in order. Rejected events change nothing; accepted ones are durable
// when Ingest returns. The error is for the request as a whole (the store is
// unavailable, say).
func (s *Service) Ingest(ctx context.Context, events []*Incoming) ([]Result, error) {
	if len(events) == 0 {
		return []Result{}, nil
	}
	res := s.do(ctx, &request{kind: kindEvents, events: events})
	if res.err != nil {
		return nil, res.err
	}
	out := make([]Result, len(events))
	for i, in := range events {
		out[i] = in.Result
		opsmetrics.Ingested(in.Result.Status, in.Result.Error)
	}
	return out, nil
}

// Retract reverses an event's effects; the event stays in the log, marked
// retracted.
func (s *Service) Retract(ctx context.Context, id, by string) (int, error) {
	res := s.do(ctx, &request{kind: kindRetract, id: id, by: by})
	return res.version, res.err
}

// PutPartner creates or updates a partner. An update that changes nothing
// returns the current version.
func (s *Service) PutPartner(ctx context.Context, p rung.Partner) (rung.PartnerVersion, error) {
	res := s.do(ctx, &request{kind: kindPartner, partner: &p})
	if res.partner == nil {
		return rung.PartnerVersion{}, res.err
	}
	return *res.partner, res.err
}

// PutMember creates or updates a member. A change of partner is a move: the
// old membership ends and a new one starts (at joined_at when given, else
// now); what the member earned before stays with the old partner.
func (s *Service) PutMember(ctx context.Context, m rung.Member) (rung.Member, error) {
	res := s.do(ctx, &request{kind: kindMember, member: &m})
	if res.member == nil {
		return rung.Member{}, res.err
	}
	return *res.member, res.err
}

// ValidateProgram parses and checks a program file without applying it.
func ValidateProgram(src []byte) (*program.Program, error) {
	return program.Parse(src)
}

// ApplyProgram validates a program file and applies it as a new version.
// Its rules apply to events from effectiveFrom on (zero: now, or the whole
// history for the first version). Derived state is recomputed.
func (s *Service) ApplyProgram(ctx context.Context, src []byte, effectiveFrom time.Time, by string) (int, error) {
	p, err := program.Parse(src)
	if err != nil {
		return 0, err
	}
	res := s.do(ctx, &request{kind: kindProgram, prog: p, source: string(src), from: effectiveFrom, by: by})
	return res.version, res.err
}

// Adjust grants (positive points) or deducts (negative) points by hand.
func (s *Service) Adjust(ctx context.Context, a rung.Adjustment, by string) (rung.Adjustment, error) {
	res := s.do(ctx, &request{kind: kindAdjust, adjust: &a, by: by})
	return a, res.err
}

// checkPartner validates a partner record.
func checkPartner(p *rung.Partner, prog *program.Program) error {
	var d []rung.Detail
	if hasNUL(append([]string{p.ID, p.Name, p.Type, p.Region, p.Size, p.InitialTier}, p.Domains...)...) || attrsNUL(map[string]any(p.Attrs)) {
		d = append(d, rung.Detail{Message: "fields must not contain NUL characters"})
	}
	if p.ID == "" || len(p.ID) > 200 {
		d = append(d, rung.Detail{Key: "id", Message: "must be 1 to 200 characters"})
	}
	if strings.TrimSpace(p.Name) == "" {
		d = append(d, rung.Detail{Key: "name", Message: "is required: the partner's company name"})
	}
	for i, dom := range p.Domains {
		if dom == "" || strings.ContainsAny(dom, " /@") || !strings.Contains(dom, ".") {
			d = append(d, rung.Detail{Key: fmt.Sprintf("domains[%d]", i), Message: fmt.Sprintf("%q is not a domain like example.com", dom)})
		}
	}
	if !p.JoinedAt.IsZero() && !inRange(p.JoinedAt) {
		d = append(d, rung.Detail{Key: "joined_at", Message: fmt.Sprintf("%s is out of range: Rung takes times from %d to %d", p.JoinedAt.Format(time.RFC3339), minYear, maxYear-1)})
	}
	if p.InitialTier != "" && prog != nil && prog.Tiers != nil && prog.TierRank(p.InitialTier) < 0 {
		d = append(d, rung.Detail{Key: "initial_tier", Message: fmt.Sprintf("%q is not a tier of the program; use one of %s", p.InitialTier, strings.Join(prog.Tiers.Levels, ", "))})
	}
	if len(d) > 0 {
		return &rung.Error{Code: rung.EINVALID, Message: fmt.Sprintf("partner %q is not valid", p.ID), Details: d}
	}
	p.JoinedAt = p.JoinedAt.UTC()
	return nil
}

// samePartner reports whether two partner records say the same.
func samePartner(a, b *rung.Partner) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Type == b.Type && a.Region == b.Region && a.Size == b.Size &&
		a.JoinedAt.Equal(b.JoinedAt) && slices.Equal(a.Domains, b.Domains) && a.InitialTier == b.InitialTier &&
		len(a.Attrs) == len(b.Attrs) && maps.EqualFunc(a.Attrs, b.Attrs, func(x, y any) bool { return reflect.DeepEqual(x, y) })
}
