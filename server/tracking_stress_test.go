package server

import (
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestTrackingMonitorStress: trackers of every mode, redirect targets,
// monitors and writers of one tenant run at once for a second, toggling
// tracking, closing and redialling, with keys expiring and a small
// tracking-table-max-keys evicting; under -race this finds data races.
// Afterwards nothing panicked, the tenant's tracking and MONITOR state is
// gone with its connections (no session, no table bytes, no hooks), and
// the server answers.
func TestTrackingMonitorStress(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	adm := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	adm.do("CONFIG", "SET", "tracking-table-max-keys", "50")
	stop := time.Now().Add(time.Second)
	var wg sync.WaitGroup
	worker := func(seed uint64, setup [][]string, ops func(r *rand.Rand) []string) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, seed))
		for time.Now().Before(stop) {
			nc, err := net.DialTimeout("tcp", srv.addr, 2*time.Second)
			if err != nil {
				return
			}
			done := make(chan struct{})
			go func() { io.Copy(io.Discard, nc); close(done) }()
			var b []byte
			for _, c := range setup {
				b = append(b, encode(c...)...)
			}
			n := 20 + rng.IntN(200)
			for i := 0; i < n; i++ {
				b = append(b, encode(ops(rng)...)...)
			}
			nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			nc.Write(b)
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
			nc.Close()
			<-done
		}
	}
	key := func(r *rand.Rand) string { return "k" + strconv.Itoa(r.IntN(80)) }
	auth := []string{"AUTH", "alice", "alice-pw"}
	hello := []string{"HELLO", "3", "AUTH", "alice", "alice-pw"}
	reads := func(r *rand.Rand) []string {
		switch r.IntN(6) {
		case 0:
			return []string{"MGET", key(r), key(r), key(r)}
		case 1:
			return []string{"CLIENT", "CACHING", "YES"}
		case 2:
			return []string{"CLIENT", "TRACKING", "OFF"}
		case 3:
			return []string{"CLIENT", "TRACKING", "ON"}
		default:
			return []string{"GET", key(r)}
		}
	}
	writes := func(r *rand.Rand) []string {
		switch r.IntN(6) {
		case 0:
			return []string{"DEL", key(r), key(r)}
		case 1:
			return []string{"SET", key(r), "v", "PX", strconv.Itoa(1 + r.IntN(30))}
		case 2:
			return []string{"MULTI"}
		case 3:
			return []string{"EXEC"}
		case 4:
			return []string{"EVAL", "return redis.call('incr', KEYS[1])", "1", key(r)}
		default:
			return []string{"SET", key(r), "v"}
		}
	}
	for i := uint64(0); i < 2; i++ {
		wg.Add(5)
		go worker(10+i, [][]string{hello, {"CLIENT", "TRACKING", "ON"}}, reads)
		go worker(20+i, [][]string{hello, {"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "k1", "PREFIX", "k2"}}, writes)
		go worker(30+i, [][]string{hello, {"CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP"}}, func(r *rand.Rand) []string {
			if r.IntN(2) == 0 {
				return reads(r)
			}
			return writes(r)
		})
		go worker(40+i, [][]string{auth, {"MONITOR"}}, func(r *rand.Rand) []string { return []string{"PING"} })
		go worker(50+i, [][]string{auth}, writes)
	}
	// Redirecting trackers, to a target that comes and goes.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for time.Now().Before(stop) {
			tgt, err := net.DialTimeout("tcp", srv.addr, 2*time.Second)
			if err != nil {
				return
			}
			done := make(chan struct{})
			go func() { io.Copy(io.Discard, tgt); close(done) }()
			tgt.Write(append(encode(hello...), encode("CLIENT", "SETNAME", "tgt")...))
			time.Sleep(5 * time.Millisecond)
			var id string
			srv.mu.Lock()
			for cid, c := range srv.clients {
				c.mu.Lock()
				if c.name == "tgt" {
					id = strconv.FormatInt(cid, 10)
				}
				c.mu.Unlock()
			}
			srv.mu.Unlock()
			if id != "" {
				tr, err := net.DialTimeout("tcp", srv.addr, 2*time.Second)
				if err == nil {
					d2 := make(chan struct{})
					go func() { io.Copy(io.Discard, tr); close(d2) }()
					tr.Write(append(append(encode(auth...), encode("CLIENT", "TRACKING", "ON", "REDIRECT", id)...), encode("MGET", "k1", "k2", "k3")...))
					time.Sleep(10 * time.Millisecond)
					tgt.Close()
					time.Sleep(10 * time.Millisecond)
					tr.Close()
					<-d2
				}
			}
			tgt.Close()
			<-done
		}
	}()
	wg.Wait()

	if p := srv.Panics(); p != 0 {
		t.Fatalf("%d handler panics", p)
	}
	tn := srv.reg.Load().tenants["a"]
	waitUntil(t, 5*time.Second, "the tenant's tracking and MONITOR state gone with its connections", func() bool {
		return tn.trk.clients.Load() == 0 && tn.trk.charged.Load() == 0 && tn.monitors.n.Load() == 0 && tn.hooks.Load() == 0
	})
	if got := adm.do("PING"); got != status("PONG") {
		t.Fatalf("PING after the stress = %v", got)
	}
}
