package outbox

import (
	"strconv"

	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/jsonstr"
)

// The producer writes a state and a message or two for every subject that
// changed, thousands a step under batch ingest, so it encodes them by hand
// instead of through encoding/json's reflection: the same bytes
// json.Marshal gives (TestHandEncodingIsEncodingJSONs).

// appendState appends s as json.Marshal encodes it.
func appendState(b []byte, s engine.SubjectState) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, s.ID)
	b = append(b, `,"kind":`...)
	b = appendString(b, s.Kind)
	b = appendField(b, `,"name":`, s.Name)
	b = appendField(b, `,"partner":`, s.Partner)
	b = append(b, `,"balance":`...)
	b = strconv.AppendInt(b, s.Balance, 10)
	b = append(b, `,"lifetime":`...)
	b = strconv.AppendInt(b, s.Lifetime, 10)
	b = appendField(b, `,"level":`, s.Level)
	b = appendField(b, `,"tier":`, s.Tier)
	b = append(b, `,"badges":`...)
	if s.Badges == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range s.Badges {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendString(b, r.ID)
			b = appendField(b, `,"name":`, r.Name)
			b = appendField(b, `,"level":`, r.Level)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendPoints appends p as json.Marshal encodes it.
func appendPoints(b []byte, p PointsPayload) []byte {
	b = appendHead(b, p.Subject, p.Kind, p.Partner)
	b = append(b, `,"balance":`...)
	b = strconv.AppendInt(b, p.Balance, 10)
	b = append(b, `,"lifetime":`...)
	b = strconv.AppendInt(b, p.Lifetime, 10)
	b = append(b, `,"previous_balance":`...)
	b = strconv.AppendInt(b, p.PreviousBalance, 10)
	return append(b, '}')
}

// appendLevel appends p as json.Marshal encodes it.
func appendLevel(b []byte, p LevelPayload) []byte {
	b = appendHead(b, p.Subject, p.Kind, p.Partner)
	b = append(b, `,"level":`...)
	b = appendString(b, p.Level)
	b = appendField(b, `,"previous":`, p.Previous)
	return append(b, '}')
}

// appendBadge appends p as json.Marshal encodes it.
func appendBadge(b []byte, p BadgePayload) []byte {
	b = appendHead(b, p.Subject, p.Kind, p.Partner)
	b = append(b, `,"badge":`...)
	b = appendString(b, p.Badge)
	b = appendField(b, `,"name":`, p.Name)
	b = appendField(b, `,"level":`, p.Level)
	return append(b, '}')
}

// appendHead opens a payload with the fields every per-subject payload
// starts with.
func appendHead(b []byte, subject, kind, partner string) []byte {
	b = append(b, `{"subject":`...)
	b = appendString(b, subject)
	b = append(b, `,"kind":`...)
	b = appendString(b, kind)
	return appendField(b, `,"partner":`, partner)
}

// appendField appends a string field tagged omitempty: nothing when v is
// empty.
func appendField(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(append(b, key...), v)
}

// appendString appends s as a JSON string as json.Marshal writes it, with
// <, > and & escaped for HTML.
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s, true) }
