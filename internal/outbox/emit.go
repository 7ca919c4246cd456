package outbox

import (
	"fmt"
	"time"

	"github.com/rung-dev/rung/internal/store"
)

// TierPayload is the data of tier.changed.
type TierPayload struct {
	Partner   string    `json:"partner"`
	Tier      string    `json:"tier"`
	Previous  string    `json:"previous,omitempty"`
	Reason    string    `json:"reason,omitempty"` // review, auto_upgrade, override, appeal, grace...
	Effective time.Time `json:"effective"`
}

// TierMessage is the tier.changed message of a tier decision; decision
// identifies the decision (its id, or the review period), which makes the
// message id: the same decision stored twice is reported once. Append it
// to the Batch.Outbox of the commit that stores the decision.
func TierMessage(decision string, p TierPayload, at time.Time) (store.OutboxMessage, error) {
	key := Subject("partner", p.Partner)
	return New(TierChanged, key, fmt.Sprintf("%s:%s:%s", TierChanged, key, decision), p, at)
}

// ChallengePayload is the data of challenge.finished.
type ChallengePayload struct {
	Challenge string          `json:"challenge"`
	Name      string          `json:"name,omitempty"`
	Ended     time.Time       `json:"ended"`
	Results   []ChallengeSpot `json:"results"` // best first
}

// ChallengeSpot is one place in a finished challenge.
type ChallengeSpot struct {
	Rank    int     `json:"rank"`
	Subject string  `json:"subject"`
	Kind    string  `json:"kind"` // member | partner
	Value   float64 `json:"value"`
}

// ChallengeMessage is the challenge.finished message of a challenge's
// end; its id is the challenge's, so a challenge is reported finished once.
func ChallengeMessage(p ChallengePayload, at time.Time) (store.OutboxMessage, error) {
	key := Subject("challenge", p.Challenge)
	return New(ChallengeFinished, key, ChallengeFinished+":"+key, p, at)
}

// NudgePayload is the data of nudge.
type NudgePayload struct {
	Subject string  `json:"subject"`
	Kind    string  `json:"kind"` // member | partner
	Toward  string  `json:"toward"`
	Text    string  `json:"text,omitempty"`
	Missing float64 `json:"missing,omitempty"` // what is left to reach it
}

// NudgeMessage is a nudge toward a next tier or level; key says which
// nudge it is (e.g. "Select:2026Q4"), so the same nudge is sent once. It
// reports nothing stored: write it with Emit.
func NudgeMessage(key string, p NudgePayload, at time.Time) (store.OutboxMessage, error) {
	subj := Subject(p.Kind, p.Subject)
	return New(Nudge, subj, fmt.Sprintf("%s:%s:%s", Nudge, subj, key), p, at)
}
