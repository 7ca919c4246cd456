package registration

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// Kinds of registration.
const (
	KindLead = "lead"
	KindDeal = "deal"
)

// Conflict policies of the program's registration section.
const (
	PolicyFirstMeeting   = "first_meeting"
	PolicyFirstSubmitted = "first_submitted"
	PolicyManual         = "manual"
)

// Options configure a Desk.
type Options struct {
	// MatchThreshold is the Jaro-Winkler score from which another company's
	// name is shown as a possible match (DefaultMatchThreshold when 0).
	MatchThreshold float64
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Desk takes registrations from every intake channel and moves them
// through their states: one set of rules behind the API, the web form,
// e-mail, Slack and CSV. It is safe for concurrent use, and several
// instances may share one database: the store serializes what must be.
type Desk struct {
	svc       *service.Service
	st        store.Store
	threshold float64
	log       *slog.Logger
}

// New returns a Desk over a running service.
func New(svc *service.Service, o Options) *Desk {
	d := &Desk{svc: svc, st: svc.Store(), threshold: o.MatchThreshold, log: o.Logger}
	if d.threshold <= 0 {
		d.threshold = DefaultMatchThreshold
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	return d
}

// Settings returns the program's registration section, or the defaults
// (review within 2 days, hold 90 days, first_submitted) when it has none.
func (d *Desk) Settings() program.Registration {
	var out *program.Registration
	d.svc.Read(func(e *engine.Engine) error {
		if p := e.Program(); p != nil {
			out = p.Registration
		}
		return nil
	})
	if out == nil {
		return program.Registration{ReviewWithin: 48 * time.Hour, Hold: 90 * 24 * time.Hour, Conflict: PolicyFirstSubmitted}
	}
	return *out
}

// Input is a registration as a channel received it.
type Input struct {
	Kind          string
	Partner       string
	Member        string
	CompanyName   string
	CompanyDomain string
	ContactName   string
	ContactEmail  string
	Notes         string
	Amount        float64
	Region        string
	Product       string
	// Consent is nil when the channel does not ask (the API); a channel
	// that asks and got no yes refuses the registration.
	Consent *bool
	Channel string
	By      string // who submitted, for the history
}

// Partner returns a partner record (ENOTFOUND with how to fix it).
func (d *Desk) Partner(id string) (rung.Partner, error) {
	var p rung.Partner
	var ok bool
	d.svc.Read(func(e *engine.Engine) error { p, ok = e.Partner(id); return nil })
	if !ok {
		return p, rung.Errorf(rung.ENOTFOUND, "partner %q is not known: create it first with PUT /api/v1/partners/%s", id, id)
	}
	return p, nil
}

// SenderAllowed checks that an e-mail address belongs to one of the
// partner's domains (sub-domains included); channels without a login use
// it to tell who is speaking for the partner.
func (d *Desk) SenderAllowed(p rung.Partner, email string) error {
	addr, err := mail.ParseAddress(email)
	if err != nil {
		return rung.Errorf(rung.EINVALID, "%q is not a valid e-mail address", clip(email, 80))
	}
	dom, err := RegistrableDomain(addr.Address)
	if err != nil {
		return rung.Errorf(rung.EINVALID, "%q is not a valid e-mail address", clip(email, 80))
	}
	for _, pd := range p.Domains {
		if own, err := RegistrableDomain(pd); err == nil && own == dom {
			return nil
		}
	}
	if len(p.Domains) == 0 {
		return rung.Errorf(rung.EFORBIDDEN, "partner %s has no domains on record, so registrations from e-mail addresses cannot be checked; ask your channel manager to add them", p.ID)
	}
	return rung.Errorf(rung.EFORBIDDEN, "%s is not an address of %s (%s); register from your company address", addr.Address, p.Name, strings.Join(p.Domains, ", "))
}

// check validates an input and builds the registration it asks for,
// without touching the store.
func (d *Desk) check(in Input, now time.Time, set program.Registration) (store.Registration, error) {
	var det []rung.Detail
	add := func(key, msg string, args ...any) {
		det = append(det, rung.Detail{Key: key, Message: fmt.Sprintf(msg, args...)})
	}
	for _, s := range []string{in.Kind, in.Partner, in.Member, in.CompanyName, in.CompanyDomain, in.ContactName, in.ContactEmail, in.Notes, in.Region, in.Product} {
		if strings.ContainsRune(s, 0) {
			add("", "fields must not contain NUL characters")
			break
		}
	}
	r := store.Registration{
		Kind: strings.ToLower(strings.TrimSpace(in.Kind)), Partner: strings.TrimSpace(in.Partner), Member: strings.TrimSpace(in.Member),
		CompanyName: strings.TrimSpace(in.CompanyName), CompanyDomain: strings.TrimSpace(in.CompanyDomain),
		ContactName: strings.TrimSpace(in.ContactName), Notes: strings.TrimSpace(in.Notes), Amount: in.Amount,
		Region: strings.TrimSpace(in.Region), Product: strings.TrimSpace(in.Product), Channel: in.Channel,
	}
	if r.Kind == "" {
		r.Kind = KindLead
	}
	if r.Kind != KindLead && r.Kind != KindDeal {
		add("kind", "%q is not a kind of registration: use lead or deal", clip(in.Kind, 40))
	}
	if in.Consent != nil && !*in.Consent {
		add("consent", "the contact's consent is required: confirm that the contact agreed to be passed on to the vendor")
	}
	var partner rung.Partner
	if r.Partner == "" {
		add("partner", "is required: the id of the registering partner")
	} else if p, err := d.Partner(r.Partner); err != nil {
		add("partner", "%s", rung.ErrorMessage(err))
	} else {
		partner = p
	}
	if r.Member != "" && partner.ID != "" {
		var m rung.Member
		var ok bool
		d.svc.Read(func(e *engine.Engine) error { m, ok = e.Member(r.Member); return nil })
		if ok && m.PartnerAt(now) != partner.ID {
			add("member", "%q is not a member of partner %s", r.Member, partner.ID)
		}
	}
	if r.CompanyName == "" {
		add("company.name", "is required: the customer company's name")
	} else if len(r.CompanyName) > 200 {
		add("company.name", "is %d characters long; at most 200 are allowed", len(r.CompanyName))
	} else {
		r.NormalizedName = NormalizeName(r.CompanyName)
		if r.NormalizedName == "" {
			add("company.name", "%q has no letters or digits", clip(r.CompanyName, 80))
		}
	}
	email := strings.TrimSpace(in.ContactEmail)
	if email == "" {
		add("contact.email", "is required: the e-mail address of the contact at the customer")
	} else if addr, err := mail.ParseAddress(email); err != nil || !strings.Contains(addr.Address, "@") {
		add("contact.email", "%q is not a valid e-mail address", clip(email, 80))
	} else if _, err := RegistrableDomain(addr.Address); err != nil {
		add("contact.email", "%q does not end in a valid domain", clip(email, 80))
	} else {
		r.ContactEmail = strings.ToLower(addr.Address)
		if r.ContactName == "" {
			r.ContactName = addr.Name
		}
	}
	if r.CompanyDomain != "" {
		if dom, err := RegistrableDomain(r.CompanyDomain); err != nil {
			add("company.domain", "%s", rung.ErrorMessage(err))
		} else if FreeMail(dom) {
			add("company.domain", "%s is a mailbox provider, not the company's domain; give the company's web domain or leave it out", dom)
		} else {
			r.RegistrableDomain = dom
		}
	} else if r.ContactEmail != "" {
		if dom, err := RegistrableDomain(r.ContactEmail); err == nil && !FreeMail(dom) {
			r.RegistrableDomain = dom
		}
	}
	if r.RegistrableDomain != "" && partner.ID != "" {
		for _, pd := range partner.Domains {
			if own, err := RegistrableDomain(pd); err == nil && own == r.RegistrableDomain {
				add("company.domain", "%s is the partner's own domain; register the customer's company", r.RegistrableDomain)
			}
		}
	}
	if len(r.Notes) > 4000 {
		add("notes", "are %d characters long; at most 4000 are allowed", len(r.Notes))
	}
	if r.Amount < 0 || r.Amount != r.Amount || r.Amount > 1e15 {
		add("amount", "must be a number from 0 up")
	}
	if len(det) > 0 {
		return r, &rung.Error{Code: rung.EINVALID, Message: "the registration is not valid", Details: det}
	}
	r.CompanyKey = r.RegistrableDomain
	if r.CompanyKey == "" {
		r.CompanyKey = "name:" + r.NormalizedName
	}
	r.ID = NewID()
	r.Status = store.RegSubmitted
	r.SubmittedAt, r.UpdatedAt = now, now
	r.ReviewDue = now.Add(set.ReviewWithin)
	r.History = []store.Transition{{At: now, To: store.RegSubmitted, By: in.By, ReviewDue: r.ReviewDue}}
	r.Version = 1
	return r, nil
}

// idAlphabet has no letters that read like digits (I, O) nor ambiguous
// pairs, so a case number can be read out over the phone.
const idAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NewID returns a new case number such as "R-7K3M9Q2X".
func NewID() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return "R-" + string(b)
}

// Submit validates and stores a registration. The same partner registering
// a company it holds an active registration for gets that one back with
// created false. Another partner's active registration of the company is
// a conflict, settled at once under first_submitted.
func (d *Desk) Submit(ctx context.Context, in Input) (store.Registration, bool, error) {
	now := d.svc.Now().UTC()
	set := d.Settings()
	r, err := d.check(in, now, set)
	if err != nil {
		return r, false, err
	}
	if r.RegistrableDomain != "" {
		if a, err := d.st.CRMAccount(ctx, r.RegistrableDomain); err == nil {
			r.Customer, r.AccountOwner = a.Customer, a.Owner
		} else if rung.ErrorCode(err) != rung.ENOTFOUND {
			return r, false, err
		}
	}
	if r.Matches, err = d.possibleMatches(ctx, r); err != nil {
		return r, false, err
	}
	out, created, err := d.st.SubmitRegistration(ctx, r)
	if err != nil {
		return out, false, err
	}
	if !created {
		return out, false, nil
	}
	if len(out.Conflicts) > 0 && set.Conflict == PolicyFirstMeeting {
		// A company whose first meeting another partner logged already
		// is that partner's.
		for _, c := range out.Conflicts {
			o, err := d.st.Registration(ctx, c.First)
			if err != nil {
				return out, true, err
			}
			if !o.MeetingAt.IsZero() {
				if _, err := d.settle(ctx, c, o.ID, "first_meeting: this partner logged the first meeting", "policy"); err != nil {
					return out, true, err
				}
			}
		}
		got, err := d.st.Registration(ctx, out.ID)
		if err != nil {
			return out, true, err
		}
		return got, true, d.emit(ctx, got)
	}
	if len(out.Conflicts) > 0 && set.Conflict == PolicyFirstSubmitted {
		// Settling declines this registration, which writes its events.
		for _, c := range out.Conflicts {
			if _, err := d.settle(ctx, c, c.First, "first_submitted: the company was registered by another partner first", "policy"); err != nil {
				return out, true, err
			}
		}
		got, err := d.st.Registration(ctx, out.ID)
		if err != nil {
			return out, true, err
		}
		return got, true, d.emit(ctx, got)
	}
	return out, true, d.emit(ctx, out)
}

// possibleMatches finds active registrations of other companies, and CRM
// accounts, whose normalized name is close to r's.
func (d *Desk) possibleMatches(ctx context.Context, r store.Registration) ([]store.Match, error) {
	names, err := d.st.CompanyNames(ctx)
	if err != nil {
		return nil, err
	}
	var ms []store.Match
	for _, c := range names {
		if c.Key == r.CompanyKey || c.Registration == "" && c.Key == r.RegistrableDomain {
			continue
		}
		s := JaroWinkler(r.NormalizedName, c.Normalized)
		if s < d.threshold {
			continue
		}
		m := store.Match{Registration: c.Registration, Name: c.Name, Score: round3(s)}
		if c.Registration == "" {
			m.Account = c.Key
		}
		ms = append(ms, m)
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Score > ms[j].Score })
	if len(ms) > 10 {
		ms = ms[:10]
	}
	return ms, nil
}

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

