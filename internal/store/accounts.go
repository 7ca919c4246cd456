package store

import (
	"context"
	"time"
)

// Role is what a web account may see and do.
type Role string

// The web roles, from most to least powerful.
const (
	// RoleAdmin may do everything.
	RoleAdmin Role = "admin"
	// RoleManager is a channel manager: the partners assigned to them.
	RoleManager Role = "manager"
	// RolePartnerAdmin is a partner member who sees their whole company.
	RolePartnerAdmin Role = "partner_admin"
	// RoleMember is a partner member: themselves and public standings.
	RoleMember Role = "member"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleManager, RolePartnerAdmin, RoleMember:
		return true
	}
	return false
}

// Staff reports whether r is a vendor role (admin or manager), which signs
// in with a password; partner roles sign in by magic link.
func (r Role) Staff() bool { return r == RoleAdmin || r == RoleManager }

// Account is a person who signs in to the portal or the console. Staff
// accounts have an e-mail and a password; a partner member's account is
// tied to the member record (Member) and signs in by magic link.
type Account struct {
	ID       string   `json:"id"`
	Email    string   `json:"email"` // lower case; unique among accounts that have one
	Name     string   `json:"name"`
	Role     Role     `json:"role"`
	Member   string   `json:"member,omitempty"`   // member id for partner roles
	Partners []string `json:"partners,omitempty"` // a manager's partners
	// PasswordHash is the encoded argon2id hash ("" when the account
	// signs in by link only).
	PasswordHash string    `json:"-"`
	Locale       string    `json:"locale,omitempty"` // "" follows the browser
	CreatedAt    time.Time `json:"created_at"`
	DisabledAt   time.Time `json:"disabled_at,omitzero"`
}

// Session is a signed-in browser. Only the SHA-256 of its cookie value is
// stored.
type Session struct {
	Hash      []byte
	Account   string
	CSRF      string // the token every form of this session must carry
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LoginLink is a one-time sign-in link for an account. Only the SHA-256 of
// its token is stored.
type LoginLink struct {
	Hash      []byte
	Account   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until used
}

// Accounts stores the web's accounts, sessions and sign-in links.
type Accounts interface {
	// PutAccount creates or replaces an account by ID. An e-mail taken by
	// another account is ECONFLICT.
	PutAccount(ctx context.Context, a Account) error
	// Account returns an account by ID (ENOTFOUND when unknown).
	Account(ctx context.Context, id string) (Account, error)
	// AccountByEmail returns the account with an e-mail, compared in lower
	// case (ENOTFOUND when none).
	AccountByEmail(ctx context.Context, email string) (Account, error)
	// ListAccounts returns every account, ordered by ID.
	ListAccounts(ctx context.Context) ([]Account, error)

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// SessionByHash returns the session with a cookie hash, expired ones
	// included (ENOTFOUND when unknown).
	SessionByHash(ctx context.Context, hash []byte) (Session, error)
	// DeleteSession ends one session; unknown ones are no error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessions ends every session of an account and every session
	// that expired before t.
	DeleteSessions(ctx context.Context, account string, t time.Time) error

	// CreateLoginLink stores a new sign-in link.
	CreateLoginLink(ctx context.Context, l LoginLink) error
	// LoginLink returns the link with a token hash without using it
	// (ENOTFOUND when unknown).
	LoginLink(ctx context.Context, hash []byte) (LoginLink, error)
	// UseLoginLink marks the link with a token hash used at t, once: it
	// returns the link as it was before (ENOTFOUND when unknown). When it
	// was used already, it returns the link with its UsedAt and ECONFLICT.
	// Expiry is the caller's to check.
	UseLoginLink(ctx context.Context, hash []byte, t time.Time) (LoginLink, error)
}
