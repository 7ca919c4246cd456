package store

import (
	"context"
	"time"
)

// The states of a source delivery.
const (
	DeliveryApplied  = "applied"  // its events were ingested (or it held none to ingest)
	DeliveryRejected = "rejected" // kept for replay: the reason says what to fix
)

// SourceDelivery is one payload a CRM, LMS or import sent to a source
// endpoint, kept as it came (with the headers needed to verify it again) so
// a rejected one can be replayed once the program's mapping is fixed.
// Deliveries whose signature failed are never stored.
type SourceDelivery struct {
	ID         string
	Source     string // hubspot, salesforce, salesforce-cdc, webhook, hubspot-csv, salesforce-csv, csv
	ReceivedAt time.Time
	Method     string
	URI        string
	Headers    map[string]string // the headers its signature covers; nil when none
	Body       []byte
	Status     string // DeliveryApplied or DeliveryRejected
	Reason     string // why it was rejected; empty when applied
	Events     int    // events it made when last applied
	Attempts   int    // 1 on arrival, one more per replay
	UpdatedAt  time.Time
}

// SourceDeliveryFilter selects source deliveries; zero fields match everything.
type SourceDeliveryFilter struct {
	Status string
	Source string
	Limit  int // 0 means 100; below 0, every delivery
}

// SourceDeliveries keeps source deliveries for replay (docs/sources.md).
type SourceDeliveries interface {
	// PutSourceDelivery stores a delivery, replacing the one with its ID.
	PutSourceDelivery(ctx context.Context, d SourceDelivery) error
	// SourceDelivery returns a delivery by ID (ENOTFOUND when unknown).
	SourceDelivery(ctx context.Context, id string) (SourceDelivery, error)
	// ListSourceDeliveries returns deliveries newest first (by ReceivedAt,
	// then ID descending).
	ListSourceDeliveries(ctx context.Context, f SourceDeliveryFilter) ([]SourceDelivery, error)

	// SourceRecords returns the kept state of the records with the given
	// keys, ordered by key; keys with no state are left out.
	SourceRecords(ctx context.Context, keys []SourceRecordKey) ([]SourceRecord, error)
	// PutSourceRecords stores the records (replacing each one's state) and
	// removes the deleted ones, in one transaction.
	PutSourceRecords(ctx context.Context, put []SourceRecord, deleted []SourceRecordKey) error
	// AllSourceRecords returns every kept record, ordered by key, for
	// tools that copy a whole database.
	AllSourceRecords(ctx context.Context) ([]SourceRecord, error)
}

// SourceRecordKey names a record of a source system.
type SourceRecordKey struct {
	Source string // hubspot, salesforce, webhook, csv
	Object string
	Record string
}

// SourceRecord is the last known state of a CRM record: its fields, each
// with the version it was last changed in, as JSON. Sources that send only
// the fields that changed are read with it.
type SourceRecord struct {
	SourceRecordKey
	Fields    []byte
	UpdatedAt time.Time
}
