package api

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/registration"
	"github.com/rung-dev/rung/internal/store"
)

// intake serves the registration channels that have no API key of their
// own: the Slack slash command, inbound e-mail and the public web form.
// They all go through the same Desk as the API.
type intake struct {
	h           *Handler
	slackSecret string
	// Form submissions per address and per IP (per instance).
	byAddress, byIP *rateLimit
}

func newIntake(h *Handler) *intake {
	return &intake{
		h:           h,
		slackSecret: os.Getenv("RUNG_SLACK_SIGNING_SECRET"),
		byAddress:   newRateLimit(5, time.Hour),
		byIP:        newRateLimit(20, time.Hour),
	}
}

// slack answers the slash command with an ephemeral message: the case
// number, or what was wrong.
func (in *intake) slack(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		writeError(w, rung.Errorf(rung.EINVALID, "the body cannot be read"))
		return
	}
	if err := registration.VerifySlack(in.slackSecret, r.Header.Get("X-Slack-Request-Timestamp"), r.Header.Get("X-Slack-Signature"), body, in.h.svc.Now()); err != nil {
		writeError(w, err)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, rung.Errorf(rung.EINVALID, "the body is not a form"))
		return
	}
	reply := func(text string) {
		writeJSON(w, http.StatusOK, map[string]string{"response_type": "ephemeral", "text": text})
	}
	partner, member, err := in.h.reg.PartnerForSlack(form.Get("team_id"), form.Get("user_id"))
	if err != nil {
		reply(rung.ErrorMessage(err))
		return
	}
	if id, ok := strings.CutPrefix(strings.TrimSpace(form.Get("text")), "status "); ok {
		reg, err := in.h.reg.Get(r.Context(), strings.ToUpper(strings.TrimSpace(id)))
		if err != nil || reg.Partner != partner {
			reply("No case " + strings.TrimSpace(id) + " of yours.")
			return
		}
		reply(partnerReply(reg, false))
		return
	}
	input, err := registration.ParseSlackText(form.Get("text"))
	if err != nil {
		reply(rung.ErrorMessage(err))
		return
	}
	input.Partner, input.Member, input.Channel, input.By = partner, member, "slack", "slack:"+form.Get("user_id")
	reg, created, err := in.h.reg.Submit(r.Context(), input)
	if err != nil && reg.ID == "" {
		reply("Not registered: " + registration.ErrorText(err))
		return
	}
	reply(partnerReply(reg, created))
}

// partnerReply tells a partner what became of its registration, without a
// word about any other partner's.
func partnerReply(reg store.Registration, created bool) string {
	v := registration.NewPartnerView(reg)
	var b strings.Builder
	if created {
		fmt.Fprintf(&b, "Registered %s as case %s (%s).", v.Company, v.ID, v.Status)
	} else {
		fmt.Fprintf(&b, "You registered %s already: case %s, %s.", v.Company, v.ID, v.Status)
	}
	switch {
	case v.Status == store.RegDeclined:
		fmt.Fprintf(&b, " Declined: %s.", v.Reason)
	case v.UnderReview:
		b.WriteString(" The company is under review; you will hear the outcome.")
	case v.ProtectedUntil != nil:
		fmt.Fprintf(&b, " Protected until %s.", v.ProtectedUntil.Format("2 Jan 2006"))
	default:
		b.WriteString(" We will review it and let you know.")
	}
	return b.String()
}

// emailReply is the answer to an inbound e-mail, returned as the HTTP
// response until Rung sends e-mail itself.
type emailReply struct {
	Accepted bool   `json:"accepted"`
	Case     string `json:"case,omitempty"`
	To       string `json:"to"`
	Subject  string `json:"subject"`
	Text     string `json:"text"`
	Sent     bool   `json:"sent"` // the answer went out by e-mail too
}

