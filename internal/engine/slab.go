package engine

// slab hands out the engine's small, long-lived per-event objects from
// blocks: one allocation per few hundred events instead of several per
// event, which is most of what the collector and the allocator cost during
// ingest and rebuilds. Events are never freed one by one (a retracted event
// keeps its state), so a block lives as long as the engine; room an event
// gives up (its evaluations grew, say) stays unused in its block.
type slab struct {
	fxBuf      []effects
	evalBuf    []ruleEval
	contribBuf []contrib
	markBuf    []*holding
	awardBuf   []Award
	// During a bulk load (startLoad) the blocks are made ahead, on
	// another goroutine.
	fxAhead      ahead[effects]
	evalAhead    ahead[ruleEval]
	contribAhead ahead[contrib]
	markAhead    ahead[*holding]
	awardAhead   ahead[Award]
}

// startLoad makes the slab's blocks ahead until endLoad.
func (s *slab) startLoad() {
	s.fxAhead.start(slabEffects)
	s.evalAhead.start(slabEvals)
	s.contribAhead.start(slabEvals)
	s.markAhead.start(slabEvals)
	s.awardAhead.start(slabAwards)
}

// endLoad stops making blocks ahead.
func (s *slab) endLoad() {
	s.fxAhead.stop()
	s.evalAhead.stop()
	s.contribAhead.stop()
	s.markAhead.stop()
	s.awardAhead.stop()
}

// slabAwards is how many awards a block holds.
const slabAwards = 128

// award returns a zeroed award. Only a bulk load takes awards from the
// slab: its awards mostly last, where live corrections replace theirs,
// whose room would then stay taken in a block.
func (s *slab) award() *Award {
	if len(s.awardBuf) == 0 {
		s.awardBuf = s.awardAhead.block(slabAwards)
	}
	a := &s.awardBuf[0]
	s.awardBuf = s.awardBuf[1:]
	return a
}

const (
	slabEvals   = 512
	slabEffects = 256
)

// effects returns a zeroed effects.
func (s *slab) effects() *effects {
	if len(s.fxBuf) == 0 {
		s.fxBuf = s.fxAhead.block(slabEffects)
	}
	fx := &s.fxBuf[0]
	s.fxBuf = s.fxBuf[1:]
	return fx
}

// evals returns a copy of evs with no room to grow.
func (s *slab) evals(evs []ruleEval) []ruleEval {
	n := len(evs)
	if n > slabEvals/8 {
		return append([]ruleEval(nil), evs...)
	}
	if len(s.evalBuf) < n {
		s.evalBuf = s.evalAhead.block(slabEvals)
	}
	out := s.evalBuf[:n:n]
	copy(out, evs)
	s.evalBuf = s.evalBuf[n:]
	return out
}

// contribs returns a copy of cs with no room to grow.
func (s *slab) contribs(cs []contrib) []contrib {
	n := len(cs)
	if n > slabEvals/8 {
		return append([]contrib(nil), cs...)
	}
	if len(s.contribBuf) < n {
		s.contribBuf = s.contribAhead.block(slabEvals)
	}
	out := s.contribBuf[:n:n]
	copy(out, cs)
	s.contribBuf = s.contribBuf[n:]
	return out
}

// marks returns a copy of hs with no room to grow.
func (s *slab) marks(hs []*holding) []*holding {
	n := len(hs)
	if n > slabEvals/8 {
		return append([]*holding(nil), hs...)
	}
	if len(s.markBuf) < n {
		s.markBuf = s.markAhead.block(slabEvals)
	}
	out := s.markBuf[:n:n]
	copy(out, hs)
	s.markBuf = s.markBuf[n:]
	return out
}
