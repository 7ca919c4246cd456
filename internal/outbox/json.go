package outbox

import (
	"strconv"
	"unicode/utf8"

	"github.com/rung-dev/rung/internal/engine"
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

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string as json.Marshal writes it: with
// <, > and & escaped for HTML, invalid UTF-8 as U+FFFD, and U+2028 and
// U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
