package source

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// Secrets are what the signed sources are verified with. An empty secret
// turns its source off.
type Secrets struct {
	HubSpot         string // the HubSpot app's client secret (RUNG_HUBSPOT_SECRET)
	Webhook         string // the generic webhook's shared secret (RUNG_WEBHOOK_SECRET)
	Salesforce      string // the CDC relay's shared secret (RUNG_SALESFORCE_SECRET)
	SalesforceToken string // the token in the Outbound Message URL (RUNG_SALESFORCE_TOKEN)
	SalesforceOrg   string // when set, the only OrganizationId accepted (RUNG_SALESFORCE_ORG)
	// URL is the public address of the server (RUNG_URL), whose scheme and
	// host HubSpot signs; empty: taken from the request.
	URL string
}

// SecretsFromEnv reads Secrets from the environment.
func SecretsFromEnv() Secrets {
	return Secrets{
		HubSpot: os.Getenv("RUNG_HUBSPOT_SECRET"), Webhook: os.Getenv("RUNG_WEBHOOK_SECRET"),
		Salesforce: os.Getenv("RUNG_SALESFORCE_SECRET"), SalesforceToken: os.Getenv("RUNG_SALESFORCE_TOKEN"),
		SalesforceOrg: os.Getenv("RUNG_SALESFORCE_ORG"), URL: os.Getenv("RUNG_URL"),
	}
}

// Intake receives source deliveries, keeps them and applies their events.
type Intake struct {
	svc     *service.Service
	log     *slog.Logger
	secrets Secrets
}

// New returns an Intake over a service.
func New(svc *service.Service, log *slog.Logger, s Secrets) *Intake {
	if log == nil {
		log = slog.Default()
	}
	return &Intake{svc: svc, log: log, secrets: s}
}

// Request is one delivery as it arrived.
type Request struct {
	Kind    string // KindHubSpot, ...
	Method  string
	URI     string            // the full URI it was sent to (HubSpot signs it)
	Headers map[string]string // the headers its signature needs
	Body    []byte
	Token   string // Salesforce Outbound Messages: the token in the URL
	Object  string // CSV: the records' object; empty to guess
	By      string // who sent it, for the audit trail of retractions
}

// Result is what became of a delivery.
type Result struct {
	Delivery  string           `json:"delivery"`
	Status    string           `json:"status"` // applied or rejected
	Reason    string           `json:"reason,omitempty"`
	Events    []service.Result `json:"events"`
	Retracted []string         `json:"retracted,omitempty"`
	Stale     int              `json:"stale,omitempty"`   // changes older than the events they would update
	Ignored   int              `json:"ignored,omitempty"` // changes no mapping takes
}

// Configured reports whether a kind of delivery has its secret set.
func (x *Intake) Configured(kind string) error {
	var missing string
	switch kind {
	case KindHubSpot:
		if x.secrets.HubSpot == "" {
			missing = "RUNG_HUBSPOT_SECRET (the HubSpot app's client secret)"
		}
	case KindWebhook:
		if x.secrets.Webhook == "" {
			missing = "RUNG_WEBHOOK_SECRET"
		}
	case KindSalesforceCDC:
		if x.secrets.Salesforce == "" {
			missing = "RUNG_SALESFORCE_SECRET"
		}
	case KindSalesforce:
		if x.secrets.SalesforceToken == "" {
			missing = "RUNG_SALESFORCE_TOKEN"
		}
	}
	if missing != "" {
		return rung.Errorf(rung.ENOTFOUND, "the %s source is off: set %s on the server to turn it on (docs/sources.md)", kind, missing)
	}
	return nil
}

