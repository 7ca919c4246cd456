package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// webhookRecord is one record of the generic JSON webhook (docs/sources.md).
type webhookRecord struct {
	ID         string         `json:"id"`
	Object     string         `json:"object"`
	Version    json.Number    `json:"version"`
	OccurredAt string         `json:"occurred_at"`
	Deleted    bool           `json:"deleted"`
	Changed    []string       `json:"changed"`
	Fields     map[string]any `json:"fields"`
}

// ParseWebhook reads a generic webhook delivery: one record object, or a
// JSON array of them, each {"id", "object", "version", "occurred_at",
// "deleted", "changed", "fields"}; id and object are required, fields
// unless deleted.
func ParseWebhook(body []byte) ([]Change, error) {
	body = bytes.TrimSpace(body)
	var recs []webhookRecord
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var err error
	if len(body) > 0 && body[0] == '[' {
		err = dec.Decode(&recs)
	} else {
		var r webhookRecord
		err = dec.Decode(&r)
		recs = []webhookRecord{r}
	}
	if err != nil {
		return nil, fmt.Errorf(`expected a JSON object {"id", "object", "version", "occurred_at", "fields"} or an array of them: %v`, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("expected one JSON value, found more after it")
	}
	out := make([]Change, 0, len(recs))
	for i, r := range recs {
		switch {
		case strings.TrimSpace(r.ID) == "":
			return nil, fmt.Errorf("record %d: id is required: the record's id in the sending system", i)
		case strings.TrimSpace(r.Object) == "":
			return nil, fmt.Errorf("record %d (%s): object is required, like \"course\"", i, r.ID)
		case r.Fields == nil && !r.Deleted:
			return nil, fmt.Errorf("record %d (%s): fields is required (an object of the record's fields) unless deleted is true", i, r.ID)
		}
		c := Change{Object: r.Object, Record: r.ID, Deleted: r.Deleted, Changed: r.Changed, Fields: numbers(r.Fields)}
		if c.Fields == nil {
			c.Fields = map[string]any{}
		}
		c.Fields["id"] = r.ID
		if r.Version != "" {
			v, err := strconv.ParseInt(string(r.Version), 10, 64)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("record %d (%s): version %q is not a whole number of 0 or more", i, r.ID, r.Version)
			}
			c.Version = v
		}
		if r.OccurredAt != "" {
			t, ok := parseTime(r.OccurredAt)
			if !ok {
				return nil, fmt.Errorf("record %d (%s): occurred_at %q is not an RFC 3339 time such as 2026-11-02T14:00:00Z", i, r.ID, r.OccurredAt)
			}
			c.At = t
		}
		out = append(out, c)
	}
	return out, nil
}

// numbers turns the json.Numbers of decoded JSON into float64s, as the
// event API reads them.
func numbers(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = number(v)
	}
	return m
}

func number(v any) any {
	switch v := v.(type) {
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return f
		}
		return string(v)
	case map[string]any:
		return numbers(v)
	case []any:
		for i := range v {
			v[i] = number(v[i])
		}
	}
	return v
}
