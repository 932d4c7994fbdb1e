package command

import (
	"testing"

	"github.com/tcached/tcached/shard"
)

func TestRetentionErr(t *testing.T) {
	const now, maxMs = int64(1_000_000), int64(3_600_000)
	p := shard.New(shard.Config{Quota: 1 << 20, Now: func() int64 { return now }})
	c := &Ctx{Part: p, Ms: func() int64 { return now }}
	for _, tc := range []struct {
		max    int64
		refuse bool
		at     int64
		want   string
	}{
		{0, true, 0, ""},                                      // no cap
		{maxMs, false, 0, ""},                                 // cap policy: the partition caps
		{maxMs, false, now + 10*maxMs, ""},                    // idem
		{maxMs, true, now + maxMs, ""},                        // at the cap
		{maxMs, true, now + 1, ""},                            // below
		{maxMs, true, now - 5, ""},                            // past: a delete
		{maxMs, true, now + maxMs + 1, ErrMaxTTL("x", maxMs)}, // past the cap
		{maxMs, true, 0, ErrMaxTTL("x", maxMs)},               // none asked (PERSIST)
	} {
		p.SetMaxTTL(tc.max, tc.refuse)
		if got := c.RetentionErr(tc.at, "x"); got != tc.want {
			t.Errorf("max %d refuse %v at %d: %q, want %q", tc.max, tc.refuse, tc.at, got, tc.want)
		}
	}
	if got := ErrMaxTTL("expire", 1500); got != "ERR max_ttl exceeded in 'expire' command: this tenant's keys expire within 2 seconds" {
		t.Errorf("ErrMaxTTL rounds up: %q", got)
	}
}
