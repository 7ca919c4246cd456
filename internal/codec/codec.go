package codec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/rung-dev/rung"
)

// The record codec stores the body of an event-log record (everything but
// its id, version and seq, which are columns of their own) in a compact
// binary form. The format, version 1:
//
//	version  byte  (1)
//	flags    byte  bit 0 retracted; bits 1-2 occurred_at form; bits 3-4 received_at form
//	type, partner, member, source   strings: uvarint length, bytes
//	occurred_at, received_at        each in its form (see below)
//	attrs    uvarint count+1 (0 = nil map), then count × (key string, value)
//
// A time's form is 0 for the zero time (nothing written), 1 for unix
// nanoseconds as a zigzag varint (years 1678 to 2262), 2 for unix seconds as
// a zigzag varint followed by the nanoseconds as a uvarint (any other year).
//
// A value starts with a tag byte: nil, false, true, a float64 (8 bytes,
// little endian), an integer (zigzag varint; used for every float64 that
// holds an integer of at most 2^53, so amounts and scores take a few bytes),
// a string, an array (uvarint count, values) or an object (uvarint count,
// key strings and values). Object keys are written sorted, so equal records
// encode to equal bytes.
const codecVersion = 1

// Value tags.
const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagFloat
	tagInt
	tagString
	tagArray
	tagObject
)

// Time forms.
const (
	timeZero  = 0
	timeNanos = 1
	timeWide  = 2
)

const (
	flagRetracted     = 1 << 0
	flagOccurredShift = 1
	flagReceivedShift = 3
	flagKnown         = 0x1f
)

// maxDepth bounds the nesting of arrays and objects in attrs, both ways.
const maxDepth = 64

// maxPrealloc caps the room made ahead for an array or object: a count
// read from hostile bytes, times the nesting depth, must not turn into a
// large allocation before the elements are actually there.
const maxPrealloc = 16

// maxExactInt is the largest integer a float64 holds exactly.
const maxExactInt = 1 << 53

// ErrCorrupt is wrapped by every error DecodeRecord returns for bytes that
// are not a well-formed record.
var ErrCorrupt = errors.New("corrupt record")

// EncodeRecord appends the binary body of r to dst and returns the extended
// slice. It encodes the event's type, partner, member, source, occurred_at
// and attrs, and the record's received_at and retracted flag; the event id,
// the version and the seq are not part of the body.
//
// Attrs may hold what encoding/json decodes into an any (nil, bool, float64,
// string, []any, map[string]any); int, int32, int64, float32, []string and
// map[string]string and json.Number are accepted too. DecodeRecord returns every number as a
// float64 (integers beyond 2^53 lose precision, as they would through JSON),
// []string as []any, map[string]string as map[string]any, and a nil slice or
// nested map as an empty one. Any other type is an EINVALID error.
func EncodeRecord(dst []byte, r *rung.Record) ([]byte, error) {
	ev := &r.Event
	of, rf := timeForm(ev.OccurredAt), timeForm(r.ReceivedAt)
	flags := byte(of<<flagOccurredShift | rf<<flagReceivedShift)
	if r.Retracted {
		flags |= flagRetracted
	}
	dst = append(dst, codecVersion, flags)
	dst = appendString(dst, ev.Type)
	dst = appendString(dst, ev.Partner)
	dst = appendString(dst, ev.Member)
	dst = appendString(dst, ev.Source)
	dst = appendTime(dst, ev.OccurredAt, of)
	dst = appendTime(dst, r.ReceivedAt, rf)
	if ev.Attrs == nil {
		return append(dst, 0), nil
	}
	dst = binary.AppendUvarint(dst, uint64(len(ev.Attrs))+1)
	dst, err := appendObjectBody(dst, ev.Attrs, 1)
	if err != nil {
		return nil, rung.Errorf(rung.EINVALID, "event %q: attrs: %v", ev.ID, err)
	}
	return dst, nil
}

// AppendRecord appends r's encoding to dst: r.Raw when the record carries
// it (the writer encoded it already), EncodeRecord's output otherwise.
func AppendRecord(dst []byte, r *rung.Record) ([]byte, error) {
	if r.Raw != nil {
		return append(dst, r.Raw...), nil
	}
	return EncodeRecord(dst, r)
}

// DecodeRecord sets r's event body from b, as EncodeRecord wrote it: every
// field but Seq, Version and Event.ID, which it leaves alone. Times come back
// in UTC without a monotonic reading. The strings and the attrs map it sets
// are newly allocated and do not alias b, so they stay valid after b is
// reused. Bytes that are not a record give an error wrapping ErrCorrupt,
// never a panic, and leave r's body fields unspecified; whatever the bytes,
// decoding allocates in proportion to len(b), plus at most some 16 KB.
func DecodeRecord(b []byte, r *rung.Record) error {
	return decodeRecord(b, r, nil, nil)
}