// Get returns a registration.
func (d *Desk) Get(ctx context.Context, id string) (store.Registration, error) {
	return d.st.Registration(ctx, id)
}

// List returns the registrations a filter selects.
func (d *Desk) List(ctx context.Context, f store.RegistrationFilter) ([]store.Registration, error) {
	return d.st.ListRegistrations(ctx, f)
}

// Decisions an admin takes on a submitted registration.
const (
	DecisionApprove   = "approve"
	DecisionDecline   = "decline"
	DecisionNeedsInfo = "needs_info"
)

// Decide approves, declines (with a reason) or asks for more information
// on a submitted registration. Deciding what was decided already returns
// the registration unchanged.
func (d *Desk) Decide(ctx context.Context, id, decision, reason, by string) (store.Registration, error) {
	reason = strings.TrimSpace(reason)
	var to string
	switch decision {
	case DecisionApprove:
		to = store.RegApproved
	case DecisionDecline:
		to = store.RegDeclined
		if reason == "" {
			return store.Registration{}, rung.Errorf(rung.EINVALID, "a decline needs a reason, told to the partner")
		}
	case DecisionNeedsInfo:
		to = store.RegNeedsInfo
		if reason == "" {
			return store.Registration{}, rung.Errorf(rung.EINVALID, "needs_info needs a reason: what the partner should add")
		}
	default:
		return store.Registration{}, rung.Errorf(rung.EINVALID, "decision %q is not one of approve, decline, needs_info", clip(decision, 40))
	}
	set := d.Settings()
	if to == store.RegApproved {
		if err := d.settleWithClosed(ctx, id); err != nil {
			return store.Registration{}, err
		}
	}
	return d.change(ctx, id, func(r *store.Registration, now time.Time) (bool, error) {
		if r.Status == to {
			return false, nil
		}
		ok := r.Status == store.RegSubmitted || to == store.RegDeclined && r.Status == store.RegNeedsInfo
		if !ok {
			return false, rung.Errorf(rung.ECONFLICT, "registration %s is %s; only a submitted registration can be decided", r.ID, r.Status)
		}
		if to == store.RegApproved && set.Conflict != PolicyFirstMeeting {
			for _, c := range r.Conflicts {
				if c.Winner == "" {
					return false, rung.Errorf(rung.ECONFLICT, "registration %s conflicts with %s: settle the conflict first (POST /api/v1/registrations/%s/conflicts/decision)", r.ID, c.Other(r.ID), r.ID)
				}
				if c.Winner != r.ID {
					return false, rung.Errorf(rung.ECONFLICT, "registration %s lost its conflict with %s", r.ID, c.Other(r.ID))
				}
			}
		}
		if r.RespondedAt.IsZero() {
			r.RespondedAt = now
		}
		switch to {
		case store.RegApproved:
			r.ApprovedAt = now
			r.ProtectedUntil = now.Add(set.Hold)
			if set.MeetingWithin > 0 {
				r.MeetingDue = now.Add(set.MeetingWithin)
			}
			r.Reason = ""
		case store.RegDeclined:
			r.ClosedAt = now
			r.Reason = reason
		case store.RegNeedsInfo:
			r.Reason = reason
		}
		transition(r, now, to, by, reason)
		return true, nil
	})
}