// Receive verifies a delivery, keeps it and applies its events. A bad
// signature or an old timestamp is EUNAUTHORIZED and nothing is kept; a
// payload that cannot be read is EINVALID and nothing is kept. A delivery
// whose changes the program cannot map (a field the mapping names is
// missing, the partner is unknown) is kept as rejected, with the reason,
// and nothing of it is applied: replay it once the mapping is fixed.
func (x *Intake) Receive(ctx context.Context, req Request) (Result, error) {
	if err := x.Configured(req.Kind); err != nil {
		return Result{}, err
	}
	now := x.svc.Now()
	if err := x.verify(req, now, true); err != nil {
		x.log.Warn("source delivery refused", "source", req.Kind, "reason", err.Error())
		return Result{}, rung.Errorf(rung.EUNAUTHORIZED, "%s delivery refused: %v; nothing was applied", req.Kind, err)
	}
	changes, err := parse(req)
	if err != nil {
		return Result{}, rung.Errorf(rung.EINVALID, "%s delivery: %v", req.Kind, err)
	}
	d := store.SourceDelivery{
		ID: newID(), Source: req.Kind, ReceivedAt: now, Method: req.Method, URI: req.URI,
		Headers: req.Headers, Body: req.Body, Attempts: 1,
	}
	if req.Object != "" {
		if d.Headers == nil {
			d.Headers = map[string]string{}
		}
		d.Headers["Object"] = req.Object
	}
	return x.apply(ctx, &d, changes, req.By)
}

// Replay applies a kept delivery again, with the program as it is now: the
// way to apply a rejected delivery after its mapping was fixed. The
// signature is checked again (not the timestamp's age); events already
// applied come back as duplicates.
func (x *Intake) Replay(ctx context.Context, id, by string) (Result, error) {
	d, err := x.svc.Store().SourceDelivery(ctx, id)
	if err != nil {
		return Result{}, err
	}
	req := Request{Kind: d.Source, Method: d.Method, URI: d.URI, Headers: d.Headers, Body: d.Body, Object: d.Headers["Object"]}
	if err := x.Configured(d.Source); err != nil {
		return Result{}, err
	}
	if err := x.verify(req, time.Time{}, false); err != nil {
		return Result{}, rung.Errorf(rung.EUNAUTHORIZED, "delivery %s no longer verifies: %v (was the secret changed?); nothing was applied", id, err)
	}
	changes, err := parse(req)
	if err != nil {
		return Result{}, rung.Errorf(rung.EINVALID, "delivery %s: %v", id, err)
	}
	d.Attempts++
	return x.apply(ctx, &d, changes, by)
}

// verify checks a delivery's signature; now zero skips the timestamp's age.
// arrival says the request is new, not a replay of a kept one.
func (x *Intake) verify(req Request, now time.Time, arrival bool) error {
	switch req.Kind {
	case KindHubSpot:
		return VerifyHubSpot(x.secrets.HubSpot, req.Method, req.URI, req.Body, req.Headers, now)
	case KindWebhook:
		return Verify(x.secrets.Webhook, req.Body, req.Headers, now)
	case KindSalesforceCDC:
		return Verify(x.secrets.Salesforce, req.Body, req.Headers, now)
	case KindSalesforce:
		if arrival && subtle.ConstantTimeCompare([]byte(req.Token), []byte(x.secrets.SalesforceToken)) != 1 {
			return fmt.Errorf("the token in the Outbound Message's endpoint URL does not match RUNG_SALESFORCE_TOKEN")
		}
		if x.secrets.SalesforceOrg != "" {
			org, _, err := ParseOutbound(req.Body)
			if err == nil && org != x.secrets.SalesforceOrg {
				return fmt.Errorf("OrganizationId %s is not the org this server takes (RUNG_SALESFORCE_ORG)", org)
			}
		}
	}
	return nil
}

// parse reads a delivery's changes.
func parse(req Request) ([]Change, error) {
	switch req.Kind {
	case KindHubSpot:
		return ParseHubSpot(req.Body)
	case KindSalesforce:
		_, cs, err := ParseOutbound(req.Body)
		return cs, err
	case KindSalesforceCDC:
		return ParseCDC(req.Body)
	case KindWebhook:
		return ParseWebhook(req.Body)
	case KindHubSpotCSV, KindSalesforceCSV, KindCSV:
		return ParseCSV(req.Kind, req.Object, req.Body)
	}
	return nil, fmt.Errorf("unknown kind of delivery %q", req.Kind)
}

