// Package store defines how Rung persists its facts: the event log, partner
// and member records, program versions, manual actions, API keys and the
// audit log. Derived state (ledger, ranks, metrics) is not stored; it is
// rebuilt from these facts by the engine.
//
// Implementations live in sub-packages (sqlite, postgres) and all pass the
// conformance suite in storetest.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
)

// Batch is a set of facts written atomically: all of it is durable when
// Commit returns nil, none of it when it returns an error. The ingest
// pipeline merges several requests into one Batch (group commit).
type Batch struct {
	// Records are appended to the event log in order; Commit sets each
	// record's Seq.
	Records     []*rung.Record
	Partners    []rung.PartnerVersion
	Members     []rung.Member // upserted by ID: the record holds its history
	Programs    []rung.ProgramVersion
	Adjustments []rung.Adjustment
	Audit       []rung.AuditEntry
	Outbox      []OutboxMessage // outbox.go: written with the facts they report
}

// Empty reports whether the batch holds nothing to write.
func (b *Batch) Empty() bool {
	return len(b.Records) == 0 && len(b.Partners) == 0 && len(b.Members) == 0 &&
		len(b.Programs) == 0 && len(b.Adjustments) == 0 && len(b.Audit) == 0 && len(b.Outbox) == 0
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	Target string
	Limit  int   // 0 means 100
	Before int64 // when > 0, only entries with a smaller ID: the next page
}

// Store is the durable home of Rung's facts.
type Store interface {
	Sharing // several instances on one database: changes.go
	Accounts
	Credentials   // Open Badges keys and credentials: credentials.go
	Registrations // lead and deal registration: registrations.go
	Notifications // notifications and preferences: notifications.go
	Tiers         // recorded tier actions: tiers.go
	Redemptions   // rewards redemptions: redemptions.go
	Outbox        // webhooks and CRM write-back out: outbox.go
	Snapshots     // snapshots of the derived state, for fast restarts: snapshots.go

	// CRM and LMS deliveries kept for replay: sources.go
	SourceDeliveries

	// Commit writes b atomically and durably, and assigns Seq to its records.
	// A program version whose Version is already taken fails with ECONFLICT.
	Commit(ctx context.Context, b *Batch) error

	// Records calls fn for each log record with Seq > after, in Seq order.
	// The record passed to fn is only valid during the call.
	Records(ctx context.Context, after int64, fn func(*rung.Record) error) error
	// RecordHeads is Records for a reader that keeps the encoded body but
	// not the decoded event (start-up: the engine keeps Raw and decodes it
	// again when it evaluates the event). Each record is checked as Records
	// checks it, but its Attrs is nil, and its Raw, Partner and Member are
	// valid only during the call: the memory behind them is reused, so a
	// replay of millions of records does not touch fresh memory for each.
	RecordHeads(ctx context.Context, after int64, fn func(*rung.Record) error) error
	// RecordsBySeq returns the records with the given Seqs, in the order
	// given; a Seq not in the log is ENOTFOUND. The engine keeps only the
	// Seqs of an event's versions in memory and reads them back from here.
	RecordsBySeq(ctx context.Context, seqs []int64) ([]rung.Record, error)
	// LastSeq returns the highest Seq in the log, 0 if it is empty.
	LastSeq(ctx context.Context) (int64, error)

	// PartnerVersions returns every partner version, ordered by partner id and
	// version.
	PartnerVersions(ctx context.Context) ([]rung.PartnerVersion, error)
	// Members returns every member record, ordered by id.
	Members(ctx context.Context) ([]rung.Member, error)
	// Programs returns every program version, oldest first.
	Programs(ctx context.Context) ([]rung.ProgramVersion, error)
	// Adjustments returns every manual points adjustment, oldest first.
	Adjustments(ctx context.Context) ([]rung.Adjustment, error)
	// Audit returns audit entries, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]rung.AuditEntry, error)

	// CreateAPIKey stores a new key with all its fields, RevokedAt included
	// (`rung copy` stores revoked keys this way); its ID must be new
	// (ECONFLICT otherwise).
	CreateAPIKey(ctx context.Context, k rung.APIKey) error
	// APIKeyByHash finds an unrevoked key by the SHA-256 of its secret
	// (ENOTFOUND when there is none).
	APIKeyByHash(ctx context.Context, hash []byte) (rung.APIKey, error)
	// APIKeys lists every key, revoked ones included, oldest first.
	APIKeys(ctx context.Context) ([]rung.APIKey, error)
	// RevokeAPIKey marks the key revoked at t (ENOTFOUND when unknown).
	RevokeAPIKey(ctx context.Context, id string, t time.Time) error

	// Meta reads a small named value ("" and no error when unset); SetMeta
	// writes one. Used for import cursors and instance settings.
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	// AllMeta returns every named value (an empty map when there is none),
	// for tools that copy a whole database.
	AllMeta(ctx context.Context) (map[string]string, error)

	// AppliedMigrations returns the schema migrations applied to the
	// database, by version, with their names (no SQL). `rung copy` reads
	// them to refuse a database holding kinds of fact it does not know.
	AppliedMigrations(ctx context.Context) ([]Migration, error)

	// Backup writes a consistent copy of the database to path while the
	// store stays online. Stores that cannot (PostgreSQL) return EINVALID
	// with a message that names the right tool.
	Backup(ctx context.Context, path string) error

	// Close releases the store.
	Close() error
}

// RecordFromRow decodes one row of the event log.
func RecordFromRow(seq int64, id string, version int, body []byte) (rung.Record, error) {
	r := rung.Record{Seq: seq, Version: version}
	r.Event.ID = id
	if err := codec.DecodeRecord(body, &r); err != nil {
		return rung.Record{}, fmt.Errorf("record seq %d (%s): %w", seq, id, err)
	}
	return r, nil
}