// Answer gives the information an admin asked for: the registration goes
// back to submitted, its notes extended, and its review clock restarts.
func (d *Desk) Answer(ctx context.Context, id, notes, by string) (store.Registration, error) {
	notes = strings.TrimSpace(notes)
	if notes == "" {
		return store.Registration{}, rung.Errorf(rung.EINVALID, "the answer is empty: write what the reviewer asked for")
	}
	set := d.Settings()
	return d.change(ctx, id, func(r *store.Registration, now time.Time) (bool, error) {
		if r.Status != store.RegNeedsInfo {
			return false, rung.Errorf(rung.ECONFLICT, "registration %s is %s; only one that needs information can be answered", r.ID, r.Status)
		}
		if r.Notes != "" {
			r.Notes += "\n\n"
		}
		r.Notes += notes
		r.Reason = ""
		r.ReviewDue = now.Add(set.ReviewWithin)
		transition(r, now, store.RegSubmitted, by, "")
		return true, nil
	})
}

// Meeting logs the first meeting with the customer at the given time (now
// when zero). It extends the protection by extend_on_meeting; under the
// first_meeting policy it wins every open conflict, unless the other
// partner's meeting was logged first: then this registration loses.
func (d *Desk) Meeting(ctx context.Context, id string, at time.Time, by string) (store.Registration, error) {
	set := d.Settings()
	now := d.svc.Now().UTC()
	if at.IsZero() {
		at = now
	}
	at = at.UTC()
	if at.After(now.Add(service.MaxFuture)) {
		return store.Registration{}, rung.Errorf(rung.EINVALID, "the meeting at %s is in the future; log it once it took place", at.Format(time.RFC3339))
	}
	r, err := d.expireIfDue(ctx, id, now)
	if err != nil {
		return r, err
	}
	if r.Status == store.RegMeeting {
		return r, nil
	}
	if r.Status != store.RegApproved {
		return r, rung.Errorf(rung.ECONFLICT, "registration %s is %s; a first meeting can be logged once it is approved", r.ID, r.Status)
	}
	if at.Before(r.SubmittedAt) {
		return r, rung.Errorf(rung.EINVALID, "the meeting at %s is before the registration was submitted", at.Format(time.RFC3339))
	}
	lost := false
	if set.Conflict == PolicyFirstMeeting {
		for _, c := range r.Conflicts {
			winner := r.ID
			if o, err := d.st.Registration(ctx, c.Other(r.ID)); err != nil {
				return r, err
			} else if !o.MeetingAt.IsZero() && !o.MeetingAt.After(at) {
				winner = o.ID // its meeting came first, though logged before ours
			}
			got, err := d.settle(ctx, c, winner, "first_meeting: this partner logged the first meeting", "policy")
			if err != nil {
				return r, err
			}
			lost = lost || got.Winner != r.ID
		}
	}
	if lost {
		return d.Get(ctx, id)
	}
	return d.change(ctx, id, func(r *store.Registration, now time.Time) (bool, error) {
		if r.Status == store.RegMeeting {
			return false, nil
		}
		if r.Status != store.RegApproved {
			return false, rung.Errorf(rung.ECONFLICT, "registration %s is %s; a first meeting can be logged once it is approved", r.ID, r.Status)
		}
		r.MeetingAt = at
		r.ProtectedUntil = r.ProtectedUntil.Add(set.ExtendOnMeeting)
		transition(r, at, store.RegMeeting, by, "")
		return true, nil
	})
}

