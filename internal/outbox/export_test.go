package outbox

// SweepNext makes the producer's next step compare every subject.
func (p *Producer) SweepNext() { p.marked = false }
