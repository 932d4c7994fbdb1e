package server

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/tcached/tcached/config"
)

// fuzzServer is a server with a default tenant (so fuzzed commands run)
// that is never listened on: inputs go through serveConn directly.
func fuzzServer(t testing.TB) *Server {
	cfg := testConfig()
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	s, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// expectedReplies is the oracle: it frames the whole input at once (no
// chunking) and counts the commands a correct server answers: each
// complete command, plus one error reply for a protocol violation, up to
// and including QUIT.
func expectedReplies(s *Server, input []byte) int {
	var p parser
	lim := s.authLimits
	n := 0
	for len(input) > 0 {
		args, used, err := p.next(input, &lim)
		var pe protoError
		switch {
		case errors.Is(err, errNeedMore):
			return n
		case errors.As(err, &pe):
			return n + 1
		}
		input = input[used:]
		if args == nil {
			continue
		}
		n++
		if eqFold(args[0], "quit") {
			return n
		}
	}
	return n
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
		want := expectedReplies(s, input)
		if got := countReplies(t, out); got != want {
			t.Fatalf("input %q: %d replies, want %d; output %q", input, got, want, out)
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
