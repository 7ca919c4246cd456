package api

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the ingest path's JSON reader: a hand-written, one-pass
// decoder for event objects. encoding/json spent about 4 µs per event on
// reflection and on scanning every value twice; this reader scans once
// and builds the values directly.
//
// It accepts exactly what encoding/json accepts when it decodes into
// wireEvent with unknown fields disallowed, and yields the same values:
// the same grammar (no leading zeros, no NaN, control characters must be
// escaped), object keys matched to fields case-insensitively with Unicode
// simple folding, the last of duplicate keys winning, duplicate "attrs"
// objects merged, null leaving a string field alone and clearing attrs,
// invalid UTF-8 and lone surrogates turned into U+FFFD, numbers in attrs
// as float64 (a number beyond float64's range rejects the event), and
// nesting limited to 10,000 levels. FuzzDecodeEventDifferential holds it
// to that against the encoding/json implementation kept in the tests.

// maxDepth is how deeply objects and arrays may nest, counted as
// encoding/json counts: the event object is level 1.
const maxDepth = 10000

// maxNames bounds the strings one decoder interns.
const maxNames = 512

// eventDecoder reads events from one body.
type eventDecoder struct {
	data []byte
	pos  int
	buf  []byte // a string with escapes decoded, being built
	// text holds the event's string fields end to end until eventObject
	// makes them one string: one allocation for them all.
	text []byte
	// names interns attrs keys, types and sources: a batch repeats them
	// thousands of times.
	names map[string]string
	// bigNumber is the first number too large for a float64 met since it
	// was last cleared.
	bigNumber string
}

// decodedEvent is what one JSON value yielded, read as an event.
type decodedEvent struct {
	w wireEvent
	// problem is the first thing wrong with the event's shape, in the
	// order encoding/json meets them; "" if nothing is.
	problem string
	object  bool // the value is a JSON object
	// lastIDString says the last "id" member was a string; idBigNumber
	// that some "id" member held a number beyond float64. DecodeEvent
	// needs both to name a rejected event as encoding/json did.
	lastIDString, idBigNumber bool
	// text is where each string field's value lies in d.text.
	text [fieldSource + 1]span
}

type span struct {
	start, end int
	set        bool
}

// syntaxError is JSON that is not well formed.
type syntaxError struct {
	Offset int // bytes into the input where the problem is
	msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("%s (at byte %d)", e.msg, e.Offset)
}

func (d *eventDecoder) syntax(format string, args ...any) error {
	return &syntaxError{Offset: d.pos, msg: fmt.Sprintf(format, args...)}
}

// unexpected describes the byte at d.pos, or the end of the input, when
// want was expected there.
func (d *eventDecoder) unexpected(want string) error {
	if d.pos >= len(d.data) {
		return d.syntax("the JSON ends early: expected %s", want)
	}
	return d.syntax("found %s where %s was expected", describeByte(d.data[d.pos]), want)
}

func describeByte(c byte) string {
	switch {
	case c == '\'':
		return `"'"`
	case c > ' ' && c < utf8.RuneSelf:
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (d *eventDecoder) skipSpace() {
	for d.pos < len(d.data) && isSpace(d.data[d.pos]) {
		d.pos++
	}
}

// event reads the JSON value at d.pos as an event. A syntax error (the
// value is not well formed) is returned; anything else wrong is left in
// ev.problem, and the rest of the value is still read. depth is how many
// arrays and objects enclose the value.
func (d *eventDecoder) event(ev *decodedEvent, depth int) error {
	if d.pos >= len(d.data) {
		return d.unexpected("an event object")
	}
	switch c := d.data[d.pos]; c {
	case '{':
		ev.object = true
		return d.eventObject(ev, depth+1)
	case 'n':
		// encoding/json decodes null into a struct as nothing at all.
		return d.literal("null")
	default:
		kind := jsonKind(c)
		if err := d.skip(depth); err != nil {
			return err
		}
		ev.problem = "an event must be a JSON object, not " + kind
		return nil
	}
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "null"
	}
	return "a JSON number"
}

type eventField int

const (
	fieldUnknown eventField = iota
	fieldID
	fieldType
	fieldPartner
	fieldMember
	fieldOccurredAt
	fieldAttrs
	fieldSource
)

var fieldNames = [...]string{"", "id", "type", "partner", "member", "occurred_at", "attrs", "source"}

const allowedFields = "allowed: id, type, partner, member, occurred_at, attrs, source"

// fieldOf finds the event field a key names. Like encoding/json, it takes
// an exact match first, then one that differs only in case (Unicode
// simple folding: "ID" and "ſource" name id and source).
func fieldOf(key []byte) eventField {
	switch string(key) {
	case "id":
		return fieldID
	case "type":
		return fieldType
	case "partner":
		return fieldPartner
	case "member":
		return fieldMember
	case "occurred_at":
		return fieldOccurredAt
	case "attrs":
		return fieldAttrs
	case "source":
		return fieldSource
	}
	var folded [len("OCCURRED_AT")]byte
	n := 0
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			i++
		} else {
			r, size := utf8.DecodeRune(key[i:])
			i += size
			r = foldRune(r)
			if r >= utf8.RuneSelf {
				return fieldUnknown
			}
			c = byte(r)
		}
		if n == len(folded) {
			return fieldUnknown
		}
		folded[n] = c
		n++
	}
	switch string(folded[:n]) {
	case "ID":
		return fieldID
	case "TYPE":
		return fieldType
	case "PARTNER":
		return fieldPartner
	case "MEMBER":
		return fieldMember
	case "OCCURRED_AT":
		return fieldOccurredAt
	case "ATTRS":
		return fieldAttrs
	case "SOURCE":
		return fieldSource
	}
	return fieldUnknown
}

