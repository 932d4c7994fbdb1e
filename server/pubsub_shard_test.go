package server

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tcached/tcached/config"
)

// TestShardPubSubDiff: SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and PUBSUB
// SHARDCHANNELS|SHARDNUMSUB answer as redis-server 7.0.15 (a standalone
// server: no CROSSSLOT), including the counts, which keep shard channels
// apart from channels and patterns, and the "smessage" frames.
func TestShardPubSubDiff(t *testing.T) {
	cfg := testConfig()
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	srv := startServer(t, cfg, false)
	rd := startRedisServer(t)
	type side struct{ sub, pub *rconn }
	rdAddr := rd.c.RemoteAddr().String()
	sides := []side{{dial(t, srv.addr), dial(t, srv.addr)}, {dial(t, rdAddr), dial(t, rdAddr)}}
	// Each step runs on the subscriber (sub) or publisher, and reads n
	// replies from the subscriber (after a publisher's command, the
	// messages it delivered).
	type step struct {
		onSub bool
		args  []string
		n     int
	}
	steps := []step{
		{true, []string{"SSUBSCRIBE", "a", "b", "a"}, 3},
		{true, []string{"SUBSCRIBE", "c"}, 1},
		{true, []string{"PSUBSCRIBE", "*"}, 1},
		{false, []string{"SPUBLISH", "a", "x"}, 1},
		{false, []string{"PUBLISH", "a", "y"}, 1}, // the pattern hears it, the shard subscription does not
		{false, []string{"PUBSUB", "SHARDNUMSUB", "b", "a"}, 0},
		{false, []string{"PUBSUB", "SHARDCHANNELS", "a*"}, 0},
		{false, []string{"PUBSUB", "SHARDNUMSUB", "a", "b", "z"}, 0},
		{false, []string{"PUBSUB", "SHARDNUMSUB"}, 0},
		{false, []string{"PUBSUB", "CHANNELS"}, 0},
		{false, []string{"PUBSUB", "SHARDCHANNELS", "a", "b"}, 0},
		{true, []string{"SUNSUBSCRIBE", "b", "nope"}, 2},
		{true, []string{"PING"}, 1},
		{true, []string{"GET", "k"}, 1},
		{true, []string{"SUNSUBSCRIBE"}, 1},
		{true, []string{"SUNSUBSCRIBE"}, 1},
		{true, []string{"UNSUBSCRIBE"}, 1},
		{true, []string{"PUNSUBSCRIBE"}, 1},
		{false, []string{"SPUBLISH", "a", "gone"}, 0},
		{true, []string{"PING"}, 1},
	}
	for i, st := range steps {
		var got [2][]any
		for j, sd := range sides {
			c := sd.pub
			if st.onSub {
				c = sd.sub
			}
			c.send(encode(st.args...))
			if !st.onSub {
				got[j] = append(got[j], norm(c.read()))
			}
			for range st.n {
				got[j] = append(got[j], norm(sd.sub.read()))
			}
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Fatalf("step %d %q: tcached %#v, redis %#v", i, st.args, got[0], got[1])
		}
	}
}

// TestAttackShardPubSub: shard channels are per tenant: b's SSUBSCRIBE
// hears none of a's SPUBLISHes, a's SPUBLISH counts only a's receivers,
// and b's PUBSUB SHARDCHANNELS lists none of a's channels.
func TestAttackShardPubSub(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	for _, proto := range []string{"2", "3"} {
		spy := dialAs(t, srv.addr, "bob", "bob-pw")
		spy.do("HELLO", proto)
		orders := "orders" + proto
		spy.send(encode("SSUBSCRIBE", orders, "secret-"+attackMarker))
		spy.read()
		spy.read()
		own := dialAs(t, srv.addr, "alice", "alice-pw")
		own.do("HELLO", proto)
		own.send(encode("SSUBSCRIBE", orders))
		own.read()
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		if n := a.do("SPUBLISH", orders, "a's "+attackMarker); n != int64(1) {
			t.Fatalf("proto %s: a's SPUBLISH counted %#v", proto, n)
		}
		a.do("SPUBLISH", "secret-"+attackMarker, "x")
		if got := fmt.Sprint(norm(own.read())); !strings.Contains(got, "smessage "+orders+" a's") {
			t.Fatalf("proto %s: a's subscriber got %s", proto, got)
		}
		if got := norm(a.do("PUBSUB", "SHARDCHANNELS", orders)); fmt.Sprint(got) != "["+orders+"]" {
			t.Fatalf("proto %s: a's SHARDCHANNELS %v", proto, got)
		}
		b := dialAs(t, srv.addr, "bob", "bob-pw")
		if got := norm(b.do("PUBSUB", "SHARDNUMSUB", orders)); fmt.Sprint(got) != "["+orders+" 1]" {
			t.Fatalf("proto %s: b's SHARDNUMSUB %v (a's subscriber counted?)", proto, got)
		}
		// The spy's next frame is its own PING's reply, not a's message.
		spy.send(encode("PING"))
		if got := fmt.Sprint(norm(spy.read())); strings.Contains(got, attackMarker) || strings.Contains(got, "smessage") {
			t.Fatalf("proto %s: b received %s", proto, got)
		}
	}
}
