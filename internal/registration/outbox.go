package registration

import (
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

// attachOutbox gives an update of r its registration.updated message, which
// the store writes in the update's transaction: webhooks hear of every
// decision that was stored, and of none that was not.
func attachOutbox(r *store.Registration) error {
	m, err := outbox.RegistrationMessage(*r)
	if err != nil {
		return err
	}
	r.Outbox = []store.OutboxMessage{m}
	return nil
}
