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
	// A fuzzed script body may loop: stop it quickly.
	tier := cfg.Tenants[0].Tier
	tier.ScriptTimeLimit, tier.ScriptMaxTime = 10*time.Millisecond, 50*time.Millisecond
	cfg.Tenants[0].Tier = tier
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
// and a subscribed RESP3 connection may receive its own messages; so do
// MONITOR (its own commands come back as lines) and CLIENT TRACKING
// (invalidations of its own writes). After one of those, exact reports
// false and the count is a lower bound.
//
// CLIENT REPLY OFF|SKIP silences replies: the oracle follows the modes
// (cmd_reply.go). Inside MULTI it cannot (the mode changes at EXEC), so
// an input that does that is not counted: (0, false).
func expectedReplies(s *Server, input []byte) (n int, exact bool) {
	var p resp.Parser
	lim := s.authLimits
	exact = true
	mode, inMulti := replyOn, false
	answer := func() {
		switch mode {
		case replyOn:
			n++
		case replySkipNext:
			mode = replyOn
		}
	}
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
		if len(args) == 3 && command.EqFold(args[0], "client") && command.EqFold(args[1], "reply") {
			switch {
			case inMulti:
				return 0, false
			case command.EqFold(args[2], "on"):
				mode = replyOn
				n++
			case command.EqFold(args[2], "off"):
				mode = replyOff
			case command.EqFold(args[2], "skip"):
				if mode != replyOff {
					mode = replySkipNext
				}
			default:
				answer()
			}
			continue
		}
		answer()
		switch {
		case command.EqFold(args[0], "quit"):
			return n, exact
		case command.EqFold(args[0], "multi"):
			inMulti = true
		case command.EqFold(args[0], "exec"), command.EqFold(args[0], "discard"), command.EqFold(args[0], "reset"):
			inMulti = false
		case command.EqFold(args[0], "subscribe"), command.EqFold(args[0], "psubscribe"),
			command.EqFold(args[0], "unsubscribe"), command.EqFold(args[0], "punsubscribe"),
			command.EqFold(args[0], "ssubscribe"), command.EqFold(args[0], "sunsubscribe"),
			command.EqFold(args[0], "monitor"), command.EqFold(args[0], "client") && len(args) > 1 && command.EqFold(args[1], "tracking"):
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
	"SSUBSCRIBE s1 s2\r\nSPUBLISH s1 hi\r\nPUBLISH s1 no\r\nSUNSUBSCRIBE s1\r\nPUBSUB SHARDCHANNELS\r\nPUBSUB SHARDNUMSUB s1 s2\r\nSUNSUBSCRIBE\r\n",
	"HELLO 3\r\nCONFIG GET *\r\nHGETALL h\r\nZSCORE z a\r\nHELLO 2\r\n",
	"SORT l ALPHA DESC LIMIT 0 2 STORE out\r\nTYPE out\r\nOBJECT ENCODING out\r\n",
	"ZADD z 1 a 2 b\r\nSADD s a c\r\nZUNION 2 z s WEIGHTS 2 inf AGGREGATE MAX WITHSCORES\r\nZINTERSTORE d 2 z s\r\nZDIFF 1 z\r\nZINTERCARD 2 z d LIMIT 1\r\n",
	"ZRANGESTORE d z (1 +inf BYSCORE REV LIMIT 0 1\r\nZRANDMEMBER z -9 WITHSCORES\r\nZMPOP 2 x z MAX COUNT 9\r\nBZPOPMIN z 0.01\r\nBZMPOP 0.01 1 z MIN\r\nZLEXCOUNT z - +\r\nZREMRANGEBYLEX z [a (b\r\n",
	"GEOADD g CH 13.361389 38.115556 P 15.087269 37.502669 C\r\nGEOSEARCH g FROMMEMBER P BYBOX 400 400 km ASC COUNT 1 ANY WITHCOORD WITHDIST WITHHASH\r\nGEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST\r\n",
	"GEORADIUS g 15 37 1e308 mi STORE d\r\nGEORADIUSBYMEMBER_RO g P 0 m\r\nGEODIST g P C ft\r\nGEOPOS g P x\r\nGEOHASH g C\r\nGEOADD g 180 85.05112878 e\r\n",
	// Scripts and functions: bodies the fuzzer mutates into anything.
	"*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n",
	"EVAL \"return redis.call('set', KEYS[1], ARGV[1])\" 1 k v\r\nEVAL \"return {redis.call('get', KEYS[1]), redis.call('keys', '*')}\" 1 k\r\n",
	"EVAL \"return {1, 2.5, 'x', {err='e'}, {ok='o'}, true, false, nil, {map={a=1}}, {set={b=true}}, {double=1.5}}\" 0\r\n",
	"EVAL \"redis.setresp(3) return redis.call('hgetall', 'h')\" 0\r\nHELLO 3\r\nEVAL \"return {double=0/0}\" 0\r\nHELLO 2\r\n",
	"EVAL \"return redis.pcall('incr', 'k')\" 0\r\nEVAL \"error('x')\" 0\r\nEVAL \"a = 1\" 0\r\nEVAL \"return a\" 0\r\n",
	"EVAL \"while true do end\" 0\r\nPING\r\nEVAL \"local t = {} while true do t[#t+1] = string.rep('x', 1000) end\" 0\r\n",
	"EVAL \"local s = 'x' while true do s = s .. s end\" 0\r\nEVAL \"local function f() return f() + 1 end return f()\" 0\r\n",
	"EVAL \"return cjson.decode(ARGV[1])\" 0 \"[1,{\\\"a\\\":[true,null]}]\"\r\nEVAL \"return cmsgpack.unpack(ARGV[1])\" 0 \"\\x93\\x01\\x02\\x03\"\r\n",
	"EVAL \"return {struct.unpack('>i2s', ARGV[1])}\" 0 abcdef\r\nEVAL \"return bit.tohex(bit.bnot(0))\" 0\r\n",
	"SCRIPT LOAD \"return 2\"\r\nEVALSHA 7f923f79fe76194c868d7e1d0820de36700eb649 0\r\nSCRIPT EXISTS 7f923f79fe76194c868d7e1d0820de36700eb649\r\nSCRIPT FLUSH\r\nEVALSHA_RO 7f923f79fe76194c868d7e1d0820de36700eb649 0\r\n",
	"MULTI\r\nEVAL \"return redis.call('incr', 'n')\" 0\r\nEXEC\r\nEVAL \"return redis.call('multi')\" 0\r\nEVAL \"return redis.call('blpop', 'l', 0)\" 0\r\n",
	"FUNCTION LOAD \"#!lua name=l\\nredis.register_function('f', function(k, a) return #k + #a end)\"\r\nFCALL f 1 k a\r\nFCALL_RO f 0\r\nFUNCTION LIST WITHCODE\r\nFUNCTION DUMP\r\nFUNCTION STATS\r\nFUNCTION DELETE l\r\n",
	// DUMP/RESTORE (payloads the fuzzer mutates), LMPOP, BLMPOP,
	// RPOPLPUSH, BRPOPLPUSH, SINTERCARD, OBJECT FREQ/IDLETIME.
	"SET k v\r\nDUMP k\r\n" + string(encode("RESTORE", "k2", "0", attackPayload)) + string(encode("RESTORE", "k2", "100", attackPayload, "REPLACE", "ABSTTL", "IDLETIME", "5")) +
		string(encode("RESTORE", "k3", "0", attackPayload[:len(attackPayload)-1]+"x", "FREQ", "5")) + "OBJECT FREQ k\r\nOBJECT IDLETIME k2\r\n",
	string(encode("RESTORE", "l", "0", "\x12\x01\x02\x17\x17\x00\x00\x00\x06\x00\x81a\x02\x81b\x02\x01\x01\x02\x01\xc1,\x02\xdf\xfb\x02\xff\n\x00\x9cSf\xfe\x87\xffM\xba")) +
		"LMPOP 2 x l LEFT COUNT 2\r\nRPOPLPUSH l l2\r\nBRPOPLPUSH l l2 0.01\r\nBLMPOP 0.01 1 l2 RIGHT\r\nDUMP l2\r\n",
	// A stream payload (Redis 7.0.15's, XADD st 1-1 a 1) the fuzzer
	// mutates, and DUMP of a stream with groups.
	string(encode("RESTORE", "st", "0", "\x13\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x1c\x1c\x00\x00\x00\n\x00\x01\x01\x00\x01\x01\x01\x81a\x02\x00\x01\x02\x01\x00\x01\x00\x01\x01\x01\x04\x01\xff\x01\x01\x01\x01\x01\x00\x00\x01\x00\n\x00)}x\x0f\xd8\x8a\xa6,")) +
		"XADD st 2-1 f v\r\nXGROUP CREATE st g 0\r\nXREADGROUP GROUP g c STREAMS st >\r\nXDEL st 1-1\r\nDUMP st\r\nXINFO STREAM st FULL\r\n",
	"SADD s1 1 2 3\r\nSADD s2 2 3 x\r\nSINTERCARD 2 s1 s2 LIMIT 1\r\nSINTERCARD 3 s1 s2 nokey\r\nDUMP s2\r\nSINTERCARD 9223372036854775807 s1\r\n",
	"CLIENT REPLY SKIP\r\nGET k\r\nCLIENT REPLY OFF\r\nSET k v\r\nCLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nCLIENT REPLY x\r\nPING\r\n",
	"CLIENT UNBLOCK 1\r\nCLIENT UNBLOCK 1 ERROR\r\nCLIENT UNBLOCK x y\r\nCOMMAND LIST FILTERBY PATTERN c*\r\nCOMMAND GETKEYS sort k STORE d\r\nCOMMAND GETKEYSANDFLAGS copy a b\r\n",
	// Client-side caching and MONITOR: options the fuzzer mutates, and
	// the invalidations and lines of the connection's own commands.
	"HELLO 3\r\nCLIENT TRACKING ON\r\nGET k\r\nSET k v\r\nMGET k a b\r\nDEL a\r\nFLUSHDB\r\nCLIENT TRACKINGINFO\r\nCLIENT GETREDIR\r\n",
	"CLIENT TRACKING ON BCAST PREFIX a PREFIX b NOLOOP\r\nHELLO 3\r\nMSET a1 1 b1 2 c 3\r\nCLIENT TRACKING ON BCAST PREFIX ab\r\nCLIENT TRACKING OFF\r\n",
	"CLIENT TRACKING ON OPTIN\r\nCLIENT CACHING YES\r\nMULTI\r\nPTTL k\r\nGET k\r\nEXEC\r\nCLIENT CACHING NO\r\nCLIENT TRACKING ON OPTOUT\r\n",
	"CLIENT TRACKING ON REDIRECT 1\r\nCLIENT TRACKING ON REDIRECT 9007199254740993 REDIRECT 2\r\nCLIENT TRACKING ON BCAST OPTIN\r\nCLIENT TRACKING on PREFIX x\r\nCLIENT TRACKING maybe\r\n",
	"CLIENT TRACKING ON\r\nEVAL \"redis.call('get', KEYS[1]) return redis.call('set', KEYS[1], 'x')\" 1 k\r\nSET e v PX 1\r\nGET e\r\nRESET\r\n",
	"MONITOR\r\nSET k v\r\nAUTH alice alice-pw\r\nHELLO 2 AUTH alice alice-pw\r\nEVAL \"return redis.call('get', 'k')\" 0\r\nMULTI\r\nMONITOR\r\nEXEC\r\nRESET\r\n",
	"TENANT MONITOR a\r\nTENANT MONITOR nosuch\r\nMONITOR\r\nMONITOR\r\nSLOWLOG GET\r\nQUIT\r\n",
	"XADD s 1-1 f v\r\nXADD s * g w\r\nXADD s MAXLEN ~ 1 LIMIT 5 2-* a b\r\nXRANGE s (1-1 + COUNT 1\r\nXREVRANGE s + - COUNT -1\r\nXLEN s\r\nXDEL s 1-1 x\r\nXTRIM s MINID = 0\r\nXSETID s 18446744073709551615-18446744073709551615\r\nXADD s * f v\r\n",
	"XGROUP CREATE s g $ MKSTREAM ENTRIESREAD 5\r\nXADD s 5-5 f v\r\nXREADGROUP GROUP g c COUNT 1 NOACK STREAMS s >\r\nXREADGROUP GROUP g c BLOCK 0 STREAMS s >\r\nXREAD BLOCK 0 STREAMS s s $ 0\r\nXPENDING s g IDLE 0 - + 10 c\r\nXCLAIM s g d 0 5-5 FORCE JUSTID LASTID 9-9\r\nXAUTOCLAIM s g d 0 0 COUNT 9223372036854775807\r\nXACK s g 5-5\r\nXINFO STREAM s FULL COUNT 0\r\nXINFO GROUPS s\r\nXINFO CONSUMERS s g\r\nXGROUP DELCONSUMER s g d\r\nXGROUP DESTROY s g\r\n",
	"MULTI\r\nXADD s 1-1 f v\r\nXREAD BLOCK 0 STREAMS s $\r\nEXEC\r\nHELLO 3\r\nXREAD COUNT 1 STREAMS s 0\r\nXINFO STREAM s\r\nHELLO 2\r\n",
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
		setup.Write(encode("GEOADD", "b-zset", "1", "1", secret))
		// A stream at key+":s" with a group and a pending entry.
		setup.Write(encode("XADD", string(key)+":s", "1-1", "f", secret))
		setup.Write(encode("XGROUP", "CREATE", string(key)+":s", "g", "0"))
		setup.Write(encode("XREADGROUP", "GROUP", "g", "c", "STREAMS", string(key)+":s", ">"))
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
			attack.Write(encode("DUMP", string(key)))
			attack.Write(encode("RESTORE", string(key), "0", attackPayload, "REPLACE"))
			attack.Write(encode("DUMP", string(key)))
			attack.Write(encode("LMPOP", "1", string(key), "LEFT"))
			attack.Write(encode("SINTERCARD", "1", string(key)))
			attack.Write(encode("OBJECT", "FREQ", string(key)))
			attack.Write(encode("DBSIZE"))
			// Sorted-set algebra and geo stores naming b's keys.
			attack.Write(encode("ZUNION", "2", string(key), "b-zset", "WITHSCORES"))
			attack.Write(encode("ZUNIONSTORE", "z", "2", string(key), "b-zset"))
			attack.Write(encode("ZRANGESTORE", "z", "b-zset", "0", "-1"))
			attack.Write(encode("ZRANGE", "z", "0", "-1"))
			attack.Write(encode("GEOSEARCHSTORE", "g", "b-zset", "FROMLONLAT", "0", "0", "BYRADIUS", "20000", "km"))
			attack.Write(encode("GEOSEARCH", string(key), "FROMMEMBER", secret, "BYRADIUS", "20000", "km"))
			attack.Write(encode("ZRANDMEMBER", "b-zset", "-3"))
			// Tracking and MONITOR with the key and pattern: a redirect
			// to whatever id the key parses as, a BCAST prefix.
			attack.Write(encode("CLIENT", "TRACKING", "ON", "REDIRECT", string(key)))
			attack.Write(encode("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", string(pattern)))
			attack.Write(encode("TENANT", "MONITOR", string(key)))
			attack.Write(encode("MONITOR"))
			attack.Write(encode("SET", string(pattern), "a-value"))
			attack.Write(encode("RESET"))
			attack.Write(encode("AUTH", "alice", "alice-pw"))
			sk := string(key) + ":s"
			attack.Write(encode("XREAD", "STREAMS", sk, string(key), "0", "0"))
			attack.Write(encode("XREAD", "BLOCK", "1", "STREAMS", sk, "$"))
			attack.Write(encode("XREADGROUP", "GROUP", "g", "c", "STREAMS", sk, "0"))
			attack.Write(encode("XRANGE", sk, "-", "+"))
			attack.Write(encode("XINFO", "STREAM", sk, "FULL"))
			attack.Write(encode("XPENDING", sk, "g", "-", "+", "10"))
			attack.Write(encode("XCLAIM", sk, "g", "c", "0", "1-1", "FORCE"))
			// A script gets the same key and pattern, and tries SELECT.
			attack.Write(encode("EVAL", `local r = {}
for db = 0, 15 do
  redis.call('select', db)
  table.insert(r, redis.call('get', KEYS[1]) or '')
  for _, k in ipairs(redis.call('keys', ARGV[1])) do table.insert(r, k) end
  for _, k in ipairs(redis.call('scan', 0, 'match', ARGV[1], 'count', 1000)[2]) do table.insert(r, k) end
  table.insert(r, redis.call('randomkey') or '')
end
return r`, "1", string(key), string(pattern)))
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