// maxReasons is how many problems a rejected delivery's reason lists.
const maxReasons = 20

// apply maps changes to events with the current program, applies them
// unless a problem rejects the delivery, and keeps the delivery.
func (x *Intake) apply(ctx context.Context, d *store.SourceDelivery, changes []Change, by string) (Result, error) {
	now := x.svc.Now()
	sys := system(d.Source)
	states, err := loadStates(ctx, x.svc.Store(), sys, changes)
	if err != nil {
		return Result{}, err
	}
	states.merge(sys, changes)
	var p plan
	x.svc.Read(func(e *engine.Engine) error {
		p = makePlan(e, sys, changes, now)
		return nil
	})
	res := Result{Delivery: d.ID, Events: []service.Result{}, Stale: p.stale, Ignored: p.ignored}
	if len(p.problems) == 0 {
		results, err := x.svc.Ingest(ctx, p.events)
		if err != nil {
			return Result{}, err
		}
		res.Events = results
		for _, r := range results {
			if r.Status == "rejected" {
				p.problems = append(p.problems, fmt.Sprintf("event %s: %s", r.ID, r.Error))
			}
		}
		if by == "" {
			by = "source:" + d.Source
		}
		for _, id := range p.retract {
			_, err := x.svc.Retract(ctx, id, by)
			var re *rung.Error
			if errors.As(err, &re) && (re.Code == rung.ECONFLICT || re.Code == rung.ENOTFOUND) {
				continue // retracted meanwhile
			}
			if err != nil {
				return Result{}, err
			}
			res.Retracted = append(res.Retracted, id)
		}
	}
	d.Status, d.Reason, d.Events = store.DeliveryApplied, "", len(p.events)
	if len(p.problems) > 0 {
		d.Status, d.Events = store.DeliveryRejected, 0
		reasons := p.problems
		if len(reasons) > maxReasons {
			reasons = append(reasons[:maxReasons:maxReasons], fmt.Sprintf("and %d more", len(p.problems)-maxReasons))
		}
		d.Reason = strings.Join(reasons, "\n")
	}
	d.UpdatedAt = now
	if d.Status == store.DeliveryApplied {
		err := states.save(ctx, x.svc.Store(), sys, changes, p.mapped, func() store.SourceRecord { return store.SourceRecord{UpdatedAt: now} })
		if err != nil {
			return Result{}, fmt.Errorf("keep the records of delivery %s: %w", d.ID, err)
		}
	}
	if err := x.svc.Store().PutSourceDelivery(ctx, *d); err != nil {
		return Result{}, fmt.Errorf("keep delivery %s: %w", d.ID, err)
	}
	res.Status, res.Reason = d.Status, d.Reason
	if d.Status == store.DeliveryRejected {
		x.log.Warn("source delivery rejected", "source", d.Source, "delivery", d.ID, "reason", d.Reason)
	}
	return res, nil
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "del_" + hex.EncodeToString(b[:])
}

// EventID is the id of the event a mapping makes of a record:
// <source>:<object>:<record>:<type>. A newer version of the record makes
// the same id, so it corrects the event; the same version again is a
// duplicate.
func EventID(sys, object, record, typ string) string {
	return sys + ":" + object + ":" + record + ":" + typ
}

// VersionAttr is the event attribute holding the version of the record it
// was made from; an older version does not overwrite a newer one.
const VersionAttr = "source_version"

// plan is what a delivery does.
type plan struct {
	events   []*service.Incoming
	retract  []string
	problems []string
	stale    int
	ignored  int
	mapped   []bool // by change: some mapping takes its object
}

