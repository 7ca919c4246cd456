package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// testCredentialKeys checks keys round-trip, come back oldest first, and
// that a key ID is used once.
func testCredentialKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	if ks, err := s.CredentialKeys(ctx); err != nil || len(ks) != 0 {
		t.Fatalf("CredentialKeys on an empty store = %v, %v", ks, err)
	}
	k1 := store.CredentialKey{ID: "key-b", Seed: bytes.Repeat([]byte{1}, 32), CreatedAt: base}
	k2 := store.CredentialKey{ID: "key-a", Seed: bytes.Repeat([]byte{2}, 32), CreatedAt: base.Add(time.Hour)}
	k3 := store.CredentialKey{ID: "key-c", Seed: bytes.Repeat([]byte{3}, 32), CreatedAt: base.Add(time.Hour)}
	for _, k := range []store.CredentialKey{k3, k1, k2} {
		if err := s.AddCredentialKey(ctx, k); err != nil {
			t.Fatalf("AddCredentialKey(%s): %v", k.ID, err)
		}
	}
	wantCode(t, s.AddCredentialKey(ctx, k1), rung.ECONFLICT)
	ks, err := s.CredentialKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*store.CredentialKey{&k1, &k2, &k3} {
		k.CreatedAt = k.CreatedAt.UTC()
	}
	equal(t, "keys", ks, []store.CredentialKey{k1, k2, k3})
}

// testCredentials checks issued credentials round-trip, are found by ID
// and by award, that IDs, awards and status slots are used once, and that
// revocation keeps its first time and shows in the status list.
func testCredentials(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.Credential(ctx, "nope")
	wantCode(t, err, rung.ENOTFOUND)
	_, err = s.CredentialByAward(ctx, "nope")
	wantCode(t, err, rung.ENOTFOUND)
	wantCode(t, s.RevokeCredential(ctx, "nope", base), rung.ENOTFOUND)
	if got, err := s.RevokedStatusIndexes(ctx, 1); err != nil || len(got) != 0 {
		t.Fatalf("RevokedStatusIndexes on an empty store = %v, %v", got, err)
	}

	mk := func(id, award string, list, index int) store.IssuedCredential {
		return store.IssuedCredential{ID: id, Award: award, StatusList: list, StatusIndex: index,
			Body: []byte(`{"id":"` + id + `"}`), IssuedAt: base}
	}
	cs := []store.IssuedCredential{mk("c1", "a1", 1, 0), mk("c2", "a2", 1, 7), mk("c3", "a3", 1, 3), mk("c4", "a4", 2, 3)}
	for _, c := range cs {
		if err := s.PutCredential(ctx, c); err != nil {
			t.Fatalf("PutCredential(%s): %v", c.ID, err)
		}
	}
	wantCode(t, s.PutCredential(ctx, mk("c1", "other", 1, 100)), rung.ECONFLICT)
	wantCode(t, s.PutCredential(ctx, mk("c9", "a2", 1, 101)), rung.ECONFLICT)
	wantCode(t, s.PutCredential(ctx, mk("c9", "a9", 1, 7)), rung.ECONFLICT)

	want := cs[1]
	want.IssuedAt = base.UTC()
	got, err := s.Credential(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "credential", got, want)
	got, err = s.CredentialByAward(ctx, "a2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "credential by award", got, want)

	for _, id := range []string{"c2", "c3", "c4"} {
		if err := s.RevokeCredential(ctx, id, base.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeCredential(ctx, "c2", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err = s.Credential(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if !got.RevokedAt.Equal(base.Add(time.Minute)) {
		t.Errorf("revoked at %v, want the first revocation %v", got.RevokedAt, base.Add(time.Minute))
	}
	idx, err := s.RevokedStatusIndexes(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "revoked indexes of list 1", idx, []int{3, 7})
}

// testCredentialSlotsAreUnique checks concurrent callers never get the same
// status list slot and that slots start at 0 with no gaps.
func testCredentialSlotsAreUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	const workers, each = 4, 10
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				n, err := s.NextCredentialSlot(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[n] {
					t.Errorf("slot %d given twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i := range int64(workers * each) {
		if !seen[i] {
			t.Errorf("slot %d never given", i)
		}
	}
}
