package server

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/tiers"
)

// discardConn is a net.Conn whose writes vanish, so a benchmark measures
// dispatch and the handler, not sockets.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }

// BenchmarkDispatch runs GET (a hit) or SET through dispatch on one
// tenant from GOMAXPROCS goroutines, without sockets: the per-command cost
// of dispatch's checks and locks, including transactions' shared lock.
// watchers=1 keeps one WATCHed key in the tenant, so writes take the
// registry path (a key that is not written).
func BenchmarkDispatch(b *testing.B) {
	for _, bc := range []struct {
		name     string
		cmd      string
		watchers bool
		extra    []string
		ttl      bool // the keys carry a TTL, as the tiers' default TTLs give them
	}{{"GET", "get", false, nil, false}, {"GET/ttl", "get", false, nil, true}, {"SET", "set", false, nil, false},
		{"SET/EX", "set", false, []string{"EX", "100"}, false},
		{"SET/watchers=1", "set", true, nil, false}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := testConfig()
			cfg.Tenants[0].Tier = tiers.Builtin()["gold"]
			cfg.Tenants[0].Tier.MaxConcurrent = 0
			cfg.Tenants[0].Tier.RateLimit = 0
			cfg.Tenants[0].Quota = 64 << 20
			cfg.MaxMemory = 128 << 20
			s, err := New(cfg, Options{})
			if err != nil {
				b.Fatal(err)
			}
			tn := s.reg.Load().tenants["a"]
			val := make([]byte, 128)
			var exp int64
			if bc.ttl {
				exp = time.Now().Add(time.Hour).UnixMilli()
			}
			for i := range 1024 {
				tn.part.Set(0, []byte("k"+strconv.Itoa(i)), val, exp)
			}
			if bc.watchers {
				w := s.newClient(discardConn{})
				w.bind(tn, "alice", config.RoleAdmin, false)
				s.dispatch(w, [][]byte{[]byte("WATCH"), []byte("unwritten")})
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := s.newClient(discardConn{})
				c.bind(tn, "alice", config.RoleAdmin, false)
				args := [][]byte{[]byte(bc.cmd), []byte("k1"), val}
				if bc.cmd == "get" {
					args = args[:2]
				}
				for _, e := range bc.extra {
					args = append(args, []byte(e))
				}
				keys := make([][]byte, 1024)
				for i := range keys {
					keys[i] = []byte("k" + strconv.Itoa(i))
				}
				i := 0
				for pb.Next() {
					args[1] = keys[i&1023]
					s.dispatch(c, args)
					if len(c.conn.Out) > 4096 {
						c.conn.Out = c.conn.Out[:0]
					}
					i++
				}
			})
		})
	}
}
