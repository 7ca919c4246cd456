package service

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// slowKeys pauses APIKeyByHash for one secret after it has read the row,
// standing in for a request whose lookup is in flight while an admin revokes.
type slowKeys struct {
	*sqlite.Store
	target        [32]byte
	read, proceed chan struct{}
}

func (s *slowKeys) APIKeyByHash(ctx context.Context, h []byte) (rung.APIKey, error) {
	k, err := s.Store.APIKeyByHash(ctx, h)
	if [32]byte(h) == s.target && s.read != nil {
		close(s.read)
		<-s.proceed
		s.read = nil
	}
	return k, err
}

func TestRevokedKeyIsNotCachedByAnInFlightLookup(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sk := &slowKeys{Store: st, read: make(chan struct{}), proceed: make(chan struct{})}
	svc, err := Open(ctx, sk, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	k, secret, err := svc.CreateAPIKey(ctx, "ci", rung.ScopeAdmin, "test")
	if err != nil {
		t.Fatal(err)
	}
	sk.target = sha256.Sum256([]byte(secret))
	done := make(chan error)
	go func() { _, err := svc.Authenticate(ctx, secret); done <- err }()
	<-sk.read // the lookup has read the key, not yet cached it
	if err := svc.RevokeAPIKey(ctx, k.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	close(sk.proceed)
	<-done
	if _, err := svc.Authenticate(ctx, secret); err == nil {
		t.Fatal("a revoked key still authenticates: the in-flight lookup cached it after the revocation")
	}
}
