package api

import (
	"context"
	"net/http"
)

// Replier sends the e-mail answer to an inbound registration e-mail
// (internal/notify's Service is one).
type Replier interface {
	Reply(ctx context.Context, to, subject, text, inReplyTo string) error
}

// WithReplies makes the inbound e-mail intake answer its senders by
// e-mail through r, besides returning the answer as the HTTP response.
func (h *Handler) WithReplies(r Replier) *Handler {
	h.replier = r
	return h
}

// answerEmail sends rep to the sender when a Replier is set (and notes
// whether it went), then writes it as the response.
func (in *intake) answerEmail(w http.ResponseWriter, r *http.Request, rep emailReply, inReplyTo string) {
	if in.h.replier != nil && rep.To != "" {
		if err := in.h.replier.Reply(r.Context(), rep.To, rep.Subject, rep.Text, inReplyTo); err != nil {
			in.h.log.Warn("registration e-mail: the reply was not sent", "to", rep.To, "err", err)
		} else {
			rep.Sent = true
		}
	}
	writeJSON(w, http.StatusOK, rep)
}
