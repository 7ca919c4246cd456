// Package workload is what the benchmark tools share: the ids of the
// synthetic partners and members, a generator of realistic events for the
// demo program, latency statistics, and the one-line report every run
// prints, so a script can collect medians across tools.
package workload

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"time"
)

// PartnerID is the id of the i-th synthetic partner.
func PartnerID(i int) string { return fmt.Sprintf("bp-%05d", i) }

// MemberID is the id of the i-th synthetic member.
func MemberID(i int) string { return fmt.Sprintf("bm-%06d", i) }

// PartnerOf is the index of the partner member i belongs to, when there are
// partners partners. Setup and the event generator agree on it, so events
// name each member's own partner and are never rejected for a mismatch.
func PartnerOf(member, partners int) int { return member % partners }

// Sizes, Regions and Types are the cohort values synthetic partners take.
var (
	Sizes   = []string{"smb", "mid", "enterprise"}
	Regions = []string{"emea", "amer", "apac"}
	Types   = []string{"reseller", "isv", "services"}
)

// QuarterWindow is the span events are dated in: from a day after the start
// of the current calendar quarter (so the demo program's Europe/Berlin
// quarter holds them too) to a minute before now, never in the future.
// Early in a quarter, when that span is shorter than an hour, it reaches
// back an hour.
func QuarterWindow(now time.Time) (from, to time.Time) {
	u := now.UTC()
	q := time.Date(u.Year(), time.Month((int(u.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	from = q.Add(24 * time.Hour)
	to = u.Add(-time.Minute)
	if to.Sub(from) < time.Hour {
		from = to.Add(-time.Hour)
	}
	return from, to
}

// Generator makes events for the demo program: training.completed with a
// score, deal.registered with qualified, deal.won with an amount and
// sourced, for random members, dated uniformly inside a window. Each event
// id is unique within a run: "bench:<run>:<stream>:<seq>". A Generator is
// not safe for concurrent use; give each client its own stream.
type Generator struct {
	run      string
	stream   int
	seq      int
	partners int
	members  int
	from     int64 // unix seconds
	span     int64
	rng      *rand.Rand
}

// NewGenerator returns the generator for one client of a run.
func NewGenerator(run string, stream, partners, members int, from, to time.Time) *Generator {
	span := to.Unix() - from.Unix()
	if span < 1 {
		span = 1
	}
	return &Generator{
		run: run, stream: stream, partners: partners, members: members,
		from: from.Unix(), span: span,
		rng: rand.New(rand.NewPCG(uint64(stream)+1, uint64(len(run))*0x9e3779b97f4a7c15+hash(run))),
	}
}

func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Event is one generated event, in the form the Redis tool needs.
type Event struct {
	Member int
	Points float64 // what the demo program awards for it (before caps and multipliers)
}

// Append writes the next event as a JSON object to buf and returns the
// extended buffer and the event.
func (g *Generator) Append(buf []byte) ([]byte, Event) {
	g.seq++
	m := g.rng.IntN(g.members)
	p := PartnerOf(m, g.partners)
	at := time.Unix(g.from+g.rng.Int64N(g.span), 0).UTC()

	buf = append(buf, `{"id":"bench:`...)
	buf = append(buf, g.run...)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, int64(g.stream), 10)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, int64(g.seq), 10)
	buf = append(buf, `","type":"`...)
	ev := Event{Member: m}
	var attrs []byte
	switch r := g.rng.IntN(10); {
	case r < 5:
		score := 50 + g.rng.IntN(51)
		buf = append(buf, "training.completed"...)
		attrs = append(attrs, `{"score":`...)
		attrs = strconv.AppendInt(attrs, int64(score), 10)
		attrs = append(attrs, '}')
		if score >= 80 {
			ev.Points = 50
		}
	case r < 8:
		qualified := g.rng.IntN(10) < 7
		buf = append(buf, "deal.registered"...)
		attrs = append(attrs, `{"qualified":`...)
		attrs = strconv.AppendBool(attrs, qualified)
		attrs = append(attrs, '}')
		if qualified {
			ev.Points = 100
		}
	default:
		amount := 1000 + g.rng.IntN(199001)
		sourced := g.rng.IntN(10) < 6
		buf = append(buf, "deal.won"...)
		attrs = append(attrs, `{"amount":`...)
		attrs = strconv.AppendInt(attrs, int64(amount), 10)
		attrs = append(attrs, `,"sourced":`...)
		attrs = strconv.AppendBool(attrs, sourced)
		attrs = append(attrs, '}')
		if sourced {
			ev.Points = min(1000, float64(amount)/100)
		}
	}
	buf = append(buf, `","partner":"`...)
	buf = append(buf, PartnerID(p)...)
	buf = append(buf, `","member":"`...)
	buf = append(buf, MemberID(m)...)
	buf = append(buf, `","occurred_at":"`...)
	buf = at.AppendFormat(buf, time.RFC3339)
	buf = append(buf, `","attrs":`...)
	buf = append(buf, attrs...)
	buf = append(buf, `,"source":"bench"}`...)
	return buf, ev
}

// Next returns the next event without its JSON, for tools that need only
// the member and the points.
func (g *Generator) Next() Event {
	_, ev := g.Append(nil)
	return ev
}

// RandomMember returns a random member index.
func (g *Generator) RandomMember() int { return g.rng.IntN(g.members) }

// Intn returns a random number in [0, n).
func (g *Generator) Intn(n int) int { return g.rng.IntN(n) }

// RunID returns a short id that makes this run's event ids unique.
func RunID() string {
	return strconv.FormatInt(time.Now().UnixNano()/1e6, 36) + strconv.FormatUint(rand.Uint64()%1296, 36)
}

// CheckLoopback refuses any target that is not on this machine: the tools
// are load generators and must not be pointed at someone else's server.
func CheckLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("target %q is not a loopback address: the benchmark tools only run against 127.0.0.1", hostport)
	}
	return nil
}

// CheckLoopbackURL is CheckLoopback for a base URL.
func CheckLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--url %q is not a URL like http://127.0.0.1:8080", raw)
	}
	return CheckLoopback(u.Host)
}
