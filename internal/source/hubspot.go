package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hubspotEvent is one element of the JSON array HubSpot's webhooks post.
type hubspotEvent struct {
	EventID          json.Number `json:"eventId"`
	SubscriptionID   json.Number `json:"subscriptionId"`
	PortalID         json.Number `json:"portalId"`
	OccurredAt       json.Number `json:"occurredAt"`
	SubscriptionType string      `json:"subscriptionType"`
	AttemptNumber    json.Number `json:"attemptNumber"`
	ObjectID         json.Number `json:"objectId"`
	PropertyName     string      `json:"propertyName"`
	PropertyValue    any         `json:"propertyValue"`
	ChangeSource     string      `json:"changeSource"`
}

// HubSpotRecordField is the field that holds a HubSpot record's id.
const HubSpotRecordField = "hs_object_id"

// ParseHubSpot reads a HubSpot webhook delivery: a JSON array of
// subscription events (deal.propertyChange, company.creation,
// contact.deletion, ...). The events of one record are merged into one
// Change, in occurredAt order: its fields are the properties that changed
// and their new values, its version the latest occurredAt. Subscription
// types other than creation, propertyChange, deletion and restore are
// skipped (they carry no field values).
func ParseHubSpot(body []byte) ([]Change, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var evs []hubspotEvent
	if err := dec.Decode(&evs); err != nil {
		return nil, fmt.Errorf("expected the JSON array HubSpot posts ([{\"objectId\": ..., \"subscriptionType\": ...}]): %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("expected one JSON array, found more after it")
	}
	type key struct{ object, record string }
	byRecord := map[key]*Change{}
	var order []key
	slices.SortStableFunc(evs, func(a, b hubspotEvent) int { return strings.Compare(pad(a.OccurredAt), pad(b.OccurredAt)) })
	for i, ev := range evs {
		object, action, ok := strings.Cut(ev.SubscriptionType, ".")
		if !ok || object == "" {
			return nil, fmt.Errorf("event %d: subscriptionType %q is not like deal.propertyChange", i, ev.SubscriptionType)
		}
		id, err := strconv.ParseInt(string(ev.ObjectID), 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("event %d: objectId %q is not a HubSpot record id", i, ev.ObjectID)
		}
		at, err := strconv.ParseInt(string(ev.OccurredAt), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("event %d: occurredAt %q is not milliseconds since 1970", i, ev.OccurredAt)
		}
		t, ok := msTime(at)
		if !ok {
			return nil, fmt.Errorf("event %d: occurredAt %d is out of range", i, at)
		}
		switch action {
		case "creation", "propertyChange", "deletion", "restore":
		default:
			continue
		}
		k := key{object, strconv.FormatInt(id, 10)}
		c := byRecord[k]
		if c == nil {
			c = &Change{Object: object, Record: k.record, Changed: []string{}, Fields: map[string]any{HubSpotRecordField: k.record}}
			byRecord[k] = c
			order = append(order, k)
		}
		c.Version, c.At = max(c.Version, at), t
		switch action {
		case "deletion":
			c.Deleted = true
		case "creation", "restore":
			c.Deleted = false
		case "propertyChange":
			if ev.PropertyName == "" {
				return nil, fmt.Errorf("event %d: a propertyChange without propertyName", i)
			}
			c.Deleted = false
			v := ev.PropertyValue
			if n, ok := v.(json.Number); ok {
				v = string(n)
			}
			c.Fields[ev.PropertyName] = v
			if !slices.Contains(c.Changed, ev.PropertyName) {
				c.Changed = append(c.Changed, ev.PropertyName)
			}
		}
	}
	out := make([]Change, 0, len(order))
	for _, k := range order {
		out = append(out, *byRecord[k])
	}
	return out, nil
}

// pad makes a millisecond count sort as text.
func pad(n json.Number) string { return fmt.Sprintf("%020s", string(n)) }

// hubspotTimestampMax is how old HubSpot's X-HubSpot-Request-Timestamp may be.
const hubspotTimestampMax = 5 * time.Minute