// foldRune is the smallest rune that r folds to: 'S' for 'ſ', 'K' for
// the Kelvin sign.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// eventObject reads an event object; d.pos is at its '{'.
func (d *eventDecoder) eventObject(ev *decodedEvent, depth int) error {
	if depth > maxDepth {
		return d.syntax("the JSON nests objects and arrays more than %d deep", maxDepth)
	}
	d.text = d.text[:0]
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.unexpected("a field name in double quotes")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		f := fieldOf(key)
		if f == fieldUnknown && ev.problem == "" {
			ev.problem = fmt.Sprintf("unknown field %q (%s)", key, allowedFields)
		}
		if err := d.colon(); err != nil {
			return err
		}
		switch f {
		case fieldUnknown:
			err = d.skip(depth)
		case fieldAttrs:
			err = d.attrs(ev, depth)
		default:
			err = d.stringField(ev, f, depth)
		}
		if err != nil {
			return err
		}
		more, err := d.next('}', "a field value")
		if err != nil {
			return err
		}
		if !more {
			d.setText(ev)
			return nil
		}
		d.skipSpace()
	}
}

// setText gives the event's string fields their values from d.text.
func (d *eventDecoder) setText(ev *decodedEvent) {
	if len(d.text) == 0 {
		return // all empty, or none there
	}
	text := string(d.text)
	for f, sp := range ev.text {
		if !sp.set {
			continue
		}
		v := text[sp.start:sp.end]
		switch eventField(f) {
		case fieldID:
			ev.w.ID = v
		case fieldType:
			ev.w.Type = v
		case fieldPartner:
			ev.w.Partner = v
		case fieldMember:
			ev.w.Member = v
		case fieldOccurredAt:
			ev.w.OccurredAt = v
		case fieldSource:
			ev.w.Source = v
		}
	}
}

// colon reads the ':' after an object key, and the space around it.
func (d *eventDecoder) colon() error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return d.unexpected("':' after the field name")
	}
	d.pos++
	d.skipSpace()
	return nil
}

// next reads what follows a member of an object or array: a ',' (more
// is true) or the closing byte.
func (d *eventDecoder) next(closing byte, after string) (more bool, err error) {
	d.skipSpace()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			return true, nil
		case closing:
			d.pos++
			return false, nil
		}
	}
	return false, d.unexpected(fmt.Sprintf("',' or '%c' after %s", closing, after))
}

// stringField reads the value of one of the event's string fields.
func (d *eventDecoder) stringField(ev *decodedEvent, f eventField, depth int) error {
	if d.pos >= len(d.data) {
		return d.unexpected("a value")
	}
	c := d.data[d.pos]
	switch c {
	case '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		switch {
		case f == fieldType && d.names != nil:
			ev.w.Type = d.name(s)
		case f == fieldSource && d.names != nil:
			ev.w.Source = d.name(s)
		default:
			start := len(d.text)
			d.text = append(d.text, s...)
			ev.text[f] = span{start, len(d.text), true}
		}
		if f == fieldID {
			ev.lastIDString = true
		}
		return nil
	case 'n':
		// null leaves a string as it was (for "id", json.Unmarshal into
		// any makes it nil, which DecodeEvent's id recovery sees).
		if f == fieldID {
			ev.lastIDString = false
		}
		return d.literal("null")
	}
	if ev.problem == "" {
		ev.problem = fmt.Sprintf("field %q must be a string, not %s", fieldNames[f], jsonKind(c))
	}
	if f != fieldID {
		return d.skip(depth)
	}
	ev.lastIDString = false
	d.bigNumber = ""
	_, err := d.value(depth)
	if d.bigNumber != "" {
		ev.idBigNumber = true
	}
	return err
}

