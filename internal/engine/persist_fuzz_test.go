package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

// dumpSeed is the dump of a small engine with badges, challenges and a
// redemption, and the program versions to load it with.
func dumpSeed(t testing.TB) ([]byte, []*Version) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	h := newChallengeHarness(t, now)
	for i := 0; i < 12; i++ {
		at := time.Date(2026, 11, 1+i%5, 10, 0, 0, 0, berlin)
		h.send(ev(fmt.Sprintf("e%d", i), []string{"deal.won", "training.completed", "deal.registered", "certification.earned"}[i%4],
			"p1", []string{"m1", "m2"}[i%2], at, map[string]any{"amount": 900.0 * float64(i), "score": 80.0, "qualified": true, "cert_id": "A"}))
	}
	h.e.PutRedemption(rung.Redemption{ID: "r1", Reward: "mug", Partner: "p1", Member: "m1", Points: 5, Status: rung.RedemptionPending, RequestedAt: now})
	h.e.AddAdjustment(rung.Adjustment{ID: "a1", Partner: "p1", Member: "m2", Points: 3, OccurredAt: now})
	var buf bytes.Buffer
	if err := h.e.WriteDump(&buf, h.seq, 3); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), h.e.Versions()
}

// TestDamagedDumpIsAnError: a dump cut anywhere, or with any byte
// changed, gives an error and no engine.
func TestDamagedDumpIsAnError(t *testing.T) {
	good, vs := dumpSeed(t)
	if _, _, err := LoadDump(bytes.NewReader(good), vs); err != nil {
		t.Fatalf("the undamaged dump: %v", err)
	}
	check := func(what string, b []byte) {
		t.Helper()
		e, _, err := loadDump(bytes.NewReader(b), vs)
		if err == nil || e != nil {
			t.Fatalf("%s: no error", what)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range append([]int{0, 1, 11, 12, 13, len(good) - 9, len(good) - 1}, r.Perm(len(good))[:200]...) {
		check(fmt.Sprintf("cut at %d of %d", n, len(good)), good[:n])
	}
	for i := 0; i < 900; i++ {
		at := r.IntN(len(good))
		if i < 40 {
			at = i // the header and the first frame's length
		}
		b := append([]byte(nil), good...)
		b[at] ^= byte(1 + r.IntN(255))
		check(fmt.Sprintf("byte %d changed", at), b)
	}
}

// TestDamagedPayloadNeverPanics frames randomly damaged payloads with valid
// checksums, as FuzzLoadDumpPayload does, a few thousand times: the
// decoder's own checks give an error (or, rarely, some engine), never a
// panic (loadDump has no recover).
func TestDamagedPayloadNeverPanics(t *testing.T) {
	good, vs := dumpSeed(t)
	p := unframe(t, good)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 900; i++ {
		q := append([]byte(nil), p...)
		switch i % 3 {
		case 0: // one byte
			q[r.IntN(len(q))] = byte(r.IntN(256))
		case 1: // a large number where a small one was
			at := r.IntN(len(q) - 5)
			copy(q[at:], []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
		case 2: // cut
			q = q[:r.IntN(len(q))]
		}
		var buf bytes.Buffer
		x := newEnc(&buf, DumpFormat)
		x.buf = append(x.buf, q...)
		if err := x.close(); err != nil {
			t.Fatal(err)
		}
		loadDump(bytes.NewReader(buf.Bytes()), vs) //nolint:errcheck // only a panic fails
	}
}

// FuzzLoadDump feeds damaged dumps to the loader: an error, never a panic
// (the loader proper is called, without LoadDump's recover).
func FuzzLoadDump(f *testing.F) {
	good, vs := dumpSeed(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		e, _, err := loadDump(bytes.NewReader(b), vs)
		if err == nil && !bytes.Equal(b, good) {
			// Only the undamaged dump loads; anything else is a checksum
			// collision, which the fuzzer does not find by chance.
			t.Fatalf("damaged bytes loaded")
		}
		if err != nil && e != nil {
			t.Fatalf("an engine with an error")
		}
	})
}

// FuzzLoadDumpPayload frames damaged payloads with valid checksums, so the
// decoder itself meets every kind of bad number: an error or an engine,
// never a panic or a hang.
func FuzzLoadDumpPayload(f *testing.F) {
	good, vs := dumpSeed(f)
	payload := unframe(f, good)
	f.Add(payload)
	f.Add(payload[:len(payload)/3])
	f.Fuzz(func(t *testing.T, p []byte) {
		var buf bytes.Buffer
		x := newEnc(&buf, DumpFormat)
		x.buf = append(x.buf, p...)
		if err := x.close(); err != nil {
			t.Fatal(err)
		}
		loadDump(bytes.NewReader(buf.Bytes()), vs) //nolint:errcheck // only a panic fails
	})
}

// unframe returns a dump's payload.
func unframe(t testing.TB, b []byte) []byte {
	d, _, err := newDec(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for d.more() {
		out = append(out, d.fr.cur...)
		d.fr.cur = nil
	}
	return out
}
