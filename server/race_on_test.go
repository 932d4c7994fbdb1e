//go:build race

package server

// raceOn: the race detector is on (sync.Pool then drops a quarter of
// what is put back, on purpose).
const raceOn = true
