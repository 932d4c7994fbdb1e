package server

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/backing"
	"github.com/tcached/tcached/config"
)

// slotBackend is readyBackend with backing's slot function (no cluster is
// contacted: New only checks options).
type slotBackend struct {
	readyBackend
	c *backing.Cluster
}

func (b slotBackend) Slot(tenant string, db int, key []byte) int { return b.c.Slot(tenant, db, key) }

// BenchmarkBackedL1Hit is a backed GET served from L1, through dispatch
// with no socket: "served" while no slot is suspended (the hit reads one
// counter), "other-slot-suspended" while some other slot is (the hit
// computes its key's slot, a CRC16 of the L2 name, and reads the bitmap).
//
//	go test -run '^$' -bench BenchmarkBackedL1Hit -count 5 ./server/
func BenchmarkBackedL1Hit(b *testing.B) {
	bk, err := backing.New(backing.Options{Addrs: []string{"127.0.0.1:1"}, KeyPrefix: "tcached:"})
	if err != nil {
		b.Fatal(err)
	}
	for _, suspended := range []bool{false, true} {
		name := "served"
		if suspended {
			name = "other-slot-suspended"
		}
		b.Run(name, func(b *testing.B) {
			s, err := New(testConfig(), Options{Backend: slotBackend{c: bk}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			s.invalidate(backed.Invalidation{Slots: backed.AllSlots()})
			key := []byte("user:1234:profile")
			if suspended {
				var set backed.SlotSet
				set.Add((bk.Slot("a", 0, key) + 1) % backed.NumSlots)
				s.invalidate(backed.Invalidation{Slots: &set, Suspend: true})
			}
			tn := s.reg.Load().tenants["a"]
			tn.part.Set(0, key, make([]byte, 100), time.Now().Add(time.Hour).UnixMilli())
			c := s.newClient(discardConn{})
			c.bind(tn, "alice", config.RoleReadWrite, false)
			args := [][]byte{[]byte("GET"), key}
			s.dispatch(c, args)
			hits := tn.l2.L1Hits.Load()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c.conn.Out = c.conn.Out[:0]
				s.dispatch(c, args)
			}
			b.StopTimer()
			if got := tn.l2.L1Hits.Load() - hits; got != int64(b.N) {
				b.Fatalf("%d of %d GETs were L1 hits", got, b.N)
			}
		})
	}
}
