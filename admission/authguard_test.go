package admission

import (
	"strconv"
	"testing"
	"time"
)

// TestAuthGuardBounded: spraying user names costs bounded memory.
func TestAuthGuardBounded(t *testing.T) {
	g := NewAuthGuard(1, time.Second, time.Minute, time.Now)
	for i := 0; i < 3*AuthGuardSize; i++ {
		g.Failure("10.0.0.1:1", "user"+strconv.Itoa(i))
	}
	if n := g.seen.Len(); n > AuthGuardSize {
		t.Fatalf("guard holds %d records, bound %d", n, AuthGuardSize)
	}
}
