package server

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestPublishAfterUnsubscribeUnread is Redis's "PUBLISH/PSUBSCRIBE after
// PUNSUBSCRIBE without arguments": a subscriber sends PUNSUBSCRIBE (or
// UNSUBSCRIBE) and does not read the reply; PUBLISH on another connection
// must then count and deliver nothing to the old subscriptions (see
// pubsub.go, "Ordering across connections"). Busy goroutines load the CPUs
// as a busy machine would, which made the race deliver most of the time.
// A subscription the subscriber keeps still gets the message.
func TestPublishAfterUnsubscribeUnread(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	pub := dialAs(t, ts.addr, "alice", "alice-pw")
	ctx, stop := context.WithCancel(context.Background())
	var spin sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		spin.Add(1)
		go func() {
			defer spin.Done()
			for ctx.Err() == nil {
				for i := 0; i < 1e3; i++ {
					_ = i * i
				}
				runtime.Gosched()
			}
		}()
	}
	defer func() { stop(); spin.Wait() }()
	for i := range 200 {
		sub := dialAs(t, ts.addr, "alice", "alice-pw")
		switch i % 3 {
		case 0:
			rawExchange(t, sub, subBytes("psubscribe", "chan1.*", 1)+subBytes("psubscribe", "chan2.*", 2)+subBytes("psubscribe", "chan3.*", 3),
				"PSUBSCRIBE", "chan1.*", "chan2.*", "chan3.*")
			sub.send(encode("PUNSUBSCRIBE"))
			for _, ch := range []string{"chan1.hi", "chan2.hi", "chan3.hi"} {
				if got := pub.do("PUBLISH", ch, "hello"); got != int64(0) {
					t.Fatalf("round %d: PUBLISH %s after PUNSUBSCRIBE = %v, want 0", i, ch, got)
				}
			}
		case 1:
			rawExchange(t, sub, subBytes("subscribe", "a", 1)+subBytes("subscribe", "b", 2), "SUBSCRIBE", "a", "b")
			sub.send(encode("UNSUBSCRIBE"))
			if got := pub.do("PUBLISH", "a", "hello"); got != int64(0) {
				t.Fatalf("round %d: PUBLISH after UNSUBSCRIBE = %v, want 0", i, got)
			}
		case 2:
			rawExchange(t, sub, subBytes("subscribe", "keep", 1), "SUBSCRIBE", "keep")
			rawExchange(t, sub, subBytes("psubscribe", "k*", 2), "PSUBSCRIBE", "k*")
			sub.send(encode("PUNSUBSCRIBE", "k*"))
			if got := pub.do("PUBLISH", "keep", "hello"); got != int64(1) {
				t.Fatalf("round %d: PUBLISH to a kept channel = %v, want 1", i, got)
			}
			expectRaw(t, sub, subBytes("punsubscribe", "k*", 1)+msgBytes("keep", "hello"))
		}
		sub.c.Close()
	}
}

// TestPublishToOwnSubscription: a RESP3 connection publishing to its own
// channel is the publisher, not a subscriber with input to wait for: its
// PUBLISHes must not wait out settleWait (20 of them would take 400ms).
func TestPublishToOwnSubscription(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	c := dialAs(t, ts.addr, "alice", "alice-pw")
	c.do("HELLO", "3")
	rawExchange(t, c, ">3\r\n$9\r\nsubscribe\r\n$2\r\nme\r\n:1\r\n", "SUBSCRIBE", "me")
	start := time.Now()
	for range 20 {
		// tcached's order: the reply, then the message held during the
		// command (TestPubSubRESP3Exchanges).
		rawExchange(t, c, ":1\r\n>3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$2\r\nhi\r\n", "PUBLISH", "me", "hi")
	}
	if d := time.Since(start); d > 20*settleWait/2 {
		t.Errorf("20 PUBLISHes to the publisher's own channel took %v", d)
	}
}
