package server

import (
	"reflect"
	"strings"
	"testing"
)

// watchDiffCase is one write run between a watcher's WATCH and its EXEC:
// setup builds the keys (commands separated by ";", arguments by spaces),
// watch names the watched keys, write is the command another connection
// runs.
type watchDiffCase struct {
	setup string
	watch string
	write string
}

// watchDiffCases covers every write family with writes that change
// nothing (which must not abort the watcher's EXEC) and writes that do
// (which must), including the commands whose signal differs from their
// change in Redis 7.0.15 (SET, APPEND "", INCRBY 0, LTRIM, LSET always
// signal; XACK, XGROUP, XREADGROUP, XSETID never do).
var watchDiffCases = []watchDiffCase{
	// keys
	{"SET s v", "s m", "DEL m"},
	{"SET s v", "s", "DEL s"},
	{"SET s v", "m", "UNLINK m"},
	{"SET s v", "s", "UNLINK s m"},
	{"SET s v", "m", "EXPIRE m 100"},
	{"SET s v", "s", "EXPIRE s 100"},
	{"SET s v", "s", "EXPIRE s 100 XX"},
	{"SET s v EX 100", "s", "EXPIRE s 200 NX"},
	{"SET s v EX 100", "s", "EXPIRE s 50 GT"},
	{"SET s v EX 100", "s", "EXPIRE s 200 GT"},
	{"SET s v", "s", "EXPIRE s -1"},
	{"SET s v", "s", "PEXPIRE s 100000"},
	{"SET s v", "m", "PEXPIREAT m 99999999999999"},
	{"SET s v", "s", "EXPIREAT s 99999999999"},
	{"SET s v", "s", "PERSIST s"},
	{"SET s v EX 100", "s", "PERSIST s"},
	{"SET s v", "s", "RENAME s s"},
	{"SET s v", "s t", "RENAME s t"},
	{"SET s v;SET t w", "s t", "RENAMENX s t"},
	{"SET s v", "s t", "RENAMENX s t"},
	{"SET s v;SET t w", "s t", "COPY s t"},
	{"SET s v;SET t w", "s t", "COPY s t REPLACE"},
	{"SET s v", "m t", "COPY m t"},
	{"SET s v", "s t", "COPY s t"},
	{"SET s v", "s", "MOVE s 1"},
	{"SET s v;SELECT 1;SET s w;SELECT 0", "s", "MOVE s 1"},
	{"RPUSH l 3 1 2", "l d", "SORT l STORE d"},
	{"SET s v", "m d", "SORT m STORE d"},
	{"SET d v", "m d", "SORT m STORE d"},
	{"SET s v", "s", "TOUCH s"},

	// strings
	{"SET s v", "s", "SET s v"},
	{"SET s v", "s", "SET s w NX"},
	{"SET s v", "m", "SET m w XX"},
	{"SET s v", "s", "SET s w XX"},
	{"SET s v", "s", "SET s w GET"},
	{"SET s v", "s", "SETNX s w"},
	{"SET s v", "s", "GETSET s w"},
	{"SET s v", "s m", "MSETNX m 1 s 2"},
	{"SET s v", "s m", "MSET m 1 s 2"},
	{"SET s v", "s", "APPEND s x"},
	{"SET s v", "s", "APPEND s \"\""},
	{"SET s v", "m", "APPEND m \"\""},
	{"SET s v", "s", "SETRANGE s 0 \"\""},
	{"SET s v", "m", "SETRANGE m 0 \"\""},
	{"SET s v", "s", "SETRANGE s 0 v"},
	{"SET s v", "s", "SETRANGE s 3 x"},
	{"SET n 5", "n", "INCRBY n 0"},
	{"SET n 5", "n", "INCR n"},
	{"SET n 5", "n", "DECRBY n 0"},
	{"SET n 5", "n", "INCRBYFLOAT n 0"},
	{"SET n 5", "n", "INCRBY n x"},
	{"SET s v", "s", "INCR s"},
	{"SET s v", "m", "GETDEL m"},
	{"SET s v", "s", "GETDEL s"},
	{"SET s v", "s", "GETEX s"},
	{"SET s v", "s", "GETEX s PERSIST"},
	{"SET s v EX 100", "s", "GETEX s PERSIST"},
	{"SET s v", "s", "GETEX s EX 100"},
	{"SET s v", "s", "SETEX s 100 v"},
	{"SET s v", "s", "PSETEX s 100000 w"},
	{"SET s v", "s", "SET s w KEEPTTL"},
	{"SET s v", "s", "SET s w EXAT 1"},
	{"SET s v", "m", "SET m w PXAT 1"},

	// bitmaps and HyperLogLog
	{"SETBIT b 3 1", "b", "SETBIT b 3 1"},
	{"SETBIT b 3 1", "b", "SETBIT b 3 0"},
	{"SETBIT b 3 1", "b", "SETBIT b 100 0"},
	{"SET s v", "b", "SETBIT b 0 0"},
	{"SETBIT b 3 1", "b", "BITFIELD b GET u4 0"},
	{"SETBIT b 3 1", "b", "BITFIELD b SET u4 0 1"},
	{"SETBIT b 3 1", "b", "BITFIELD b INCRBY u4 0 0"},
	{"SETBIT b 3 1", "b", "BITFIELD b OVERFLOW FAIL INCRBY u2 0 9"},
	{"SET s v", "m", "BITFIELD m GET u4 0"},
	{"SET s v", "d", "BITOP OR d m1 m2"},
	{"SET d v", "d", "BITOP OR d m1 m2"},
	{"SET s v", "d", "BITOP OR d s"},
	{"PFADD h a b", "h", "PFADD h a"},
	{"PFADD h a b", "h", "PFADD h c"},
	{"PFADD h a b", "h", "PFADD h"},
	{"SET s v", "h", "PFADD h"},
	{"PFADD h a b", "h", "PFCOUNT h"},
	{"PFADD h a b;PFCOUNT h", "h", "PFCOUNT h"},
	{"PFADD h a b;PFADD g c", "h g", "PFMERGE h g"},
	{"PFADD h a b", "h", "PFMERGE h"},
	{"PFADD h a b", "d", "PFMERGE d"},

	// hashes
	{"HSET h f v g w", "h", "HSET h f v"},
	{"HSET h f v g w", "h", "HSET h f x"},
	{"HSET h f v g w", "h", "HMSET h f v"},
	{"HSET h f v g w", "h", "HSETNX h f x"},
	{"HSET h f v g w", "h", "HSETNX h n x"},
	{"HSET h f v g w", "h", "HDEL h n"},
	{"HSET h f v g w", "h", "HDEL h f n"},
	{"HSET h f v", "h", "HDEL h f"},
	{"HSET h f v g w", "m", "HDEL m f"},
	{"HSET h f 1 g w", "h", "HINCRBY h f 0"},
	{"HSET h f 1 g w", "h", "HINCRBYFLOAT h f 0"},
	{"HSET h f 1 g w", "h", "HINCRBY h g 1"},

	// lists
	{"RPUSH l a b c", "l", "LPUSH l x"},
	{"RPUSH l a b c", "m", "LPUSHX m x"},
	{"RPUSH l a b c", "l", "RPUSHX l x"},
	{"RPUSH l a b c", "m", "LPOP m"},
	{"RPUSH l a b c", "l", "LPOP l 0"},
	{"RPUSH l a b c", "l", "RPOP l"},
	{"RPUSH l a b c", "l", "RPOP l 5"},
	{"RPUSH l a b c", "l", "LREM l 0 x"},
	{"RPUSH l a b c", "l", "LREM l 0 b"},
	{"RPUSH l a b c", "l", "LTRIM l 0 -1"},
	{"RPUSH l a b c", "l", "LTRIM l 1 -1"},
	{"RPUSH l a b c", "m", "LTRIM m 1 -1"},
	{"RPUSH l a b c", "l", "LTRIM l 5 10"},
	{"RPUSH l a b c", "l", "LSET l 0 a"},
	{"RPUSH l a b c", "l", "LSET l 9 a"},
	{"RPUSH l a b c", "l", "LINSERT l BEFORE x y"},
	{"RPUSH l a b c", "l", "LINSERT l BEFORE b y"},
	{"RPUSH l a b c", "m d", "LMOVE m d LEFT RIGHT"},
	{"RPUSH l a b c", "l d", "LMOVE l d LEFT RIGHT"},
	{"RPUSH l a b c", "l", "LMOVE l l LEFT RIGHT"},
	{"RPUSH l a", "l", "LMOVE l l LEFT RIGHT"},
	{"RPUSH l a b c", "l d", "RPOPLPUSH l d"},
	{"RPUSH l a b c", "m d", "RPOPLPUSH m d"},
	{"RPUSH l a b c", "m l", "LMPOP 2 m l LEFT"},
	{"RPUSH l a b c", "m n", "LMPOP 2 m n LEFT"},
	{"RPUSH l a b c", "l", "BLPOP l 1"},

	// sets
	{"SADD t a b c", "t", "SADD t a"},
	{"SADD t a b c", "t", "SADD t x"},
	{"SADD t 1 2 3", "t", "SADD t 1 2"},
	{"SADD t a b c", "t", "SREM t x"},
	{"SADD t a b c", "t", "SREM t a x"},
	{"SADD t a", "t", "SREM t a"},
	{"SADD t a b c;SADD u x", "t u", "SMOVE t u n"},
	{"SADD t a b c;SADD u x", "t u", "SMOVE t u a"},
	{"SADD t a b c;SADD u a", "t u", "SMOVE t u a"},
	{"SADD t a b c", "t", "SMOVE t t a"},
	{"SADD t a b c", "m u", "SMOVE m u a"},
	{"SADD t a b c", "m", "SPOP m"},
	{"SADD t a b c", "t", "SPOP t 0"},
	{"SADD t a b c;SADD u x", "t u d", "SINTERSTORE d t u"},
	{"SADD t a b c;SADD u x;SET d v", "t u d", "SINTERSTORE d t u"},
	{"SADD t a b c;SADD u x", "t u d", "SUNIONSTORE d t u"},
	{"SADD t a b c", "t d", "SDIFFSTORE d t t"},
	{"SADD t a b c", "t d", "SDIFFSTORE d m"},
	{"SADD t a b c", "t", "SDIFFSTORE t t"},
	{"SADD t a b c", "t", "SUNIONSTORE t t"},

	// sorted sets and geo
	{"ZADD z 1 a 2 b", "z", "ZADD z 1 a"},
	{"ZADD z 1 a 2 b", "z", "ZADD z 3 a"},
	{"ZADD z 1 a 2 b", "z", "ZADD z NX 5 a"},
	{"ZADD z 1 a 2 b", "z", "ZADD z XX 5 c"},
	{"ZADD z 1 a 2 b", "z", "ZADD z GT 0 a"},
	{"ZADD z 1 a 2 b", "z", "ZADD z LT 0 a"},
	{"ZADD z 1 a 2 b", "z", "ZADD z INCR 0 a"},
	{"ZADD z 1 a 2 b", "z", "ZINCRBY z 0 a"},
	{"ZADD z 1 a 2 b", "z", "ZINCRBY z 1 a"},
	{"ZADD z 1 a 2 b", "z", "ZREM z x"},
	{"ZADD z 1 a 2 b", "z", "ZREM z a"},
	{"ZADD z 1 a 2 b", "z", "ZREMRANGEBYSCORE z 5 6"},
	{"ZADD z 1 a 2 b", "z", "ZREMRANGEBYSCORE z 1 1"},
	{"ZADD z 1 a 2 b", "z", "ZREMRANGEBYRANK z 5 6"},
	{"ZADD z 1 a 2 b", "z", "ZREMRANGEBYRANK z 0 0"},
	{"ZADD z 0 a 0 b", "z", "ZREMRANGEBYLEX z [x +"},
	{"ZADD z 0 a 0 b", "z", "ZREMRANGEBYLEX z - [a"},
	{"ZADD z 1 a 2 b", "m", "ZPOPMIN m"},
	{"ZADD z 1 a 2 b", "z", "ZPOPMIN z 0"},
	{"ZADD z 1 a 2 b", "z", "ZPOPMAX z"},
	{"ZADD z 1 a 2 b", "z", "BZPOPMIN z 1"},
	{"ZADD z 1 a 2 b", "m z", "ZMPOP 2 m z MIN"},
	{"ZADD z 1 a 2 b", "m n", "ZMPOP 2 m n MIN"},
	{"ZADD z 1 a 2 b", "z d", "ZUNIONSTORE d 1 m"},
	{"ZADD z 1 a 2 b;SET d v", "z d", "ZUNIONSTORE d 1 m"},
	{"ZADD z 1 a 2 b", "z d", "ZUNIONSTORE d 1 z"},
	{"ZADD z 1 a 2 b", "z d", "ZINTERSTORE d 2 z m"},
	{"ZADD z 1 a 2 b", "z d", "ZDIFFSTORE d 2 z z"},
	{"ZADD z 1 a 2 b", "z d", "ZRANGESTORE d z 5 6"},
	{"ZADD z 1 a 2 b;SET d v", "z d", "ZRANGESTORE d z 5 6"},
	{"ZADD z 1 a 2 b", "z d", "ZRANGESTORE d z 0 0"},
	{"GEOADD g 13.361389 38.115556 p", "g", "GEOADD g 13.361389 38.115556 p"},
	{"GEOADD g 13.361389 38.115556 p", "g", "GEOADD g NX 15 37 p"},
	{"GEOADD g 13.361389 38.115556 p", "g", "GEOADD g 15 37 p"},
	{"GEOADD g 13.361389 38.115556 p", "g d", "GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 km"},
	{"GEOADD g 13.361389 38.115556 p;SET d v", "g d", "GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 km"},
	{"GEOADD g 13.361389 38.115556 p", "g d", "GEOSEARCHSTORE d g FROMLONLAT 13.36 38.11 BYRADIUS 100 km"},
	{"GEOADD g 13.361389 38.115556 p", "g d", "GEORADIUS g 0 0 1 km STORE d"},

	// streams
	{"XADD x 1-1 f v", "x", "XADD x 2-1 f v"},
	{"XADD x 1-1 f v", "m", "XADD m NOMKSTREAM * f v"},
	{"XADD x 1-1 f v", "x", "XADD x 1-1 f v"},
	{"XADD x 1-1 f v", "x", "XDEL x 5-5"},
	{"XADD x 1-1 f v", "x", "XDEL x 1-1"},
	{"XADD x 1-1 f v", "x", "XTRIM x MAXLEN 5"},
	{"XADD x 1-1 f v;XADD x 2-1 f v", "x", "XTRIM x MAXLEN 1"},
	{"XADD x 1-1 f v", "x", "XSETID x 5-5"},
	{"XADD x 1-1 f v", "x", "XGROUP CREATE x g 0"},
	{"XADD x 1-1 f v", "m", "XGROUP CREATE m g 0 MKSTREAM"},
	{"XADD x 1-1 f v;XGROUP CREATE x g 0", "x", "XGROUP SETID x g $"},
	{"XADD x 1-1 f v;XGROUP CREATE x g 0", "x", "XGROUP CREATECONSUMER x g c"},
	{"XADD x 1-1 f v;XGROUP CREATE x g 0", "x", "XGROUP DESTROY x g"},
	{"XADD x 1-1 f v;XGROUP CREATE x g 0", "x", "XREADGROUP GROUP g c STREAMS x >"},
	{"XADD x 1-1 f v;XGROUP CREATE x g 0;XREADGROUP GROUP g c STREAMS x >", "x", "XGROUP DELCONSUMER x g c"},
	{"XADD x 1-1 f v;XGROUP CREATE x g 0;XREADGROUP GROUP g c STREAMS x >", "x", "XACK x g 1-1"},
	{"XADD x 1-1 f v;XGROUP CREATE x g 0;XREADGROUP GROUP g c STREAMS x >", "x", "XCLAIM x g d 0 1-1"},
	{"XADD x 1-1 f v;XGROUP CREATE x g 0;XREADGROUP GROUP g c STREAMS x >", "x", "XAUTOCLAIM x g d 0 0"},

	// RESTORE
	{"SET s v", "s", "RESTORE s 0 $DUMP REPLACE"},
	{"SET s v", "s", "RESTORE s 0 $DUMP"},
	{"SET s v", "m", "RESTORE m 0 $DUMP"},
	{"SET s v", "s", "RESTORE s 0 bad REPLACE"},
}