// attrs reads the value of "attrs": an object whose members join any
// read before (as encoding/json merges duplicate keys into one map), or
// null, which clears them.
func (d *eventDecoder) attrs(ev *decodedEvent, depth int) error {
	if d.pos >= len(d.data) {
		return d.unexpected("a value")
	}
	switch c := d.data[d.pos]; c {
	case '{':
		if ev.w.Attrs == nil {
			ev.w.Attrs = make(map[string]any)
		}
		d.bigNumber = ""
		if err := d.objectInto(ev.w.Attrs, depth+1); err != nil {
			return err
		}
		if d.bigNumber != "" && ev.problem == "" {
			ev.problem = fmt.Sprintf("attrs holds the number %s, which is beyond the range of a 64-bit float", d.bigNumber)
		}
		return nil
	case 'n':
		ev.w.Attrs = nil
		return d.literal("null")
	default:
		if ev.problem == "" {
			ev.problem = "field \"attrs\" must be an object, not " + jsonKind(c)
		}
		return d.skip(depth)
	}
}

// value reads any JSON value as encoding/json decodes it into an any:
// map[string]any, []any, string, float64, bool or nil.
func (d *eventDecoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.unexpected("a value")
	}
	switch c := d.data[d.pos]; c {
	case '{':
		m := make(map[string]any)
		return m, d.objectInto(m, depth+1)
	case '[':
		return d.array(depth + 1)
	case '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return string(s), nil
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		b, err := d.number()
		if err != nil {
			return nil, err
		}
		f, ok := parseFloat(b)
		if !ok {
			if d.bigNumber == "" {
				d.bigNumber = string(b)
			}
			return nil, nil
		}
		return f, nil
	}
}

// objectInto reads an object's members into m; d.pos is at its '{'.
func (d *eventDecoder) objectInto(m map[string]any, depth int) error {
	if depth > maxDepth {
		return d.syntax("the JSON nests objects and arrays more than %d deep", maxDepth)
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.unexpected("a key in double quotes")
		}
		k, err := d.str()
		if err != nil {
			return err
		}
		key := d.name(k)
		if err := d.colon(); err != nil {
			return err
		}
		v, err := d.value(depth)
		if err != nil {
			return err
		}
		m[key] = v
		if more, err := d.next('}', "an object member"); !more || err != nil {
			return err
		}
		d.skipSpace()
	}
}

// array reads an array; d.pos is at its '['.
func (d *eventDecoder) array(depth int) ([]any, error) {
	if depth > maxDepth {
		return nil, d.syntax("the JSON nests objects and arrays more than %d deep", maxDepth)
	}
	a := make([]any, 0)
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if more, err := d.next(']', "an array element"); !more || err != nil {
			return a, err
		}
		d.skipSpace()
	}
}

// skip reads past one JSON value, checking that it is well formed.
func (d *eventDecoder) skip(depth int) error {
	if d.pos >= len(d.data) {
		return d.unexpected("a value")
	}
	switch c := d.data[d.pos]; c {
	case '{', '[':
		if depth++; depth > maxDepth {
			return d.syntax("the JSON nests objects and arrays more than %d deep", maxDepth)
		}
		closing, after := byte('}'), "an object member"
		if c == '[' {
			closing, after = ']', "an array element"
		}
		d.pos++
		d.skipSpace()
		if d.pos < len(d.data) && d.data[d.pos] == closing {
			d.pos++
			return nil
		}
		for {
			if c == '{' {
				if d.pos >= len(d.data) || d.data[d.pos] != '"' {
					return d.unexpected("a key in double quotes")
				}
				if _, err := d.str(); err != nil {
					return err
				}
				if err := d.colon(); err != nil {
					return err
				}
			}
			if err := d.skip(depth); err != nil {
				return err
			}
			if more, err := d.next(closing, after); !more || err != nil {
				return err
			}
			d.skipSpace()
		}
	case '"':
		_, err := d.str()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		_, err := d.number()
		return err
	}
}

// literal reads true, false or null.
func (d *eventDecoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			if i == 0 {
				return d.unexpected("a value")
			}
			return d.unexpected(fmt.Sprintf("%q", word))
		}
		d.pos++
	}
	return nil
}

// number reads a number in JSON's grammar: an optional minus, an integer
// without leading zeros, an optional fraction and exponent.
func (d *eventDecoder) number() ([]byte, error) {
	data, start := d.data, d.pos
	i := start
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i++; i < len(data) && isDigit(data[i]); i++ {
		}
	default:
		d.pos = i
		if i == start {
			return nil, d.unexpected("a value")
		}
		return nil, d.unexpected("a digit after '-'")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			d.pos = i
			return nil, d.unexpected("a digit after the decimal point")
		}
		for i++; i < len(data) && isDigit(data[i]); i++ {
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			d.pos = i
			return nil, d.unexpected("a digit in the exponent")
		}
		for i++; i < len(data) && isDigit(data[i]); i++ {
		}
	}
	d.pos = i
	return data[start:i], nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat converts a well-formed JSON number to the float64 that
