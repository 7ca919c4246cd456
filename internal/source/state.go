package source

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/rung-dev/rung/internal/store"
)

// fieldState is a record field as last known, with the version of the
// change that set it.
type fieldState struct {
	V  any   `json:"v"`
	At int64 `json:"at"`
}

// recordStates are the kept states of the records a delivery changes.
type recordStates map[store.SourceRecordKey]map[string]fieldState

func stateKey(sys string, c *Change) store.SourceRecordKey {
	return store.SourceRecordKey{Source: sys, Object: c.Object, Record: c.Record}
}

// loadStates reads the kept state of every record the changes name.
func loadStates(ctx context.Context, st store.Store, sys string, changes []Change) (recordStates, error) {
	var keys []store.SourceRecordKey
	seen := map[store.SourceRecordKey]bool{}
	for i := range changes {
		k := stateKey(sys, &changes[i])
		if k.Record != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	out := recordStates{}
	if len(keys) == 0 {
		return out, nil
	}
	rs, err := st.SourceRecords(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		var fs map[string]fieldState
		if json.Unmarshal(r.Fields, &fs) == nil && fs != nil {
			out[r.SourceRecordKey] = fs
		}
	}
	return out, nil
}

// merge reads each change with its record's kept state: a field the change
// lacks is taken from the state, and a field the state has from a newer
// version than the change's keeps the state's value. What changed stays
// what the change itself carried. Changes are merged in order, so a
// delivery's later change of a record sees its earlier ones.
func (s recordStates) merge(sys string, changes []Change) {
	for i := range changes {
		c := &changes[i]
		if c.Changed == nil {
			c.Changed = make([]string, 0, len(c.Fields))
			for f := range c.Fields {
				c.Changed = append(c.Changed, f)
			}
			slices.Sort(c.Changed)
		}
		if c.Record == "" {
			continue
		}
		k := stateKey(sys, c)
		if c.Deleted {
			delete(s, k)
			continue
		}
		old := s[k]
		next := make(map[string]fieldState, len(old)+len(c.Fields))
		for f, fs := range old {
			next[f] = fs
		}
		for f, v := range c.Fields {
			if fs, ok := old[f]; ok && c.Version > 0 && fs.At > c.Version {
				c.Fields[f] = fs.V // the state is newer than this change
				continue
			}
			next[f] = fieldState{V: v, At: c.Version}
		}
		for f, fs := range old {
			if _, ok := c.Fields[f]; !ok {
				c.Fields[f] = fs.V
			}
		}
		s[k] = next
	}
}

// save writes the states of the records of the given changes (those some
// mapping takes), and removes deleted ones.
func (s recordStates) save(ctx context.Context, st store.Store, sys string, changes []Change, keep []bool, now func() store.SourceRecord) error {
	var put []store.SourceRecord
	var del []store.SourceRecordKey
	done := map[store.SourceRecordKey]bool{}
	for i := range changes {
		c := &changes[i]
		k := stateKey(sys, c)
		if k.Record == "" || !keep[i] || done[k] {
			continue
		}
		done[k] = true
		fs, ok := s[k]
		if !ok {
			del = append(del, k)
			continue
		}
		b, err := json.Marshal(fs)
		if err != nil {
			continue // a value JSON cannot hold: keep the old state
		}
		r := now()
		r.SourceRecordKey, r.Fields = k, b
		put = append(put, r)
	}
	if len(put) == 0 && len(del) == 0 {
		return nil
	}
	return st.PutSourceRecords(ctx, put, del)
}