// email takes a raw RFC 5322 message (message/rfc822 or text/plain body)
// or the multipart form of an inbound-parse service.
func (in *intake) email(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var msg registration.Email
	var err error
	switch media {
	case "multipart/form-data", "application/x-www-form-urlencoded":
		if err = r.ParseMultipartForm(8 << 20); err != nil && media == "multipart/form-data" {
			writeError(w, rung.Errorf(rung.EINVALID, "the form cannot be read: %v", err))
			return
		}
		if media != "multipart/form-data" {
			if err = r.ParseForm(); err != nil {
				writeError(w, rung.Errorf(rung.EINVALID, "the form cannot be read: %v", err))
				return
			}
		}
		msg, err = registration.EmailFromForm(r.FormValue)
	default:
		var raw []byte
		raw, err = io.ReadAll(r.Body)
		if err != nil {
			writeError(w, rung.Errorf(rung.ETOOLARGE, "the message is larger than 8 MiB"))
			return
		}
		msg, err = registration.ParseEmail(raw)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	rep := emailReply{To: msg.From, Subject: "Re: " + msg.Subject}
	if msg.Subject == "" {
		rep.Subject = "Your registration"
	}
	input, problems := registration.InputFromEmail(msg)
	partner, member, err := in.h.reg.PartnerForSender(input.Partner, msg.From)
	if err != nil {
		rep.Text = "We could not take your registration: " + registration.ErrorText(err)
		in.answerEmail(w, r, rep, msg.MessageID)
		return
	}
	if id := caseRE.FindStringSubmatch(msg.Subject); id != nil {
		// A reply about a case: the answer to a question, or a question.
		if reg, err := in.h.reg.Get(r.Context(), id[1]); err == nil && reg.Partner == partner.ID {
			rep.Case = reg.ID
			if reg.Status == store.RegNeedsInfo {
				if reg, err = in.h.reg.Answer(r.Context(), reg.ID, registration.ReplyText(msg.Text), "email:"+msg.From); err != nil {
					rep.Text = "We could not take your answer: " + registration.ErrorText(err)
				} else {
					rep.Accepted, rep.Text = true, "Thank you: case "+reg.ID+" is back in review."
				}
			} else {
				rep.Text = partnerReply(reg, false)
			}
			in.answerEmail(w, r, rep, msg.MessageID)
			return
		}
	}
	if len(problems) > 0 {
		rep.Text = "We could not take your registration. Please reply with:\n- " + strings.Join(problems, "\n- ") +
			"\n\nFor example:\nCompany: Globex Corporation\nDomain: globex.com\nContact: Jane Doe <jane@globex.com>\nNotes: 40 seats, decision in Q1"
		in.answerEmail(w, r, rep, msg.MessageID)
		return
	}
	input.Partner, input.Member, input.By = partner.ID, member, "email:"+msg.From
	reg, created, err := in.h.reg.Submit(r.Context(), input)
	if err != nil && reg.ID == "" {
		if code := rung.ErrorCode(err); code == rung.EINTERNAL || code == rung.EUNAVAILABLE {
			writeError(w, err) // the service will post again
			return
		}
		rep.Text = "We could not take your registration: " + registration.ErrorText(err)
		in.answerEmail(w, r, rep, msg.MessageID)
		return
	}
	rep.Accepted, rep.Case = true, reg.ID
	rep.Subject = fmt.Sprintf("[%s] %s", reg.ID, rep.Subject)
	rep.Text = partnerReply(reg, created)
	in.answerEmail(w, r, rep, msg.MessageID)
}

// caseRE finds a case number in a subject, as the replies put it.
var caseRE = regexp.MustCompile(`\[(R-[2-9A-HJ-NP-Z]{8})\]`)

// formBody is the public form: the submitter's e-mail (which must belong
// to the partner's domains) and the registration.
type formBody struct {
	Partner      string  `json:"partner"`
	Email        string  `json:"email"` // the partner's person submitting
	Kind         string  `json:"kind"`
	Company      string  `json:"company"`
	Domain       string  `json:"domain"`
	ContactName  string  `json:"contact_name"`
	ContactEmail string  `json:"contact_email"`
	Notes        string  `json:"notes"`
	Amount       float64 `json:"amount"`
	Region       string  `json:"region"`
	Product      string  `json:"product"`
	Consent      bool    `json:"consent"`
	Website      string  `json:"website"` // the honeypot: people leave it empty
}

// form is the public registration form of the program (no login): JSON or
// an HTML form post.
func (in *intake) form(w http.ResponseWriter, r *http.Request) {
	var b formBody
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if media == "application/json" {
		if err := decodeJSON(w, r, &b, "partner, email, kind, company, domain, contact_name, contact_email, notes, amount, region, product, consent, website"); err != nil {
			writeError(w, err)
			return
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			writeError(w, rung.Errorf(rung.EINVALID, "the form cannot be read"))
			return
		}
		f := r.PostForm
		b = formBody{Partner: f.Get("partner"), Email: f.Get("email"), Kind: f.Get("kind"), Company: f.Get("company"), Domain: f.Get("domain"),
			ContactName: f.Get("contact_name"), ContactEmail: f.Get("contact_email"), Notes: f.Get("notes"), Region: f.Get("region"),
			Product: f.Get("product"), Website: f.Get("website")}
		b.Consent = f.Get("consent") == "on" || f.Get("consent") == "yes" || f.Get("consent") == "true"
		if a := strings.TrimSpace(f.Get("amount")); a != "" {
			if _, err := fmt.Sscan(a, &b.Amount); err != nil {
				writeError(w, rung.Errorf(rung.EINVALID, "amount %q is not a number", a))
				return
			}
		}
	}
	if b.Website != "" {
		// A bot filled the hidden field: answer as if all went well, keep
		// nothing.
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "received"})
		return
	}
	now := in.h.svc.Now()
	ip := clientIP(r)
	addr := strings.ToLower(strings.TrimSpace(b.Email))
	if !in.byIP.allow(ip, now) || (addr != "" && !in.byAddress.allow(addr, now)) {
		w.Header().Set("Retry-After", "3600")
		writeJSON(w, http.StatusTooManyRequests, errorBody{Error: &rung.Error{Code: "rate_limited",
			Message: "too many registrations from this address; try again in an hour", Details: []rung.Detail{}}})
		return
	}
	if addr == "" {
		writeError(w, &rung.Error{Code: rung.EINVALID, Message: "your e-mail address is required", Details: []rung.Detail{{Key: "email", Message: "is required: your address at the partner company"}}})
		return
	}
	partner, member, err := in.h.reg.PartnerForSender(b.Partner, addr)
	if err != nil {
		writeError(w, err)
		return
	}
	consent := b.Consent
	reg, created, err := in.h.reg.Submit(r.Context(), registration.Input{
		Kind: b.Kind, Partner: partner.ID, Member: member, CompanyName: b.Company, CompanyDomain: b.Domain,
		ContactName: b.ContactName, ContactEmail: b.ContactEmail, Notes: b.Notes, Amount: b.Amount,
		Region: b.Region, Product: b.Product, Consent: &consent, Channel: "form", By: "form:" + addr,
	})
	if err != nil && reg.ID == "" {
		writeError(w, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeJSON(w, code, map[string]any{"case": reg.ID, "message": partnerReply(reg, created), "registration": registration.NewPartnerView(reg)})
}

// clientIP is the address the request came from (the proxy's, behind
// one: Rung does not trust X-Forwarded-For it cannot verify).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateLimit allows max events per key in a sliding window.
type rateLimit struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	hits   map[string][]time.Time
}

