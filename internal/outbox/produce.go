package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// ProducerCursor names the producer's cursor in the store.
const ProducerCursor = "producer"

// Producer turns changes of derived state into outbox messages: it
// compares every member's and partner's state in the engine (points,
// level, tier, badges) with the state it reported last, and writes a
// message per difference, the new states and its cursor in one
// transaction. Message IDs are the type, the subject and the cursor's new
// position, so a step that did not commit is simply done again, and two
// producers cannot both commit a step from one position.
//
// The first step on a store with no cursor records the state as it is
// without reporting it: turning the outbox on does not replay history.
// With nobody to receive messages its steps are quiet (see Step).
type Producer struct {
	svc *service.Service
	st  store.Store
	crm bool

	// After, when set, is called with the messages of each step once they
	// are stored (rung serve hands tier changes on to notifications); of a
	// quiet step, with its tier changes alone.
	After func(ctx context.Context, msgs []store.OutboxMessage)

	// unsubscribed is set by a Worker whose deliverer has no endpoint
	// but the webhook subscriptions (see store.OutboxProduction).
	unsubscribed bool

	// stale says the stored states of members lag behind: quiet steps
	// (see Step) kept them in memory only. It is what the quietKey row
	// holds at position at. current says cache holds every subject's
	// state as of the last step, so that what is not stored is in it; not
	// so when it was read back from a stale store (then it mixes states
	// read back with states of later quiet steps, until a resync stores
	// every subject).
	stale, current bool

	// cache is the state as of the last step, to spare reading it back:
	// the stored state at position at, but for members after quiet steps.
	at    int64
	cache map[string]engine.SubjectState

	// track collects the members and partners that the writes the
	// engine applied touched (its own and those it followed): a step
	// compares only those. eng is the engine the last step read (a rebuild
	// swaps it). swept is the last full comparison.
	track  *service.TouchTracker
	eng    *engine.Engine
	marked bool
	swept  time.Time
}

// Sweep is how often the producer compares every subject, for what time
// alone changes (points expiring, tiers taking effect).
const Sweep = 10 * time.Minute

// NewProducer returns a Producer over a running service. With crm set it
// also writes a crm.sync message for every partner whose tier, points,
// level or badges changed, for the CRM write-back sinks.
func NewProducer(svc *service.Service, crm bool) *Producer {
	return &Producer{svc: svc, st: svc.Store(), crm: crm, at: -1, track: svc.TrackTouched()}
}

// PointsPayload is the data of points.changed.
type PointsPayload struct {
	Subject         string `json:"subject"`
	Kind            string `json:"kind"`
	Partner         string `json:"partner,omitempty"`
	Balance         int64  `json:"balance"`
	Lifetime        int64  `json:"lifetime"`
	PreviousBalance int64  `json:"previous_balance"`
}

// BadgePayload is the data of badge.awarded and badge.revoked.
type BadgePayload struct {
	Subject string `json:"subject"`
	Kind    string `json:"kind"`
	Partner string `json:"partner,omitempty"`
	Badge   string `json:"badge"`
	Name    string `json:"name,omitempty"`
	Level   string `json:"level,omitempty"`
}

// LevelPayload is the data of level.changed (and of tier.changed from
// New).
type LevelPayload struct {
	Subject  string `json:"subject"`
	Kind     string `json:"kind"`
	Partner  string `json:"partner,omitempty"`
	Level    string `json:"level"`
	Previous string `json:"previous,omitempty"`
}

// CRMPayload is the data of crm.sync: what the write-back sets on the
// partner's CRM record.
type CRMPayload struct {
	Partner string            `json:"partner"`
	Attrs   map[string]string `json:"attrs,omitempty"` // the partner's text attributes, where CRM record ids live
	Tier    string            `json:"tier"`
	Points  int64             `json:"points"`
	Level   string            `json:"level"` // the highest level among its members
	Badges  []string          `json:"badges"`
}

