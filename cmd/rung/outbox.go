package main

import (
	"cmp"
	"context"
	"flag"
	"log/slog"
	"math"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// outboxFlags are the settings of webhook delivery and CRM write-back
// (docs/webhooks.md).
type outboxFlags struct {
	every, timeout time.Duration
	attempts       int
	hubspot        outbox.HubSpot
	hubspotProps   string
	salesforce     outbox.Salesforce
	sfFields       string
}

func (o *outboxFlags) register(fs *flag.FlagSet) error {
	every, err := envDuration("RUNG_WEBHOOK_EVERY", time.Second)
	if err != nil {
		return err
	}
	timeout, err := envDuration("RUNG_WEBHOOK_TIMEOUT", 10*time.Second)
	if err != nil {
		return err
	}
	attempts, err := strconv.Atoi(env("RUNG_WEBHOOK_ATTEMPTS", "10"))
	if err != nil {
		return rung.Errorf(rung.EINVALID, "RUNG_WEBHOOK_ATTEMPTS must be a number, such as 10")
	}
	fs.DurationVar(&o.every, "webhook-every", every, "how often the leading instance reports changes and delivers webhooks (RUNG_WEBHOOK_EVERY)")
	fs.DurationVar(&o.timeout, "webhook-timeout", timeout, "how long one webhook or CRM request may take (RUNG_WEBHOOK_TIMEOUT)")
	fs.IntVar(&o.attempts, "webhook-attempts", attempts, "attempts per message and endpoint before it is dead-lettered (RUNG_WEBHOOK_ATTEMPTS)")
	fs.StringVar(&o.hubspot.Token, "hubspot-token", "", "HubSpot private app token: write partners' tier, points, level and badges to their companies (RUNG_HUBSPOT_TOKEN)")
	fs.StringVar(&o.hubspot.BaseURL, "hubspot-url", env("RUNG_HUBSPOT_URL", "https://api.hubapi.com"), "HubSpot API address (RUNG_HUBSPOT_URL)")
	fs.StringVar(&o.hubspot.IDAttr, "hubspot-id-attr", env("RUNG_HUBSPOT_ID_ATTR", ""), "partner attribute holding the HubSpot company id; empty: the partner id is the company id (RUNG_HUBSPOT_ID_ATTR)")
	fs.StringVar(&o.hubspotProps, "hubspot-properties", env("RUNG_HUBSPOT_PROPERTIES", "tier=rung_tier,points=rung_points,level=rung_level,badges=rung_badges"), "write-back field=company property pairs (RUNG_HUBSPOT_PROPERTIES)")
	fs.StringVar(&o.salesforce.Token, "salesforce-token", "", "Salesforce access token: write partners' tier, points, level and badges to their accounts (RUNG_SALESFORCE_TOKEN)")
	fs.StringVar(&o.salesforce.InstanceURL, "salesforce-url", env("RUNG_SALESFORCE_URL", ""), "Salesforce instance address, such as https://acme.my.salesforce.com (RUNG_SALESFORCE_URL)")
	fs.StringVar(&o.salesforce.Version, "salesforce-version", env("RUNG_SALESFORCE_VERSION", "v60.0"), "Salesforce REST API version (RUNG_SALESFORCE_VERSION)")
	fs.StringVar(&o.salesforce.IDAttr, "salesforce-id-attr", env("RUNG_SALESFORCE_ID_ATTR", ""), "partner attribute holding the Salesforce account id; empty: the partner id is the account id (RUNG_SALESFORCE_ID_ATTR)")
	fs.StringVar(&o.sfFields, "salesforce-fields", env("RUNG_SALESFORCE_FIELDS", "tier=Rung_Tier__c,points=Rung_Points__c,level=Rung_Level__c,badges=Rung_Badges__c"), "write-back field=account field pairs (RUNG_SALESFORCE_FIELDS)")
	return nil
}

// sinks checks the flags and returns the CRM endpoints they configure.
func (o *outboxFlags) sinks() ([]outbox.Sink, error) {
	if o.every <= 0 || o.timeout <= 0 {
		return nil, rung.Errorf(rung.EINVALID, "--webhook-every and --webhook-timeout must be positive, such as 1s and 10s")
	}
	if o.attempts < 1 {
		return nil, rung.Errorf(rung.EINVALID, "--webhook-attempts must be at least 1")
	}
	// Tokens come from the environment after parsing, so that -help does
	// not print them as defaults.
	o.hubspot.Token = cmp.Or(o.hubspot.Token, os.Getenv("RUNG_HUBSPOT_TOKEN"))
	o.salesforce.Token = cmp.Or(o.salesforce.Token, os.Getenv("RUNG_SALESFORCE_TOKEN"))
	var out []outbox.Sink
	if o.hubspot.Token != "" {
		props, err := outbox.ParseFieldMap("--hubspot-properties", o.hubspotProps)
		if err != nil {
			return nil, err
		}
		if err := checkURL("--hubspot-url", o.hubspot.BaseURL); err != nil {
			return nil, err
		}
		o.hubspot.Properties = props
		out = append(out, &o.hubspot)
	}
	if o.salesforce.Token != "" || o.salesforce.InstanceURL != "" {
		if o.salesforce.Token == "" || o.salesforce.InstanceURL == "" {
			return nil, rung.Errorf(rung.EINVALID, "Salesforce write-back needs both --salesforce-url and --salesforce-token")
		}
		fields, err := outbox.ParseFieldMap("--salesforce-fields", o.sfFields)
		if err != nil {
			return nil, err
		}
		if err := checkURL("--salesforce-url", o.salesforce.InstanceURL); err != nil {
			return nil, err
		}
		o.salesforce.Fields = fields
		out = append(out, &o.salesforce)
	}
	return out, nil
}

func checkURL(flag, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return rung.Errorf(rung.EINVALID, "%s %q: give an absolute https URL", flag, s)
	}
	return nil
}

// start runs the outbox worker while leading says this instance leads the
// job runner; the function it returns stops it and waits.
func (o *outboxFlags) start(ctx context.Context, svc *service.Service, sinks []outbox.Sink, leading func() bool,
	after func(context.Context, []store.OutboxMessage), log *slog.Logger) func() {
	w := &outbox.Worker{
		Producer: outbox.NewProducer(svc, len(sinks) > 0),
		Deliverer: outbox.NewDeliverer(svc.Store(), outbox.Options{MaxAttempts: o.attempts, Timeout: o.timeout, Sinks: sinks,
			Clock: svc.Now, Logger: log}),
		Every: o.every, Leading: leading, Logger: log,
	}
	w.Producer.After = after
	var names []string
	for _, s := range sinks {
		names = append(names, s.Endpoint())
	}
	log.Info("outbox", "every", o.every, "attempts", o.attempts, "timeout", o.timeout, "crm", names)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// outboxBacklog counts what waits in the outbox: messages not yet handed
// to every endpoint and deliveries not yet made (dead letters left out),
// up to 100,000 of each, for /metrics.
func outboxBacklog(st store.Store) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ms, err := st.OutboxMessages(ctx, 0, 100_000, true)
	if err != nil {
		return math.NaN()
	}
	ds, err := st.DueDeliveries(ctx, time.Now().AddDate(100, 0, 0), 100_000)
	if err != nil {
		return math.NaN()
	}
	return float64(len(ms) + len(ds))
}
