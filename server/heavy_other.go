//go:build !linux

package server

// Per-thread scheduling policies are a Linux feature (heavy_linux.go);
// elsewhere expensive commands run at the process's priority.

func probeHeavyNice() bool      { return false }
func heavyThreadEnter() bool    { return false }
func heavyThreadExit(bool) bool { return true }
func probeIdlePool() bool       { return false }
func runIdle(f func()) bool     { return false }
