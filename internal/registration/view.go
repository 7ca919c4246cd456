package registration

import (
	"time"

	"github.com/rung-dev/rung/internal/store"
)

// View is a registration as the API shows it to the vendor (SPEC §5).
type View struct {
	ID              string             `json:"id"`
	Kind            string             `json:"kind"`
	Status          string             `json:"status"`
	Partner         string             `json:"partner"`
	Member          string             `json:"member,omitempty"`
	Company         CompanyView        `json:"company"`
	Contact         ContactView        `json:"contact"`
	Notes           string             `json:"notes,omitempty"`
	Amount          float64            `json:"amount,omitempty"`
	Region          string             `json:"region,omitempty"`
	Product         string             `json:"product,omitempty"`
	Channel         string             `json:"channel"`
	Reason          string             `json:"reason,omitempty"`
	Customer        bool               `json:"existing_customer"`
	AccountOwner    string             `json:"account_owner,omitempty"`
	Conflicts       []string           `json:"conflicts"`
	ConflictDetails []store.Conflict   `json:"conflict_details,omitempty"`
	PossibleMatches []store.Match      `json:"possible_matches,omitempty"`
	SubmittedAt     time.Time          `json:"submitted_at"`
	ReviewDue       time.Time          `json:"review_due"`
	ReviewOverdue   bool               `json:"review_overdue"`
	RespondedAt     *time.Time         `json:"responded_at"`
	ApprovedAt      *time.Time         `json:"approved_at"`
	MeetingDue      *time.Time         `json:"meeting_due"`
	MeetingAt       *time.Time         `json:"meeting_at"`
	ProtectedUntil  *time.Time         `json:"protected_until"`
	ClosedAt        *time.Time         `json:"closed_at"`
	History         []store.Transition `json:"history"`
}

// CompanyView is the company as written and as normalized.
type CompanyView struct {
	Name              string `json:"name"`
	Domain            string `json:"domain,omitempty"`
	NormalizedName    string `json:"normalized_name"`
	RegistrableDomain string `json:"registrable_domain,omitempty"`
}

// ContactView is the contact at the customer.
type ContactView struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// NewView returns the vendor's view of a registration at now.
func NewView(r store.Registration, now time.Time) View {
	v := View{
		ID: r.ID, Kind: r.Kind, Status: r.Status, Partner: r.Partner, Member: r.Member,
		Company: CompanyView{Name: r.CompanyName, Domain: r.CompanyDomain, NormalizedName: r.NormalizedName, RegistrableDomain: r.RegistrableDomain},
		Contact: ContactView{Name: r.ContactName, Email: r.ContactEmail},
		Notes:   r.Notes, Amount: r.Amount, Region: r.Region, Product: r.Product, Channel: r.Channel, Reason: r.Reason,
		Customer: r.Customer, AccountOwner: r.AccountOwner, Conflicts: []string{}, ConflictDetails: r.Conflicts,
		PossibleMatches: r.Matches, SubmittedAt: r.SubmittedAt, ReviewDue: r.ReviewDue,
		ReviewOverdue: r.Status == store.RegSubmitted && now.After(r.ReviewDue),
		RespondedAt:   timePtr(r.RespondedAt), ApprovedAt: timePtr(r.ApprovedAt), MeetingDue: timePtr(r.MeetingDue),
		MeetingAt: timePtr(r.MeetingAt), ProtectedUntil: timePtr(r.ProtectedUntil), ClosedAt: timePtr(r.ClosedAt),
		History: r.History,
	}
	for _, c := range r.Conflicts {
		v.Conflicts = append(v.Conflicts, c.Other(r.ID))
	}
	if v.History == nil {
		v.History = []store.Transition{}
	}
	return v
}

// PartnerView is what a partner is told about its own registration, on any
// channel: never another partner's registration, name or details — only
// that the company is under review when it is contested.
type PartnerView struct {
	ID             string     `json:"id"`
	Kind           string     `json:"kind"`
	Status         string     `json:"status"`
	Company        string     `json:"company"`
	Domain         string     `json:"domain,omitempty"`
	Reason         string     `json:"reason,omitempty"`
	UnderReview    bool       `json:"under_review"` // another registration of the company is being settled
	ProtectedUntil *time.Time `json:"protected_until"`
	MeetingDue     *time.Time `json:"meeting_due"`
	SubmittedAt    time.Time  `json:"submitted_at"`
}

// NewPartnerView returns the partner's view of its registration.
func NewPartnerView(r store.Registration) PartnerView {
	v := PartnerView{ID: r.ID, Kind: r.Kind, Status: r.Status, Company: r.CompanyName, Domain: r.RegistrableDomain,
		Reason: r.Reason, UnderReview: len(OpenConflicts(r)) > 0 && Active(r),
		ProtectedUntil: timePtr(r.ProtectedUntil), MeetingDue: timePtr(r.MeetingDue), SubmittedAt: r.SubmittedAt}
	if v.Status == store.RegDeclined && len(r.Reason) > 9 && r.Reason[:9] == "conflict:" {
		// The policy's reason may describe the other side; say only what
		// happened.
		v.Reason = "another partner's registration of this company took precedence"
	}
	return v
}
