package server

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// blockFIFOCase: clients block, one after the other, with block; then
// push runs (MULTI/EXEC when several commands), then each client's reply
// is read in blocking order, and then more runs and the clients still
// blocked are read again.
type blockFIFOCase struct {
	name  string
	block [][]string
	push  [][]string
	first int // clients push serves (the rest wait for more)
	more  [][]string
}

var blockFIFOCases = []blockFIFOCase{
	{"BLPOP served in blocking order",
		[][]string{{"BLPOP", "l", "0"}, {"BRPOP", "l", "0"}, {"BLPOP", "l", "0"}, {"BLPOP", "l", "0"}},
		[][]string{{"RPUSH", "l", "a", "b", "c"}}, 3,
		[][]string{{"RPUSH", "l", "d"}}},
	// unit/type/list's "BLMPOP with multiple blocked clients".
	{"BLMPOP with multiple blocked clients",
		[][]string{{"BLMPOP", "0", "2", "b1", "b2", "LEFT", "COUNT", "1"}, {"BLMPOP", "0", "2", "b1", "b2", "RIGHT", "COUNT", "10"},
			{"BLMPOP", "0", "2", "b1", "b2", "LEFT", "COUNT", "10"}, {"BLMPOP", "0", "2", "b1", "b2", "RIGHT", "COUNT", "1"}},
		[][]string{{"LPUSH", "b1", "a", "b", "c", "d", "e"}, {"LPUSH", "b2", "1", "2", "3", "4", "5"}}, 3,
		[][]string{{"LPUSH", "b2", "1", "2", "3"}}},
	// unit/type/zset's "BZMPOP with multiple blocked clients".
	{"BZMPOP with multiple blocked clients",
		[][]string{{"BZMPOP", "0", "2", "z1", "z2", "MIN", "COUNT", "1"}, {"BZMPOP", "0", "2", "z1", "z2", "MAX", "COUNT", "10"},
			{"BZMPOP", "0", "2", "z1", "z2", "MIN", "COUNT", "10"}, {"BZMPOP", "0", "2", "z1", "z2", "MAX", "COUNT", "1"}},
		[][]string{{"ZADD", "z1", "0", "a", "1", "b", "2", "c", "3", "d", "4", "e"}, {"ZADD", "z2", "0", "a", "1", "b", "2", "c", "3", "d", "4", "e"}}, 3,
		[][]string{{"ZADD", "z2", "0", "x"}}},
	// unit/type/list's "BRPOPLPUSH with multiple blocked clients": the
	// first client's destination is a string, so it answers WRONGTYPE and
	// the element goes to the second.
	{"BRPOPLPUSH with a wrong destination first",
		[][]string{{"BRPOPLPUSH", "src", "str", "0"}, {"BRPOPLPUSH", "src", "dst", "0"}},
		[][]string{{"RPUSH", "src", "x"}}, 2,
		nil},
	{"BZPOPMIN then BLPOP on two keys",
		[][]string{{"BZPOPMIN", "z", "0"}, {"BZPOPMIN", "z", "0"}, {"BLPOP", "m", "z2", "0"}},
		[][]string{{"ZADD", "z", "1", "a", "2", "b", "3", "c"}, {"RPUSH", "m", "x"}}, 3,
		nil},
}

// TestDiffBlockedFIFO: clients blocked on one key are served in the order
// they blocked, as Redis serves them, compared with redis-server reply by
// reply.
func TestDiffBlockedFIFO(t *testing.T) {
	addrs := []string{diffMoreServer(t).addr, startRealRedis(t)}
	for _, c := range blockFIFOCases {
		var got [2][]string
		for s, addr := range addrs {
			r := dial(t, addr)
			r.do("FLUSHALL")
			r.do("SET", "str", "v")
			clients := make([]*rconn, len(c.block))
			for i, b := range c.block {
				clients[i] = dial(t, addr)
				clients[i].send(encode(b...))
				waitBlockedClients(t, r, i+1)
			}
			// Every case serves all its clients (a client still blocked
			// would count in the next case's blocked_clients).
			if len(c.push) > 1 {
				r.do("MULTI")
			}
			for _, p := range c.push {
				r.do(p...)
			}
			if len(c.push) > 1 {
				r.do("EXEC")
			}
			served := make([]bool, len(clients))
			replies := make([]string, len(clients))
			// read reads, in blocking order, until want clients are served:
			// the first ones, when service is first come, first served.
			read := func(want int) {
				n := 0
				for i, cl := range clients {
					if n == want {
						return
					}
					if served[i] {
						n++
						continue
					}
					if v, ok := cl.readWithin(2 * time.Second); ok {
						served[i] = true
						replies[i] = fmt.Sprintf("client %d: %v", i+1, norm(v))
						n++
					}
				}
			}
			read(c.first)
			for _, m := range c.more {
				r.do(m...)
			}
			read(len(clients))
			got[s] = append(got[s], replies...)
			for i, cl := range clients {
				if !served[i] {
					t.Errorf("%s: client %d not served", c.name, i+1)
				}
				cl.c.Close()
			}
			for _, k := range []string{"l", "b1", "b2", "z1", "z2", "z", "src", "dst", "m"} {
				got[s] = append(got[s], fmt.Sprintf("%s: %v %v", k, norm(r.do("LRANGE", k, "0", "-1")), norm(r.do("ZRANGE", k, "0", "-1"))))
			}
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Errorf("%s:\ntcached %s\nredis   %s", c.name, strings.Join(got[0], "; "), strings.Join(got[1], "; "))
		}
	}
}

// waitBlockedClients waits (bounded) until INFO says n clients are blocked.
func waitBlockedClients(t *testing.T, r *rconn, n int) {
	t.Helper()
	want := fmt.Sprintf("blocked_clients:%d\r\n", n)
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		info, _ := r.do("INFO", "clients").([]byte)
		if strings.Contains(string(info), want) {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%d clients did not block: %s", n, info)
		}
	}
}
