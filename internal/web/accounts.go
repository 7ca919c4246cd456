package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// MemberAccountID is the account id of a partner member.
func MemberAccountID(member string) string { return "member:" + member }

// NewStaff describes an admin or manager account to create.
type NewStaff struct {
	Email    string
	Name     string
	Role     store.Role // admin or manager
	Partners []string   // a manager's partners
	Password string     // at least 12 characters
}

// AddStaff creates an admin or manager account with an argon2id password
// hash, and audits it.
func AddStaff(ctx context.Context, st store.Store, n NewStaff, by string, now time.Time) (store.Account, error) {
	email := strings.ToLower(strings.TrimSpace(n.Email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return store.Account{}, rung.Errorf(rung.EINVALID, "%q is not an e-mail address", n.Email)
	}
	if !n.Role.Staff() {
		return store.Account{}, rung.Errorf(rung.EINVALID, "role %q: staff accounts are admin or manager (partner members sign in by link: rung user link --member ID)", n.Role)
	}
	if n.Role == store.RoleAdmin && len(n.Partners) > 0 {
		return store.Account{}, rung.Errorf(rung.EINVALID, "an admin sees every partner: --partners is for managers")
	}
	if len(n.Password) < 12 {
		return store.Account{}, rung.Errorf(rung.EINVALID, "the password must have at least 12 characters")
	}
	if _, err := st.AccountByEmail(ctx, email); err == nil {
		return store.Account{}, rung.Errorf(rung.ECONFLICT, "an account with the e-mail %s exists already", email)
	}
	ph, err := HashPassword(n.Password)
	if err != nil {
		return store.Account{}, err
	}
	var id [6]byte
	rand.Read(id[:])
	a := store.Account{ID: "usr_" + hex.EncodeToString(id[:]), Email: email, Name: n.Name, Role: n.Role,
		Partners: n.Partners, PasswordHash: ph, CreatedAt: now.UTC()}
	if a.Name == "" {
		a.Name = email
	}
	if err := st.PutAccount(ctx, a); err != nil {
		return store.Account{}, err
	}
	detail := "role " + string(a.Role)
	if len(a.Partners) > 0 {
		detail += ", partners " + strings.Join(a.Partners, ",")
	}
	audit(ctx, st, nil, now, by, "account.create", a.ID+" "+email, detail)
	return a, nil
}

// memberAccount returns a member's account, creating it (role member) when
// the member has none yet.
func memberAccount(ctx context.Context, st store.Store, m rung.Member, now time.Time) (store.Account, error) {
	a, err := st.Account(ctx, MemberAccountID(m.ID))
	if err == nil {
		return a, nil
	}
	if rung.ErrorCode(err) != rung.ENOTFOUND {
		return store.Account{}, err
	}
	a = store.Account{ID: MemberAccountID(m.ID), Name: m.Name, Role: store.RoleMember, Member: m.ID, CreatedAt: now.UTC()}
	if err := st.PutAccount(ctx, a); err != nil {
		return store.Account{}, err
	}
	return a, nil
}

// SetMemberRole makes a member a partner admin (their company's view) or a
// plain member again.
func SetMemberRole(ctx context.Context, st store.Store, m rung.Member, role store.Role, by string, now time.Time) error {
	if role != store.RoleMember && role != store.RolePartnerAdmin {
		return rung.Errorf(rung.EINVALID, "role %q: a partner member is member or partner_admin", role)
	}
	a, err := memberAccount(ctx, st, m, now)
	if err != nil {
		return err
	}
	if a.Role == role {
		return nil
	}
	old := a.Role
	a.Role = role
	if err := st.PutAccount(ctx, a); err != nil {
		return err
	}
	audit(ctx, st, nil, now, by, "account.role", a.ID, string(old)+" → "+string(role))
	return nil
}

// IssueLink makes a one-time sign-in link for a member, valid for
// LinkTTL, logs it (until e-mail exists, admins read it there) and audits
// it. It returns the full URL.
func IssueLink(ctx context.Context, st store.Store, log *slog.Logger, m rung.Member, baseURL, by string, now time.Time) (string, error) {
	a, err := memberAccount(ctx, st, m, now)
	if err != nil {
		return "", err
	}
	if !a.DisabledAt.IsZero() {
		return "", rung.Errorf(rung.EFORBIDDEN, "the account of member %s is disabled", m.ID)
	}
	tok := randomToken()
	l := store.LoginLink{Hash: hash(tok), Account: a.ID, CreatedAt: now.UTC(), ExpiresAt: now.Add(LinkTTL).UTC()}
	if err := st.CreateLoginLink(ctx, l); err != nil {
		return "", err
	}
	u := strings.TrimRight(baseURL, "/") + "/login/link?token=" + tok
	if log != nil {
		log.Info("sign-in link issued", "member", m.ID, "email", m.Email, "url", u, "expires", l.ExpiresAt)
	}
	audit(ctx, st, log, now, by, "login.link.issue", a.ID, "expires "+l.ExpiresAt.Format(time.RFC3339))
	return u, nil
}