// Names hands out one string for each event type and source a reader of
// the log meets, for DecodeRecordNamed. It is not safe for concurrent use.
type Names struct{ m map[string]string }

// maxNames bounds a Names: past it, new names are not kept.
const maxNames = 4096

// name returns s, or the equal string met first.
func (n *Names) name(s string) string {
	if v, ok := n.m[s]; ok {
		return v
	}
	if n.m == nil {
		n.m = make(map[string]string)
	}
	if len(n.m) < maxNames {
		s = strings.Clone(s)
		n.m[s] = s
	}
	return s
}

// owned is name for a string that may point into memory written later: a
// name that is not kept is copied.
func (n *Names) owned(s string) string {
	if v, ok := n.m[s]; ok {
		return v
	}
	if s = strings.Clone(s); n.m == nil {
		n.m = make(map[string]string)
	}
	if len(n.m) < maxNames {
		n.m[s] = s
	}
	return s
}

// DecodeRecordNamed is DecodeRecord that takes the event's type and source
// from names when it has them (and adds them when not): records decoded
// with the same Names share those strings. DecodeRecord's strings share one
// allocation per record, so a reader that keeps only the type (as the
// engine keeps every event's) would keep the whole allocation alive.
func DecodeRecordNamed(b []byte, r *rung.Record, names *Names) error {
	return decodeRecord(b, r, nil, names)
}

// DecodeRecordReusing is DecodeRecord that clears attrs and fills it with
// the record's attributes instead of allocating a new map (r's Attrs is then
// attrs, or nil when the record has none), for a reader that is done with
// one record's attributes before it decodes the next.
func DecodeRecordReusing(b []byte, r *rung.Record, attrs map[string]any) error {
	return decodeRecord(b, r, attrs, nil)
}

// DecodeRecordHead is DecodeRecordNamed for a reader that needs a record's
// head but not its attributes (start-up hands the engine the encoded body,
// which it keeps and decodes again when it evaluates the event): it checks
// the whole record as DecodeRecord does, and fails alike, but leaves Attrs
// nil and allocates nothing but new names. Partner and Member point into b:
// they are valid only as long as b is not written.
func DecodeRecordHead(b []byte, r *rung.Record, names *Names) error {
	if names == nil {
		names = new(Names)
	}
	return decodeHead(b, r, names)
}

// header checks a record's first two bytes and returns its flags.
func header(b []byte) (byte, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(b))
	}
	if b[0] != codecVersion {
		return 0, fmt.Errorf("%w: unknown format version %d", ErrCorrupt, b[0])
	}
	if b[1]&^flagKnown != 0 {
		return 0, fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, b[1])
	}
	return b[1], nil
}

func decodeHead(b []byte, r *rung.Record, names *Names) error {
	flags, err := header(b)
	if err != nil {
		return err
	}
	var d decoder
	if len(b) > 2 {
		d.s = unsafe.String(&b[2], len(b)-2)
	}
	ev := &r.Event
	r.Retracted = flags&flagRetracted != 0
	ev.Type = names.owned(d.str())
	ev.Partner = d.str()
	ev.Member = d.str()
	ev.Source = names.owned(d.str())
	ev.OccurredAt = d.time(int(flags>>flagOccurredShift) & 3)
	r.ReceivedAt = d.time(int(flags>>flagReceivedShift) & 3)
	ev.Attrs = nil
	if n := d.uvarint(); n > 0 && d.err == nil {
		d.skipObject(n-1, 1)
	}
	if d.err == nil && d.pos != len(d.s) {
		d.fail("%d trailing bytes", len(d.s)-d.pos)
	}
	return d.err
}

// DecodeRecordKept is DecodeRecordReusing for a body that is never written
// again (a copy the caller keeps as long as anything may hold the record's
// strings): they point into b itself, so decoding allocates nothing for
// them. Type and source come from names, as with DecodeRecordNamed; attrs
// may be nil, for a new map.
func DecodeRecordKept(b []byte, r *rung.Record, attrs map[string]any, names *Names) error {
	flags, err := header(b)
	if err != nil {
		return err
	}
	var s string
	if len(b) > 2 {
		s = unsafe.String(&b[2], len(b)-2)
	}
	return decodeBody(s, flags, r, attrs, names)
}

func decodeRecord(b []byte, r *rung.Record, reuse map[string]any, names *Names) error {
	flags, err := header(b)
	if err != nil {
		return err
	}
	// One string holds every string of the record; the fields are slices
	// of it, which saves an allocation per string.
	return decodeBody(string(b[2:]), flags, r, reuse, names)
}

