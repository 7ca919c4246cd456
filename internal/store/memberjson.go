package store

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rung-dev/rung"
)

// decodeMember decodes the JSON body of a member as json.Unmarshal does, for
// the bodies MarshalMember writes (and PostgreSQL's jsonb gives back, spaced
// and reordered): the known keys, each once, spelled as written; strings
// without escapes; attributes of strings, numbers, booleans and nulls. It
// reports false, having changed nothing, on anything else, which
// json.Unmarshal then decodes. A start reads every member (~10 µs each
// through encoding/json, a second at 100,000 members); FuzzDecodeMember
// holds the two to the same result.
func decodeMember(b []byte, m *rung.Member) bool {
	if m.Attrs != nil || m.Memberships != nil {
		return false // json.Unmarshal would merge into them
	}
	d := memberDecoder{b: b}
	var out rung.Member
	if !d.member(&out) {
		return false
	}
	d.space()
	if d.pos != len(d.b) {
		return false
	}
	*m = out
	return true
}

type memberDecoder struct {
	b   []byte
	pos int
}

// The keys of a member's body, as bits of what was seen.
const (
	keyID = 1 << iota
	keyPartner
	keyName
	keyEmail
	keyRole
	keyJoinedAt
	keyAttrs
	keyMemberships
	keyLeftAt
)

func (d *memberDecoder) member(m *rung.Member) bool {
	return d.object(func(key []byte) (int, bool) {
		switch string(key) {
		case "id":
			return keyID, d.str(&m.ID)
		case "partner":
			return keyPartner, d.str(&m.Partner)
		case "name":
			return keyName, d.str(&m.Name)
		case "email":
			return keyEmail, d.str(&m.Email)
		case "role":
			return keyRole, d.str(&m.Role)
		case "joined_at":
			return keyJoinedAt, d.time(&m.JoinedAt)
		case "attrs":
			return keyAttrs, d.attrs(&m.Attrs)
		case "memberships":
			return keyMemberships, d.memberships(&m.Memberships)
		}
		return 0, false
	})
}

func (d *memberDecoder) memberships(ms *[]rung.Membership) bool {
	if !d.byte('[') {
		return false
	}
	out := []rung.Membership{}
	d.space()
	if d.byte(']') {
		*ms = out
		return true
	}
	for {
		var x rung.Membership
		ok := d.object(func(key []byte) (int, bool) {
			switch string(key) {
			case "partner":
				return keyPartner, d.str(&x.Partner)
			case "joined_at":
				return keyJoinedAt, d.time(&x.JoinedAt)
			case "left_at":
				return keyLeftAt, d.time(&x.LeftAt)
			}
			return 0, false
		})
		if !ok {
			return false
		}
		out = append(out, x)
		d.space()
		if d.byte(']') {
			*ms = out
			return true
		}
		if !d.byte(',') {
			return false
		}
		d.space()
	}
}

func (d *memberDecoder) attrs(attrs *map[string]any) bool {
	a := map[string]any{}
	ok := d.object(func(key []byte) (int, bool) {
		v, ok := d.scalar()
		a[string(key)] = v
		return 0, ok // a key sent twice: the last value, as json.Unmarshal
	})
	if ok {
		*attrs = a
	}
	return ok
}

// object reads an object, calling value for each key with the decoder at
// the key's value; value says whether the value decoded, and the key's bit
// of what was seen (0 for a key that may come again). A key that comes
// again fails the object.
func (d *memberDecoder) object(value func(key []byte) (bit int, ok bool)) bool {
	seen := 0
	d.space()
	if !d.byte('{') {
		return false
	}
	d.space()
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.raw()
		if !ok {
			return false
		}
		d.space()
		if !d.byte(':') {
			return false
		}
		d.space()
		bit, ok := value(key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		d.space()
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
		d.space()
	}
}

func (d *memberDecoder) space() {
	for d.pos < len(d.b) {
		switch d.b[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *memberDecoder) byte(c byte) bool {
	if d.pos < len(d.b) && d.b[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// raw reads a string without escapes and returns its bytes.
func (d *memberDecoder) raw() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	n := bytes.IndexByte(d.b[d.pos:], '"')
	if n < 0 {
		return nil, false
	}
	s := d.b[d.pos : d.pos+n]
	var all byte
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
		all |= c
	}
	if all >= utf8.RuneSelf && !utf8.Valid(s) {
		return nil, false
	}
	d.pos += n + 1
	return s, true
}

func (d *memberDecoder) str(s *string) bool {
	b, ok := d.raw()
	if ok {
		*s = string(b)
	}
	return ok
}

// time reads a time as time.Time's UnmarshalJSON does: RFC 3339, strictly.
func (d *memberDecoder) time(t *time.Time) bool {
	b, ok := d.raw()
	return ok && t.UnmarshalText(b) == nil
}

// scalar reads a string, a number, a boolean or null as json.Unmarshal
// does into an any.
func (d *memberDecoder) scalar() (any, bool) {
	if d.pos >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.pos]; {
	case c == '"':
		var s string
		return s, d.str(&s)
	case c == 't':
		return true, d.word("true")
	case c == 'f':
		return false, d.word("false")
	case c == 'n':
		return nil, d.word("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, false
}

func (d *memberDecoder) word(w string) bool {
	if len(d.b)-d.pos >= len(w) && string(d.b[d.pos:d.pos+len(w)]) == w {
		d.pos += len(w)
		return true
	}
	return false
}

// number reads a number of JSON's grammar into a float64.
func (d *memberDecoder) number() (any, bool) {
	start := d.pos
	d.byte('-')
	digits := func() int {
		n := 0
		for d.pos < len(d.b) && d.b[d.pos] >= '0' && d.b[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.byte('0') {
		// no digits may follow a leading zero
	} else if digits() == 0 {
		return nil, false
	}
	if d.byte('.') && digits() == 0 {
		return nil, false
	}
	if d.byte('e') || d.byte('E') {
		if !d.byte('+') {
			d.byte('-')
		}
		if digits() == 0 {
			return nil, false
		}
	}
	f, err := strconv.ParseFloat(string(d.b[start:d.pos]), 64)
	return f, err == nil
}
