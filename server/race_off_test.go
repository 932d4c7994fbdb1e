//go:build !race

package server

// raceOn: the race detector is on (race_on_test.go).
const raceOn = false