// decodeBody decodes a record's body, s, whose header held flags.
func decodeBody(s string, flags byte, r *rung.Record, reuse map[string]any, names *Names) error {
	d := decoder{s: s}
	ev := &r.Event
	r.Retracted = flags&flagRetracted != 0
	ev.Type = d.str()
	ev.Partner = d.str()
	ev.Member = d.str()
	ev.Source = d.str()
	if names != nil {
		ev.Type, ev.Source = names.name(ev.Type), names.name(ev.Source)
	}
	ev.OccurredAt = d.time(int(flags>>flagOccurredShift) & 3)
	r.ReceivedAt = d.time(int(flags>>flagReceivedShift) & 3)
	n := d.uvarint()
	ev.Attrs = nil
	if n > 0 && d.err == nil {
		if reuse != nil {
			clear(reuse)
			ev.Attrs = d.fill(reuse, n-1, 1)
		} else {
			ev.Attrs = d.object(n-1, 1)
		}
	}
	if d.err == nil && d.pos != len(d.s) {
		d.fail("%d trailing bytes", len(d.s)-d.pos)
	}
	if d.err != nil {
		ev.Attrs = nil
		return d.err
	}
	return nil
}

func timeForm(t time.Time) int {
	switch {
	case t.IsZero():
		return timeZero
	case InNanoRange(t):
		return timeNanos
	default:
		return timeWide
	}
}

// minNanoSec and maxNanoSec bound the unix seconds whose nanoseconds fit an
// int64, with a second of margin on each side.
const (
	minNanoSec = math.MinInt64/1_000_000_000 + 1
	maxNanoSec = math.MaxInt64/1_000_000_000 - 1
)

// InNanoRange reports whether t's unix nanoseconds fit an int64.
func InNanoRange(t time.Time) bool {
	s := t.Unix()
	return s >= minNanoSec && s <= maxNanoSec
}

