// Package demo provides what `rung demo` runs on: a realistic partner
// program file and a deterministic generator of partners, members and a
// year of events with the skew real programs show (a few very active
// partners, a long tail of quiet ones, some dormant).
package demo

import _ "embed"

// Program is the demo's program file, the YAML of a cloud vendor's partner
// program with tiers, metrics, points rules, levels, badges, a challenge,
// leaderboards, rewards and deal registration settings.
//
//go:embed program.yaml
var Program []byte