// Close records the outcome of an approved registration: won (with the
// amount, if known) or lost (with a reason).
func (d *Desk) Close(ctx context.Context, id string, won bool, amount float64, reason, by string) (store.Registration, error) {
	to := store.RegLost
	if won {
		to = store.RegWon
	}
	if amount < 0 || amount != amount {
		return store.Registration{}, rung.Errorf(rung.EINVALID, "amount must be a number from 0 up")
	}
	now := d.svc.Now().UTC()
	if _, err := d.expireIfDue(ctx, id, now); err != nil {
		return store.Registration{}, err
	}
	return d.change(ctx, id, func(r *store.Registration, now time.Time) (bool, error) {
		if r.Status == to {
			return false, nil
		}
		if r.Status != store.RegApproved && r.Status != store.RegMeeting {
			return false, rung.Errorf(rung.ECONFLICT, "registration %s is %s; only an approved registration can be won or lost", r.ID, r.Status)
		}
		if amount > 0 {
			r.Amount = amount
		}
		r.ClosedAt = now
		r.Reason = strings.TrimSpace(reason)
		transition(r, now, to, by, r.Reason)
		return true, nil
	})
}

// SettleConflict decides a conflict by hand: winner keeps the company and
// every registration it conflicts with (among id's pairs) is declined with
// the reason. id is either side of the pairs.
func (d *Desk) SettleConflict(ctx context.Context, id, winner, reason, by string) (store.Registration, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return store.Registration{}, rung.Errorf(rung.EINVALID, "a conflict decision needs a reason, told to both partners")
	}
	r, err := d.Get(ctx, id)
	if err != nil {
		return r, err
	}
	if winner == "" {
		winner = id
	}
	n := 0
	for _, c := range r.Conflicts {
		if winner != id && c.Other(id) != winner {
			continue
		}
		n++
		if _, err := d.settle(ctx, c, winner, reason, by); err != nil {
			return r, err
		}
	}
	if n == 0 {
		return r, rung.Errorf(rung.EINVALID, "registration %s has no conflict with %s", id, winner)
	}
	return d.Get(ctx, winner)
}

