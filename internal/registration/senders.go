package registration

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
)

// PartnerForSender finds the partner an e-mail address speaks for: the
// named partner, whose domains must include the address's domain, or,
// when partner is "", the one partner whose domains do. It returns the
// member whose e-mail is the address, if any.
func (d *Desk) PartnerForSender(partner, email string) (rung.Partner, string, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil {
		return rung.Partner{}, "", rung.Errorf(rung.EINVALID, "%q is not a valid e-mail address", clip(email, 80))
	}
	address := strings.ToLower(addr.Address)
	if partner != "" {
		p, err := d.Partner(partner)
		if err != nil {
			return p, "", err
		}
		if err := d.SenderAllowed(p, address); err != nil {
			return p, "", err
		}
		return p, d.memberByEmail(p.ID, address), nil
	}
	dom, err := RegistrableDomain(address)
	if err != nil {
		return rung.Partner{}, "", rung.Errorf(rung.EINVALID, "%q is not a valid e-mail address", clip(email, 80))
	}
	var found []rung.Partner
	d.svc.Read(func(e *engine.Engine) error {
		for _, id := range e.PartnerIDs() {
			p, _ := e.Partner(id)
			for _, pd := range p.Domains {
				if own, err := RegistrableDomain(pd); err == nil && own == dom {
					found = append(found, p)
					break
				}
			}
		}
		return nil
	})
	switch len(found) {
	case 0:
		return rung.Partner{}, "", rung.Errorf(rung.EFORBIDDEN, "%s is not an address of any partner in the program; register from your company address, or ask your channel manager to add your domain", address)
	case 1:
		return found[0], d.memberByEmail(found[0].ID, address), nil
	}
	// Not naming them: the public form must not list the program's partners.
	return rung.Partner{}, "", rung.Errorf(rung.EINVALID, "%s belongs to several partners; name yours with a partner field (your partner id)", dom)
}

func (d *Desk) memberByEmail(partner, email string) string {
	var id string
	d.svc.Read(func(e *engine.Engine) error {
		for _, mid := range e.MemberIDs(partner) {
			if m, ok := e.Member(mid); ok && strings.EqualFold(m.Email, email) {
				id = mid
				return nil
			}
		}
		return nil
	})
	return id
}

// PartnerForSlack finds who is behind a slash command: the member whose
// attrs.slack_user_id is the Slack user, or else the partner whose
// attrs.slack_team_id is the workspace.
func (d *Desk) PartnerForSlack(teamID, userID string) (partner, member string, err error) {
	d.svc.Read(func(e *engine.Engine) error {
		for _, mid := range e.MemberIDs("") {
			if m, ok := e.Member(mid); ok && userID != "" && fmt.Sprint(m.Attrs["slack_user_id"]) == userID {
				partner, member = m.Partner, m.ID
				return nil
			}
		}
		for _, id := range e.PartnerIDs() {
			if p, _ := e.Partner(id); teamID != "" && fmt.Sprint(p.Attrs["slack_team_id"]) == teamID {
				partner = id
				return nil
			}
		}
		return nil
	})
	if partner == "" {
		return "", "", rung.Errorf(rung.EFORBIDDEN, "your Slack account is not linked to a partner: ask your channel manager to set slack_user_id on your member record (or slack_team_id on your company)")
	}
	return partner, member, nil
}

// PutAccount records a company the CRM knows (by registrable domain) and
// flags the active registrations of it: existing customer, account owner.
// It reports whether the account is new.
func (d *Desk) PutAccount(ctx context.Context, a store.CRMAccount) (bool, error) {
	dom, err := RegistrableDomain(a.Domain)
	if err != nil {
		return false, err
	}
	if strings.ContainsRune(a.Name+a.Owner, 0) {
		return false, rung.Errorf(rung.EINVALID, "name and owner must not contain NUL characters")
	}
	a.Domain, a.NormalizedName, a.UpdatedAt = dom, NormalizeName(a.Name), d.svc.Now().UTC()
	_, err = d.st.CRMAccount(ctx, dom)
	created := rung.ErrorCode(err) == rung.ENOTFOUND
	if err != nil && !created {
		return false, err
	}
	if err := d.st.PutCRMAccount(ctx, a); err != nil {
		return false, err
	}
	active, err := d.st.ListRegistrations(ctx, store.RegistrationFilter{CompanyKey: dom, Active: true})
	if err != nil {
		return created, err
	}
	for _, r := range active {
		if r.Customer == a.Customer && r.AccountOwner == a.Owner {
			continue
		}
		if _, err := d.change(ctx, r.ID, func(r *store.Registration, now time.Time) (bool, error) {
			if r.Customer == a.Customer && r.AccountOwner == a.Owner {
				return false, nil
			}
			r.Customer, r.AccountOwner, r.UpdatedAt = a.Customer, a.Owner, now
			return true, nil
		}); err != nil {
			return created, err
		}
	}
	return created, nil
}