func appendTime(dst []byte, t time.Time, form int) []byte {
	switch form {
	case timeNanos:
		return binary.AppendVarint(dst, t.UnixNano())
	case timeWide:
		dst = binary.AppendVarint(dst, t.Unix())
		return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendObjectBody[V any](dst []byte, m map[string]V, depth int) ([]byte, error) {
	var keysBuf [16]string
	keys := keysBuf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var err error
	for _, k := range keys {
		dst = appendString(dst, k)
		if dst, err = appendValue(dst, m[k], depth); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return dst, nil
}

func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch v.(type) {
	case []any, []string, map[string]any, map[string]string:
		if depth >= maxDepth {
			return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
		}
	}
	switch v := v.(type) {
	case nil:
		return append(dst, tagNil), nil
	case bool:
		if v {
			return append(dst, tagTrue), nil
		}
		return append(dst, tagFalse), nil
	case float64:
		return appendFloat(dst, v), nil
	case float32:
		return appendFloat(dst, float64(v)), nil
	case int:
		return appendInt(dst, int64(v)), nil
	case int32:
		return appendInt(dst, int64(v)), nil
	case int64:
		return appendInt(dst, v), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, fmt.Errorf("number %q: %w", v, err)
		}
		return appendFloat(dst, f), nil
	case string:
		return appendString(append(dst, tagString), v), nil
	case []any:
		dst = binary.AppendUvarint(append(dst, tagArray), uint64(len(v)))
		var err error
		for i, e := range v {
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return dst, nil
	case []string:
		dst = binary.AppendUvarint(append(dst, tagArray), uint64(len(v)))
		for _, e := range v {
			dst = appendString(append(dst, tagString), e)
		}
		return dst, nil
	case map[string]any:
		dst = binary.AppendUvarint(append(dst, tagObject), uint64(len(v)))
		return appendObjectBody(dst, v, depth+1)
	case map[string]string:
		dst = binary.AppendUvarint(append(dst, tagObject), uint64(len(v)))
		return appendObjectBody(dst, v, depth+1)
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

func appendFloat(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && f >= -maxExactInt && f <= maxExactInt && !(f == 0 && math.Signbit(f)) {
		return binary.AppendVarint(append(dst, tagInt), int64(f))
	}
	return binary.LittleEndian.AppendUint64(append(dst, tagFloat), math.Float64bits(f))
}

func appendInt(dst []byte, i int64) []byte {
	return binary.AppendVarint(append(dst, tagInt), i)
}

// decoder reads a record body held in one string. The first error sticks;
// later reads return zero values.
type decoder struct {
	s   string
	pos int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %s", ErrCorrupt, d.pos+2, fmt.Sprintf(format, args...))
	}
	d.pos = len(d.s)
}

func (d *decoder) uvarint() uint64 {
	if d.pos < len(d.s) {
		if c := d.s[d.pos]; c < 0x80 {
			d.pos++
			return uint64(c)
		}
	}
	var x uint64
	var s uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if d.pos >= len(d.s) {
			d.fail("truncated varint")
			return 0
		}
		c := d.s[d.pos]
		d.pos++
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			return x | uint64(c)<<s
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	d.fail("varint overflows 64 bits")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a length or count that must not exceed the bytes left, since
// each unit takes at least one byte; this bounds every allocation.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.pos) {
		d.fail("length %d exceeds the %d bytes left", n, len(d.s)-d.pos)
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.count()
	s := d.s[d.pos : d.pos+n]
	d.pos += n
	return s
}

func (d *decoder) time(form int) time.Time {
	switch form {
	case timeZero:
		return time.Time{}
	case timeNanos:
		return time.Unix(0, d.varint()).UTC()
	case timeWide:
		sec := d.varint()
		nsec := d.uvarint()
		if nsec >= 1e9 {
			d.fail("nanoseconds %d out of range", nsec)
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	}
	d.fail("unknown time form %d", form)
	return time.Time{}
}

func (d *decoder) object(n uint64, depth int) map[string]any {
	if n > uint64(len(d.s)-d.pos) {
		d.fail("count %d exceeds the %d bytes left", n, len(d.s)-d.pos)
		return nil
	}
	return d.fill(make(map[string]any, min(n, maxPrealloc)), n, depth)
}

// fill reads n key-value pairs into m.
func (d *decoder) fill(m map[string]any, n uint64, depth int) map[string]any {
	if n > uint64(len(d.s)-d.pos) {
		d.fail("count %d exceeds the %d bytes left", n, len(d.s)-d.pos)
		return nil
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := d.str()
		m[k] = d.value(depth)
	}
	return m
}

// skipObject checks n key-value pairs as fill reads them, keeping nothing.
func (d *decoder) skipObject(n uint64, depth int) {
	if n > uint64(len(d.s)-d.pos) {
		d.fail("count %d exceeds the %d bytes left", n, len(d.s)-d.pos)
		return
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		d.str()
		d.skipValue(depth)
	}
}

// skipValue checks a value as value reads it, keeping nothing.
func (d *decoder) skipValue(depth int) {
	if d.pos >= len(d.s) {
		d.fail("truncated value")
		return
	}
	tag := d.s[d.pos]
	d.pos++
	switch tag {
	case tagNil, tagFalse, tagTrue:
	case tagFloat:
		if len(d.s)-d.pos < 8 {
			d.fail("truncated float")
			return
		}
		d.pos += 8
	case tagInt:
		d.varint()
	case tagString:
		d.str()
	case tagArray:
		if depth >= maxDepth {
			d.fail("nested deeper than %d levels", maxDepth)
			return
		}
		n := d.count()
		for i := 0; i < n && d.err == nil; i++ {
			d.skipValue(depth + 1)
		}
	case tagObject:
		if depth >= maxDepth {
			d.fail("nested deeper than %d levels", maxDepth)
			return
		}
		d.skipObject(d.uvarint(), depth+1)
	default:
		d.fail("unknown value tag %d", tag)
	}
}

func (d *decoder) value(depth int) any {
	if d.pos >= len(d.s) {
		d.fail("truncated value")
		return nil
	}
	tag := d.s[d.pos]
	d.pos++
	switch tag {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagFloat:
		if len(d.s)-d.pos < 8 {
			d.fail("truncated float")
			return nil
		}
		u := uint64(d.s[d.pos]) | uint64(d.s[d.pos+1])<<8 | uint64(d.s[d.pos+2])<<16 |
			uint64(d.s[d.pos+3])<<24 | uint64(d.s[d.pos+4])<<32 | uint64(d.s[d.pos+5])<<40 |
			uint64(d.s[d.pos+6])<<48 | uint64(d.s[d.pos+7])<<56
		d.pos += 8
		return math.Float64frombits(u)
	case tagInt:
		return float64(d.varint())
	case tagString:
		return d.str()
	case tagArray:
		if depth >= maxDepth {
			d.fail("nested deeper than %d levels", maxDepth)
			return nil
		}
		n := d.count()
		a := make([]any, 0, min(n, maxPrealloc))
		for i := 0; i < n && d.err == nil; i++ {
			a = append(a, d.value(depth+1))
		}
		return a
	case tagObject:
		if depth >= maxDepth {
			d.fail("nested deeper than %d levels", maxDepth)
			return nil
		}
		return d.object(d.uvarint(), depth+1)
	}
	d.fail("unknown value tag %d", tag)
	return nil
}