// TestDiffWatchNoopWrites: a connection WATCHes keys, another runs one
// write, and the watcher's MULTI/EXEC must abort (a null reply) exactly
// when it does on redis-server 7.0.15: only a write that changed a
// watched key signals it (Redis's signalModifiedKey), plus the writes
// Redis signals regardless. Each case runs with default encoding
// thresholds and with thresholds of 1, so both the compact encodings
// (rewritten whole) and the big ones (edited in place) are covered.
func TestDiffWatchNoopWrites(t *testing.T) {
	d := newDiffer(t, 0)
	tcW, rdW := dial(t, d.tc.c.RemoteAddr().String()), dial(t, d.rd.c.RemoteAddr().String())
	lowered := [][]string{
		{"CONFIG", "SET", "hash-max-listpack-entries", "1", "set-max-intset-entries", "1"},
		{"CONFIG", "SET", "zset-max-listpack-entries", "1", "list-max-listpack-size", "1"},
	}
	defaults := [][]string{
		{"CONFIG", "SET", "hash-max-listpack-entries", "128", "set-max-intset-entries", "512"},
		{"CONFIG", "SET", "zset-max-listpack-entries", "128", "list-max-listpack-size", "-2"},
	}
	// $DUMP in a case is a payload redis-server dumped (the string "w").
	d.rd.do("SET", "dumped", "w")
	payload, _ := norm(d.rd.do("DUMP", "dumped")).(string)
	if payload == "" {
		t.Fatal("DUMP on redis-server answered nothing")
	}
	args := func(cmd string) []string {
		a := watchArgs(cmd)
		for i := range a {
			if a[i] == "$DUMP" {
				a[i] = payload
			}
		}
		return a
	}
	aborted := 0
	for _, big := range []bool{false, true} {
		conf := defaults
		if big {
			conf = lowered
		}
		for _, c := range conf {
			d.both(c...)
		}
		if big {
			d.tcachedOnly("CONFIG", "SET", "set-max-listpack-entries", "1")
		} else {
			d.tcachedOnly("CONFIG", "SET", "set-max-listpack-entries", "128")
		}
		for _, c := range watchDiffCases {
			d.history = d.history[:0]
			d.both("FLUSHALL")
			d.both("SELECT", "1")
			d.both("FLUSHDB")
			d.both("SELECT", "0")
			for _, cmd := range strings.Split(c.setup, ";") {
				d.run(args(cmd)...)
			}
			watch := append([]string{"WATCH"}, strings.Fields(c.watch)...)
			if a, b := tcW.do(watch...), rdW.do(watch...); a != ok || b != ok {
				t.Fatalf("%v: tcached %v, redis %v", watch, a, b)
			}
			d.run(args(c.write)...)
			exec := func(r *rconn) any {
				if got := r.do("MULTI"); got != ok {
					t.Fatalf("MULTI: %v", got)
				}
				r.do("PING")
				return norm(r.do("EXEC"))
			}
			tcExec, rdExec := exec(tcW), exec(rdW)
			if !reflect.DeepEqual(tcExec, rdExec) {
				t.Errorf("big=%v setup %q, WATCH %s, %q: EXEC tcached %#v, redis %#v", big, c.setup, c.watch, c.write, tcExec, rdExec)
			}
			if rdExec == (nilArray{}) {
				aborted++
			}
		}
	}
	// The cases must exercise both outcomes, or the test proves nothing.
	if n := 2 * len(watchDiffCases); aborted < n/4 || aborted > 3*n/4 {
		t.Errorf("redis aborted %d of %d EXECs: the cases no longer test both outcomes", aborted, n)
	}
}