// strconv.ParseFloat gives, and false when it is beyond float64's range.
// Numbers of at most 15 significant digits and a small exponent take a
// short cut: the digits and the power of ten are both exact in a float64,
// so one correctly rounded multiplication or division gives the correctly
// rounded result, as ParseFloat's does.
func parseFloat(b []byte) (float64, bool) {
	i, neg := 0, false
	if b[0] == '-' {
		i, neg = 1, true
	}
	var mant uint64
	digits, scale := 0, 0
	for ; i < len(b) && isDigit(b[i]); i++ {
		mant = mant*10 + uint64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && isDigit(b[i]); i++ {
			mant = mant*10 + uint64(b[i]-'0')
			digits++
			scale--
		}
	}
	if i < len(b) {
		// An exponent: leave it to strconv unless it is short.
		i++
		expNeg := false
		if b[i] == '+' || b[i] == '-' {
			expNeg = b[i] == '-'
			i++
		}
		if len(b)-i > 3 {
			return slowFloat(b)
		}
		exp := 0
		for ; i < len(b); i++ {
			exp = exp*10 + int(b[i]-'0')
		}
		if expNeg {
			exp = -exp
		}
		scale += exp
	}
	// digits counts leading zeros too ("0.000001" has 7), which only
	// makes the short cut more careful than it needs to be.
	if digits > 15 || scale < -22 || scale > 22 {
		return slowFloat(b)
	}
	f := float64(mant)
	if scale < 0 {
		f /= exactPow10[-scale]
	} else {
		f *= exactPow10[scale]
	}
	if neg {
		f = -f
	}
	return f, true
}

func slowFloat(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// str reads a JSON string; d.pos is at its opening quote. It returns the
// string's bytes with escapes decoded and each byte of invalid UTF-8 (and
// each lone surrogate escape) made U+FFFD, as encoding/json does. The
// result is only good until the next call: copy it to keep it.
func (d *eventDecoder) str() ([]byte, error) {
	data := d.data
	start := d.pos + 1
	i := start
	for i < len(data) {
		c := data[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c == '"' {
			d.pos = i + 1
			return data[start:i], nil
		}
		if c < utf8.RuneSelf {
			break // a '\\' or a control character
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	return d.strSlow(start, i)
}

// plainASCII marks the bytes that stand for themselves in a JSON string.
var plainASCII = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// strSlow finishes reading a string whose bytes from start to i need
// nothing done, building the decoded string in d.buf.
func (d *eventDecoder) strSlow(start, i int) ([]byte, error) {
	data := d.data
	b := append(d.buf[:0], data[start:i]...)
	defer func() { d.buf = b[:0] }()
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return b, nil
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = len(data)
				return nil, d.unexpected("an escape after '\\'")
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(data, i+2)
				if !ok {
					d.pos = i
					return nil, d.syntax("a \\u escape needs four hex digits")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A surrogate counts only as the first half of a pair
					// written as two escapes; alone it is U+FFFD.
					r2 := rune(-1)
					if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						if v, ok := hex4(data, i+2); ok {
							r2 = v
						}
					}
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						r = pair
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				d.pos = i
				return nil, d.syntax("%s is not a JSON escape (use \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)", describeEscape(e))
			}
			i += 2
		case c < ' ':
			d.pos = i
			return nil, d.syntax("a string holds the control character 0x%02x: escape it (\\n, \\t, \\u00XX)", c)
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, r)
			} else {
				b = append(b, data[i:i+size]...)
			}
			i += size
		}
	}
	d.pos = len(data)
	return nil, d.syntax("the JSON ends inside a string: its closing '\"' is missing")
}

func describeEscape(c byte) string {
	if c > ' ' && c < utf8.RuneSelf {
		return "\\" + string(rune(c))
	}
	return fmt.Sprintf("'\\' followed by byte 0x%02x", c)
}

// hex4 reads the four hex digits of a \u escape at data[i:].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// name returns s as a string, shared with earlier equal ones when the
// decoder interns (d.names is not nil): the keys, types and sources of a
// batch repeat.
func (d *eventDecoder) name(s []byte) string {
	if v, ok := d.names[string(s)]; ok {
		return v
	}
	v := string(s)
	if d.names != nil && len(v) <= 64 && len(d.names) < maxNames {
		d.names[v] = v
	}
	return v
}
