package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/rung-dev/rung"
)

// OutboxMessage is one message of the transactional outbox: a domain event
// (a badge awarded, a registration decided, ...) that Rung reports to the
// outside world. It is written in the same transaction as the state it
// reports, and its ID is deterministic, so writing it again is a no-op.
// Receivers deduplicate by ID.
type OutboxMessage struct {
	// Seq orders the messages; the store assigns it.
	Seq       int64           `json:"seq"`
	ID        string          `json:"id"`
	Subject   string          `json:"subject"` // whom it is about: messages of one subject are delivered in order
	Type      string          `json:"type"`    // points.changed, badge.awarded, ...
	Payload   json.RawMessage `json:"payload"` // a JSON object
	CreatedAt time.Time       `json:"created_at"`
	// Dispatched is set once the message has a Delivery for every endpoint
	// that wanted it.
	Dispatched bool `json:"dispatched,omitempty"`
}

// Delivery is one message on its way to one endpoint (a webhook
// subscription or a CRM): the attempts made, when the next one is due, and
// whether it arrived or was given up on (dead, until replayed).
type Delivery struct {
	Message       OutboxMessage `json:"message"`
	Endpoint      string        `json:"endpoint"`
	Attempts      int           `json:"attempts"`
	NextAttemptAt time.Time     `json:"next_attempt_at"`
	DeliveredAt   time.Time     `json:"delivered_at,omitzero"`
	Dead          bool          `json:"dead"`
	LastError     string        `json:"last_error,omitempty"`
}

