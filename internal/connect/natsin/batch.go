package natsin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rung-dev/rung/internal/api"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
)

// maxIngest is the most events one Ingest call takes; a pull of messages
// that are batches themselves is ingested in several calls.
const maxIngest = 10000

// deadLetterWait bounds the wait for JetStream to store the dead letters.
const deadLetterWait = 10 * time.Second

// DeadLetter is published on the dead-letter subject, as JSON, for each
// rejected event and for each message that could not be read at all.
type DeadLetter struct {
	// ID is the event's id, when it could be read.
	ID string `json:"id,omitempty"`
	// Error says why the event was rejected, as the API would.
	Error string `json:"error"`
	// Event is the event as it was received, when it is JSON.
	Event json.RawMessage `json:"event,omitempty"`
	// Raw is the message as it was received, when it is not JSON (base64).
	Raw []byte `json:"raw,omitempty"`
	// Stream, Subject and Seq say which message carried the event.
	Stream  string `json:"stream"`
	Subject string `json:"subject"`
	Seq     uint64 `json:"seq"`
	// At is when it was rejected.
	At time.Time `json:"at"`
}

// delivery is one message and the events it carries.
type delivery struct {
	msg    jetstream.Msg
	events []*service.Incoming
	raws   [][]byte // each event as received, parallel to events
	// problem is why the message as a whole could not be read; it then
	// carries no events.
	problem string
}

// decode reads a message: one event, {"events": [...]} or a JSON array.
func decode(m jetstream.Msg) *delivery {
	d := &delivery{msg: m}
	d.events, d.raws, d.problem = decodeData(m.Data())
	return d
}

