// Package rung holds the domain types of Rung: partners, members, events and
// the facts recorded about them. It depends on no database, no HTTP and no
// clock; the engine, the store and the adapters all speak in these types.
package rung

import (
	"time"
)

// Partner is a partner company of the vendor's program, identified by the
// client's own id (usually the CRM account id).
type Partner struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Type        string         `json:"type,omitempty"`
	Region      string         `json:"region,omitempty"`
	Size        string         `json:"size,omitempty"`
	JoinedAt    time.Time      `json:"joined_at"`
	Domains     []string       `json:"domains,omitempty"`
	Attrs       map[string]any `json:"attrs,omitempty"`
	InitialTier string         `json:"initial_tier,omitempty"`
}

// PartnerVersion is one recorded state of a partner. A partner's attributes
// (size, region, type) can change; cohorts are taken from the version in
// effect when a window starts, so every PUT is kept as a version.
type PartnerVersion struct {
	Partner   Partner   `json:"partner"`
	Version   int       `json:"version"`
	ValidFrom time.Time `json:"valid_from"`
}

// Member is a person at a partner, identified by the client's id (an e-mail
// or a CRM contact id). A member belongs to one partner at a time; the
// memberships keep the history of moves.
type Member struct {
	ID          string         `json:"id"`
	Partner     string         `json:"partner"`
	Name        string         `json:"name,omitempty"`
	Email       string         `json:"email,omitempty"`
	Role        string         `json:"role,omitempty"`
	JoinedAt    time.Time      `json:"joined_at"`
	Attrs       map[string]any `json:"attrs,omitempty"`
	Memberships []Membership   `json:"memberships"`
}

// Membership is one stretch of time a member spent with a partner. The first
// membership of a member is open at the start: events from before its
// joined_at still count for that partner (training often precedes the formal
// join). LeftAt is zero while the membership is current.
type Membership struct {
	Partner  string    `json:"partner"`
	JoinedAt time.Time `json:"joined_at"`
	LeftAt   time.Time `json:"left_at,omitzero"`
}

// PartnerAt returns the partner the member belonged to at t, or "" when the
// member belonged to none then.
func (m *Member) PartnerAt(t time.Time) string {
	for i := len(m.Memberships) - 1; i >= 0; i-- {
		ms := m.Memberships[i]
		if !ms.LeftAt.IsZero() && !t.Before(ms.LeftAt) {
			continue
		}
		if i == 0 || !t.Before(ms.JoinedAt) {
			return ms.Partner
		}
	}
	return ""
}

// Event is a fact reported by a source system: a training completed, a deal
// won. Its ID is the client's and unique; the recommended form is
// <source>:<record>:<type>.
type Event struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Partner    string         `json:"partner"`
	Member     string         `json:"member,omitempty"`
	OccurredAt time.Time      `json:"occurred_at"`
	Attrs      map[string]any `json:"attrs,omitempty"`
	Source     string         `json:"source,omitempty"`
}

// Record is one entry of the event log: a version of an event, or the
// retraction of one. The log is append-only; Seq orders it.
type Record struct {
	Seq        int64     `json:"seq"`
	Version    int       `json:"version"`
	Retracted  bool      `json:"retracted,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	Event      Event     `json:"event"`
	// Raw is the record as the log stores it (internal/codec's encoding),
	// when whoever made the Record has it at hand: the writer sets it so
	// the store and the engine need not encode the record again, and a
	// store reading its log sets it for the engine to keep. Read-only: it
	// may share memory with other records' Raw, never with anything that
	// is written again.
	Raw []byte `json:"-"`
}

// Adjustment is an admin's manual grant (positive) or deduction (negative)
// of points, with the reason, kept for the audit trail.
type Adjustment struct {
	ID         string    `json:"id"`
	Partner    string    `json:"partner"`
	Member     string    `json:"member,omitempty"`
	Points     int64     `json:"points"`
	Reason     string    `json:"reason"`
	OccurredAt time.Time `json:"occurred_at"`
	By         string    `json:"by"`
	CreatedAt  time.Time `json:"created_at"`
}

// ProgramVersion is one applied program file. Rules of a version apply to
// events that occurred from EffectiveFrom on, until the next version's.
type ProgramVersion struct {
	Version       int       `json:"version"`
	Source        string    `json:"source"`
	EffectiveFrom time.Time `json:"effective_from"`
	AppliedAt     time.Time `json:"applied_at"`
	AppliedBy     string    `json:"applied_by"`
}

// Scope is what an API key may do.
type Scope string

// The API key scopes.
const (
	ScopeIngest Scope = "ingest"
	ScopeRead   Scope = "read"
	ScopeAdmin  Scope = "admin"
)

// ParseScope checks s names a known scope.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case ScopeIngest, ScopeRead, ScopeAdmin:
		return Scope(s), nil
	}
	return "", Errorf(EINVALID, "unknown scope %q: use ingest, read or admin", s)
}

// Allows reports whether a key with scope s may act with scope need. Admin
// may do everything; read and ingest only themselves.
func (s Scope) Allows(need Scope) bool {
	return s == ScopeAdmin || s == need
}

// APIKey is a key for the JSON API. Only the SHA-256 of the secret is stored.
type APIKey struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scope     Scope     `json:"scope"`
	Hash      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// AuditEntry records who changed what and when.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
}
