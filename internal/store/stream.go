package store

import (
	"context"
	"fmt"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
)

// RowFunc receives one raw row of the event log. The id and the body are
// copied before it returns, so the caller may reuse them.
type RowFunc func(seq int64, id []byte, version int, body []byte) error

// StreamRecords is the common half of Store.Records. It runs read on a
// goroutine of its own, which also decodes the rows read emits into
// records, a chunk at a time, while the calling goroutine calls fn with
// each record in order: reading from the database and decoding overlap
// with fn's own work. The records of one call share their type and source
// strings (codec.DecodeRecordNamed).
//
// read must emit rows in Seq order and stop when emit returns an error
// (which it then returns). When fn fails, StreamRecords cancels read's
// context and returns fn's error as it is. Other errors start with the
// store's name: read's own, and for a record that does not decode, one
// wrapping codec.ErrCorrupt that names the record's seq and id.
func StreamRecords(ctx context.Context, storeName string, read func(ctx context.Context, emit RowFunc) error, fn func(*rung.Record) error) error {
	return stream(ctx, storeName, read, func(r *rung.Record, _ Lent) error { return fn(r) }, modeRecords)
}

// StreamHeads is StreamRecords for Store.RecordHeads: records are decoded
// with codec.DecodeRecordHead, and a chunk's memory is reused once fn has
// seen its records.
func StreamHeads(ctx context.Context, storeName string, read func(ctx context.Context, emit RowFunc) error, fn func(*rung.Record) error) error {
	return stream(ctx, storeName, read, func(r *rung.Record, _ Lent) error { return fn(r) }, modeHeads)
}

// Lent is where a record StreamLent hands over is kept: Block holds the
// encodings of a run of records, that record's Raw at Off, and is never
// written again; N numbers the runs of one stream from 1.
type Lent struct {
	Block []byte
	N     uint32
	Off   uint32
}

// StreamLent is StreamRecords for a caller that keeps every record's Block
// for good, as an engine keeps its body blocks: each record is decoded in
// place, its strings pointing into Block rather than into a copy of their
// own, so a string the caller keeps keeps the whole block. A caller that
// keeps less must use StreamRecords. A record's Attrs map is the
// stream's, refilled for a later record once fn returns: fn may keep its
// values, not the map.
func StreamLent(ctx context.Context, storeName string, read func(ctx context.Context, emit RowFunc) error, fn func(*rung.Record, Lent) error) error {
	return stream(ctx, storeName, read, fn, modeLent)
}

// Lender is a Store that streams its log as StreamLent does.
type Lender interface {
	RecordsLent(ctx context.Context, after int64, fn func(*rung.Record, Lent) error) error
}

// mode is how a stream decodes its records.
type mode int

const (
	modeRecords mode = iota // whole records, their strings fresh
	modeHeads               // heads, the bodies' memory reused
	modeLent                // whole records, decoded in place in memory lent to fn
)

