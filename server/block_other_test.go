//go:build !unix

package server

import (
	"testing"
	"time"
)

func processCPU(t *testing.T, d time.Duration) (used, wall time.Duration) {
	t.Skip("process CPU time is read with getrusage (unix only)")
	return 0, 0
}
