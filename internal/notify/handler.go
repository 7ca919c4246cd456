package notify

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/rung-dev/rung"
)

// Handler serves the one-click unsubscribe links of the e-mails, without
// sign-in: GET /notify/unsubscribe?t=TOKEN shows a page with a button;
// POST to the same URL (the button, or a mail client's one-click
// unsubscribe of RFC 8058 with body List-Unsubscribe=One-Click) applies it.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notify/unsubscribe", s.unsubscribePage)
	mux.HandleFunc("POST /notify/unsubscribe", s.unsubscribe)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

var unsubscribeTmpl = template.Must(template.New("").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;max-width:480px;margin:48px auto;padding:0 16px;color:#1d2330">
<h1 style="font-size:22px">{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Token}}<form method="post" action="/notify/unsubscribe?t={{.Token}}"><button type="submit" style="font-size:16px;padding:8px 16px">{{.Button}}</button></form>{{end}}
</body></html>`))

type unsubscribeView struct{ Lang, Title, Text, Button, Token string }

// pageLang picks the page's language from the browser's Accept-Language.
func pageLang(r *http.Request) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "de") {
		return "de"
	}
	return "en"
}

var unsubscribeWords = map[string]map[string]string{
	"en": {"title": "Unsubscribe", "ask_all": "Stop all e-mails from the partner program?", "ask": "Stop e-mails of this kind (%s)?",
		"button": "Unsubscribe", "done": "Done: you will not get these e-mails any more. You can switch them on again in the portal.", "bad": "This link is not valid."},
	"de": {"title": "Abbestellen", "ask_all": "Alle E-Mails des Partnerprogramms abbestellen?", "ask": "E-Mails dieser Art (%s) abbestellen?",
		"button": "Abbestellen", "done": "Erledigt: Sie erhalten diese E-Mails nicht mehr. Im Portal können Sie sie wieder einschalten.", "bad": "Dieser Link ist ungültig."},
}

func (s *Service) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	l := pageLang(r)
	tw := unsubscribeWords[l]
	tok := r.URL.Query().Get("t")
	key, err := s.key(r.Context())
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	_, scope, err := ParseUnsubscribeToken(key, tok)
	v := unsubscribeView{Lang: l, Title: tw["title"], Button: tw["button"]}
	status := http.StatusOK
	if err != nil {
		v.Text, status = tw["bad"]+" "+rung.ErrorMessage(err), http.StatusBadRequest
	} else {
		v.Token = tok
		v.Text = tw["ask_all"]
		if _, kind, _ := strings.Cut(scope, ":"); kind != "*" {
			v.Text = strings.Replace(tw["ask"], "%s", kind, 1)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	unsubscribeTmpl.Execute(w, v)
}

func (s *Service) unsubscribe(w http.ResponseWriter, r *http.Request) {
	l := pageLang(r)
	tw := unsubscribeWords[l]
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	r.ParseForm()
	tok := r.URL.Query().Get("t")
	v := unsubscribeView{Lang: l, Title: tw["title"]}
	status := http.StatusOK
	if _, _, err := s.Unsubscribe(r.Context(), tok); err != nil {
		status = http.StatusBadRequest
		if c := rung.ErrorCode(err); c != rung.EINVALID {
			status = http.StatusServiceUnavailable
		}
		v.Text = tw["bad"] + " " + rung.ErrorMessage(err)
	} else {
		v.Text = tw["done"]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	unsubscribeTmpl.Execute(w, v)
}
