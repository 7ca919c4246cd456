package service

import (
	"context"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

// BenchmarkRedeem measures one redemption through the service on SQLite:
// the rules checked inside the store's write transaction (against every
// held redemption of the partner, a list that grows as the benchmark
// runs), the insert, the engine update and the audit entry.
func BenchmarkRedeem(b *testing.B) {
	s := open(b, b.TempDir()+"/rung.db")
	ctx := context.Background()
	if _, err := s.ApplyProgram(ctx, []byte(rewardsProgram), time.Time{}, "bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := s.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Partner p1"}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.PutMember(ctx, rung.Member{ID: "m1", Partner: "p1", Name: "Ann"}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Adjust(ctx, rung.Adjustment{Partner: "p1", Member: "m1", Points: 1 << 40, Reason: "bench"}, "bench"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Redeem(ctx, RedeemRequest{Reward: "coffee", Member: "m1", By: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
