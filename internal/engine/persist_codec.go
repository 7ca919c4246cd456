package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// The framing of a state dump (persist.go): after an 8-byte magic and the
// format version (4 bytes, little endian), the payload comes in frames,
// each a uvarint length (at most frameMax), that many bytes and their
// CRC-32C (4 bytes, little endian); a frame of length 0 ends the dump and is
// followed by the payload's total length (8 bytes, little endian). A reader
// checks each frame's checksum before it decodes a byte of it, so damaged
// or cut bytes are an error, never a state.

// snapMagic starts every dump.
const snapMagic = "RUNGSNAP"

// frameMax is the most payload bytes one frame holds.
const frameMax = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrSnapshotCorrupt is wrapped by the errors of bytes that are not a
// whole, undamaged dump.
var ErrSnapshotCorrupt = errors.New("engine state dump is damaged or cut short")

// enc writes a dump's payload in frames.
type enc struct {
	w     io.Writer
	buf   []byte
	total uint64
	err   error
}

func newEnc(w io.Writer, format uint32) *enc {
	x := &enc{w: w, buf: make([]byte, 0, frameMax+64)}
	head := append([]byte(snapMagic), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(head[len(snapMagic):], format)
	_, x.err = w.Write(head)
	return x
}

// flush writes the bytes gathered so far as one frame.
func (x *enc) flush() {
	if x.err != nil || len(x.buf) == 0 {
		return
	}
	x.frame(x.buf)
	x.buf = x.buf[:0]
}

func (x *enc) frame(b []byte) {
	var head [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(head[:], uint64(len(b)))
	if _, err := x.w.Write(head[:n]); err != nil {
		x.err = err
		return
	}
	if _, err := x.w.Write(b); err != nil {
		x.err = err
		return
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc32.Checksum(b, castagnoli))
	if _, err := x.w.Write(sum[:]); err != nil {
		x.err = err
	}
	x.total += uint64(len(b))
}

// room flushes when the frame is full.
func (x *enc) room() {
	for len(x.buf) >= frameMax && x.err == nil {
		full := x.buf
		x.frame(full[:frameMax])
		x.buf = append(x.buf[:0], full[frameMax:]...)
	}
}

// close writes the end of the dump.
func (x *enc) close() error {
	x.room()
	x.flush()
	if x.err != nil {
		return x.err
	}
	var tail [9]byte
	binary.LittleEndian.PutUint64(tail[1:], x.total)
	_, x.err = x.w.Write(tail[:])
	return x.err
}

func (x *enc) u(v uint64) {
	x.buf = binary.AppendUvarint(x.buf, v)
	x.room()
}

func (x *enc) i(v int64) {
	x.buf = binary.AppendVarint(x.buf, v)
	x.room()
}

func (x *enc) b(v bool) {
	if v {
		x.u(1)
	} else {
		x.u(0)
	}
}

func (x *enc) f(v float64) {
	x.buf = binary.LittleEndian.AppendUint64(x.buf, math.Float64bits(v))
	x.room()
}

func (x *enc) s(v string) {
	x.u(uint64(len(v)))
	x.buf = append(x.buf, v...)
	x.room()
}

func (x *enc) bytes(v []byte) {
	x.u(uint64(len(v)))
	x.buf = append(x.buf, v...)
	x.room()
}

func (x *enc) strs(vs []string) {
	x.u(uint64(len(vs)))
	for _, v := range vs {
		x.s(v)
	}
}

// t writes a time with its zone offset (time.Time.MarshalBinary).
func (x *enc) t(v time.Time) {
	b, err := v.MarshalBinary()
	if err != nil {
		if x.err == nil {
			x.err = fmt.Errorf("engine state dump: time %v: %w", v, err)
		}
		return
	}
	x.bytes(b)
}

// fail records the first error that makes the dump impossible.
func (x *enc) fail(format string, args ...any) {
	if x.err == nil {
		x.err = fmt.Errorf("engine state dump: "+format, args...)
	}
}

// frameReader hands out the payload of checked frames.
type frameReader struct {
	r     *bufio.Reader
	cur   []byte
	buf   []byte
	total uint64
	end   bool
}

func (f *frameReader) next() error {
	if f.end {
		return io.EOF
	}
	n, err := binary.ReadUvarint(f.r)
	if err != nil {
		return fmt.Errorf("%w: frame length: %v", ErrSnapshotCorrupt, err)
	}
	if n > frameMax {
		return fmt.Errorf("%w: a frame of %d bytes", ErrSnapshotCorrupt, n)
	}
	if n == 0 {
		var tail [8]byte
		if _, err := io.ReadFull(f.r, tail[:]); err != nil {
			return fmt.Errorf("%w: end: %v", ErrSnapshotCorrupt, err)
		}
		if got := binary.LittleEndian.Uint64(tail[:]); got != f.total {
			return fmt.Errorf("%w: %d payload bytes, the end says %d", ErrSnapshotCorrupt, f.total, got)
		}
		f.end = true
		return io.EOF
	}
	if cap(f.buf) < int(n)+4 {
		f.buf = make([]byte, int(n)+4)
	}
	b := f.buf[:n+4]
	if _, err := io.ReadFull(f.r, b); err != nil {
		return fmt.Errorf("%w: frame: %v", ErrSnapshotCorrupt, err)
	}
	if crc32.Checksum(b[:n], castagnoli) != binary.LittleEndian.Uint32(b[n:]) {
		return fmt.Errorf("%w: a frame's checksum does not match", ErrSnapshotCorrupt)
	}
	f.total += n
	f.cur = b[:n]
	return nil
}

// dec reads a dump's payload. The first error sticks: every later read
// gives zero values, and counts give 0, so loops end.
type dec struct {
	fr  frameReader
	err error
}

func newDec(r io.Reader) (*dec, uint32, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head := make([]byte, len(snapMagic)+4)
	if _, err := io.ReadFull(br, head); err != nil {
		return nil, 0, fmt.Errorf("%w: header: %v", ErrSnapshotCorrupt, err)
	}
	if string(head[:len(snapMagic)]) != snapMagic {
		return nil, 0, fmt.Errorf("%w: not an engine state dump", ErrSnapshotCorrupt)
	}
	return &dec{fr: frameReader{r: br}}, binary.LittleEndian.Uint32(head[len(snapMagic):]), nil
}

func (d *dec) ok() bool { return d.err == nil }

func (d *dec) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrSnapshotCorrupt}, args...)...)
	}
}

