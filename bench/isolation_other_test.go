//go:build !linux

package bench

import (
	"syscall"
	"time"
)

// isoSysProcAttr: without Linux's parent-death signal, BenchmarkIsolation's
// children are bounded by their cleanups and their maximum lifetimes only.
func isoSysProcAttr() *syscall.SysProcAttr { return nil }

func isoSleep(d time.Duration) { time.Sleep(d) }
