package credential

import (
	"testing"
	"testing/quick"
)

// TestStatusListHoldsExactlyTheRevokedBits checks, for random sets of
// revoked indexes, that the decoded list has those bits set and no other.
func TestStatusListHoldsExactlyTheRevokedBits(t *testing.T) {
	prop := func(raw []uint32) bool {
		set := map[int]bool{}
		var idx []int
		for _, r := range raw {
			i := int(r % StatusListSize)
			set[i] = true
			idx = append(idx, i)
		}
		enc, err := encodeStatusList(idx)
		if err != nil {
			return false
		}
		bits, err := decodeStatusList(enc)
		if err != nil || len(bits)*8 != StatusListSize {
			return false
		}
		count := 0
		for _, b := range bits {
			for ; b != 0; b &= b - 1 {
				count++
			}
		}
		if count != len(set) {
			return false
		}
		for i := range set {
			if on, err := statusBit(bits, i); err != nil || !on {
				return false
			}
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 200}); err != nil {
		t.Error(err)
	}
}

func TestStatusListRefusesWhatItCannotRead(t *testing.T) {
	for _, enc := range []string{"", "z123", "u!!!", "uAAAA"} {
		if _, err := decodeStatusList(enc); err == nil {
			t.Errorf("decodeStatusList(%q) gave no error", enc)
		}
	}
	if _, err := statusBit(make([]byte, 2), 16); err == nil {
		t.Error("a bit past the list was read")
	}
}
