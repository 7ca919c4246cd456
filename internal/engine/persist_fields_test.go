package engine

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

// How a field of the engine's state is kept across a dump (persist.go).
const (
	dumped  = "dumped"  // written and read back
	built   = "built"   // built again on load, from the programs or the rest
	cache   = "cache"   // left empty: filled again when needed
	scratch = "scratch" // room for one call, or a bulk load's, empty between records
	given   = "given"   // the loader's arguments (program versions)
)

// dumpFields lists every field of every type the engine's state is made
// of, with how a dump keeps it. TestDumpKnowsEveryField fails when a field
// is added, removed or renamed, or a new type of state appears, until this
// list says how the dump keeps it: write and read it in persist.go and
// persist_load.go (and raise DumpFormat), or say why it needs not be.
var dumpFields = map[reflect.Type]map[string]string{
	reflect.TypeFor[Engine](): {
		"versions": given, "cur": given,
		"partners": dumped, "members": dumped, "events": dumped,
		"memberByHandle": dumped, "partnerByHandle": dumped,
		"streams": dumped, "periodLocal": built, "boards": built, "boardsLive": built, "deferBoards": scratch, "now": dumped,
		"metricIdx": built, "negative": built, "scored": built, "readers": cache,
		"badges": built, "tiers": dumped, "badgeDefs": built, "questOf": built,
		"results": dumped, "finals": built, "redeemed": dumped,
		"pending": scratch, "revocations": dumped, "vars": built,
		"bodies": dumped, "slab": scratch, "bulk": scratch, "keyIDs": dumped,
		"types": dumped, "expiry": cache, "errNotes": cache, "warmed": scratch, "scratch": scratch, "loading": scratch, "memberPending": scratch,
	},
	reflect.TypeFor[partnerState](): {
		"id": dumped, "handle": dumped, "joined": dumped, "versions": dumped, "events": dumped,
		"awards": dumped, "adjusts": dumped, "series": dumped, "members": dumped, "vars": cache, "holds": dumped,
	},
	reflect.TypeFor[memberState](): {
		"m": dumped, "events": dumped, "handle": dumped, "joined": dumped, "awards": dumped,
		"adjusts": dumped, "series": dumped, "vars": cache, "holds": dumped,
	},
	reflect.TypeFor[eventTable](): {"blocks": dumped, "n": dumped, "slots": built, "load": scratch},
	reflect.TypeFor[eventState](): {
		"id": dumped, "h": dumped, "typ": dumped, "version": dumped, "retracted": dumped, "queued": scratch,
		"p": dumped, "m": dumped, "body": dumped, "at": dumped, "recv": dumped, "seq": dumped, "fx": dumped, "more": dumped,
	},
	reflect.TypeFor[bodyRef]():   {"blk": dumped, "off": dumped, "n": dumped},
	reflect.TypeFor[effects]():   {"evals": dumped, "contribs": dumped},
	reflect.TypeFor[eventMore](): {"seqs": dumped, "notes": dumped, "marks": dumped},
	reflect.TypeFor[ruleEval](): {
		"rule": dumped, "stream": dumped, "award": dumped, "key": dumped, "amount": dumped, "version": dumped, "toMember": dumped,
	},
	reflect.TypeFor[contrib](): {"metric": dumped, "v": dumped, "key": dumped},
	reflect.TypeFor[Award](): {
		"Event": dumped, "Rule": dumped, "Version": dumped, "Partner": dumped, "Member": dumped, "Points": dumped,
		"Requested": dumped, "Note": dumped, "At": dumped, "Expires": dumped,
	},
	reflect.TypeFor[awardList]():         {"c": dumped, "memo": cache},
	reflect.TypeFor[chunked[awardRef]](): {"chunks": dumped},
	reflect.TypeFor[awardRef]():          {"at": dumped, "a": dumped},
	reflect.TypeFor[series]():            {"c": dumped},
	reflect.TypeFor[chunked[point]]():    {"chunks": dumped},
	reflect.TypeFor[point]():             {"at": dumped, "v": dumped, "ev": dumped, "key": dumped},
	reflect.TypeFor[streamKey]():         {"rule": dumped, "to": dumped, "subject": dumped},
	reflect.TypeFor[stream]():            {"key": dumped, "evs": dumped, "seen": dumped, "used": dumped},
	reflect.TypeFor[holding](): {
		"badge": built, "metric": built, "idx": dumped, "subj": dumped, "joined": dumped, "from": dumped, "to": dumped,
		"windowed": dumped, "cands": dumped, "steps": dumped, "n": dumped, "sum": dumped, "neg": dumped, "held": dumped,
	},
	reflect.TypeFor[cand](): {"ev": dumped, "evidence": dumped, "steps": dumped},
	reflect.TypeFor[heldLevel](): {
		"level": dumped, "at": dumped, "ev": dumped, "evidence": dumped, "value": dumped, "events": dumped, "award": dumped,
	},
	reflect.TypeFor[challengeResult](): {"c": dumped, "at": dumped, "rows": dumped, "winners": dumped, "onTime": dumped},
	reflect.TypeFor[winner]():          {"subj": dumped, "row": dumped, "ev": dumped, "reason": dumped, "award": dumped},
	reflect.TypeFor[standingRow](): {
		"subj": dumped, "id": dumped, "value": dumped, "at": dumped, "cohort": dumped, "place": dumped,
		"cohortPlace": dumped, "reached": dumped, "winner": dumped, "last": dumped, "lastAt": dumped, "lastAward": dumped,
	},
	reflect.TypeFor[redemptions](): {"byID": dumped, "spent": dumped},
	reflect.TypeFor[Revocation](): {
		"Badge": dumped, "Name": dumped, "Level": dumped, "Subject": dumped, "Kind": dumped, "Partner": dumped,
		"AwardedAt": dumped, "Evidence": dumped, "Events": dumped, "RevokedAt": dumped, "RevokedBy": dumped, "Retraction": dumped,
	},
	reflect.TypeFor[tierFacts](): {
		"decisions": dumped, "overrides": dumped, "appeals": dumped, "lines": dumped, "aggs": cache,
		"lastAggsOf": cache, "lastAggs": cache, "readsOf": cache, "reads": cache, "readsAll": cache, "plan": cache, "cands": scratch,
	},
	reflect.TypeFor[timeline]():            {"segs": dumped, "lastEv": dumped, "hasLast": dumped, "lastAt": dumped, "lastTier": dumped},
	reflect.TypeFor[tseg]():                {"at": dumped, "tier": dumped, "kind": dumped, "why": dumped},
	reflect.TypeFor[bodyStore]():           {"blocks": dumped, "cur": dumped, "free": dumped, "enc": scratch, "lentBlock": cache, "lentN": cache},
	reflect.TypeFor[typeNames]():           {"ids": built, "names": dumped},
	reflect.TypeFor[rung.PartnerVersion](): {"Partner": dumped, "Version": dumped, "ValidFrom": dumped},
	reflect.TypeFor[rung.Partner](): {
		"ID": dumped, "Name": dumped, "Type": dumped, "Region": dumped, "Size": dumped, "JoinedAt": dumped,
		"Domains": dumped, "Attrs": dumped, "InitialTier": dumped,
	},
	reflect.TypeFor[rung.Member](): {
		"ID": dumped, "Partner": dumped, "Name": dumped, "Email": dumped, "Role": dumped, "JoinedAt": dumped,
		"Attrs": dumped, "Memberships": dumped,
	},
	reflect.TypeFor[rung.Membership](): {"Partner": dumped, "JoinedAt": dumped, "LeftAt": dumped},
	reflect.TypeFor[rung.Adjustment](): {
		"ID": dumped, "Partner": dumped, "Member": dumped, "Points": dumped, "Reason": dumped,
		"OccurredAt": dumped, "By": dumped, "CreatedAt": dumped,
	},
	reflect.TypeFor[rung.Redemption](): {
		"ID": dumped, "Reward": dumped, "Partner": dumped, "Member": dumped, "Points": dumped, "Status": dumped,
		"RequestedAt": dumped, "RequestedBy": dumped, "DecidedAt": dumped, "DecidedBy": dumped, "Reason": dumped,
	},
}

