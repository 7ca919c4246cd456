package service

import (
	"context"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

// EventHistory is an event's effects with every version of it from the log.
type EventHistory struct {
	Effects  engine.Effects
	Versions []rung.Record
}

// EventEffects explains one event: its versions and everything it caused.
func (s *Service) EventEffects(ctx context.Context, id string) (EventHistory, rung.Event, error) {
	var eh EventHistory
	var body rung.Event
	err := s.Read(func(e *engine.Engine) error {
		ef, err := e.EventEffects(id)
		if err != nil {
			return err
		}
		eh.Effects = ef
		eh.Effects.Seqs = append([]int64(nil), ef.Seqs...)
		body = e.EventBody(id)
		return nil
	})
	if err != nil {
		return eh, body, err
	}
	recs, err := s.st.RecordsBySeq(ctx, eh.Effects.Seqs)
	if err != nil {
		return eh, body, err
	}
	eh.Versions = recs
	return eh, body, nil
}
