//go:build !linux

package server

// Per-thread priorities are a Linux feature (heavy_linux.go); elsewhere
// expensive commands run at the process's priority.

func probeHeavyNice() bool                  { return false }
func heavyThreadEnter() (nice int, ok bool) { return 0, false }
func heavyThreadExit(nice int)              {}
