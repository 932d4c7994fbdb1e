package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCommandCountsPipelined: a connection counts its commands in a batch
// that is added to the tenant's counters when its replies are flushed
// (client.cnt), so the counts must still be exact where they are read: by
// a command pipelined behind others (INFO sees them, not itself, as in
// Redis), by a scrape after the replies arrive, and per tenant when an
// AUTH moves the connection to another tenant mid-pipeline.
func TestCommandCountsPipelined(t *testing.T) {
	s := startServer(t, testConfig(), false)
	counts := func(id string) (ok, errs int64) {
		for _, ts := range s.Snapshot().Tenants {
			if ts.Tenant == id {
				return ts.CommandsOK, ts.CommandsErr
			}
		}
		t.Fatalf("tenant %s not in the snapshot", id)
		return 0, 0
	}
	infoInt := func(info, field string) int64 {
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, field+":"); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("%s: %q", field, v)
				}
				return n
			}
		}
		t.Fatalf("INFO has no %s:\n%s", field, info)
		return 0
	}

	r := dialAs(t, s.addr, "alice", "alice-pw")
	okA0, errA0 := counts("a")
	// 4 commands (one an error reply) then INFO, in one write.
	r.send(append(append(append(append(append(encode("SET", "k", "1"), encode("GET", "k")...),
		encode("INCR", "k")...), encode("LPUSH", "k", "x")...), encode("GET", "k")...),
		encode("INFO", "stats")...))
	for range 5 {
		r.read()
	}
	raw, ok := r.read().([]byte)
	info := string(raw)
	if !ok {
		t.Fatal("INFO did not answer a bulk string")
	}
	if got, want := infoInt(info, "total_commands_processed"), okA0+errA0+5; got != want {
		t.Errorf("INFO behind 5 pipelined commands: total_commands_processed %d, want %d", got, want)
	}
	if got, want := infoInt(info, "total_error_replies"), errA0+1; got != want {
		t.Errorf("INFO behind 5 pipelined commands: total_error_replies %d, want %d", got, want)
	}
	// The replies have arrived, so the scrape counts INFO too.
	if ok, errs := counts("a"); ok != okA0+5 || errs != errA0+1 {
		t.Errorf("after the replies: a ok %d errors %d, want %d and %d", ok, errs, okA0+5, errA0+1)
	}

	// An AUTH mid-pipeline: what ran before it is a's (AUTH included),
	// what runs after it is b's.
	okA1, errA1 := counts("a")
	okB1, errB1 := counts("b")
	r.send(append(append(append(encode("SET", "k2", "v"), encode("AUTH", "bob", "bob-pw")...),
		encode("SET", "k3", "v")...), encode("GET", "k3")...))
	for range 4 {
		r.read()
	}
	if ok, errs := counts("a"); ok != okA1+2 || errs != errA1 {
		t.Errorf("a after SET, AUTH: ok %d errors %d, want %d and %d", ok, errs, okA1+2, errA1)
	}
	if ok, errs := counts("b"); ok != okB1+2 || errs != errB1 {
		t.Errorf("b after SET, GET: ok %d errors %d, want %d and %d", ok, errs, okB1+2, errB1)
	}
}

// TestLeaseHeldOnlyWhileExecuting: a connection keeps its admission slot
// from one pipelined command to the next (admission.Lease), and gives it
// back before its replies leave and before a blocking command waits: a
// connection that is not executing holds no slot of max_concurrent and no
// share of the server's in-flight count.
func TestLeaseHeldOnlyWhileExecuting(t *testing.T) {
	s := startServer(t, testConfig(), false)
	ta := s.reg.Load().tenants["a"]
	idle := func(step string) {
		t.Helper()
		if st := ta.adm.Stats(); st.InFlight != 0 || st.InFlightArgBytes != 0 {
			t.Errorf("%s: tenant in flight %d (%d arg bytes), want none", step, st.InFlight, st.InFlightArgBytes)
		}
		if n := s.admission.InFlight(); n != 0 {
			t.Errorf("%s: server in flight %d, want 0", step, n)
		}
	}
	r := dialAs(t, s.addr, "alice", "alice-pw")
	var batch []byte
	for i := range 50 {
		batch = append(batch, encode("SET", "k"+strconv.Itoa(i), strings.Repeat("v", i))...)
		batch = append(batch, encode("GET", "k"+strconv.Itoa(i))...)
	}
	r.send(batch)
	for range 100 {
		r.read()
	}
	idle("after a batch of 100")

	// A blocking command behind pipelined ones waits holding nothing.
	r.send(append(append(encode("GET", "k1"), encode("INCR", "n")...), encode("BLPOP", "q", "5")...))
	r.read()
	r.read()
	deadline := time.Now().Add(5 * time.Second)
	for ta.blocked.clients.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("BLPOP never blocked")
		}
		time.Sleep(time.Millisecond)
	}
	idle("while BLPOP waits")
	w := dialAs(t, s.addr, "alice", "alice-pw")
	w.do("RPUSH", "q", "x")
	if got := norm(r.read()); fmt.Sprint(got) != "[q x]" {
		t.Errorf("BLPOP woke with %v", got)
	}
	idle("after BLPOP")
}