func makePlan(e *engine.Engine, sys string, changes []Change, now time.Time) plan {
	var p plan
	prog := e.Program()
	if prog == nil {
		p.problems = append(p.problems, "no program is applied yet: apply one with a sources section, then replay this delivery")
		return p
	}
	lk := &lookups{e: e}
	p.mapped = make([]bool, len(changes))
	for i := range changes {
		c := &changes[i]
		ms := prog.MappingsFor(sys, c.Object)
		if len(ms) == 0 {
			p.ignored++
			continue
		}
		p.mapped[i] = true
		if c.Deleted {
			for _, m := range ms {
				id := EventID(sys, c.Object, c.Record, m.Type)
				if known, retracted, _ := e.Known(id); known && !retracted {
					p.retract = append(p.retract, id)
				}
			}
			continue
		}
		conv := make(map[string]any, len(c.Fields))
		for k, v := range c.Fields {
			conv[k] = attrValue(v)
		}
		made := false
		for _, m := range ms {
			if m.Changed != "" && !c.changedField(m.Changed) {
				continue
			}
			made = true
			ev, problem := makeEvent(m, sys, c, conv, lk, now)
			if problem != "" {
				p.problems = append(p.problems, problem)
				continue
			}
			if ev == nil {
				// when is false: an event made while it held is retracted
				// (a won deal reopened).
				if id := EventID(sys, c.Object, recordOf(m, c), m.Type); recordOf(m, c) != "" {
					old, _ := e.EventBody(id).Attrs[VersionAttr].(float64)
					if known, retracted, _ := e.Known(id); known && !retracted && (c.Version == 0 || old <= float64(c.Version)) {
						p.retract = append(p.retract, id)
					}
				}
				continue
			}
			if stale(e, ev) {
				p.stale++
				continue
			}
			p.events = append(p.events, &service.Incoming{Event: *ev})
		}
		if !made {
			p.ignored++
		}
	}
	return p
}

// where names a mapping in messages.
func where(m *program.SourceMapping) string {
	return fmt.Sprintf("the sources.%s mapping on line %d (%s → %s)", m.Source, m.Line, m.Object, m.Type)
}

// makeEvent makes a mapping's event of a change; nil when its when is
// false, or a problem saying what is wrong and how to fix it.
func makeEvent(m *program.SourceMapping, sys string, c *Change, conv map[string]any, lk *lookups, now time.Time) (*rung.Event, string) {
	rec := c.Object + " " + c.Record
	if c.Record == "" {
		rec = "a " + c.Object
	}
	ok, err := m.Matches(conv)
	if err != nil {
		return nil, fmt.Sprintf("%s: when cannot be evaluated for %s: %v", where(m), rec, err)
	}
	if !ok {
		return nil, ""
	}
	for _, f := range m.Fields() {
		if _, ok := c.field(f); !ok {
			return nil, fmt.Sprintf("%s names field %q, which %s lacks: fix the mapping (or send the field), then replay", where(m), f, rec)
		}
	}
	record := recordOf(m, c)
	if record == "" {
		return nil, fmt.Sprintf("%s: %s has no record id: name its id field with record: in the mapping", where(m), rec)
	}
	pv, _ := c.field(m.Partner.Field)
	partner, problem := lk.partner(m.Partner, text(pv))
	if problem != "" {
		return nil, fmt.Sprintf("%s: %s %s", where(m), rec, problem)
	}
	ev := &rung.Event{ID: EventID(sys, c.Object, record, m.Type), Type: m.Type, Partner: partner, OccurredAt: c.At, Source: sys}
	if m.Member != "" {
		v, _ := c.field(m.Member)
		ev.Member = strings.TrimSpace(text(v))
	}
	if m.OccurredAt != "" {
		v, _ := c.field(m.OccurredAt)
		t, ok := parseTime(v)
		if !ok {
			return nil, fmt.Sprintf("%s: field %q of %s is %q, not a time (RFC 3339, 2006-01-02 or milliseconds since 1970)", where(m), m.OccurredAt, rec, text(v))
		}
		ev.OccurredAt = t
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = now.UTC()
	}
	if len(m.Attrs) > 0 || c.Version > 0 {
		ev.Attrs = make(map[string]any, len(m.Attrs)+1)
	}
	for _, a := range m.Attrs {
		v, _ := c.field(a.Field)
		ev.Attrs[a.Name] = attrValue(v)
	}
	if c.Version > 0 {
		ev.Attrs[VersionAttr] = float64(c.Version)
	}
	return ev, ""
}