func newRateLimit(max int, window time.Duration) *rateLimit {
	return &rateLimit{max: max, window: window, hits: map[string][]time.Time{}}
}

// allow counts one event for key at now, unless key is at its limit.
func (l *rateLimit) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	hs := l.hits[key]
	i := 0
	for i < len(hs) && now.Sub(hs[i]) >= l.window {
		i++
	}
	hs = hs[i:]
	if len(hs) >= l.max {
		l.hits[key] = hs
		return false
	}
	if len(l.hits) > 100000 {
		clear(l.hits) // bound the memory many addresses can take
	}
	l.hits[key] = append(hs, now)
	return true
}

// importRegistrations takes a CSV file as the body (text/csv) and answers
// with one result per row, as JSON or, with ?format=csv or Accept:
// text/csv, as CSV to download.
func (h *Handler) importRegistrations(w http.ResponseWriter, r *http.Request) {
	rows, err := registration.ReadCSV(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := h.reg.Import(r.Context(), rows, r.URL.Query().Get("partner"), actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	counts := map[string]int{"created": 0, "existing": 0, "duplicate": 0, "rejected": 0}
	for _, x := range res {
		counts[x.Status]++
	}
	if r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv") {
		var buf bytes.Buffer
		registration.WriteResultsCSV(&buf, res)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="registration-import-results.csv"`)
		w.Write(buf.Bytes())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": res, "counts": counts})
}

// registrationMetrics answers the seven registration metrics, overall and
// grouped by partner, or by a partner field (segment=type|region|size),
// for registrations submitted in [from, to).
func (h *Handler) registrationMetrics(w http.ResponseWriter, r *http.Request) {
	rs, err := h.periodRegistrations(r)
	if err != nil {
		writeError(w, err)
		return
	}
	now := h.svc.Now()
	segment := r.URL.Query().Get("segment")
	by, err := registration.MeasureBy(rs, now, segment, func(id string) rung.Partner { p, _ := h.reg.Partner(id); return p })
	if err != nil {
		writeError(w, err)
		return
	}
	name := "by_partner"
	if segment != "" {
		name = "by_" + segment
	}
	writeJSON(w, http.StatusOK, map[string]any{"overall": registration.Measure(rs, now), name: by})
}

// periodRegistrations reads partner and the period — from and to, or a
// fiscal quarter (period=2026-Q4) — and returns the registrations
// submitted then.
func (h *Handler) periodRegistrations(r *http.Request) ([]store.Registration, error) {
	from, err := timeParam(r, "from")
	if err != nil {
		return nil, err
	}
	to, err := timeParam(r, "to")
	if err != nil {
		return nil, err
	}
	if q := r.URL.Query().Get("period"); q != "" {
		// A fiscal quarter of the program, such as 2026-Q4.
		var cal *program.Calendar
		h.svc.Read(func(e *engine.Engine) error { cal = e.Calendar(); return nil })
		if from, to, err = cal.ParseQuarter(q); err != nil {
			return nil, rung.Errorf(rung.EINVALID, "period=%q is not a quarter such as 2026-Q4", q)
		}
	}
	return h.reg.Submitted(r.Context(), r.URL.Query().Get("partner"), from, to)
}

// attributionCSV exports sourced and influenced partners per won deal.
func (h *Handler) attributionCSV(w http.ResponseWriter, r *http.Request) {
	rs, err := h.periodRegistrations(r)
	if err != nil {
		writeError(w, err)
		return
	}
	as, err := h.reg.Attributions(r.Context(), rs)
	if err != nil {
		writeError(w, err)
		return
	}
	if r.URL.Query().Get("format") == "json" {
		writeJSON(w, http.StatusOK, map[string]any{"attributions": as})
		return
	}
	var buf bytes.Buffer
	registration.WriteAttributionCSV(&buf, as)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="registration-attribution.csv"`)
	w.Write(buf.Bytes())
}
