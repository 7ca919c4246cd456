package simulate

import (
	"context"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/store"
)

// PointValue is the money value of one point under a program (its
// point_value, in its currency), for the reward liability of a
// simulation; false when the program gives none.
func PointValue(p *program.Program) (float64, bool) {
	if p == nil || p.PointValue <= 0 {
		return 0, false
	}
	return p.PointValue, true
}

// turn lets one simulation run at a time in a process: each one holds two
// engines of the whole history.
var turn = make(chan struct{}, 1)

// Wait waits for the process's turn to simulate and returns the function
// that ends it; it fails when ctx ends first.
func Wait(ctx context.Context) (done func(), err error) {
	select {
	case turn <- struct{}{}:
		return func() { <-turn }, nil
	case <-ctx.Done():
		return nil, rung.Errorf(rung.EUNAVAILABLE, "another simulation is running: try again when it has finished")
	}
}

// Serve simulates a draft over a running service's store: it waits for
// the process's turn, reads the store's history, and uses the live engine
// (read through live, under its read lock) as the baseline where it
// serves. The API and the console call it.
func Serve(ctx context.Context, st store.Store, live func(func(*engine.Engine) error) error, draft []byte, o Options) (*Report, error) {
	if _, err := program.Parse(draft); err != nil {
		return nil, err // before waiting: a bad draft is answered at once
	}
	done, err := Wait(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	h, err := Load(ctx, st)
	if err != nil {
		return nil, err
	}
	o.Live = live
	if o.PointValue == nil {
		o.PointValue = PointValue
	}
	return Run(ctx, h, draft, o)
}
