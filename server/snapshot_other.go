//go:build !linux

package server

// runNiced runs fn: per-thread priorities are a Linux feature
// (snapshot_linux.go).
func runNiced(fn func()) { fn() }