// Step writes the messages for what changed since the last step and
// returns how many it wrote.
//
// A step is quiet when nobody can receive its messages: the Worker has no
// CRM to deliver to and no webhook subscription is stored. Then only the
// After hook hears of them, and it hears of tier changes alone; the step
// stores the partners' states (so a restarted producer does not tell a
// tier change twice) and keeps the members' in memory, which spares the
// store a row for each member that moved: under batch ingest, most of the
// producer's cost on SQLite and of what PostgreSQL did for it. The first step
// that is not quiet stores every member's state and, with the states in
// memory, tells what changed since the last step as any step does; with
// them read back from a stale store (the process restarted while quiet),
// it compares and stores every subject and tells only tier changes, as
// what changed meanwhile is not news to an endpoint added since (nor is
// what changed between the endpoint's addition and this step). A webhook
// stored while a quiet step runs gets that step's tier changes, and the
// changes of the steps after it.
func (p *Producer) Step(ctx context.Context) (int, error) {
	from, err := p.st.OutboxCursor(ctx, ProducerCursor)
	if err != nil {
		return 0, err
	}
	if p.at != from {
		raw, err := p.st.OutboxSubjects(ctx)
		if err != nil {
			return 0, err
		}
		p.cache = make(map[string]engine.SubjectState, len(raw))
		p.stale = false
		for k, b := range raw {
			if k == quietKey {
				var q quietMark
				if err := json.Unmarshal(b, &q); err != nil {
					return 0, fmt.Errorf("outbox: stored %s: %w", k, err)
				}
				p.stale = q.Quiet
				continue
			}
			var s engine.SubjectState
			if err := json.Unmarshal(b, &s); err != nil {
				return 0, fmt.Errorf("outbox: stored state of %s: %w", k, err)
			}
			p.cache[k] = s
		}
		p.current = !p.stale
		p.at = from
	}
	quiet := false
	if p.unsubscribed && !p.crm {
		subs, err := p.st.Subscriptions(ctx)
		if err != nil {
			return 0, err
		}
		quiet = len(subs) == 0
	}
	now := p.svc.Now().UTC()
	full := !p.marked || now.Sub(p.swept) >= Sweep || now.Before(p.swept)
	// The first step that is not quiet after quiet ones stores every
	// member's state. When this process took those steps, it has them in
	// memory, and the step is as any other (flush); when it read them
	// back from the store (a restart), it compares every subject and tells
	// only tier changes (resync): what happened while nobody listened is
	// not news to an endpoint added since.
	flush := !quiet && p.stale
	resync := flush && !p.current
	full = full || resync
	var t service.Touched
	cur := map[string]engine.SubjectState{}
	attrs := map[string]map[string]string{}
	keep := func(e *engine.Engine) func(engine.SubjectState) {
		return func(s engine.SubjectState) {
			cur[Subject(s.Kind, s.ID)] = s
			if p.crm && s.Kind == "partner" {
				if pt, ok := e.Partner(s.ID); ok {
					attrs[s.ID] = textAttrs(pt)
				}
			}
		}
	}
	var ms []string // the members touched, read in parts below
	// Taken before the engine read: a state read from here on has seen at
	// least what the take names (Take says why).
	t = p.track.Take()
	p.svc.Read(func(e *engine.Engine) error {
		if e != p.eng {
			full, p.eng = true, e
		}
		if full || t.All {
			full = true
			e.EachSubjectState(keep(e))
			return nil
		}
		if t.Empty() {
			return nil
		}
		ms = slices.Collect(maps.Keys(t.Members))
		cur = make(map[string]engine.SubjectState, len(ms)+len(t.Partners)+len(ms)/8)
		return nil
	})
	if !full && !t.Empty() {
		full = p.readTouched(ms, t.Partners, cur, keep)
	}
	if !full && t.Empty() {
		return 0, nil
	}
	// Until the step is stored, what it took is still to report.
	stored := false
	defer func() {
		if !stored {
			if full {
				t = service.Touched{All: true}
			}
			p.track.Put(t)
		}
	}()
	if full {
		p.marked, p.swept = true, now
	}
	to := from + 1
	baseline := from == 0 && len(p.cache) == 0
	var msgs []store.OutboxMessage
	changed := make(map[string][]byte, len(cur))
	crmDirty := map[string]bool{}
	// The states and payloads of the step are appended to one buffer, each
	// a slice of its own of it (a buffer that grows leaves the earlier
	// ones where they were).
	enc := make([]byte, 0, 256*len(cur))
	var moved []string // the subjects whose state is not the cached one
	for _, k := range slices.Sorted(maps.Keys(cur)) {
		s := cur[k]
		old, seen := p.cache[k]
		if seen && sameState(old, s) {
			if resync {
				// The cache may hold states quiet steps kept in memory
				// only: store every one.
				start := len(enc)
				enc = appendState(enc, s)
				changed[k] = enc[start:len(enc):len(enc)]
			}
			continue
		}
		moved = append(moved, k)
		if !quiet || s.Kind == "partner" {
			start := len(enc)
			enc = appendState(enc, s)
			changed[k] = enc[start:len(enc):len(enc)]
		}
		if s.Kind == "partner" {
			crmDirty[s.ID] = true
		} else if s.Partner != "" && (old.Level != s.Level || !seen) {
			crmDirty[s.Partner] = true
		}
		if baseline {
			continue
		}
		if quiet && s.Kind != "partner" {
			continue // a member has no tier to tell of
		}
		n := len(msgs)
		msgs, enc = diff(msgs, enc, k, old, s, to, now)
		if quiet || resync {
			// Only the tier changes, which the After hook hears of.
			kept := msgs[:n]
			for _, m := range msgs[n:] {
				if m.Type == TierChanged {
					kept = append(kept, m)
				}
			}
			msgs = kept
		}
	}
	switch {
	case quiet && !p.stale:
		changed[quietKey] = []byte(`{"quiet":true}`)
	case flush:
		if !resync {
			for k, s := range p.cache {
				if _, ok := changed[k]; !ok && s.Kind == "member" {
					start := len(enc)
					enc = appendState(enc, s)
					changed[k] = enc[start:len(enc):len(enc)]
				}
			}
		}
		changed[quietKey] = []byte(`{"quiet":false}`)
	}
	if p.crm && !baseline && len(crmDirty) > 0 {
		levels := p.topLevels(cur)
		for _, id := range slices.Sorted(maps.Keys(crmDirty)) {
			m, ok, err := p.crmMessage(id, cur, levels[id], attrs[id], to, now)
			if err != nil {
				return 0, err
			}
			if ok {
				msgs = append(msgs, m)
			}
		}
	}
	if len(changed) == 0 && !baseline {
		stored = true // nothing to store: the states are as stored, or quiet
		for _, k := range moved {
			p.cache[k] = cur[k]
		}
		return 0, nil
	}
	err = p.st.ProduceOutbox(ctx, store.OutboxProduction{Cursor: ProducerCursor, From: from, To: to, Messages: msgs, Subjects: changed,
		Unsubscribed: p.unsubscribed})
	if err != nil {
		// The cache is as before the step. Had the write committed after
		// all, the cursor moved, and the next step reads the stored state
		// again (as after another producer took the step): a reload here
		// would lose the members' states quiet steps kept in memory.
		if rung.ErrorCode(err) == rung.ECONFLICT {
			p.at = -1     // read the stored state again
			return 0, nil // another producer took this step
		}
		return 0, err
	}
	stored = true
	for _, k := range moved {
		p.cache[k] = cur[k]
	}
	if _, ok := changed[quietKey]; ok {
		p.stale = quiet
	}
	if !quiet {
		p.current = true // the cache is what is stored
	}
	p.at = to
	if p.After != nil {
		p.After(ctx, msgs)
	}
	return len(msgs), nil
}