// Subscription is a webhook endpoint: where to POST which types of message,
// signed with Secret. An empty Types means every type.
type Subscription struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"`
	Types     []string  `json:"types"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Wants reports whether the subscription takes messages of type t.
func (s Subscription) Wants(t string) bool {
	if !s.Enabled {
		return false
	}
	if len(s.Types) == 0 {
		return true
	}
	for _, x := range s.Types {
		if x == t {
			return true
		}
	}
	return false
}

// OutboxProduction is what the outbox producer writes in one transaction:
// new messages, the state of the subjects it compared, and its cursor,
// moved from From to To. A cursor that is not at From any more (another
// producer moved it) is ECONFLICT and nothing is written.
type OutboxProduction struct {
	Cursor   string
	From, To int64
	Messages []OutboxMessage
	Subjects map[string][]byte // the producer's last-reported state per subject

	// Unsubscribed says that the process delivering the messages has no
	// endpoint but the stored webhook subscriptions (no CRM). When none
	// is stored either, the messages are not stored at all (the states and
	// the cursor are): nobody is there to deliver them to, an endpoint
	// added later gets only messages written after it, and writing them
	// took about 8 % of a SQLite server's CPU under batch ingest. A
	// subscription stored before the step's write sees its messages.
	Unsubscribed bool
}

// DeliveryFilter selects deliveries; zero fields match everything.
type DeliveryFilter struct {
	Dead     bool // only dead ones
	Endpoint string
	Message  string
	Limit    int // 0 means 100
}

// OutboxDump is the whole outbox, for tools that copy a database.
type OutboxDump struct {
	Subscriptions []Subscription
	Messages      []OutboxMessage // with their Seq and Dispatched
	Deliveries    []Delivery      // Message holds the message's ID only
	Cursors       map[string]int64
	Subjects      map[string][]byte
}

// Rows counts what d holds (0 for a nil d).
func (d *OutboxDump) Rows() int {
	if d == nil {
		return 0
	}
	return len(d.Subscriptions) + len(d.Messages) + len(d.Deliveries) + len(d.Cursors) + len(d.Subjects)
}

// Outbox stores the transactional outbox, its deliveries, the webhook
// subscriptions and the producer's cursor. Messages are also written by
// Commit (Batch.Outbox) and UpdateRegistration (Registration.Outbox), in
// the transaction of what they report.
type Outbox interface {
	// EnqueueOutbox stores messages in one transaction; an ID already
	// stored is left as it is.
	EnqueueOutbox(ctx context.Context, msgs []OutboxMessage) error
	// ProduceOutbox writes p in one transaction (see OutboxProduction).
	ProduceOutbox(ctx context.Context, p OutboxProduction) error
	// OutboxCursor returns a producer cursor's position (0 when unset).
	OutboxCursor(ctx context.Context, name string) (int64, error)
	// OutboxSubjects returns the producer's stored state per subject.
	OutboxSubjects(ctx context.Context) (map[string][]byte, error)
	// OutboxMessages returns messages with Seq > after, in Seq order, at
	// most limit (0: 100); undispatched only when pending is set.
	OutboxMessages(ctx context.Context, after int64, limit int, pending bool) ([]OutboxMessage, error)
	// DispatchOutbox stores deliveries (one already stored is left as it
	// is) and marks the messages with the given Seqs dispatched, in one
	// transaction.
	DispatchOutbox(ctx context.Context, seqs []int64, ds []Delivery) error
	// DispatchOutboxNowhere marks every undispatched message with a Seq up
	// to through dispatched, with no deliveries, in one statement that
	// reads no message: what dispatching comes to when no endpoint is
	// configured. It returns how many it marked.
	DispatchOutboxNowhere(ctx context.Context, through int64) (int, error)
	// DueDeliveries returns, oldest message first and at most limit, the
	// deliveries to attempt at now: for each endpoint and subject, the
	// oldest one neither delivered nor dead, when its next attempt is due.
	// A later message of a subject waits for the earlier one.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// UpdateDelivery stores the attempts, next attempt, delivery time, dead
	// flag and error of the delivery of d.Message.ID to d.Endpoint
	// (ENOTFOUND when there is none).
	UpdateDelivery(ctx context.Context, d Delivery) error
	// Deliveries returns the deliveries f selects, newest message first,
	// with their messages.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// ReplayDeliveries makes the dead deliveries of a message (to endpoint,
	// or to every endpoint when it is "") due again at now with no
	// attempts, and returns how many it revived (ENOTFOUND when the message
	// has no dead delivery there).
	ReplayDeliveries(ctx context.Context, message, endpoint string, now time.Time) (int, error)

	// PruneOutbox deletes what is done with before a time: deliveries
	// delivered before it, and messages created before it that are
	// dispatched and have no delivery left. Dead letters are kept until
	// replayed and delivered. It returns how many messages it deleted.
	PruneOutbox(ctx context.Context, before time.Time) (int64, error)

	// PutSubscription creates or replaces a subscription by ID.
	PutSubscription(ctx context.Context, s Subscription) error
	// Subscriptions returns every subscription, oldest first.
	Subscriptions(ctx context.Context) ([]Subscription, error)
	// DeleteSubscription removes a subscription and its pending deliveries
	// (ENOTFOUND when unknown).
	DeleteSubscription(ctx context.Context, id string) error

	// ExportOutbox returns the whole outbox; ImportOutbox stores one into
	// an empty outbox in one transaction (ECONFLICT when a message ID or
	// subscription is already stored).
	ExportOutbox(ctx context.Context) (OutboxDump, error)
	ImportOutbox(ctx context.Context, d OutboxDump) error
}

// CheckOutboxMessage says what is wrong with a message a store is asked to
// write (EINVALID), or returns nil.
func CheckOutboxMessage(m OutboxMessage) error {
	switch {
	case m.ID == "" || len(m.ID) > 400:
		return rung.Errorf(rung.EINVALID, "outbox message id %q: give 1 to 400 characters", m.ID)
	case m.Type == "":
		return rung.Errorf(rung.EINVALID, "outbox message %q has no type", m.ID)
	case m.Subject == "":
		return rung.Errorf(rung.EINVALID, "outbox message %q has no subject: name whom it is about", m.ID)
	case !json.Valid(m.Payload) || len(m.Payload) == 0 || m.Payload[0] != '{':
		return rung.Errorf(rung.EINVALID, "outbox message %q: the payload must be a JSON object", m.ID)
	case m.CreatedAt.IsZero():
		return rung.Errorf(rung.EINVALID, "outbox message %q has no created_at", m.ID)
	}
	return nil
}

// SubscriptionTypes is types as stored: never nil.
func SubscriptionTypes(types []string) []string {
	if types == nil {
		return []string{}
	}
	return types
}
