package engine

import "github.com/rung-dev/rung"

// Subjects finds records' partners and members by id for ApplyResolved, on
// a goroutine other than the one applying: a replay that reads and decodes
// the log on one core and applies on another moves the lookups (a wait for
// memory each, at millions of records) off the applying core. It holds a
// copy of the engine's subjects as they stand when it is made, so it never
// reads the engine and is safe to use while the engine applies; it is not
// safe for concurrent use by several goroutines.
type Subjects struct {
	partners map[string]uint32 // handle + 1
	members  map[string]uint32 // handle + 1
	ids      []string          // every subject's id: partners by handle, then members
	np       int               // how many of ids are partners
}

// Subject is a record's partner and member as Subjects found them.
type Subject struct {
	p, m uint32 // handle + 1; 0 for none (unknown)
}

// Subjects returns the engine's partners and members as they stand now.
// Records resolved with it may be applied with ApplyResolved as long as no
// partner or member is added to the engine.
func (e *Engine) Subjects() *Subjects {
	s := &Subjects{
		partners: make(map[string]uint32, len(e.partnerByHandle)),
		members:  make(map[string]uint32, len(e.memberByHandle)),
		ids:      make([]string, 0, len(e.partnerByHandle)+len(e.memberByHandle)),
		np:       len(e.partnerByHandle),
	}
	for _, p := range e.partnerByHandle {
		s.partners[p.id] = p.handle + 1
		s.ids = append(s.ids, p.id)
	}
	for _, m := range e.memberByHandle {
		s.members[m.m.ID] = m.handle + 1
		s.ids = append(s.ids, m.m.ID)
	}
	return s
}

// Fits reports whether s resolves subjects for e too: e holds the same
// partners and members under the same handles (engines given the same
// subjects in the same order do).
func (s *Subjects) Fits(e *Engine) bool {
	if len(e.partnerByHandle) != s.np || len(e.memberByHandle) != len(s.ids)-s.np {
		return false
	}
	for i, p := range e.partnerByHandle {
		if p.id != s.ids[i] {
			return false
		}
	}
	for i, m := range e.memberByHandle {
		if m.m.ID != s.ids[s.np+i] {
			return false
		}
	}
	return true
}

// Resolve finds the event's partner and member.
func (s *Subjects) Resolve(ev *rung.Event) Subject {
	var r Subject
	r.p = s.partners[ev.Partner]
	if ev.Member != "" {
		r.m = s.members[ev.Member]
	}
	return r
}

// ApplyResolved is Apply for a record whose subjects r found, with
// Subjects made from this engine (or one that Fits it) since which no
// partner or member was added. It does what Apply does.
func (e *Engine) ApplyResolved(rec *rung.Record, r Subject) []Note {
	return e.apply(rec, &r)
}
