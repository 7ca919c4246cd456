package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/issuance"
	"github.com/rung-dev/rung/internal/registration"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
	"github.com/rung-dev/rung/internal/web"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("demo", stderr)
	addr := fs.String("addr", env("RUNG_ADDR", "127.0.0.1:8080"), "listen address (RUNG_ADDR)")
	dir := fs.String("dir", "", "keep the demo database in this folder instead of a throw-away one")
	partners := fs.Int("partners", 320, "partners to generate")
	members := fs.Int("members", 3200, "members to generate")
	months := fs.Int("months", 12, "months of history")
	seed := fs.Int64("seed", 1, "random seed")
	var cred credentialFlags
	if err := cred.register(fs); err != nil {
		return err
	}
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := cred.check(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	path := *dir
	if path == "" {
		tmp, err := os.MkdirTemp("", "rung-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		path = tmp
	} else if err := os.MkdirAll(path, 0o755); err != nil {
		return rung.Errorf(rung.EINVALID, "--dir %s: cannot create the folder for the demo database: %v", path, err)
	}
	dbPath := filepath.Join(path, "rung-demo.db")
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return rung.Errorf(rung.EUNAVAILABLE, "cannot listen on %s: %v (is another server running? try --addr 127.0.0.1:0)", *addr, err)
	}
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	prepareHeap()
	svc, err := service.Open(ctx, st, service.Options{Logger: log})
	if err != nil {
		return err
	}
	defer svc.Close()
	start := time.Now()
	key, stats, err := loadDemo(ctx, svc, demo.Options{Seed: *seed, Partners: *partners, Members: *members, Months: *months, Now: time.Now()})
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	iss, err := cred.issuer(ctx, svc, publicURL(ln), log)
	if err != nil {
		return err
	}
	// Credentials for the demo's badges are issued in the background; the
	// reconciler stops before the service closes.
	rctx, stopIssuing := context.WithCancel(ctx)
	issuing := make(chan struct{})
	go func() {
		defer close(issuing)
		issuance.New(svc, iss, log).Run(rctx, cred.every)
	}()
	defer func() {
		stopIssuing()
		<-issuing
	}()
	adminEmail, adminPassword, link, err := demoAccounts(ctx, svc, url, stats.topMember)
	if err != nil {
		return err
	}
	keepNote := "; the demo database is thrown away"
	if *dir != "" {
		keepNote = "; the demo database stays in " + *dir
	}
	fmt.Fprintf(stdout, `Rung demo: %s
  %d partners, %d members, %d events loaded in %s (database %s)

  Admin console: %s/admin
    e-mail:   %s
    password: %s
  Partner portal, signed in as %s (a partner admin; the link works once, for 15 minutes):
    %s

  API key (admin): %s

  Try:
    curl -s -H "Authorization: Bearer %s" %s/api/v1/leaderboards/quarter-points?limit=5
    curl -s -H "Authorization: Bearer %s" %s/api/v1/partners/%s/scorecard
    curl -s -H "Authorization: Bearer %s" %s/api/v1/members/%s/scorecard

Press Ctrl-C to stop%s.
`, url, stats.partners, stats.members, stats.events, time.Since(start).Round(time.Millisecond), dbPath,
		url, adminEmail, adminPassword, stats.topMember, link,
		key, key, url, key, url, stats.topPartner, key, url, stats.topMember, keepNote)
	notes, stopNotes := demoNotifications(ctx, svc, url, log)
	defer stopNotes()
	// What the scheduler of rung serve would hand on by now: this
	// quarter's nudges and the running challenge, so the mailbox and the
	// portal show them.
	if _, err := svc.RecordNudges(ctx); err != nil {
		log.Warn("demo: nudges not recorded", "err", err)
	} else if err := (&relay{svc: svc, notes: notes, log: log}).step(ctx); err != nil {
		log.Warn("demo: nudges and challenges not handed on", "err", err)
	}
	return serve(ctx, ln, svc, iss, notes, true, log)
}

type demoStats struct {
	partners, members, events int
	topPartner, topMember     string
}

// loadDemo applies the demo program and loads the generated history through
// the same service calls the API uses.
func loadDemo(ctx context.Context, svc *service.Service, o demo.Options) (string, demoStats, error) {
	var st demoStats
	if _, err := svc.ApplyProgram(ctx, demo.Program, time.Time{}, "demo"); err != nil {
		return "", st, fmt.Errorf("demo program: %w", err)
	}
	d := demo.Generate(o)
	for _, p := range d.Partners {
		if _, err := svc.PutPartner(ctx, p); err != nil {
			return "", st, fmt.Errorf("demo partner %s: %w", p.ID, err)
		}
	}
	for _, m := range d.Members {
		if _, err := svc.PutMember(ctx, m); err != nil {
			return "", st, fmt.Errorf("demo member %s: %w", m.ID, err)
		}
	}
	const chunk = 5000
	for i := 0; i < len(d.Events); i += chunk {
		end := min(i+chunk, len(d.Events))
		in := make([]*service.Incoming, 0, end-i)
		for _, ev := range d.Events[i:end] {
			in = append(in, &service.Incoming{Event: ev})
		}
		res, err := svc.Ingest(ctx, in)
		if err != nil {
			return "", st, err
		}
		for _, r := range res {
			if r.Status == "rejected" {
				return "", st, fmt.Errorf("demo event %s rejected: %s", r.ID, r.Error)
			}
		}
	}
	if _, err := registration.New(svc, registration.Options{}).SeedDemo(ctx, d.Partners, o.Now); err != nil {
		return "", st, fmt.Errorf("demo registrations: %w", err)
	}
	if _, err := seedDemoTiers(ctx, svc, o.Now); err != nil {
		return "", st, err
	}
	if _, err := svc.SeedDemoRedemptions(ctx); err != nil {
		return "", st, fmt.Errorf("demo redemptions: %w", err)
	}
	_, secret, err := svc.CreateAPIKey(ctx, "demo admin", rung.ScopeAdmin, "demo")
	if err != nil {
		return "", st, err
	}
	st.partners, st.members, st.events = len(d.Partners), len(d.Members), len(d.Events)
	if len(d.Partners) > 0 {
		st.topPartner = d.Partners[0].ID
	}
	if len(d.Members) > 0 {
		st.topMember = d.Members[0].ID
	}
	return secret, st, nil
}

// demoAccounts makes the demo's admin account, with a generated password,
// and a sign-in link for a member made partner admin, so the portal and
// the console are one click away.
func demoAccounts(ctx context.Context, svc *service.Service, url, member string) (email, password, link string, err error) {
	st := svc.Store()
	email, password = "admin@demo.rung.dev", web.GeneratePassword()
	if _, err = web.AddStaff(ctx, st, web.NewStaff{Email: email, Name: "Demo Admin", Role: store.RoleAdmin, Password: password}, "demo", time.Now()); err != nil {
		return "", "", "", fmt.Errorf("demo admin: %w", err)
	}
	var m rung.Member
	svc.Read(func(e *engine.Engine) error {
		m, _ = e.Member(member)
		return nil
	})
	if err = web.SetMemberRole(ctx, st, m, store.RolePartnerAdmin, "demo", time.Now()); err != nil {
		return "", "", "", err
	}
	link, err = web.IssueLink(ctx, st, nil, m, url, "demo", time.Now())
	return email, password, link, err
}
