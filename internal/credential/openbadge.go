package credential

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
)

// Award describes one badge award to issue a credential for.
type Award struct {
	// Key names the award uniquely and for good, such as
	// "certified-architect/member/m-17"; one award gets one credential.
	Key string
	// Email is the recipient's address. Only its salted hash goes into the
	// credential.
	Email string
	// Badge is what was achieved.
	Badge Badge
	// AwardedAt is when it was earned: the credential's validFrom.
	AwardedAt time.Time
	// ValidUntil is when the evidence expires (a certification's end of
	// validity); zero when it does not.
	ValidUntil time.Time
	// Evidence is what the award rests on, such as a certification id.
	Evidence []Evidence
}

// Badge is the achievement a credential attests.
type Badge struct {
	ID          string // the program's badge id, such as certified-architect
	Name        string
	Level       string // Bronze, Silver, Gold for badges in levels; "" otherwise
	Description string
	Criteria    string // how it is earned, in words
	Image       string // URL of the badge image (optional)
}

// Evidence is one piece of evidence behind an award.
type Evidence struct {
	ID          string // a URL or URN for the evidence (optional)
	Name        string // such as "Certification"
	Description string // such as the certification id
	Narrative   string // optional
	Genre       string // optional kind, such as "Certification"
}

func (a Award) validate() error {
	var missing []string
	if strings.TrimSpace(a.Key) == "" {
		missing = append(missing, "key")
	}
	if !strings.Contains(a.Email, "@") {
		missing = append(missing, "recipient e-mail")
	}
	if strings.TrimSpace(a.Badge.ID) == "" {
		missing = append(missing, "badge id")
	}
	if strings.TrimSpace(a.Badge.Name) == "" {
		missing = append(missing, "badge name")
	}
	if a.AwardedAt.IsZero() {
		missing = append(missing, "awarded at")
	}
	if len(missing) > 0 {
		return rung.Errorf(rung.EINVALID, "credential for award %q: missing %s", a.Key, strings.Join(missing, ", "))
	}
	if !a.ValidUntil.IsZero() && !a.ValidUntil.After(a.AwardedAt) {
		return rung.Errorf(rung.EINVALID, "credential for award %q: valid until %s is not after awarded at %s", a.Key,
			a.ValidUntil.Format(time.RFC3339), a.AwardedAt.Format(time.RFC3339))
	}
	for i, e := range a.Evidence {
		if e.ID != "" {
			if err := checkIRI(e.ID); err != nil {
				return rung.Errorf(rung.EINVALID, "credential for award %q: evidence %d: id %v", a.Key, i+1, err)
			}
		}
	}
	if a.Badge.Image != "" {
		if err := checkIRI(a.Badge.Image); err != nil {
			return rung.Errorf(rung.EINVALID, "credential for award %q: badge image %v", a.Key, err)
		}
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// openBadge builds the unsigned OpenBadgeCredential for an award.
func (iss *Issuer) openBadge(a Award, id, salt string, list, index int) map[string]any {
	a.Badge.Name, a.Badge.Level = cleanText(a.Badge.Name), cleanText(a.Badge.Level)
	a.Badge.Description, a.Badge.Criteria = cleanText(a.Badge.Description), cleanText(a.Badge.Criteria)
	achievementID := iss.base + "/badges/" + url.PathEscape(a.Badge.ID)
	name := a.Badge.Name
	if a.Badge.Level != "" {
		achievementID += "/" + url.PathEscape(strings.ToLower(a.Badge.Level))
		name += " (" + a.Badge.Level + ")"
	}
	description := a.Badge.Description
	if description == "" {
		description = name
	}
	criteria := a.Badge.Criteria
	if criteria == "" {
		criteria = "Awarded by " + iss.cfg.IssuerName + "'s partner program for " + name + "."
	}
	achievement := map[string]any{
		"id":          achievementID,
		"type":        []any{"Achievement"},
		"name":        name,
		"description": description,
		"criteria":    map[string]any{"narrative": criteria},
	}
	if a.Badge.Image != "" {
		achievement["image"] = map[string]any{"id": a.Badge.Image, "type": "Image"}
	}
	issuer := map[string]any{"id": iss.did, "type": []any{"Profile"}, "name": cleanText(iss.cfg.IssuerName)}
	if iss.cfg.IssuerURL != "" {
		issuer["url"] = iss.cfg.IssuerURL
	}
	listURL := iss.StatusListURL(list)
	doc := map[string]any{
		"@context":    []any{ContextCredentialsV2, ContextOpenBadges},
		"id":          iss.CredentialURL(id),
		"type":        []any{"VerifiableCredential", "OpenBadgeCredential"},
		"name":        name,
		"issuer":      issuer,
		"validFrom":   stamp(a.AwardedAt),
		"awardedDate": stamp(a.AwardedAt),
		"credentialSubject": map[string]any{
			"type": []any{"AchievementSubject"},
			"identifier": []any{map[string]any{
				"type":         "IdentityObject",
				"identityType": "emailAddress",
				"hashed":       true,
				"salt":         salt,
				"identityHash": IdentityHash(a.Email, salt),
			}},
			"achievement": achievement,
		},
		"credentialStatus": map[string]any{
			"id":                   listURL + "#" + strconv.Itoa(index),
			"type":                 "BitstringStatusListEntry",
			"statusPurpose":        "revocation",
			"statusListIndex":      strconv.Itoa(index),
			"statusListCredential": listURL,
		},
	}
	if !a.ValidUntil.IsZero() {
		doc["validUntil"] = stamp(a.ValidUntil)
	}
	if len(a.Evidence) > 0 {
		var evidence []any
		for _, e := range a.Evidence {
			ev := map[string]any{"type": []any{"Evidence"}}
			for k, v := range map[string]string{"id": e.ID, "name": e.Name, "description": e.Description, "narrative": e.Narrative, "genre": e.Genre} {
				if v = cleanText(v); v != "" {
					ev[k] = v
				}
			}
			evidence = append(evidence, ev)
		}
		doc["evidence"] = evidence
	}
	return doc
}