// readPart is how many members' states readTouched reads in one engine
// read. Each read holds the applier out; a step under batch ingest reads
// tens of thousands, which at once held ingest still for tens of ms a
// second.
var readPart = 1024

// readTouched reads the states of the members ms and of the partners ps
// and those the members count for into cur, a part at a time, each part in
// an engine read of its own so that the applier runs between them. A state
// read after the take may have seen changes the take does not name: they
// are told now, and the next step, which the tracker names them to, finds
// them unchanged. When the service's engine is not the one the step began
// with (a rebuild swapped it), it reads every subject instead and returns
// true, as a full step.
func (p *Producer) readTouched(ms []string, ps map[string]struct{}, cur map[string]engine.SubjectState, keep func(*engine.Engine) func(engine.SubjectState)) bool {
	full := false
	readAll := func(e *engine.Engine) {
		full, p.eng = true, e
		clear(cur)
		e.EachSubjectState(keep(e))
	}
	for rest := ms; len(rest) > 0 && !full; {
		part := rest[:min(len(rest), readPart)]
		rest = rest[len(part):]
		p.svc.Read(func(e *engine.Engine) error {
			if e != p.eng {
				readAll(e)
				return nil
			}
			e.SubjectStates(part, nil, keep(e))
			return nil
		})
	}
	if full {
		return true
	}
	// A member's points count for its partner, before and after a move.
	if ps == nil {
		ps = map[string]struct{}{}
	}
	var key []byte // Subject("member", id), looked up without a string of its own
	for _, id := range ms {
		key = append(append(key[:0], "member:"...), id...)
		if s, ok := cur[string(key)]; ok && s.Partner != "" {
			ps[s.Partner] = struct{}{}
		}
		if s, ok := p.cache[string(key)]; ok && s.Partner != "" {
			ps[s.Partner] = struct{}{}
		}
	}
	p.svc.Read(func(e *engine.Engine) error {
		if e != p.eng {
			readAll(e)
			return nil
		}
		e.SubjectStates(nil, slices.Collect(maps.Keys(ps)), keep(e))
		return nil
	})
	return full
}

