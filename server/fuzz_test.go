package server

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/resp"
)

// fuzzServer is a server with a default tenant (so fuzzed commands run)
// that is never listened on: inputs go through serveConn directly.
func fuzzServer(t testing.TB) *Server {
	cfg := testConfig()
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	// Blocking commands (BLPOP k 0) must not hang an input: nothing pushes.
	s, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBlock: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// expectedReplies is the oracle: it frames the whole input at once (no
// chunking) and counts the commands a correct server answers: each
// complete command, plus one error reply for a protocol violation, up to
// and including QUIT.
//
// Pub/sub makes the count inexact: (P)SUBSCRIBE and (P)UNSUBSCRIBE answer
// once per channel, UNSUBSCRIBE without channels once per subscription,
// and a subscribed RESP3 connection may receive its own messages. After
// one of those, exact reports false and the count is a lower bound.
func expectedReplies(s *Server, input []byte) (n int, exact bool) {
	var p resp.Parser
	lim := s.authLimits
	exact = true
	for len(input) > 0 {
		args, used, err := p.Next(input, &lim)
		var pe resp.ProtocolError
		switch {
		case errors.Is(err, resp.ErrNeedMore):
			return n, exact
		case errors.As(err, &pe):
			return n + 1, exact
		}
		input = input[used:]
		if args == nil {
			continue
		}
		n++
		switch {
		case command.EqFold(args[0], "quit"):
			return n, exact
		case command.EqFold(args[0], "subscribe"), command.EqFold(args[0], "psubscribe"),
			command.EqFold(args[0], "unsubscribe"), command.EqFold(args[0], "punsubscribe"),
			command.EqFold(args[0], "ssubscribe"), command.EqFold(args[0], "sunsubscribe"):
			exact = false
		}
	}
	return n, exact
}

var respSeeds = []string{
	"PING\r\n",
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
	"*0\r\n*-1\r\nPING\r\n",
	"*-2147483648\r\nPING\r\n",
	"*2147483648\r\n",
	"*9223372036854775807\r\n",
	"*1\r\n$9223372036854775807\r\n",
	"*1\r\n$-1\r\n",
	"*1\r\n$2147483647\r\n",
	"*2\r\n$3\r\nGET\r\n$1\r\nkXY",
	"*1\r\n$4\r\nPING",
	"*1\n$4\nPING\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n",
	"SET k \"unbalanced\r\n",
	"SET k 'a'b\r\n",
	"SET \"a\\x41\\n\" 'it\\'s'\r\nGET \"a\\x41\\n\"\r\n",
	"\x00\x01\x02\xff\xfe\r\n",
	"*1\r\n\x00\r\n",
	"$3\r\nfoo\r\n",
	":1\r\n+OK\r\n-ERR x\r\n",
	"*1\r\n$4\r\nQUIT\r\nPING\r\n",
	"MSET a 1 b 2\r\nMGET a b c\r\nKEYS *\r\nSCAN 0 MATCH * COUNT 5\r\n",
	"SETRANGE k 100000 x\r\nGETRANGE k -10 -1\r\nINCRBYFLOAT f 1e300\r\nINCR n\r\n",
	"SELECT 15\r\nSET k v EX 1\r\nTTL k\r\nFLUSHALL\r\nRESET\r\nHELLO 3\r\nHELLO 2\r\n",
	"CLIENT LIST\r\nCLIENT SETNAME x\r\nCOMMAND COUNT\r\nINFO\r\nCONFIG GET *\r\n",
	"AUTH bob bob-pw\r\nGET k\r\nAUTH nobody x\r\nDBSIZE\r\n",
	"KEYS [\r\nKEYS \\\r\nSCAN 18446744073709551615\r\nSCAN 99999999999999999999\r\n",
	"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
	"HSET h f v g w\r\nHGETALL h\r\nHINCRBYFLOAT h f 1.5\r\nHSCAN h 0 MATCH * COUNT 1\r\nHRANDFIELD h -5 WITHVALUES\r\n",
	"RPUSH l a b c\r\nLRANGE l 0 -1\r\nLINSERT l BEFORE b x\r\nLPOS l b RANK -1 COUNT 0\r\nLMOVE l l LEFT RIGHT\r\nBLPOP l 0.01\r\nLTRIM l 1 -1\r\n",
	"SADD s a b c\r\nSINTERSTORE d s s\r\nSPOP s 2\r\nSRANDMEMBER s -3\r\nSMOVE s d a\r\nSSCAN s 0\r\n",
	"ZADD z NX CH 1 a 2 b\r\nZRANGE z (1 +inf BYSCORE LIMIT 0 1 WITHSCORES\r\nZRANGE z [a (c BYLEX REV\r\nZINCRBY z -inf a\r\nZPOPMIN z 5\r\n",
	"MULTI\r\nSET k v\r\nINCR k\r\nEXEC\r\nWATCH k\r\nMULTI\r\nGET k\r\nDISCARD\r\nUNWATCH\r\n",
	"SUBSCRIBE c1 c2\r\nPSUBSCRIBE *\r\nPING\r\nPUBLISH c1 hi\r\nUNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nPUBSUB NUMSUB c1\r\n",
	"HELLO 3\r\nCONFIG GET *\r\nHGETALL h\r\nZSCORE z a\r\nHELLO 2\r\n",
	"SORT l ALPHA DESC LIMIT 0 2 STORE out\r\nTYPE out\r\nOBJECT ENCODING out\r\n",
	strings.Repeat("PING ", 100) + "\r\n",
	strings.Repeat("*1\r\n$4\r\nPING\r\n", 50),
}

// FuzzRESP pushes raw bytes through the real connection path (bounded
// parser, dispatch, handlers, reply writer), in chunks whose size the input
// picks, and checks: no panic, well-formed RESP out, exactly one reply per
// complete command.
func FuzzRESP(f *testing.F) {
	for i, s := range respSeeds {
		f.Add([]byte(s), uint8(i))
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, input []byte, chunk uint8) {
		if len(input) > 1<<16 {
			return
		}
		out := serveMem(s, input, int(chunk%16)+1)
		if p := s.Panics(); p != 0 {
			t.Fatalf("%d handler panics", p)
		}
		want, exact := expectedReplies(s, input)
		if got := countReplies(t, out); got != want && (exact || got < want) {
			t.Fatalf("input %q: %d replies, want %d (exact %v); output %q", input, got, want, exact, out)
		}
	})
}

