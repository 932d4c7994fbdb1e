//go:build race

package value

// raceEnabled: the race detector slows everything about tenfold, so the
// million-element tests build smaller tables under it (make test).
const raceEnabled = true
