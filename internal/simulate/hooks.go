package simulate

import (
	"context"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// PointValue is the money value of one point under a program, for the
// reward liability of a simulation. Programs carry no point value yet, so
// it reports none; it is the one place to read it once they do.
func PointValue(p *program.Program) (float64, bool) { return 0, false }

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
