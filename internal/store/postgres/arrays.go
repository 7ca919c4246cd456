package postgres

import (
	"encoding/binary"
)

// PostgreSQL's type OIDs of the parameters sent in binary by hand.
const (
	oidBool      = 16
	oidInt8      = 20
	oidText      = 25
	oidTextArray = 1009
	oidInt8Array = 1016
)

// binaryArray builds a one-dimensional array in PostgreSQL's binary format,
// element by element, without boxing each one as pgx's encoder does: the
// outbox producer sends tens of thousands of elements a step.
type binaryArray struct {
	b []byte
	n int
}

// newBinaryArray starts an array of elements of type elem, with room for
// size bytes of elements.
func newBinaryArray(elem uint32, size int) *binaryArray {
	b := make([]byte, 20, 20+size)
	binary.BigEndian.PutUint32(b[0:], 1) // dimensions
	binary.BigEndian.PutUint32(b[4:], 0) // has nulls: none
	binary.BigEndian.PutUint32(b[8:], elem)
	binary.BigEndian.PutUint32(b[16:], 1) // lower bound
	return &binaryArray{b: b}
}

func (a *binaryArray) text(s string) {
	a.b = binary.BigEndian.AppendUint32(a.b, uint32(len(s)))
	a.b = append(a.b, s...)
	a.n++
}

func (a *binaryArray) bytes(s []byte) {
	a.b = binary.BigEndian.AppendUint32(a.b, uint32(len(s)))
	a.b = append(a.b, s...)
	a.n++
}

func (a *binaryArray) int8(v int64) {
	a.b = binary.BigEndian.AppendUint32(a.b, 8)
	a.b = binary.BigEndian.AppendUint64(a.b, uint64(v))
	a.n++
}

// done returns the encoded array.
func (a *binaryArray) done() []byte {
	binary.BigEndian.PutUint32(a.b[12:], uint32(a.n))
	return a.b
}

func binaryInt8(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func binaryBool(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}
