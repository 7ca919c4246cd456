package registration

import (
	"slices"
	"time"

	"github.com/rung-dev/rung/internal/store"
)

// AsOf returns the registration as it stood at t (SPEC §5: every read takes
// as_of), and false when it was not yet submitted then. Its history is cut
// after the last transition at or before t — transitions are kept in the
// order they were made, and the cut is at the first one after t — and its status, reason, times and
// deadlines are what that transition left. Conflict pairs created after t
// are dropped, and settlements made after t are undone. Notes and the
// amount are as they are now: an answer is appended to the notes and a
// win may report the final amount, and neither keeps the earlier value.
func AsOf(r store.Registration, t time.Time) (store.Registration, bool) {
	if t.IsZero() || !t.Before(lastChange(r)) {
		return r, true
	}
	if r.SubmittedAt.After(t) {
		return store.Registration{}, false
	}
	n := 0
	for n < len(r.History) && !r.History[n].At.After(t) {
		n++
	}
	out := r
	out.History = slices.Clone(r.History[:n])
	out.Status, out.Reason = store.RegSubmitted, ""
	out.RespondedAt, out.ApprovedAt, out.MeetingAt, out.ClosedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	recorded := false
	for i, tr := range out.History {
		out.Status = tr.To
		out.UpdatedAt = tr.At
		switch tr.To {
		case store.RegDeclined, store.RegNeedsInfo, store.RegExpired, store.RegLost:
			out.Reason = tr.Reason
		default:
			out.Reason = ""
		}
		if i > 0 && out.RespondedAt.IsZero() && (tr.From == store.RegSubmitted || tr.From == store.RegNeedsInfo) && tr.To != store.RegSubmitted {
			out.RespondedAt = tr.At
		}
		switch tr.To {
		case store.RegApproved:
			out.ApprovedAt = tr.At
		case store.RegMeeting:
			out.MeetingAt = tr.At
		case store.RegDeclined, store.RegWon, store.RegLost, store.RegExpired:
			out.ClosedAt = tr.At
		}
		if !tr.ReviewDue.IsZero() || !tr.MeetingDue.IsZero() || !tr.ProtectedUntil.IsZero() {
			recorded = true
			if !tr.ReviewDue.IsZero() {
				out.ReviewDue = tr.ReviewDue
			}
			out.MeetingDue, out.ProtectedUntil = tr.MeetingDue, tr.ProtectedUntil
		}
	}
	if !recorded {
		// Stored before transitions kept deadlines: the protection is
		// known only once approved, and shown as it is now.
		if out.ApprovedAt.IsZero() {
			out.MeetingDue, out.ProtectedUntil = time.Time{}, time.Time{}
		}
	}
	out.Conflicts = nil
	for _, c := range r.Conflicts {
		if c.CreatedAt.After(t) {
			continue
		}
		if !c.DecidedAt.IsZero() && c.DecidedAt.After(t) {
			c.Winner, c.Reason, c.DecidedBy, c.DecidedAt = "", "", "", time.Time{}
		}
		out.Conflicts = append(out.Conflicts, c)
	}
	return out, true
}

// lastChange is the time of the registration's last transition or
// conflict settlement.
func lastChange(r store.Registration) time.Time {
	last := r.SubmittedAt
	for _, tr := range r.History {
		if tr.At.After(last) {
			last = tr.At
		}
	}
	for _, c := range r.Conflicts {
		if c.CreatedAt.After(last) {
			last = c.CreatedAt
		}
		if c.DecidedAt.After(last) {
			last = c.DecidedAt
		}
	}
	return last
}