func sameState(a, b engine.SubjectState) bool {
	// What the stored JSON would tell apart: every field, and a list of
	// no badges (null) from an empty one ([]).
	return a.ID == b.ID && a.Kind == b.Kind && a.Name == b.Name && a.Partner == b.Partner &&
		a.Balance == b.Balance && a.Lifetime == b.Lifetime && a.Level == b.Level && a.Tier == b.Tier &&
		(a.Badges == nil) == (b.Badges == nil) && slices.Equal(a.Badges, b.Badges)
}

// diff appends to msgs the messages that tell old became s, their
// payloads encoded at the end of enc; their IDs are the type, the subject,
// the producer's step and, for badges, the badge.
func diff(msgs []store.OutboxMessage, enc []byte, key string, old, s engine.SubjectState, gen int64, now time.Time) ([]store.OutboxMessage, []byte) {
	step := strconv.FormatInt(gen, 10)
	start := len(enc)
	add := func(typ, suffix string) {
		id := typ + ":" + key + ":" + step
		if suffix != "" {
			id += ":" + suffix
		}
		msgs = append(msgs, store.OutboxMessage{ID: id, Subject: key, Type: typ, Payload: enc[start:len(enc):len(enc)], CreatedAt: now})
		start = len(enc)
	}
	if old.Balance != s.Balance || old.Lifetime != s.Lifetime {
		enc = appendPoints(enc, PointsPayload{Subject: s.ID, Kind: s.Kind, Partner: s.Partner, Balance: s.Balance,
			Lifetime: s.Lifetime, PreviousBalance: old.Balance})
		add(PointsChanged, "")
	}
	if old.Level != s.Level && s.Level != "" {
		enc = appendLevel(enc, LevelPayload{Subject: s.ID, Kind: s.Kind, Partner: s.Partner, Level: s.Level, Previous: old.Level})
		add(LevelChanged, "")
	}
	if old.Tier != s.Tier && old.Tier != "" && s.Tier != "" {
		// Whatever moved it: a published review, an auto-upgrade, an
		// override or an appeal decision.
		enc = appendLevel(enc, LevelPayload{Subject: s.ID, Kind: s.Kind, Level: s.Tier, Previous: old.Tier})
		add(TierChanged, "")
	}
	if len(old.Badges) == 0 && len(s.Badges) == 0 {
		return msgs, enc
	}
	ref := func(b engine.BadgeRef) string {
		if b.Level == "" {
			return b.ID
		}
		return b.ID + "@" + b.Level
	}
	had := make(map[string]bool, len(old.Badges))
	for _, b := range old.Badges {
		had[ref(b)] = true
	}
	has := make(map[string]bool, len(s.Badges))
	for _, b := range s.Badges {
		has[ref(b)] = true
		if !had[ref(b)] {
			enc = appendBadge(enc, BadgePayload{Subject: s.ID, Kind: s.Kind, Partner: s.Partner, Badge: b.ID, Name: b.Name, Level: b.Level})
			add(BadgeAwarded, ref(b))
		}
	}
	for _, b := range old.Badges {
		if !has[ref(b)] {
			enc = appendBadge(enc, BadgePayload{Subject: s.ID, Kind: s.Kind, Partner: s.Partner, Badge: b.ID, Name: b.Name, Level: b.Level})
			add(BadgeRevoked, ref(b))
		}
	}
	return msgs, enc
}

