//go:build race

package shard

// raceEnabled: the race detector slows everything about tenfold, so the
// million-element tests build smaller values under it (make test).
const raceEnabled = true
