package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

var memberBodies = []string{
	// As MarshalMember writes them.
	`{"id":"u-00001","partner":"acct-1479","name":"Kenji Campbell","email":"kenji.campbell@bluepeakservices.co.nz","role":"delivery","joined_at":"2024-05-27T12:41:00Z","attrs":{"title":"Delivery Lead"},"memberships":[{"partner":"acct-1479","joined_at":"2024-05-27T12:41:00Z"}]}`,
	`{"id":"m1","partner":"","joined_at":"0001-01-01T00:00:00Z","memberships":[{"partner":"p1","joined_at":"2024-01-01T00:00:00.123456789+02:00","left_at":"2024-06-30T23:59:59Z"},{"partner":"p2","joined_at":"2024-07-01T00:00:00Z"}]}`,
	`{"id":"m2","partner":"p1","joined_at":"2024-01-01T00:00:00Z","attrs":{"n":-12.5e3,"z":0,"ok":true,"no":false,"x":null,"ü":"Zoë"},"memberships":[]}`,
	// As PostgreSQL's jsonb gives them back.
	`{"id": "m3", "role": "sales", "attrs": {"big": 1E300}, "partner": "p1", "joined_at": "2024-01-01T00:00:00Z", "memberships": [{"partner": "p1", "joined_at": "2024-01-01T00:00:00Z"}]}`,
	// What only json.Unmarshal decodes, or rejects.
	`{"id":"m\u00e9","partner":"p1"}`,
	`{"ID":"m4","Partner":"p1"}`,
	`{"id":"m5","id":"m6"}`,
	`{"id":"m7","attrs":{"deep":{"a":[1,2]}}}`,
	`{"id":"m8","attrs":null,"memberships":null}`,
	`{"id":"m9","joined_at":"2024-01-01 00:00:00Z"}`,
	`{"id":"m10","attrs":{"n":01}}`,
	`{"id":"m11","attrs":{"n":1.}}`,
	`{"id":"m12","extra":1}`,
	`{"id":"m14","attrs":{"big":1E400}}`,
	`{"id":"m13"} x`,
	`{"id":"bad utf-8 \xff"}`,
	`{"id":1}`,
	`[]`,
	``,
}

// TestDecodeMemberDecodesWhatItCan checks that the common bodies take the
// fast way, and that the others are left to json.Unmarshal.
func TestDecodeMemberDecodesWhatItCan(t *testing.T) {
	for i, b := range memberBodies {
		var m rung.Member
		got := decodeMember([]byte(b), &m)
		if want := i < 4; got != want {
			t.Errorf("body %d %s: decoded %v, want %v", i, b, got, want)
		}
	}
}

// TestUnmarshalMemberAsBefore checks UnmarshalMember against json.Unmarshal
// on the bodies above: the same member, or both an error.
func TestUnmarshalMemberAsBefore(t *testing.T) {
	for _, b := range memberBodies {
		var got, want rung.Member
		err := UnmarshalMember([]byte(b), &got)
		werr := json.Unmarshal([]byte(b), &want)
		if (err != nil) != (werr != nil) {
			t.Errorf("%s: error %v, json.Unmarshal's %v", b, err, werr)
			continue
		}
		if werr == nil {
			utc(&want)
			if !sameMember(got, want) {
				t.Errorf("%s:\ngot  %+v\nwant %+v", b, got, want)
			}
		}
	}
}

func utc(m *rung.Member) {
	m.JoinedAt = m.JoinedAt.UTC()
	for i := range m.Memberships {
		m.Memberships[i].JoinedAt, m.Memberships[i].LeftAt = m.Memberships[i].JoinedAt.UTC(), m.Memberships[i].LeftAt.UTC()
	}
}

// sameMember compares members, times by instant and zone offset.
func sameMember(a, b rung.Member) bool {
	t := func(x, y time.Time) bool {
		_, xo := x.Zone()
		_, yo := y.Zone()
		return x.Equal(y) && xo == yo && x.IsZero() == y.IsZero()
	}
	if !t(a.JoinedAt, b.JoinedAt) || len(a.Memberships) != len(b.Memberships) || (a.Memberships == nil) != (b.Memberships == nil) {
		return false
	}
	for i := range a.Memberships {
		x, y := a.Memberships[i], b.Memberships[i]
		if x.Partner != y.Partner || !t(x.JoinedAt, y.JoinedAt) || !t(x.LeftAt, y.LeftAt) {
			return false
		}
	}
	a.JoinedAt, b.JoinedAt, a.Memberships, b.Memberships = time.Time{}, time.Time{}, nil, nil
	return reflect.DeepEqual(a, b)
}

// FuzzDecodeMember holds the fast decoder to json.Unmarshal: whatever it
// decodes, json.Unmarshal decodes to the same member; what it does not, it
// leaves untouched.
func FuzzDecodeMember(f *testing.F) {
	for _, b := range memberBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got, want rung.Member
		if !decodeMember(b, &got) {
			if !reflect.DeepEqual(got, rung.Member{}) {
				t.Fatalf("declined %q but changed the member: %+v", b, got)
			}
			return
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("decoded %q, which json.Unmarshal rejects: %v", b, err)
		}
		if !sameMember(got, want) {
			t.Fatalf("%q:\nfast %+v\njson %+v", b, got, want)
		}
	})
}

// BenchmarkUnmarshalMember decodes the demo's kind of member body.
func BenchmarkUnmarshalMember(b *testing.B) {
	body := []byte(memberBodies[0])
	b.ReportAllocs()
	for b.Loop() {
		var m rung.Member
		if err := UnmarshalMember(body, &m); err != nil {
			b.Fatal(err)
		}
	}
}