// crmMessage returns the crm.sync message of a partner: its tier, points,
// badges and the highest level among its members.
func (p *Producer) crmMessage(id string, cur map[string]engine.SubjectState, level string, attrs map[string]string, gen int64, now time.Time) (store.OutboxMessage, bool, error) {
	ps, ok := cur[Subject("partner", id)]
	if !ok {
		return store.OutboxMessage{}, false, nil
	}
	c := CRMPayload{Partner: id, Attrs: attrs, Tier: ps.Tier, Points: ps.Balance, Badges: []string{}}
	for _, b := range ps.Badges {
		c.Badges = append(c.Badges, badgeLabel(b))
	}
	c.Level = level
	key := Subject("partner", id)
	m, err := New(CRMSync, key, fmt.Sprintf("%s:%s:%d", CRMSync, key, gen), c, now)
	return m, err == nil, err
}

// topLevels returns, per partner, the level of its member with the most
// lifetime points: the states just read, else the ones last reported.
func (p *Producer) topLevels(cur map[string]engine.SubjectState) map[string]string {
	best := map[string]int64{}
	out := map[string]string{}
	see := func(s engine.SubjectState) {
		if s.Kind != "member" || s.Partner == "" || s.Level == "" {
			return
		}
		if b, ok := best[s.Partner]; !ok || s.Lifetime > b {
			best[s.Partner], out[s.Partner] = s.Lifetime, s.Level
		}
	}
	for k, s := range p.cache {
		if _, ok := cur[k]; !ok {
			see(s)
		}
	}
	for _, s := range cur {
		see(s)
	}
	return out
}

func badgeLabel(b engine.BadgeRef) string {
	name := b.Name
	if name == "" {
		name = b.ID
	}
	if b.Level != "" {
		name += " (" + b.Level + ")"
	}
	return name
}

// textAttrs returns a partner's attributes that are text, where CRM
// record ids are kept.
func textAttrs(p rung.Partner) map[string]string {
	out := map[string]string{}
	for k, v := range p.Attrs {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// quietKey is the row among the stored states that says whether the last
// steps were quiet; no subject's key ("member:…", "partner:…") is it.
const quietKey = "producer:quiet"

// quietMark is quietKey's stored value.
type quietMark struct {
	Quiet bool `json:"quiet"`
}
