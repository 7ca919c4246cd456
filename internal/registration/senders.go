package registration

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
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
	return rung.Partner{}, "", rung.Errorf(rung.EINVALID, "%s belongs to several partners (%s, %s, ...); name yours with a partner field", dom, found[0].ID, found[1].ID)
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