// decodeData reads a message's body into events, each with the bytes it
// came from, or says why the message as a whole cannot be read.
func decodeData(body []byte) (events []*service.Incoming, raws [][]byte, problem string) {
	data := bytes.TrimSpace(body)
	var items []json.RawMessage
	switch {
	case len(data) > 0 && data[0] == '[':
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, nil, fmt.Sprintf("the message is not a valid JSON array of events: %v", err)
		}
	case isBatch(data):
		var b struct {
			Events []json.RawMessage `json:"events"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			return nil, nil, fmt.Sprintf("the message is not a valid batch {\"events\": [...]}: %v", err)
		}
		if dec.More() {
			return nil, nil, "the message has more after the batch's closing brace"
		}
		items = b.Events
	default:
		return []*service.Incoming{api.DecodeEvent(data)}, [][]byte{body}, ""
	}
	switch {
	case len(items) == 0:
		return nil, nil, "the batch has no events: send at least one"
	case len(items) > api.MaxBatch:
		return nil, nil, fmt.Sprintf("the batch has %d events; at most %d are allowed per message: split it", len(items), api.MaxBatch)
	}
	events = make([]*service.Incoming, len(items))
	raws = make([][]byte, len(items))
	for i, raw := range items {
		events[i] = api.DecodeEvent(raw)
		raws[i] = raw
	}
	return events, raws, ""
}

// isBatch reports whether a JSON object's first key is "events".
func isBatch(b []byte) bool {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(b[1:], " \t\r\n"), []byte(`"events"`))
}

// handle ingests a pulled batch and settles every message: acked once its
// events are durable and its dead letters published, NAKed with a delay
// otherwise. It reports false when Ingest failed.
func (in *intake) handle(ctx context.Context, ds []*delivery) bool {
	for start := 0; start < len(ds); {
		end, n := start, 0
		for end < len(ds) && (end == start || n+len(ds[end].events) <= maxIngest) {
			n += len(ds[end].events)
			end++
		}
		if !in.ingest(ctx, ds[start:end]) {
			// Keep the rest in order behind the failed part.
			in.nak(ds[end:])
			return false
		}
		start = end
	}
	return true
}

// ingest runs one Ingest call for ds and settles their messages.
func (in *intake) ingest(ctx context.Context, ds []*delivery) bool {
	var events []*service.Incoming
	for _, d := range ds {
		events = append(events, d.events...)
	}
	// A stop lets the batch in hand finish, so it is acked rather than
	// delivered again; past AckWait it would be delivered again anyway.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.cfg.AckWait)
	defer cancel()
	start := time.Now()
	if _, err := in.svc.Ingest(ictx, events); err != nil {
		in.log.Warn("ingest failed; the messages will be delivered again", "err", err, "messages", len(ds), "events", len(events), "in", in.cfg.NakDelay)
		in.nak(ds)
		return false
	}
	took := time.Since(start)
	count := map[string]int{}
	for _, ev := range events {
		count[ev.Result.Status]++
	}
	if !in.settle(ds) {
		return false
	}
	in.log.Debug("ingested", "messages", len(ds), "events", len(events), "accepted", count[string(engine.StatusAccepted)],
		"duplicate", count[string(engine.StatusDuplicate)], "corrected", count[string(engine.StatusCorrected)],
		"rejected", count[string(engine.StatusRejected)], "took", took)
	return true
}

// settle publishes the dead letters of ds, then acks the messages in
// order up to the first whose dead letters did not go out, and NAKs that
// one and every one after it: they all come back, in order, so an older
// version of an event can never arrive after a newer one (the events
// already stored come back as duplicates). It reports false when it NAKed.
func (in *intake) settle(ds []*delivery) bool {
	now := in.svc.Now().UTC()
	futures := make([][]jetstream.PubAckFuture, len(ds))
	failed := make([]bool, len(ds))
	rejected := 0
	for i, d := range ds {
		for j, dl := range in.letters(d, now) {
			rejected++
			body, err := json.Marshal(dl)
			if err != nil {
				in.log.Error("encode dead letter", "err", err, "seq", dl.Seq)
				continue
			}
			msg := &nats.Msg{Subject: in.cfg.DeadLetter, Data: body, Header: nats.Header{}}
			// Stored dead letters of a message delivered again within the
			// stream's duplicate window are kept once.
			msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("rung-dead:%s:%d:%d", dl.Stream, dl.Seq, j))
			if !in.deadStored {
				if err := in.nc.PublishMsg(msg); err != nil {
					in.log.Warn("publish dead letter", "err", err, "seq", dl.Seq)
					failed[i] = true
				}
				continue
			}
			f, err := in.js.PublishMsgAsync(msg)
			if err != nil {
				in.log.Warn("publish dead letter", "err", err, "seq", dl.Seq)
				failed[i] = true
				continue
			}
			futures[i] = append(futures[i], f)
		}
	}
	wait, cancel := context.WithTimeout(context.Background(), deadLetterWait)
	defer cancel()
	for i, fs := range futures {
		for _, f := range fs {
			if failed[i] {
				break
			}
			select {
			case <-f.Ok():
			case err := <-f.Err():
				in.log.Warn("store dead letter", "err", err)
				failed[i] = true
			case <-wait.Done():
				in.log.Warn("store dead letter: no answer from JetStream", "in", deadLetterWait)
				failed[i] = true
			}
		}
	}
	if rejected > 0 {
		in.log.Info("rejected events sent to the dead-letter subject", "count", rejected, "subject", in.cfg.DeadLetter)
	}
	for i, d := range ds {
		if failed[i] {
			in.nak(ds[i:])
			return false
		}
		if err := d.msg.Ack(); err != nil {
			in.log.Warn("ack", "err", err)
		}
	}
	return true
}

// letters lists the dead letters of a delivery after Ingest.
func (in *intake) letters(d *delivery, now time.Time) []DeadLetter {
	base := DeadLetter{Stream: in.cfg.Stream, Subject: d.msg.Subject(), At: now}
	if md, err := d.msg.Metadata(); err == nil {
		base.Seq, base.Stream = md.Sequence.Stream, md.Stream
	}
	withBody := func(dl DeadLetter, raw []byte) DeadLetter {
		if json.Valid(raw) {
			dl.Event = raw
		} else {
			dl.Raw = raw
		}
		return dl
	}
	if d.problem != "" {
		dl := base
		dl.Error = d.problem
		return []DeadLetter{withBody(dl, d.msg.Data())}
	}
	var out []DeadLetter
	for i, ev := range d.events {
		if ev.Result.Status != string(engine.StatusRejected) {
			continue
		}
		dl := base
		dl.ID, dl.Error = ev.Result.ID, ev.Result.Error
		out = append(out, withBody(dl, d.raws[i]))
	}
	return out
}

// nak asks JetStream to deliver the messages again after NakDelay.
func (in *intake) nak(ds []*delivery) {
	for _, d := range ds {
		if err := d.msg.NakWithDelay(in.cfg.NakDelay); err != nil {
			in.log.Warn("nak", "err", err)
		}
	}
}
