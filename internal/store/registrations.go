package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Registration states (SPEC §4 Registrations).
const (
	RegSubmitted = "submitted"
	RegNeedsInfo = "needs_info"
	RegApproved  = "approved"
	RegDeclined  = "declined"
	RegMeeting   = "meeting"
	RegWon       = "won"
	RegLost      = "lost"
	RegExpired   = "expired"
)

// RegistrationActive reports whether a registration in status holds its
// company: another partner registering it then is a conflict.
func RegistrationActive(status string) bool {
	switch status {
	case RegSubmitted, RegNeedsInfo, RegApproved, RegMeeting:
		return true
	}
	return false
}

// Registration is a partner's lead or deal registration: its claim to a
// company for the protection window. CompanyKey is what two registrations
// of the same company share (the registrable domain, or "name:" and the
// normalized name when no domain is known).
type Registration struct {
	ID                string       `json:"id"`
	Kind              string       `json:"kind"` // lead | deal
	Partner           string       `json:"partner"`
	Member            string       `json:"member,omitempty"`
	CompanyName       string       `json:"company_name"`
	CompanyDomain     string       `json:"company_domain,omitempty"`
	NormalizedName    string       `json:"normalized_name"`
	RegistrableDomain string       `json:"registrable_domain,omitempty"`
	CompanyKey        string       `json:"company_key"`
	ContactName       string       `json:"contact_name,omitempty"`
	ContactEmail      string       `json:"contact_email"`
	Notes             string       `json:"notes,omitempty"`
	Amount            float64      `json:"amount,omitempty"`
	Region            string       `json:"region,omitempty"`
	Product           string       `json:"product,omitempty"`
	Channel           string       `json:"channel"` // api | form | email | slack | csv | portal
	Status            string       `json:"status"`
	Reason            string       `json:"reason,omitempty"` // of the last decline, needs_info or expiry
	Customer          bool         `json:"customer,omitempty"`
	AccountOwner      string       `json:"account_owner,omitempty"`
	Matches           []Match      `json:"matches,omitempty"` // possible matches for an admin
	SubmittedAt       time.Time    `json:"submitted_at"`
	ReviewDue         time.Time    `json:"review_due"`
	RespondedAt       time.Time    `json:"responded_at,omitzero"` // the first decision
	ApprovedAt        time.Time    `json:"approved_at,omitzero"`
	MeetingDue        time.Time    `json:"meeting_due,omitzero"`
	MeetingAt         time.Time    `json:"meeting_at,omitzero"`
	ProtectedUntil    time.Time    `json:"protected_until,omitzero"`
	ClosedAt          time.Time    `json:"closed_at,omitzero"` // declined, won, lost or expired
	UpdatedAt         time.Time    `json:"updated_at"`
	History           []Transition `json:"history"`
	// Conflicts are the other partners' registrations this one conflicts
	// with, filled in by the store from its conflict pairs.
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// Version counts updates; UpdateRegistration refuses a stale one.
	Version int `json:"version"`
	// Outbox messages are written by UpdateRegistration in the transaction
	// of the update (outbox.go); they are not part of the registration.
	Outbox []OutboxMessage `json:"-"`
}

// Match is a registration or a CRM account whose company name is close to
// this one's (Jaro-Winkler over normalized names): a possible match for an
// admin to look at, never a conflict by itself.
type Match struct {
	Registration string  `json:"registration,omitempty"`
	Account      string  `json:"account,omitempty"` // a CRM account's domain
	Name         string  `json:"name"`
	Score        float64 `json:"score"`
}

// Transition is one change of a registration's status, in order.
type Transition struct {
	At     time.Time `json:"at"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to"`
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
	// The registration's deadlines as this transition left them, so a
	// read as of an earlier time can show them as they stood. Transitions
	// stored before these were recorded leave them zero.
	ReviewDue      time.Time `json:"review_due,omitzero"`
	MeetingDue     time.Time `json:"meeting_due,omitzero"`
	ProtectedUntil time.Time `json:"protected_until,omitzero"`
}

