package store

import (
	"context"
	"fmt"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
)

// RowFunc receives one raw row of the event log. The body is copied before
// it returns, so the caller may reuse it; the id is kept.
type RowFunc func(seq int64, id string, version int, body []byte) error

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
	return stream(ctx, storeName, read, fn, false)
}

// StreamHeads is StreamRecords for Store.RecordHeads: records are decoded
// with codec.DecodeRecordHead, and a chunk's memory is reused once fn has
// seen its records.
func StreamHeads(ctx context.Context, storeName string, read func(ctx context.Context, emit RowFunc) error, fn func(*rung.Record) error) error {
	return stream(ctx, storeName, read, fn, true)
}

func stream(ctx context.Context, storeName string, read func(ctx context.Context, emit RowFunc) error, fn func(*rung.Record) error, heads bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan *chunk, chunksInFlight)
	free := make(chan *chunk, chunksInFlight)
	for range chunksInFlight {
		free <- &chunk{heads: heads}
	}
	readErr := make(chan error, 1)
	go func() {
		var c *chunk
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
		err := read(ctx, func(seq int64, id string, version int, body []byte) error {
			if c == nil {
				select {
				case c = <-free:
					c.reset()
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			c.add(seq, id, version, body)
			if len(c.seqs) == rowsPerChunk {
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

// rowsPerChunk is how many rows read hands over at a time.
const rowsPerChunk = 256

// chunk is a run of raw rows of the log, their bodies copied into one
// buffer, and the records decoded from them. The reading goroutine decodes
// a chunk before it hands it over, so decoding overlaps fn's work.
type chunk struct {
	seqs     []int64
	ids      []string
	versions []int
	ends     []int
	bodies   []byte
	recs     []rung.Record
	err      error // the first record that does not decode; recs stop before it
	heads    bool  // decode heads only, and reuse the bodies' memory
}

func (c *chunk) reset() {
	c.seqs, c.ids, c.versions, c.ends = c.seqs[:0], c.ids[:0], c.versions[:0], c.ends[:0]
	if c.heads {
		c.bodies = c.bodies[:0]
		return
	}
	// The bodies get new memory, not the last chunk's: records' Raw point
	// into it, and a caller that keeps a copy of a record keeps a Raw that
	// must stay what it was.
	c.bodies = make([]byte, 0, cap(c.bodies))
}

func (c *chunk) add(seq int64, id string, version int, body []byte) {
	c.seqs, c.ids, c.versions = append(c.seqs, seq), append(c.ids, id), append(c.versions, version)
	c.bodies = append(c.bodies, body...)
	c.ends = append(c.ends, len(c.bodies))
}

// decode decodes the chunk's rows into its records, up to the first that
// does not decode.
func (c *chunk) decode(storeName string, names *codec.Names) {
	c.recs, c.err = c.recs[:0], nil
	decode := codec.DecodeRecordNamed
	if c.heads {
		decode = codec.DecodeRecordHead
	}
	start := 0
	for i, seq := range c.seqs {
		c.recs = append(c.recs, rung.Record{Seq: seq, Version: c.versions[i]})
		r := &c.recs[i]
		r.Event.ID = c.ids[i]
		r.Raw = c.bodies[start:c.ends[i]:c.ends[i]]
		if err := decode(r.Raw, r, names); err != nil {
			c.recs = c.recs[:i]
			c.err = fmt.Errorf("%s: record seq %d (%s): %w", storeName, seq, r.Event.ID, err)
			return
		}
		start = c.ends[i]
	}
}

// each calls fn with the chunk's records in order, then reports a record
// that did not decode.
func (c *chunk) each(fn func(*rung.Record) error) error {
	for i := range c.recs {
		if err := fn(&c.recs[i]); err != nil {
			return err
		}
	}
	return c.err
}