// jsonDumped are the types a dump writes as JSON (as the store keeps
// them): every field must reach the JSON.
var jsonDumped = []reflect.Type{
	reflect.TypeFor[TierDecision](), reflect.TypeFor[TierOverride](), reflect.TypeFor[TierAppeal](),
	reflect.TypeFor[TierCheck](), reflect.TypeFor[Criterion](),
}

// TestDumpKnowsEveryField walks the engine's state from Engine through
// every field the dump keeps and checks each struct it meets against
// dumpFields.
func TestDumpKnowsEveryField(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(typ.Elem(), path)
			return
		case reflect.Map:
			walk(typ.Key(), path)
			walk(typ.Elem(), path)
			return
		case reflect.Struct:
		default:
			return
		}
		if seen[typ] || !ownState(typ) {
			return
		}
		seen[typ] = true
		if slices.Contains(jsonDumped, typ) {
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				if tag := f.Tag.Get("json"); !f.IsExported() || tag == "-" {
					t.Errorf("%s.%s (at %s) does not reach the JSON a dump keeps it as", typ, f.Name, path)
				}
				walk(f.Type, path+"."+f.Name)
			}
			return
		}
		want, ok := dumpFields[typ]
		if !ok {
			t.Errorf("%s (at %s) is part of the engine's state but not of dumpFields: say how a dump keeps each of its fields", typ, path)
			return
		}
		var have []string
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			have = append(have, f.Name)
			how, ok := want[f.Name]
			if !ok {
				t.Errorf("%s.%s (at %s) is new: write it in persist.go, read it in persist_load.go, raise DumpFormat, and list it in dumpFields", typ, f.Name, path)
				continue
			}
			if how == dumped {
				walk(f.Type, path+"."+f.Name)
			}
		}
		for name := range want {
			if !slices.Contains(have, name) {
				t.Errorf("%s.%s is in dumpFields but not in the type any more", typ, name)
			}
		}
	}
	walk(reflect.TypeFor[Engine](), "Engine")
	var unused []string
	for typ := range dumpFields {
		if !seen[typ] {
			unused = append(unused, typ.String())
		}
	}
	sort.Strings(unused)
	// Types reached only through an interface (a holding's subject) are
	// walked here.
	for _, name := range unused {
		t.Errorf("dumpFields lists %s, which the walk from Engine never met", name)
	}
}

// ownState reports whether a struct type is the engine's or rung's, not
// the program's or the standard library's (program values are given to the
// loader, and time.Time is written whole).
func ownState(typ reflect.Type) bool {
	pkg := typ.PkgPath()
	return strings.HasSuffix(pkg, "/internal/engine") || pkg == "github.com/rung-dev/rung"
}