// Conflict is a pair of active registrations of one company by two
// partners: First was there before Second. The store keeps one per pair.
type Conflict struct {
	First     string    `json:"first"`
	Second    string    `json:"second"`
	CreatedAt time.Time `json:"created_at"`
	// Winner is set when the conflict is settled, by the policy or by an
	// admin, with the reason.
	Winner    string    `json:"winner,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	DecidedBy string    `json:"decided_by,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// Other returns the registration of the pair that is not id.
func (c Conflict) Other(id string) string {
	if c.First == id {
		return c.Second
	}
	return c.First
}

// RegistrationFilter selects registrations; zero fields match everything.
type RegistrationFilter struct {
	Partner    string
	Status     []string
	CompanyKey string
	Kind       string
	Active     bool      // only submitted, needs_info, approved, meeting
	Since      time.Time // submitted at or after
	Limit      int       // 0: no limit
	Offset     int
}

// CRMAccount is a company the vendor's CRM knows: an existing customer,
// or one with an open deal and its owner. Registrations for it are flagged.
type CRMAccount struct {
	Domain string `json:"domain"` // registrable domain; the identity
	Name   string `json:"name"`
	// NormalizedName is Name as registrations compare it (set by whoever
	// stores the account).
	NormalizedName string    `json:"normalized_name"`
	Customer       bool      `json:"customer"`
	OpenDeal       bool      `json:"open_deal"`
	Owner          string    `json:"owner,omitempty"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Registrations stores lead and deal registrations, their conflict pairs
// and the CRM's accounts.
type Registrations interface {
	// SubmitRegistration stores r as new unless its partner already has an
	// active registration with the same CompanyKey: then it returns that
	// one and created false. Otherwise it records a conflict pair with
	// every other partner's active registration of the CompanyKey and
	// returns r with its Conflicts. The check and the insert are one
	// transaction that is serialized per CompanyKey across every process
	// sharing the database, so two partners submitting at the same instant
	// give exactly one conflict pair. An ID already taken is ECONFLICT.
	SubmitRegistration(ctx context.Context, r Registration) (out Registration, created bool, err error)
	// Registration returns one registration with its conflicts (ENOTFOUND
	// when unknown).
	Registration(ctx context.Context, id string) (Registration, error)
	// UpdateRegistration replaces a registration whose stored Version is
	// r.Version-1; another Version is ECONFLICT (someone changed it since
	// it was read). Conflicts are not written here.
	UpdateRegistration(ctx context.Context, r Registration) error
	// ListRegistrations returns the registrations f selects, oldest
	// submission first, with their conflicts.
	ListRegistrations(ctx context.Context, f RegistrationFilter) ([]Registration, error)
	// SettleConflict records the winner of a conflict pair, with the
	// reason; a pair already settled is left as it is and returned.
	SettleConflict(ctx context.Context, c Conflict) (Conflict, error)
	// ConflictPairs returns every conflict pair, settled or not, ordered by
	// CreatedAt, First and Second, for tools that copy a whole database.
	ConflictPairs(ctx context.Context) ([]Conflict, error)

	// ImportRegistrations stores registrations as they are — status,
	// version, history and times — in one transaction, without the checks
	// and conflict pairs of SubmitRegistration; their Conflicts are
	// ignored. It is how `rung copy` moves registrations, which passed those
	// checks where they were submitted. An ID already taken, or a second
	// active registration of one company by one partner, is ECONFLICT and
	// stores none of them.
	ImportRegistrations(ctx context.Context, rs []Registration) error
	// ImportConflicts stores conflict pairs as they are, settled ones with
	// their outcome, in one transaction. Both registrations of a pair must
	// be stored (ENOTFOUND otherwise); a pair already stored is ECONFLICT.
	ImportConflicts(ctx context.Context, cs []Conflict) error

	// PutCRMAccount creates or replaces an account by Domain.
	PutCRMAccount(ctx context.Context, a CRMAccount) error
	// CRMAccount returns the account of a registrable domain (ENOTFOUND
	// when unknown).
	CRMAccount(ctx context.Context, domain string) (CRMAccount, error)
	// CRMAccounts returns every account, ordered by domain.
	CRMAccounts(ctx context.Context) ([]CRMAccount, error)

	// CompanyNames returns the company of every active registration and
	// every CRM account, for finding possible matches by name.
	CompanyNames(ctx context.Context) ([]CompanyName, error)
}

// CompanyName is a company some registration or CRM account names.
type CompanyName struct {
	Registration string // the registration's id, or "" for a CRM account
	Key          string // the company key, or the CRM account's domain
	Name         string
	Normalized   string
}

// EncodeRegistration is the stored form of a registration (JSON), without
// its conflicts, which the stores keep as pairs; times are kept in UTC.
func EncodeRegistration(r Registration) ([]byte, error) {
	r.Conflicts = nil
	for _, t := range []*time.Time{&r.SubmittedAt, &r.ReviewDue, &r.RespondedAt, &r.ApprovedAt, &r.MeetingDue,
		&r.MeetingAt, &r.ProtectedUntil, &r.ClosedAt, &r.UpdatedAt} {
		*t = t.UTC()
	}
	for i := range r.History {
		r.History[i].At = r.History[i].At.UTC()
	}
	return json.Marshal(r)
}

// DecodeRegistration reads what EncodeRegistration wrote.
func DecodeRegistration(body []byte) (Registration, error) {
	var r Registration
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("registration: %w", err)
	}
	if r.History == nil {
		r.History = []Transition{}
	}
	return r, nil
}

// AttachConflicts sets the Conflicts of each registration from a list of
// pairs, in the order of the list.
func AttachConflicts(rs []Registration, pairs []Conflict) {
	at := make(map[string]int, len(rs))
	for i := range rs {
		rs[i].Conflicts = nil
		at[rs[i].ID] = i
	}
	for _, c := range pairs {
		if i, ok := at[c.First]; ok {
			rs[i].Conflicts = append(rs[i].Conflicts, c)
		}
		if i, ok := at[c.Second]; ok {
			rs[i].Conflicts = append(rs[i].Conflicts, c)
		}
	}
}