// more makes sure some payload is at hand.
func (d *dec) more() bool {
	for len(d.fr.cur) == 0 {
		if d.err != nil {
			return false
		}
		if err := d.fr.next(); err != nil {
			if err == io.EOF {
				d.fail("the payload ends early")
			} else {
				d.err = err
			}
			return false
		}
	}
	return true
}

func (d *dec) byte1() byte {
	if !d.more() {
		return 0
	}
	c := d.fr.cur[0]
	d.fr.cur = d.fr.cur[1:]
	return c
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	if v, n := binary.Uvarint(d.fr.cur); n > 0 {
		d.fr.cur = d.fr.cur[n:]
		return v
	}
	// Across a frame boundary, or bad.
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c := d.byte1()
		if d.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.fail("a number runs too long")
	return 0
}

func (d *dec) i() int64 {
	u := d.u()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *dec) b() bool {
	switch d.u() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("a flag is neither 0 nor 1")
	return false
}

// n reads a count of at most max.
func (d *dec) n(max int) int {
	v := d.u()
	if v > uint64(max) {
		d.fail("a count of %d, at most %d expected", v, max)
		return 0
	}
	return int(v)
}

// int reads an int that fits 32 bits.
func (d *dec) int() int {
	v := d.i()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail("a number %d out of range", v)
		return 0
	}
	return int(v)
}

// u32 reads a number below max.
func (d *dec) u32(max uint64) uint32 {
	v := d.u()
	if v > max || v > math.MaxUint32 {
		d.fail("%d is out of range (at most %d)", v, max)
		return 0
	}
	return uint32(v)
}

func (d *dec) f() float64 {
	var b [8]byte
	d.raw(b[:])
	return math.Float64frombits(binary.LittleEndian.Uint64(b[:]))
}

// raw fills b.
func (d *dec) raw(b []byte) {
	for len(b) > 0 && d.more() {
		n := copy(b, d.fr.cur)
		d.fr.cur = d.fr.cur[n:]
		b = b[n:]
	}
}

// maxString bounds one string or byte run (a body block is the largest).
const maxString = 1 << 30

func (d *dec) bytes() []byte {
	n := d.n(maxString)
	if n == 0 || d.err != nil {
		return nil
	}
	return d.bytesN(n)
}

func (d *dec) s() string {
	n := d.n(maxString)
	if n == 0 || d.err != nil {
		return ""
	}
	if n <= len(d.fr.cur) {
		s := string(d.fr.cur[:n])
		d.fr.cur = d.fr.cur[n:]
		return s
	}
	return string(d.bytesN(n))
}

// bytesN reads n bytes. It grows as the bytes arrive: a damaged count
// must not allocate first.
func (d *dec) bytesN(n int) []byte {
	var b []byte
	for len(b) < n && d.more() {
		k := min(n-len(b), len(d.fr.cur))
		b = append(b, d.fr.cur[:k]...)
		d.fr.cur = d.fr.cur[k:]
	}
	return b
}

func (d *dec) strs() []string {
	n := d.n(maxString)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, min(n, 64))
	for i := 0; i < n && d.ok(); i++ {
		out = append(out, d.s())
	}
	return out
}

func (d *dec) t() time.Time {
	b := d.bytes()
	var t time.Time
	if d.err != nil {
		return t
	}
	if err := t.UnmarshalBinary(b); err != nil {
		d.fail("a time: %v", err)
	}
	return t
}

// end checks that the payload ended where the dump says it does.
func (d *dec) end() error {
	if d.err != nil {
		return d.err
	}
	if len(d.fr.cur) != 0 {
		return fmt.Errorf("%w: %d bytes left over", ErrSnapshotCorrupt, len(d.fr.cur))
	}
	if err := d.fr.next(); err != io.EOF {
		if err == nil {
			return fmt.Errorf("%w: bytes left over", ErrSnapshotCorrupt)
		}
		return err
	}
	return nil
}