// watchArgs splits a case's command on spaces; "" is an empty argument.
func watchArgs(cmd string) []string {
	var out []string
	for _, f := range strings.Fields(cmd) {
		if f == `""` {
			f = ""
		}
		out = append(out, f)
	}
	return out
}

// TestDirtyCountsChanges: INFO's rdb_changes_since_last_save counts the
// keys writes changed, as Redis's server.dirty does for these (the
// bitops unit's "SETBIT/BITFIELD only increase dirty when the value
// changed"): a write that changed nothing counts 0.
func TestDirtyCountsChanges(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	dirty := func() int64 {
		t.Helper()
		info, _ := a.do("INFO", "persistence").([]byte)
		for _, l := range strings.Split(string(info), "\r\n") {
			if v, ok := strings.CutPrefix(l, "rdb_changes_since_last_save:"); ok {
				var n int64
				for _, ch := range v {
					n = n*10 + int64(ch-'0')
				}
				return n
			}
		}
		t.Fatalf("no rdb_changes_since_last_save in %q", info)
		return 0
	}
	for _, step := range []struct {
		cmds [][]string
		add  int64
	}{
		{[][]string{{"SETBIT", "foo", "0", "0"}, {"BITFIELD", "foo2", "SET", "i5", "0", "0"}}, 2},
		{[][]string{{"SETBIT", "foo", "0", "0"}, {"BITFIELD", "foo2", "SET", "i5", "0", "0"}}, 0},
		{[][]string{{"SETBIT", "foo", "0", "1"}, {"SETBIT", "foo", "0", "1"}, {"SETBIT", "foo", "0", "0"}, {"SETBIT", "foo", "0", "0"},
			{"BITFIELD", "foo2", "SET", "i5", "0", "1"}, {"BITFIELD", "foo2", "SET", "i5", "0", "1"},
			{"BITFIELD", "foo2", "SET", "i5", "0", "0"}, {"BITFIELD", "foo2", "SET", "i5", "0", "0"}}, 4},
		{[][]string{{"DEL", "missing"}, {"HDEL", "foo", "x"}, {"SET", "foo", "x", "NX"}}, 0},
		{[][]string{{"MSET", "a", "1", "b", "2"}, {"SET", "a", "1"}}, 3},
		{[][]string{{"FLUSHDB"}}, 1},
	} {
		before := dirty()
		for _, c := range step.cmds {
			a.do(c...)
		}
		if got := dirty() - before; got != step.add {
			t.Errorf("%v: dirty +%d, want +%d", step.cmds, got, step.add)
		}
	}
}
