package main

import (
	"flag"
	"log/slog"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/notify"
	"github.com/rung-dev/rung/internal/service"
)

// notifyFlags are the notification settings of `rung serve`
// (docs/notifications.md).
type notifyFlags struct {
	smtp, from, teamSlack, teamEmail string
	window                           time.Duration
	relay                            *notify.SMTP
}

func (f *notifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.smtp, "smtp", env("RUNG_SMTP", ""), "send e-mail through this relay: smtp://user:pass@host:587 (STARTTLS when offered; ?starttls=require to insist) or smtps://user:pass@host:465; none when empty (RUNG_SMTP)")
	fs.StringVar(&f.from, "smtp-from", env("RUNG_SMTP_FROM", "Rung <rung@localhost>"), "the From of the e-mails (RUNG_SMTP_FROM)")
	fs.StringVar(&f.teamSlack, "slack-team-webhook", env("RUNG_SLACK_TEAM_WEBHOOK", ""), "Slack incoming webhook URL of the vendor's channel team (RUNG_SLACK_TEAM_WEBHOOK)")
	fs.StringVar(&f.teamEmail, "team-email", env("RUNG_TEAM_EMAIL", ""), "e-mail address of the vendor's channel team, for SLA warnings (RUNG_TEAM_EMAIL)")
	fs.DurationVar(&f.window, "notify-window", time.Minute, "batching window: a person gets at most one message per window")
}

func (f *notifyFlags) check() error {
	if f.smtp != "" {
		relay, err := notify.ParseSMTP(f.smtp)
		if err != nil {
			return err
		}
		f.relay = relay
	}
	if f.window < time.Second {
		return rung.Errorf(rung.EINVALID, "--notify-window must be 1s or more, such as 1m")
	}
	return nil
}

// service builds the notification service and adds its jobs (weekly
// digest, SLA warnings) to the runner.
func (f *notifyFlags) service(svc *service.Service, runner *jobs.Runner, baseURL string, log *slog.Logger) (*notify.Service, error) {
	o := notify.Options{From: f.from, BaseURL: baseURL, TeamSlack: f.teamSlack, TeamEmail: f.teamEmail, Window: f.window, Logger: log}
	if f.relay != nil {
		o.Mail = f.relay
		log.Info("notifications: e-mail", "relay", f.relay.String(), "from", f.from)
	} else {
		log.Info("notifications: no --smtp; in-app and Slack only")
	}
	n := notify.New(svc, o)
	for _, j := range []jobs.Job{n.DigestJob(), n.SLAJob()} {
		if err := runner.Add(j); err != nil {
			return nil, err
		}
	}
	return n, nil
}