func stream(ctx context.Context, storeName string, read func(ctx context.Context, emit RowFunc) error, fn func(*rung.Record, Lent) error, m mode) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan *chunk, chunksInFlight)
	free := make(chan *chunk, chunksInFlight)
	for range chunksInFlight {
		free <- &chunk{mode: m}
	}
	readErr := make(chan error, 1)
	go func() {
		var c *chunk
		var chunks uint32
		names := new(codec.Names)
		send := func() error {
			select {
			case full <- c:
				c = nil
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := read(ctx, func(seq int64, id []byte, version int, body []byte) error {
			if c == nil {
				select {
				case c = <-free:
					chunks++
					c.reset(chunks)
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			c.add(seq, id, version, body)
			if len(c.seqs) == rowsPerChunk || len(c.bodies) >= chunkBytes {
				c.decode(storeName, names)
				return send()
			}
			return nil
		})
		if err == nil && c != nil {
			c.decode(storeName, names)
			err = send()
		}
		readErr <- err
		close(full)
	}()
	var err error
	for c := range full {
		if err == nil {
			if err = c.each(fn); err != nil {
				cancel() // stops read; the loop drains what it sent
			}
		}
		free <- c
	}
	if rerr := <-readErr; err == nil && rerr != nil {
		return fmt.Errorf("%s: records: %w", storeName, rerr)
	}
	return err
}

// chunksInFlight is how many chunks read may fill ahead of fn.
const chunksInFlight = 3

// rowsPerChunk is how many rows read hands over at a time, and chunkBytes
// how many bytes of bodies at most (the last body may take a chunk past
// it): a lent chunk's bodies are one of an engine's body blocks.
const (
	rowsPerChunk = 256
	chunkBytes   = 256 << 10
)

// chunk is a run of raw rows of the log, their bodies copied into one
// buffer, and the records decoded from them. The reading goroutine decodes
// a chunk before it hands it over, so decoding overlaps fn's work.
type chunk struct {
	n        uint32 // the chunk's number in its stream, from 1
	seqs     []int64
	ids      []byte // every row's id, one after the other
	idEnds   []int
	versions []int
	ends     []int
	bodies   []byte
	recs     []rung.Record
	attrs    []map[string]any // modeLent: recs[i]'s last Attrs, refilled for the next recs[i]
	err      error            // the first record that does not decode; recs stop before it
	mode     mode
}

func (c *chunk) reset(n uint32) {
	c.n = n
	c.seqs, c.ids, c.idEnds, c.versions, c.ends = c.seqs[:0], c.ids[:0], c.idEnds[:0], c.versions[:0], c.ends[:0]
	if c.mode == modeHeads {
		c.bodies = c.bodies[:0]
		return
	}
	// The bodies get new memory, not the last chunk's: records' Raw point
	// into it, and a caller that keeps a copy of a record keeps a Raw that
	// must stay what it was (with modeLent, the strings too). It is sized
	// from what the last use held, not from its room: lent, the room is
	// kept for good, and one large body must not make every later
	// chunk's room large.
	c.bodies = make([]byte, 0, max(len(c.bodies)+len(c.bodies)/16, 4<<10))
}

func (c *chunk) add(seq int64, id []byte, version int, body []byte) {
	c.seqs, c.versions = append(c.seqs, seq), append(c.versions, version)
	c.ids = append(c.ids, id...)
	c.idEnds = append(c.idEnds, len(c.ids))
	c.bodies = append(c.bodies, body...)
	c.ends = append(c.ends, len(c.bodies))
}

// decode decodes the chunk's rows into its records, up to the first that
// does not decode.
func (c *chunk) decode(storeName string, names *codec.Names) {
	c.recs, c.err = c.recs[:0], nil
	if c.mode == modeLent && cap(c.bodies)-len(c.bodies) > len(c.bodies)/8 {
		// The room past the bodies would be kept with them: the
		// bodies are moved to memory of their size.
		c.bodies = append(make([]byte, 0, len(c.bodies)), c.bodies...)
	}
	// One string holds the ids of the chunk: a string each was an
	// allocation a record.
	ids := string(c.ids)
	start, idStart := 0, 0
	for i, seq := range c.seqs {
		c.recs = append(c.recs, rung.Record{Seq: seq, Version: c.versions[i]})
		r := &c.recs[i]
		r.Event.ID = ids[idStart:c.idEnds[i]]
		idStart = c.idEnds[i]
		r.Raw = c.bodies[start:c.ends[i]:c.ends[i]]
		var err error
		switch c.mode {
		case modeHeads:
			err = codec.DecodeRecordHead(r.Raw, r, names)
		case modeLent:
			err = c.decodeLent(i, r, names)
		default:
			err = codec.DecodeRecordNamed(r.Raw, r, names)
		}
		if err != nil {
			c.recs = c.recs[:i]
			c.err = fmt.Errorf("%s: record seq %d (%s): %w", storeName, seq, r.Event.ID, err)
			return
		}
		start = c.ends[i]
	}
}

// maxReusedAttrs is the most attributes a map decodeLent keeps for the
// next record may hold: clearing a map costs what it has room for.
const maxReusedAttrs = 64

// decodeLent decodes the chunk's record i in place, into the map of
// attributes record i of the chunk's last use had. A start replays
// millions of records, most with attributes the engine reads while it
// applies the record and does not keep (it decodes them again from the
// body when it needs them); a map of its own for each was a sixth of
// what a start allocated.
func (c *chunk) decodeLent(i int, r *rung.Record, names *codec.Names) error {
	if i == len(c.attrs) {
		c.attrs = append(c.attrs, nil)
	}
	err := codec.DecodeRecordKept(r.Raw, r, c.attrs[i], names)
	if a := r.Event.Attrs; a != nil {
		c.attrs[i] = a
		if len(a) > maxReusedAttrs {
			c.attrs[i] = nil
		}
	}
	return err
}

// each calls fn with the chunk's records in order, then reports a record
// that did not decode.
func (c *chunk) each(fn func(*rung.Record, Lent) error) error {
	start := 0
	for i := range c.recs {
		if err := fn(&c.recs[i], Lent{Block: c.bodies, N: c.n, Off: uint32(start)}); err != nil {
			return err
		}
		start = c.ends[i]
	}
	return c.err
}
