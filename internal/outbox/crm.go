package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// WriteBackFields are what CRM write-back can set on a partner's record.
var WriteBackFields = []string{"tier", "points", "level", "badges"}

// HubSpot writes partners' tier, points, level and badges to HubSpot
// company properties: PATCH {BaseURL}/crm/v3/objects/companies/{id} with
// {"properties": {...}} and the private app's token.
type HubSpot struct {
	BaseURL string // default https://api.hubapi.com
	Token   string
	// IDAttr is the partner attribute that holds the company's record id;
	// "" means the partner's id is the company id.
	IDAttr string
	// Properties maps a write-back field (tier, points, level, badges) to
	// the company property it is written to.
	Properties map[string]string
}

// Endpoint is crm:hubspot.
func (h *HubSpot) Endpoint() string { return "crm:hubspot" }

// Wants takes crm.sync messages.
func (h *HubSpot) Wants(t string) bool { return t == CRMSync }

// Send updates the company.
func (h *HubSpot) Send(ctx context.Context, c *http.Client, m store.OutboxMessage, _ time.Time) error {
	var p CRMPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return err
	}
	id, err := recordID(p, h.IDAttr, "HubSpot company")
	if err != nil {
		return err
	}
	props := map[string]string{}
	for field, prop := range h.Properties {
		props[prop] = fieldText(p, field)
	}
	base := strings.TrimRight(cmpOr(h.BaseURL, "https://api.hubapi.com"), "/")
	return patch(ctx, c, base+"/crm/v3/objects/companies/"+url.PathEscape(id), h.Token, map[string]any{"properties": props})
}

// Salesforce writes partners' tier, points, level and badges to fields of
// their Salesforce account: PATCH
// {InstanceURL}/services/data/{Version}/sobjects/Account/{id} with the
// fields and an OAuth access token.
type Salesforce struct {
	InstanceURL string // e.g. https://acme.my.salesforce.com
	Token       string
	Version     string // API version, default v60.0
	// IDAttr is the partner attribute that holds the account's record id
	// (18 characters); "" means the partner's id is the account id.
	IDAttr string
	// Fields maps a write-back field (tier, points, level, badges) to the
	// account field it is written to, e.g. Rung_Tier__c.
	Fields map[string]string
}

// Endpoint is crm:salesforce.
func (s *Salesforce) Endpoint() string { return "crm:salesforce" }

// Wants takes crm.sync messages.
func (s *Salesforce) Wants(t string) bool { return t == CRMSync }

// Send updates the account.
func (s *Salesforce) Send(ctx context.Context, c *http.Client, m store.OutboxMessage, _ time.Time) error {
	var p CRMPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return err
	}
	id, err := recordID(p, s.IDAttr, "Salesforce account")
	if err != nil {
		return err
	}
	fields := map[string]any{}
	for field, name := range s.Fields {
		if field == "points" {
			fields[name] = p.Points
		} else {
			fields[name] = fieldText(p, field)
		}
	}
	u := strings.TrimRight(s.InstanceURL, "/") + "/services/data/" + cmpOr(s.Version, "v60.0") + "/sobjects/Account/" + url.PathEscape(id)
	return patch(ctx, c, u, s.Token, fields)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func recordID(p CRMPayload, attr, what string) (string, error) {
	if attr == "" {
		return p.Partner, nil
	}
	if id := p.Attrs[attr]; id != "" {
		return id, nil
	}
	return "", fmt.Errorf("partner %s has no %s id in its attribute %q: set it with PUT /api/v1/partners/%s", p.Partner, what, attr, p.Partner)
}

// fieldText is a write-back field as text; badges are joined with ";", as
// HubSpot multi-select and Salesforce multi-select picklist values are.
func fieldText(p CRMPayload, field string) string {
	switch field {
	case "tier":
		return p.Tier
	case "points":
		return strconv.FormatInt(p.Points, 10)
	case "level":
		return p.Level
	case "badges":
		return strings.Join(p.Badges, ";")
	}
	return ""
}

func patch(ctx context.Context, c *http.Client, u, token string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return do(c, req)
}

var fieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// ParseFieldMap reads a write-back mapping "tier=rung_tier,points=rung_points":
// which field goes to which CRM property or field. what names the flag in
// errors.
func ParseFieldMap(what, s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "" || v == "":
			return nil, rung.Errorf(rung.EINVALID, "%s: %q is not field=property; write e.g. tier=rung_tier,points=rung_points", what, part)
		case !slices.Contains(WriteBackFields, k):
			return nil, rung.Errorf(rung.EINVALID, "%s: %q is not a write-back field; use one of %s", what, k, strings.Join(WriteBackFields, ", "))
		case !fieldName.MatchString(v):
			return nil, rung.Errorf(rung.EINVALID, "%s: %q is not a property name (letters, digits and _)", what, v)
		case out[k] != "":
			return nil, rung.Errorf(rung.EINVALID, "%s: %s is mapped twice", what, k)
		}
		out[k] = v
	}
	return out, nil
}
