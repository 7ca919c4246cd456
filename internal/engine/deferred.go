package engine

// Deferred reports whether the engine is in a bulk load (BeginBulk) that
// defers placing events to EndBulk: Apply then reads only a record's ID,
// Seq, Version, Retracted, ReceivedAt, Type, OccurredAt and Raw (it keeps a
// copy of Raw and decodes it when it places the event), so the record may
// come from store.Store.RecordHeads. A program with badges is replayed in
// the log's order, not deferred.
func (e *Engine) Deferred() bool { return e.bulk != nil }