// FuzzTenantIsolation lets tenant a use any key and any pattern while
// tenant b holds a secret under that same key: a never sees b's value or
// key, and b's data and counters do not change.
func FuzzTenantIsolation(f *testing.F) {
	for _, s := range []string{"k", "*", "?", "[", "\\", "{tag}", "a:b", "\x00", "b*", "", strings.Repeat("x", 300)} {
		f.Add([]byte(s), []byte(s))
		f.Add([]byte("secret-key"), []byte(s))
	}
	f.Fuzz(func(t *testing.T, key, pattern []byte) {
		if len(key) > 4096 || len(pattern) > 4096 {
			return
		}
		s := fuzzServer(t)
		const secret = "B-SECRET-VALUE-7f3a"
		var setup bytes.Buffer
		setup.Write(encode("AUTH", "bob", "bob-pw"))
		setup.Write(encode("SET", string(key), secret))
		setup.Write(encode("SET", "b-only-key", secret))
		serveMem(s, setup.Bytes(), 0)
		before := s.Stats()[1]
		var attack bytes.Buffer
		attack.Write(encode("AUTH", "alice", "alice-pw"))
		for _, db := range []string{"0", "1"} {
			attack.Write(encode("SELECT", db))
			attack.Write(encode("GET", string(key)))
			attack.Write(encode("MGET", string(key), "b-only-key"))
			attack.Write(encode("EXISTS", string(key)))
			attack.Write(encode("KEYS", string(pattern)))
			attack.Write(encode("SCAN", "0", "MATCH", string(pattern), "COUNT", "1000"))
			attack.Write(encode("RANDOMKEY"))
			attack.Write(encode("GETRANGE", string(key), "0", "-1"))
			attack.Write(encode("TTL", string(key)))
			attack.Write(encode("DEL", string(key)))
			attack.Write(encode("RENAME", string(key), "x"))
			attack.Write(encode("COPY", string(key), "y"))
			attack.Write(encode("DBSIZE"))
		}
		out := serveMem(s, attack.Bytes(), 0)
		if bytes.Contains(out, []byte(secret)) || bytes.Contains(out, []byte("b-only-key")) {
			t.Fatalf("tenant a saw tenant b's data: %q", out)
		}
		after := s.Stats()[1]
		if before.Keys != after.Keys || before.UsedBytes != after.UsedBytes || before.Hits != after.Hits || before.Misses != after.Misses {
			t.Fatalf("tenant b changed: before %+v after %+v", before, after)
		}
	})
}