// recordOf returns the id of a change's record as a mapping reads it.
func recordOf(m *program.SourceMapping, c *Change) string {
	if m.Record != "" {
		v, _ := c.field(m.Record)
		return text(v)
	}
	return c.Record
}

// stale reports whether an event would overwrite one made from a newer
// version of its record.
func stale(e *engine.Engine, ev *rung.Event) bool {
	known, retracted, _ := e.Known(ev.ID)
	if !known || retracted {
		return false
	}
	old, _ := e.EventBody(ev.ID).Attrs[VersionAttr].(float64)
	v, _ := ev.Attrs[VersionAttr].(float64)
	return v > 0 && old > v
}

// lookups finds partners, indexing domains and attributes once per
// delivery.
type lookups struct {
	e       *engine.Engine
	domains map[string][]string // registrable domain -> partner ids
	attrs   map[string]map[string][]string
}

// partner returns the partner a lookup finds for a value, or a problem.
func (l *lookups) partner(lk program.Lookup, value string) (string, string) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", fmt.Sprintf("has an empty %q: the partner cannot be found", lk.Field)
	}
	switch {
	case lk.Domain:
		if l.domains == nil {
			l.domains = map[string][]string{}
			for _, id := range l.e.PartnerIDs() {
				p, _ := l.e.Partner(id)
				for _, d := range p.Domains {
					if rd, err := registrableDomain(d); err == nil {
						l.domains[rd] = append(l.domains[rd], id)
					}
				}
			}
		}
		rd, err := registrableDomain(domainOf(value))
		if err != nil {
			return "", fmt.Sprintf("has %q in %q, which holds no usable domain: %v", value, lk.Field, err)
		}
		switch ids := l.domains[rd]; len(ids) {
		case 0:
			return "", fmt.Sprintf("has %q in %q, and no partner has the domain %s: add it to the partner's domains (PUT /api/v1/partners/{id})", value, lk.Field, rd)
		case 1:
			return ids[0], ""
		default:
			return "", fmt.Sprintf("has %q in %q, and partners %s all have the domain %s: give it to one only", value, lk.Field, strings.Join(ids, ", "), rd)
		}
	case lk.Attr != "":
		if l.attrs == nil {
			l.attrs = map[string]map[string][]string{}
		}
		idx := l.attrs[lk.Attr]
		if idx == nil {
			idx = map[string][]string{}
			for _, id := range l.e.PartnerIDs() {
				p, _ := l.e.Partner(id)
				if v, ok := p.Attrs[lk.Attr]; ok {
					idx[text(v)] = append(idx[text(v)], id)
				}
			}
			l.attrs[lk.Attr] = idx
		}
		switch ids := idx[value]; len(ids) {
		case 0:
			return "", fmt.Sprintf("has %q in %q, and no partner has attrs.%s %q: set it on the partner (PUT /api/v1/partners/{id})", value, lk.Field, lk.Attr, value)
		case 1:
			return ids[0], ""
		default:
			return "", fmt.Sprintf("has %q in %q, and partners %s all have attrs.%s %q: give it to one only", value, lk.Field, strings.Join(ids, ", "), lk.Attr, value)
		}
	}
	if _, ok := l.e.Partner(value); !ok {
		return "", fmt.Sprintf("names partner %q (in %q), which does not exist: create it with PUT /api/v1/partners/%s", value, lk.Field, value)
	}
	return value, ""
}