// settleWithClosed settles id's open conflicts with registrations that
// are closed already (declined, lost, expired...) in id's favour: nothing
// is left to dispute.
func (d *Desk) settleWithClosed(ctx context.Context, id string) error {
	r, err := d.st.Registration(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range r.Conflicts {
		if c.Winner != "" {
			continue
		}
		o, err := d.st.Registration(ctx, c.Other(id))
		if err != nil {
			return err
		}
		if !Active(o) {
			if _, err := d.settle(ctx, c, id, "the other registration is "+o.Status, "policy"); err != nil {
				return err
			}
		}
	}
	return nil
}

// settle records a conflict's winner (the first decision stands) and
// declines the loser.
func (d *Desk) settle(ctx context.Context, c store.Conflict, winner, reason, by string) (store.Conflict, error) {
	c.Winner, c.Reason, c.DecidedBy, c.DecidedAt = winner, reason, by, d.svc.Now().UTC()
	got, err := d.st.SettleConflict(ctx, c)
	if err != nil {
		return got, err
	}
	loser := got.Other(got.Winner)
	_, err = d.change(ctx, loser, func(r *store.Registration, now time.Time) (bool, error) {
		if !store.RegistrationActive(r.Status) {
			return false, nil
		}
		r.ClosedAt = now
		r.Reason = "conflict: " + got.Reason
		if r.RespondedAt.IsZero() {
			r.RespondedAt = now
		}
		transition(r, now, store.RegDeclined, got.DecidedBy, r.Reason)
		return true, nil
	})
	return got, err
}

func transition(r *store.Registration, at time.Time, to, by, reason string) {
	r.History = append(r.History, store.Transition{At: at, From: r.Status, To: to, By: by, Reason: reason,
		ReviewDue: r.ReviewDue, MeetingDue: r.MeetingDue, ProtectedUntil: r.ProtectedUntil})
	r.Status = to
	r.UpdatedAt = at
}

// change reads a registration, lets fn change it and stores it; a change
// made meanwhile by someone else is retried on the new state. Then it
// writes the registration's events.
func (d *Desk) change(ctx context.Context, id string, fn func(r *store.Registration, now time.Time) (bool, error)) (store.Registration, error) {
	for range 5 {
		r, err := d.st.Registration(ctx, id)
		if err != nil {
			return r, err
		}
		changed, err := fn(&r, d.svc.Now().UTC())
		if err != nil || !changed {
			if err == nil {
				err = d.emit(ctx, r) // a re-send: make sure the events are in
			}
			return r, err
		}
		r.Version++
		if err := attachOutbox(&r); err != nil {
			return r, err
		}
		err = d.st.UpdateRegistration(ctx, r)
		if rung.ErrorCode(err) == rung.ECONFLICT && strings.Contains(rung.ErrorMessage(err), "changed by someone else") {
			continue
		}
		if err != nil {
			return r, err
		}
		return r, d.emit(ctx, r)
	}
	return store.Registration{}, rung.Errorf(rung.EUNAVAILABLE, "registration %s is being changed by others; try again", id)
}

// expireIfDue applies an expiry whose time has come before the sweep got
// to it, and returns the registration as it is now.
func (d *Desk) expireIfDue(ctx context.Context, id string, now time.Time) (store.Registration, error) {
	r, err := d.st.Registration(ctx, id)
	if err != nil {
		return r, err
	}
	if at, _ := dueExpiry(r, now); at.IsZero() {
		return r, nil
	}
	return d.change(ctx, id, func(r *store.Registration, _ time.Time) (bool, error) {
		at, why := dueExpiry(*r, now)
		if at.IsZero() {
			return false, nil
		}
		r.ClosedAt, r.Reason = at, why
		transition(r, at, store.RegExpired, "sweep", why)
		return true, nil
	})
}

// dueExpiry returns when and why an approved registration expired by now:
// no first meeting by its meeting deadline, or the end of its protection.
func dueExpiry(r store.Registration, now time.Time) (time.Time, string) {
	switch r.Status {
	case store.RegApproved:
		if !r.MeetingDue.IsZero() && !now.Before(r.MeetingDue) && (r.ProtectedUntil.IsZero() || r.MeetingDue.Before(r.ProtectedUntil)) {
			return r.MeetingDue, "no first meeting was logged in time"
		}
		if !r.ProtectedUntil.IsZero() && !now.Before(r.ProtectedUntil) {
			return r.ProtectedUntil, "the protection window ended"
		}
	case store.RegMeeting:
		if !r.ProtectedUntil.IsZero() && !now.Before(r.ProtectedUntil) {
			return r.ProtectedUntil, "the protection window ended"
		}
	}
	return time.Time{}, ""
}

// eventType names the event a transition to a status writes.
func eventType(to string) string {
	switch to {
	case store.RegMeeting:
		return "meeting.first"
	case store.RegWon:
		return "deal.won"
	case store.RegLost:
		return "deal.lost"
	case store.RegSubmitted:
		return "registration.submitted"
	}
	return "registration." + to
}

// Events returns the events a registration's history writes into the log.
// Their ids derive from the registration and the transition
// ("registration:R-7K3M9Q2X:approved"; a transition taken again gets ":2",
// ":3"), so writing them again changes nothing.
func Events(r store.Registration) []rung.Event {
	seen := map[string]int{}
	var out []rung.Event
	for i, t := range r.History {
		name := t.To
		if i > 0 && t.To == store.RegSubmitted {
			name = "resubmitted"
		}
		seen[name]++
		id := "registration:" + r.ID + ":" + name
		if n := seen[name]; n > 1 {
			id += fmt.Sprintf(":%d", n)
		}
		typ := eventType(t.To)
		if name == "resubmitted" {
			typ = "registration.resubmitted"
		}
		attrs := map[string]any{
			"registration": r.ID, "kind": r.Kind, "company": r.NormalizedName, "channel": r.Channel,
			"customer": r.Customer, "registered": true, "sourced": true,
		}
		if r.RegistrableDomain != "" {
			attrs["domain"] = r.RegistrableDomain
		}
		if r.Amount > 0 || t.To == store.RegWon {
			attrs["amount"] = r.Amount
		}
		if r.Region != "" {
			attrs["region"] = r.Region
		}
		if r.Product != "" {
			attrs["product"] = r.Product
		}
		if t.Reason != "" {
			attrs["reason"] = t.Reason
		}
		if t.To == store.RegApproved {
			attrs["qualified"] = true
		}
		out = append(out, rung.Event{ID: id, Type: typ, Partner: r.Partner, Member: r.Member, OccurredAt: t.At, Attrs: attrs, Source: "registration"})
	}
	return out
}

// emit writes a registration's events; those already in the log are
// duplicates and change nothing.
func (d *Desk) emit(ctx context.Context, r store.Registration) error {
	evs := Events(r)
	in := make([]*service.Incoming, len(evs))
	for i := range evs {
		in[i] = &service.Incoming{Event: evs[i]}
	}
	res, err := d.svc.Ingest(ctx, in)
	if err != nil {
		return fmt.Errorf("registration %s: write events: %w", r.ID, err)
	}
	for _, x := range res {
		if x.Status == "rejected" {
			d.log.Warn("registration event rejected", "registration", r.ID, "event", x.ID, "error", x.Error)
		}
	}
	return nil
}

// Active reports whether a registration still holds its company.
func Active(r store.Registration) bool { return store.RegistrationActive(r.Status) }

// OpenConflicts returns the ids of the registrations r is in an unsettled
// conflict with.
func OpenConflicts(r store.Registration) []string {
	var out []string
	for _, c := range r.Conflicts {
		if c.Winner == "" {
			out = append(out, c.Other(r.ID))
		}
	}
	slices.Sort(out)
	return out
}
