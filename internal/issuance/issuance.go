// Package issuance keeps Open Badges credentials in step with the badges
// members hold: a credential for every badge award of a member with an
// e-mail address, revoked when the engine revokes the award.
//
// It reconciles rather than reacts: each Sync compares what the engine
// holds now with what was issued, issues what is missing and revokes what
// was taken away. That keeps the engine pure and its lock free of I/O
// (the engine is only read, and signing happens after the read), and it
// survives restarts and lost leadership, since a Sync starts from the
// engine's state and Issue and RevokeAward are idempotent.
package issuance

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rung-dev/rung/internal/credential"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/service"
)

// Reconciler issues and revokes credentials for badge awards.
type Reconciler struct {
	svc *service.Service
	iss *credential.Issuer
	log *slog.Logger

	mu sync.Mutex // one Sync at a time
	// What this process knows to be done; both only grow, so a stale
	// entry never exists: an award key issued stays issued, one revoked
	// stays revoked.
	issued  map[string]bool
	revoked map[string]bool
}

// New returns a Reconciler for the service's badges. log may be nil.
func New(svc *service.Service, iss *credential.Issuer, log *slog.Logger) *Reconciler {
	if log == nil {
		log = slog.Default()
	}
	return &Reconciler{svc: svc, iss: iss, log: log, issued: map[string]bool{}, revoked: map[string]bool{}}
}

// Result counts what one Sync did.
type Result struct {
	Issued  int // credentials issued (or found issued) for held awards
	Revoked int // revoked awards whose credential, if any, is now revoked
	Failed  int // awards that could not be issued or revoked; tried again next Sync
}

// AwardKey names a badge award for good: the subject, the badge, the
// level, and how many times the subject lost that badge (level) before.
// A badge earned again after a revocation is a new award with a new
// credential; a badge whose event changes without it being lost (an
// earlier event arrives) keeps its award and credential.
func AwardKey(kind, subject, badge, level string, revokedBefore int) string {
	parts := []string{kind, url.PathEscape(subject), url.PathEscape(badge)}
	if level != "" {
		parts = append(parts, url.PathEscape(level))
	}
	return strings.Join(append(parts, strconv.Itoa(revokedBefore)), "/")
}

// Sync issues a credential for every badge a member with an e-mail
// address holds and has none yet, and revokes the credentials of awards
// the engine revoked. A failure on one award does not stop the others;
// the error returned tells the first.
func (r *Reconciler) Sync(ctx context.Context) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.svc.Now()
	var issue []credential.Award
	var revoke []string
	r.svc.Read(func(e *engine.Engine) error {
		lost := map[string]int{} // award key without its count → times revoked
		for _, rv := range e.Revocations() {
			if rv.Kind != "member" {
				continue
			}
			base := AwardKey(rv.Kind, rv.Subject, rv.Badge, rv.Level, 0)
			key := AwardKey(rv.Kind, rv.Subject, rv.Badge, rv.Level, lost[base])
			lost[base]++
			if !r.revoked[key] {
				revoke = append(revoke, key)
			}
		}
		programName := ""
		if p := e.Program(); p != nil {
			programName = p.Name
		}
		e.EachHeldBadge(func(hb engine.HeldBadge) {
			if hb.Kind != "member" || hb.AwardedAt.After(now) {
				return
			}
			key := AwardKey(hb.Kind, hb.Subject, hb.ID, hb.Level, lost[AwardKey(hb.Kind, hb.Subject, hb.ID, hb.Level, 0)])
			if r.issued[key] {
				return
			}
			m, ok := e.Member(hb.Subject)
			if !ok || !strings.Contains(m.Email, "@") {
				return
			}
			issue = append(issue, award(key, m.Email, programName, hb))
		})
		return nil
	})

	var res Result
	var first error
	fail := func(err error) {
		res.Failed++
		if first == nil {
			first = err
		}
	}
	for _, key := range revoke {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := r.iss.RevokeAward(ctx, key); err != nil {
			fail(err)
			continue
		}
		r.revoked[key] = true
		res.Revoked++
	}
	for _, a := range issue {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if _, err := r.iss.Issue(ctx, a); err != nil {
			fail(err)
			continue
		}
		r.issued[a.Key] = true
		res.Issued++
	}
	if first != nil {
		return res, fmt.Errorf("credentials: %d of %d awards failed, first: %w", res.Failed, len(issue)+len(revoke), first)
	}
	return res, nil
}

// award describes a held badge for the credential.
func award(key, email, programName string, hb engine.HeldBadge) credential.Award {
	a := credential.Award{
		Key:       key,
		Email:     email,
		AwardedAt: hb.AwardedAt,
		Badge: credential.Badge{ID: hb.ID, Name: hb.Name, Level: hb.Level,
			Description: hb.Badge.Description, Criteria: criteria(hb.Badge, hb.Level, programName)},
	}
	if hb.Evidence != "" {
		a.Evidence = append(a.Evidence, credential.Evidence{Name: hb.Name, Description: hb.Evidence})
	}
	for _, ev := range hb.Events {
		a.Evidence = append(a.Evidence, credential.Evidence{Name: "Event", Description: ev})
	}
	return a
}

// criteria says in words how a badge is earned.
func criteria(b *program.Badge, level, programName string) string {
	var how string
	switch {
	case b.Metric != "":
		how = "Reach the " + level + " level of " + b.Metric
		for _, l := range b.Levels {
			if l.Name == level {
				how = fmt.Sprintf("Reach %s on %s", strconv.FormatFloat(l.At, 'f', -1, 64), b.Metric)
			}
		}
	case len(b.Steps) > 0:
		steps := make([]string, len(b.Steps))
		for i, s := range b.Steps {
			steps[i] = s.Type
			if s.Count > 1 {
				steps[i] = fmt.Sprintf("%d× %s", s.Count, s.Type)
			}
		}
		how = "Complete " + strings.Join(steps, ", ")
		if b.Within > 0 {
			how += " within " + days(b.Within)
		}
	case len(b.On) > 0:
		how = "Awarded on " + strings.Join(b.On, ", ")
	default:
		how = "Awarded by a challenge"
	}
	if programName != "" {
		how += " in the " + programName + " partner program"
	}
	return how + "."
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	}
	return d.String()
}

// Job is the scheduler's job that runs Sync every period on the instance
// that leads, so instances do not race to issue the same awards.
func (r *Reconciler) Job(every time.Duration) jobs.Job {
	return jobs.Job{
		Name:  "credential-issuance",
		Every: every,
		Run: func(ctx context.Context, period time.Time) error {
			return r.logged(ctx)
		},
	}
}

// Run runs Sync now and then every period until ctx ends, for a process
// without the scheduler (the demo).
func (r *Reconciler) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r.logged(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Reconciler) logged(ctx context.Context) error {
	start := time.Now()
	res, err := r.Sync(ctx)
	if err != nil && ctx.Err() == nil {
		r.log.Error("credential issuance", "issued", res.Issued, "revoked", res.Revoked, "failed", res.Failed, "err", err)
		return err
	}
	if res.Issued > 0 || res.Revoked > 0 {
		r.log.Info("credential issuance", "issued", res.Issued, "revoked", res.Revoked, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}
