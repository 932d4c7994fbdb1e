package server

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// Differential tests of the stream commands against redis-server 7.0.15
// (RESP2 and RESP3). Ids are explicit so both servers hold the same
// entries; what depends on the clock (delivery and seen times, idle
// times) and XINFO's radix-tree-nodes (a count of Redis's rax nodes, which
// tcached has no counterpart for; README "Differences") are normalised.

// streamNorm parses a raw reply and blanks the time-dependent fields.
func streamNorm(args []string, raw string) string {
	v, err := readReply(bufioReader([]byte(raw)))
	if err != nil {
		return raw
	}
	return streamNormReply(args, v)
}

// streamNormReply is streamNorm of a parsed reply.
func streamNormReply(args []string, v any) string {
	v = norm(v)
	cmd := strings.ToUpper(args[0])
	sub := ""
	if len(args) > 1 {
		sub = strings.ToUpper(args[1])
	}
	blankAfter := map[string]bool{"radix-tree-nodes": true, "seen-time": true, "idle": true}
	var walk func(x any, depth int, inPending bool) any
	walk = func(x any, depth int, inPending bool) any {
		switch a := x.(type) {
		case []any:
			out := make([]any, len(a))
			for i := range a {
				out[i] = walk(a[i], depth+1, inPending)
				if i > 0 {
					if k, ok := a[i-1].(string); ok && blankAfter[k] {
						out[i] = "T"
					}
					if k, ok := a[i-1].(string); ok && k == "pending" {
						out[i] = walk(a[i], depth+1, true)
					}
				}
			}
			// XINFO STREAM FULL pending entries: [id, consumer, time, n]
			// or [id, time, n].
			if inPending && cmd == "XINFO" {
				if len(a) == 4 {
					if _, ok := a[2].(int64); ok {
						out[2] = "T"
					}
				} else if len(a) == 3 {
					if _, ok := a[1].(int64); ok {
						out[1] = "T"
					}
				}
			}
			return out
		case respMap:
			return respMap(walk([]any(a), depth, inPending).([]any))
		}
		return x
	}
	v = walk(v, 0, false)
	if cmd == "XPENDING" && len(args) > 3 {
		if a, ok := v.([]any); ok {
			for _, e := range a {
				if row, ok := e.([]any); ok && len(row) == 4 {
					row[2] = "T"
				}
			}
		}
	}
	_ = sub
	return showReply(v)
}

// showReply prints a reply with its RESP types (a status, an error and a
// bulk string differ; so do a map and an array).
func showReply(v any) string {
	var b strings.Builder
	var show func(x any)
	show = func(x any) {
		switch a := x.(type) {
		case []any:
			b.WriteString("[")
			for i, e := range a {
				if i > 0 {
					b.WriteString(" ")
				}
				show(e)
			}
			b.WriteString("]")
		case respMap:
			b.WriteString("%")
			show([]any(a))
		case respSet:
			b.WriteString("~")
			show([]any(a))
		case status:
			b.WriteString("+" + string(a))
		case respErr:
			b.WriteString("-" + string(a))
		case string:
			b.WriteString(fmt.Sprintf("%q", a))
		default:
			b.WriteString(fmt.Sprintf("%T(%v)", a, a))
		}
	}
	show(v)
	return b.String()
}

func streamDiffCases() [][]string {
	return [][]string{
		// XADD: ids, options, errors.
		{"XADD", "s", "1-1", "a", "1"}, {"XADD", "s", "1-1", "a", "1"}, {"XADD", "s", "1-0", "a", "1"},
		{"XADD", "s", "1-2", "a", "1", "b", "2"}, {"XADD", "s", "2", "f", "v"}, {"XADD", "s", "2-*", "f", "v"},
		{"XADD", "s", "3-*", "f", "v"}, {"XADD", "s", "0-0", "f", "v"}, {"XADD", "s", "0-*", "f", "v"},
		{"XADD", "s", "-", "f", "v"}, {"XADD", "s", "+", "f", "v"}, {"XADD", "s", "x", "f", "v"},
		{"XADD", "s", "4-1", "f"}, {"XADD", "s", "4-1"}, {"XADD", "s", "4-1", "f", "v", "g"},
		{"XADD", "s", "5-x", "f", "v"}, {"XADD", "s", "18446744073709551616-0", "f", "v"},
		{"XADD", "s", "-1-0", "f", "v"}, {"XADD", "s", "007-1", "f", "v"}, {"XADD", "s", "+8-0", "f", "v"},
		{"XADD", "s", "9-1", "", ""}, {"XADD", "s", "MAXLEN", "5", "10-1", "f", "v"},
		{"XADD", "s", "MAXLEN", "=", "4", "10-2", "f", "v"}, {"XADD", "s", "MAXLEN", "~", "2", "10-3", "f", "v"},
		{"XADD", "s", "MAXLEN", "-1", "10-4", "f", "v"}, {"XADD", "s", "MAXLEN", "x", "10-4", "f", "v"},
		{"XADD", "s", "MAXLEN", "1", "MINID", "1", "10-4", "f", "v"}, {"XADD", "s", "LIMIT", "10", "10-4", "f", "v"},
		{"XADD", "s", "MAXLEN", "3", "LIMIT", "10", "10-4", "f", "v"}, {"XADD", "s", "MAXLEN", "~", "3", "LIMIT", "-1", "10-4", "f", "v"},
		{"XADD", "s", "MAXLEN", "~", "3", "LIMIT", "x", "10-4", "f", "v"}, {"XADD", "s", "MINID", "x", "10-4", "f", "v"},
		{"XADD", "s", "MINID", "=", "10-2", "10-5", "f", "v"}, {"XADD", "s", "MINID", "-", "10-6", "f", "v"},
		{"XADD", "s", "MAXLEN"}, {"XADD", "s", "MAXLEN", "5"}, {"XADD", "s", "maxlen", "100", "nomkstream", "11-0", "f", "v"},
		{"XADD", "nokey", "NOMKSTREAM", "1-1", "f", "v"}, {"EXISTS", "nokey"}, {"XADD", "nokey", "NOMKSTREAM", "0-0", "f", "v"},
		{"XADD", "s"}, {"XADD", "s", "12-0", "f"},
		{"XLEN", "s"}, {"XLEN", "nokey"}, {"XRANGE", "s", "-", "+"},
		// XRANGE / XREVRANGE.
		{"XRANGE", "s", "-", "+", "COUNT", "2"}, {"XRANGE", "s", "-", "+", "COUNT", "0"}, {"XRANGE", "s", "-", "+", "COUNT", "-1"},
		{"XRANGE", "s", "10", "10"}, {"XRANGE", "s", "(10-2", "+"}, {"XRANGE", "s", "-", "(10-5"}, {"XRANGE", "s", "(-", "+"},
		{"XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"}, {"XRANGE", "s", "-", "(0-0"},
		{"XRANGE", "s", "x", "+"}, {"XRANGE", "s", "-", "y"}, {"XRANGE", "s", "-", "+", "COUNT"}, {"XRANGE", "s", "-", "+", "LIMIT", "1"},
		{"XRANGE", "s", "-", "+", "COUNT", "x"}, {"XRANGE", "s", "+", "-"}, {"XRANGE", "nokey", "-", "+"}, {"XRANGE", "nokey", "x", "+"},
		{"XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "3"}, {"XRANGE", "s", "(", "+"},
		{"XREVRANGE", "s", "+", "-"}, {"XREVRANGE", "s", "+", "-", "COUNT", "1"}, {"XREVRANGE", "s", "(10-5", "-"},
		{"XREVRANGE", "s", "10-3", "(10-1"}, {"XREVRANGE", "s", "-", "+"}, {"XREVRANGE", "nokey", "+", "-"},
		// XDEL, XTRIM, XSETID.
		{"XADD", "t", "1-1", "a", "1"}, {"XADD", "t", "2-1", "a", "2"}, {"XADD", "t", "3-1", "a", "3"}, {"XADD", "t", "4-1", "a", "4"},
		{"XDEL", "t", "2-1", "2-1", "9-9"}, {"XDEL", "t", "x"}, {"XDEL", "nokey", "x"}, {"XDEL", "t", "1"}, {"XRANGE", "t", "-", "+"},
		{"XINFO", "STREAM", "t"}, {"XDEL", "t", "1-1", "3-1", "4-1"}, {"XLEN", "t"}, {"XINFO", "STREAM", "t"}, {"EXISTS", "t"},
		{"XTRIM", "s", "MAXLEN", "3"}, {"XTRIM", "s", "MAXLEN", "~", "1"}, {"XTRIM", "s"}, {"XTRIM", "s", "LIMIT", "1"},
		{"XTRIM", "s", "MINID", "10-4"}, {"XTRIM", "s", "MINID", "~", "10-4", "LIMIT", "0"}, {"XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"},
		{"XTRIM", "s", "FOO", "1"}, {"XTRIM", "nokey", "MAXLEN", "1"}, {"XTRIM", "nokey", "MAXLEN", "x"}, {"XRANGE", "s", "-", "+"},
		{"XSETID", "s", "1-0"}, {"XSETID", "s", "100-0"}, {"XSETID", "s", "100-0", "ENTRIESADDED", "1"},
		{"XSETID", "s", "100-0", "ENTRIESADDED", "1000", "MAXDELETEDID", "50-0"}, {"XSETID", "s", "100-0", "MAXDELETEDID", "200-0"},
		{"XSETID", "s", "100-0", "ENTRIESADDED", "-1"}, {"XSETID", "s", "x"}, {"XSETID", "s", "+"}, {"XSETID", "nokey", "1-0"},
		{"XSETID", "s", "100-0", "FOO"}, {"XINFO", "STREAM", "s"}, {"XADD", "s", "100-0", "f", "v"}, {"XADD", "s", "100-1", "f", "v"},
		// Wrong types.
		{"SET", "str", "x"}, {"XADD", "str", "1-1", "f", "v"}, {"XRANGE", "str", "-", "+"}, {"XLEN", "str"}, {"XDEL", "str", "1-1"},
		{"XTRIM", "str", "MAXLEN", "1"}, {"XREAD", "STREAMS", "str", "0"}, {"XGROUP", "CREATE", "str", "g", "0"},
		{"XINFO", "STREAM", "str"}, {"XACK", "str", "g", "1-1"}, {"XPENDING", "str", "g"}, {"XSETID", "str", "1-1"},
		{"XCLAIM", "str", "g", "c", "0", "1-1"}, {"XAUTOCLAIM", "str", "g", "c", "0", "0"}, {"TYPE", "s"}, {"OBJECT", "ENCODING", "s"},
		{"SORT", "s"}, {"GET", "s"}, {"SET", "s", "v", "GET"}, {"HGET", "s", "f"}, {"LRANGE", "s", "0", "-1"}, {"LPUSH", "s", "x"},
		{"SCARD", "s"}, {"SADD", "s", "m"}, {"ZCARD", "s"}, {"PFCOUNT", "s"}, {"GETBIT", "s", "1"}, {"APPEND", "s", "x"}, {"STRLEN", "s"},
		// XREAD.
		{"XREAD", "STREAMS", "s", "0"}, {"XREAD", "COUNT", "1", "STREAMS", "s", "0"}, {"XREAD", "STREAMS", "s", "nokey", "0", "0"},
		{"XREAD", "STREAMS", "s", "$"}, {"XREAD", "STREAMS", "s", "100-0"}, {"XREAD", "STREAMS", "s"}, {"XREAD", "STREAMS", "s", "x"},
		{"XREAD", "STREAMS", "s", ">"}, {"XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"}, {"XREAD", "NOACK", "STREAMS", "s", "0"},
		{"XREAD", "COUNT", "x", "STREAMS", "s", "0"}, {"XREAD", "BLOCK", "x", "STREAMS", "s", "0"}, {"XREAD", "BLOCK", "-1", "STREAMS", "s", "0"},
		{"XREAD", "BLOCK", "10", "STREAMS", "s", "$"}, {"XREAD", "BLOCK", "10", "STREAMS", "s", "0"}, {"XREAD", "FOO", "STREAMS", "s", "0"},
		{"XREAD", "COUNT", "1", "s", "0"}, {"XREAD", "STREAMS", "nokey", "$"}, {"XREAD", "COUNT", "-5", "STREAMS", "s", "0"},
		// Consumer groups.
		{"XGROUP", "CREATE", "s", "g", "$"}, {"XGROUP", "CREATE", "s", "g", "$"}, {"XGROUP", "CREATE", "s", "g0", "0"},
		{"XGROUP", "CREATE", "s", "gx", "x"}, {"XGROUP", "CREATE", "nokey", "g", "0"}, {"XGROUP", "CREATE", "mk", "g", "$", "MKSTREAM"},
		{"XGROUP", "CREATE", "mk2", "g", "x", "MKSTREAM"}, {"EXISTS", "mk2"}, {"XGROUP", "CREATE", "s", "g1", "0", "ENTRIESREAD", "3"},
		{"XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "-2"}, {"XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "x"},
		{"XGROUP", "CREATE", "s", "g2", "0", "FOO"}, {"XGROUP", "CREATE", "s", "g2"}, {"XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD"},
		{"XGROUP", "CREATE", "s", "g2", "-"}, {"XGROUP", "CREATE", "s", "g2", "0", "MKSTREAM", "MKSTREAM", "MKSTREAM", "MKSTREAM"},
		{"XGROUP", "SETID", "s", "g2", "0"}, {"XGROUP", "SETID", "s", "g1", "-"}, {"XGROUP", "SETID", "s", "g1", "$", "ENTRIESREAD", "5"},
		{"XGROUP", "SETID", "s", "g1", "0", "MKSTREAM"}, {"XGROUP", "SETID", "nokey", "g1", "0"}, {"XGROUP", "SETID", "s", "g1", "x"},
		{"XGROUP", "CREATECONSUMER", "s", "g0", "alice"}, {"XGROUP", "CREATECONSUMER", "s", "g0", "alice"},
		{"XGROUP", "CREATECONSUMER", "s", "nog", "alice"}, {"XGROUP", "DELCONSUMER", "s", "g0", "nobody"},
		{"XGROUP", "DESTROY", "s", "nog"}, {"XGROUP", "DESTROY", "nokey", "g"}, {"XGROUP", "FOO", "s", "g"}, {"XGROUP", "HELP"},
		{"XGROUP", "DESTROY", "s"}, {"XGROUP"}, {"XINFO", "GROUPS", "s"}, {"XINFO", "CONSUMERS", "s", "g0"},
		{"XREADGROUP", "GROUP", "g0", "alice", "COUNT", "2", "STREAMS", "s", ">"},
		{"XREADGROUP", "GROUP", "g0", "bob", "STREAMS", "s", ">"}, {"XREADGROUP", "GROUP", "g0", "bob", "STREAMS", "s", ">"},
		{"XREADGROUP", "GROUP", "g0", "alice", "STREAMS", "s", "0"}, {"XREADGROUP", "GROUP", "g0", "alice", "COUNT", "1", "STREAMS", "s", "0"},
		{"XREADGROUP", "GROUP", "g0", "carol", "STREAMS", "s", "0"}, {"XREADGROUP", "GROUP", "g0", "alice", "STREAMS", "s", "$"},
		{"XREADGROUP", "GROUP", "nog", "alice", "STREAMS", "s", ">"}, {"XREADGROUP", "GROUP", "g0", "alice", "STREAMS", "nokey", ">"},
		{"XREADGROUP", "STREAMS", "s", ">"}, {"XREADGROUP", "GROUP", "g0", "alice", "STREAMS", "s", "x"},
		{"XREADGROUP", "GROUP", "g0", "alice", "NOACK", "STREAMS", "s", ">"}, {"XREADGROUP", "GROUP", "g0", "alice", "STREAMS", "s"},
		{"XREADGROUP", "GROUP", "g0", "alice", "BLOCK", "10", "STREAMS", "s", ">"},
		{"XINFO", "GROUPS", "s"}, {"XINFO", "CONSUMERS", "s", "g0"}, {"XINFO", "CONSUMERS", "s", "nog"}, {"XINFO", "STREAM", "s", "FULL"},
		{"XINFO", "STREAM", "s", "FULL", "COUNT", "1"}, {"XINFO", "STREAM", "s", "FULL", "COUNT", "0"}, {"XINFO", "STREAM", "s", "FOO"},
		{"XINFO", "STREAM", "s", "FULL", "FOO", "1"}, {"XINFO", "STREAM", "s", "FULL", "COUNT", "x"}, {"XINFO", "STREAM", "nokey"},
		{"XINFO", "HELP"}, {"XINFO", "FOO", "s"}, {"XINFO", "GROUPS"},
		{"XPENDING", "s", "g0"}, {"XPENDING", "s", "g0", "-", "+", "10"}, {"XPENDING", "s", "g0", "-", "+", "10", "alice"},
		{"XPENDING", "s", "g0", "-", "+", "10", "nobody"}, {"XPENDING", "s", "g0", "(10-5", "+", "1"}, {"XPENDING", "s", "g0", "IDLE", "0", "-", "+", "10"},
		{"XPENDING", "s", "g0", "IDLE", "100000", "-", "+", "10"}, {"XPENDING", "s", "g0", "IDLE", "x", "-", "+", "10"}, {"XPENDING", "s", "g0", "IDLE", "1", "-", "+"},
		{"XPENDING", "s", "g0", "-", "+"}, {"XPENDING", "s", "g0", "-", "+", "x"}, {"XPENDING", "s", "g0", "x", "+", "1"},
		{"XPENDING", "s", "nog"}, {"XPENDING", "nokey", "g"}, {"XPENDING", "s", "g1"}, {"XPENDING", "s", "g0", "-", "+", "-1"},
		{"XCLAIM", "s", "g0", "dave", "0", "10-1"}, {"XCLAIM", "s", "g0", "dave", "0", "10-1", "JUSTID"},
		{"XCLAIM", "s", "g0", "dave", "3600000", "10-2"}, {"XCLAIM", "s", "g0", "dave", "0", "10-2", "RETRYCOUNT", "7", "JUSTID"},
		{"XCLAIM", "s", "g0", "dave", "0", "11-0", "FORCE", "JUSTID"}, {"XCLAIM", "s", "g0", "dave", "0", "99-0", "FORCE"},
		{"XCLAIM", "s", "g0", "dave", "0", "10-3", "IDLE", "x"}, {"XCLAIM", "s", "g0", "dave", "0", "10-3", "TIME", "x"},
		{"XCLAIM", "s", "g0", "dave", "0", "10-3", "RETRYCOUNT", "x"}, {"XCLAIM", "s", "g0", "dave", "0", "10-3", "LASTID", "x"},
		{"XCLAIM", "s", "g0", "dave", "0", "10-3", "FOO"}, {"XCLAIM", "s", "g0", "dave", "x", "10-3"}, {"XCLAIM", "s", "nog", "dave", "x", "10-3"},
		{"XCLAIM", "nokey", "g0", "dave", "0", "10-3"}, {"XCLAIM", "s", "g0", "dave", "0", "10-3", "LASTID", "500-0", "JUSTID"},
		{"XCLAIM", "s", "g0", "dave", "0", "10-3", "IDLE", "5000", "JUSTID"}, {"XCLAIM", "s", "g0", "dave", "-5", "10-3", "TIME", "1", "JUSTID"},
		{"XPENDING", "s", "g0", "-", "+", "10"}, {"XINFO", "GROUPS", "s"},
		{"XAUTOCLAIM", "s", "g0", "erin", "0", "0"}, {"XAUTOCLAIM", "s", "g0", "erin", "0", "0", "COUNT", "1"},
		{"XAUTOCLAIM", "s", "g0", "erin", "0", "0", "COUNT", "1", "JUSTID"}, {"XAUTOCLAIM", "s", "g0", "erin", "0", "(10-1", "JUSTID"},
		{"XAUTOCLAIM", "s", "g0", "erin", "0", "0", "COUNT", "0"}, {"XAUTOCLAIM", "s", "g0", "erin", "0", "0", "COUNT", "x"},
		{"XAUTOCLAIM", "s", "g0", "erin", "x", "0"}, {"XAUTOCLAIM", "s", "g0", "erin", "0", "x"}, {"XAUTOCLAIM", "s", "g0", "erin", "0", "0", "FOO"},
		{"XAUTOCLAIM", "s", "nog", "erin", "0", "0"}, {"XAUTOCLAIM", "nokey", "g0", "erin", "0", "0"},
		{"XAUTOCLAIM", "s", "g0", "erin", "3600000", "0"}, {"XAUTOCLAIM", "s", "g0", "erin", "0", "(18446744073709551615-18446744073709551615"},
		{"XDEL", "s", "10-5"}, {"XAUTOCLAIM", "s", "g0", "erin", "0", "0", "JUSTID"}, {"XCLAIM", "s", "g0", "dave", "0", "10-5", "FORCE"},
		{"XACK", "s", "g0", "10-1", "10-1", "99-0"}, {"XACK", "s", "g0", "x"}, {"XACK", "s", "nog", "x"}, {"XACK", "nokey", "g", "x"},
		{"XPENDING", "s", "g0"}, {"XGROUP", "DELCONSUMER", "s", "g0", "erin"}, {"XPENDING", "s", "g0"},
		{"XINFO", "STREAM", "s", "FULL"}, {"XGROUP", "DESTROY", "s", "g0"}, {"XGROUP", "DESTROY", "s", "g0"}, {"XINFO", "GROUPS", "s"},
		// Lag and entries-read through deletes.
		{"XADD", "l", "1-0", "f", "v"}, {"XADD", "l", "2-0", "f", "v"}, {"XADD", "l", "3-0", "f", "v"}, {"XGROUP", "CREATE", "l", "g", "0"},
		{"XINFO", "GROUPS", "l"}, {"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "l", ">"}, {"XINFO", "GROUPS", "l"},
		{"XDEL", "l", "2-0"}, {"XINFO", "GROUPS", "l"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "l", ">"}, {"XINFO", "GROUPS", "l"},
		{"XGROUP", "SETID", "l", "g", "0"}, {"XINFO", "GROUPS", "l"}, {"XGROUP", "SETID", "l", "g", "1-0", "ENTRIESREAD", "1"},
		{"XINFO", "GROUPS", "l"}, {"XTRIM", "l", "MAXLEN", "0"}, {"XINFO", "GROUPS", "l"}, {"XINFO", "STREAM", "l"},
		// Node boundaries: approximate trimming removes whole nodes.
		{"CONFIG", "SET", "stream-node-max-entries", "3"},
		{"XADD", "n", "1-0", "f", "v"}, {"XADD", "n", "2-0", "f", "v"}, {"XADD", "n", "3-0", "f", "v"}, {"XADD", "n", "4-0", "f", "v"},
		{"XADD", "n", "5-0", "f", "v"}, {"XADD", "n", "6-0", "f", "v"}, {"XADD", "n", "7-0", "f", "v"}, {"XINFO", "STREAM", "n"},
		{"XTRIM", "n", "MAXLEN", "~", "5"}, {"XTRIM", "n", "MAXLEN", "~", "3"}, {"XLEN", "n"}, {"XADD", "n", "MAXLEN", "~", "1", "8-0", "f", "v"},
		{"XTRIM", "n", "MINID", "~", "7-0"}, {"XTRIM", "n", "MINID", "~", "9-0", "LIMIT", "1"}, {"XRANGE", "n", "-", "+"},
		{"XDEL", "n", "7-0"}, {"XTRIM", "n", "MINID", "8-0"}, {"XINFO", "STREAM", "n"},
		{"CONFIG", "SET", "stream-node-max-entries", "100"},
		// COPY, RENAME and expiry of streams.
		{"COPY", "s", "s2"}, {"XRANGE", "s2", "-", "+"}, {"XINFO", "STREAM", "s2", "FULL"}, {"RENAME", "s2", "s3"}, {"XLEN", "s3"},
		{"EXPIRE", "s3", "100"}, {"TTL", "s3"}, {"DEL", "s3"}, {"EXISTS", "s3"},
		{"XADD", "e", "1-1", "f", "v"}, {"XDEL", "e", "1-1"}, {"XLEN", "e"}, {"EXISTS", "e"}, {"XRANGE", "e", "-", "+"},
		{"XREAD", "STREAMS", "e", "0"}, {"XINFO", "STREAM", "e"},
	}
}

// TestDiffStream compares every stream command, valid and invalid, with
// Redis 7.0.15.
func TestDiffStream(t *testing.T) { runDiffCases(t, streamDiffCases(), streamNorm) }

// TestDiffStreamAutoID compares auto-generated ids by shape: the same
// replies once each "<ms>-<seq>" is replaced, and ids that grow.
func TestDiffStreamAutoID(t *testing.T) {
	idRe := regexp.MustCompile(`1[0-9]{12}-[0-9]+`)
	shape := func(args []string, raw string) string { return idRe.ReplaceAllString(streamNorm(args, raw), "ID") }
	runDiffCases(t, [][]string{
		{"XADD", "a", "*", "f", "v"}, {"XADD", "a", "*", "f", "v", "g", "w"}, {"XADD", "a", "MAXLEN", "1", "*", "f", "v"},
		{"XLEN", "a"}, {"XRANGE", "a", "-", "+"}, {"XADD", "a", "NOMKSTREAM", "*", "f", "v"}, {"XADD", "b", "NOMKSTREAM", "*", "f", "v"},
		{"XGROUP", "CREATE", "a", "g", "0"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", ">"},
		{"XINFO", "STREAM", "a"},
	}, shape)
}

// TestDiffStreamRandom runs random sequences of stream commands (explicit
// ids, small nodes so trimming crosses node boundaries, groups with
// reads, claims and acks) on both servers and compares every reply.
func TestDiffStreamRandom(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6} {
		r := rand.New(rand.NewPCG(seed, 99))
		var cases [][]string
		keys := []string{"s1", "s2"}
		next := map[string]int{}
		pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
		id := func(k string) string {
			if next[k] == 0 || r.IntN(8) == 0 {
				return fmt.Sprint(r.IntN(next[k]+3), "-", r.IntN(3))
			}
			return fmt.Sprint(r.IntN(next[k]+1), "-", r.IntN(3))
		}
		cases = append(cases, []string{"CONFIG", "SET", "stream-node-max-entries", fmt.Sprint(2 + seed)})
		for range 400 {
			k := keys[r.IntN(len(keys))]
			g := pick("g1", "g2")
			c := pick("c1", "c2", "c3")
			switch r.IntN(16) {
			case 0, 1, 2, 3:
				next[k] += 1 + r.IntN(2)
				args := []string{"XADD", k}
				switch r.IntN(6) {
				case 0:
					args = append(args, "MAXLEN", pick("=", "~"), fmt.Sprint(r.IntN(8)))
				case 1:
					args = append(args, "MINID", pick("=", "~"), fmt.Sprint(r.IntN(next[k]+1)))
				}
				args = append(args, fmt.Sprint(next[k], "-", pick("1", "*")), "f", fmt.Sprint(r.IntN(100)))
				cases = append(cases, args)
			case 4:
				cases = append(cases, []string{"XDEL", k, id(k), id(k)})
			case 5:
				cases = append(cases, []string{"XTRIM", k, pick("MAXLEN", "MINID"), pick("=", "~", "="), fmt.Sprint(r.IntN(next[k] + 2))})
			case 6:
				cases = append(cases, []string{"XRANGE", k, pick("-", id(k), "("+id(k)), pick("+", id(k)), "COUNT", fmt.Sprint(r.IntN(5))})
			case 7:
				cases = append(cases, []string{"XREVRANGE", k, pick("+", id(k)), pick("-", "("+id(k))})
			case 8:
				cases = append(cases, []string{"XGROUP", "CREATE", k, g, pick("0", "$", id(k)), "MKSTREAM"})
			case 9:
				cases = append(cases, []string{"XREADGROUP", "GROUP", g, c, "COUNT", fmt.Sprint(1 + r.IntN(3)), "STREAMS", k, pick(">", ">", "0", id(k))})
			case 10:
				cases = append(cases, []string{"XACK", k, g, id(k), id(k)})
			case 11:
				cases = append(cases, []string{"XCLAIM", k, g, c, "0", id(k), id(k), pick("JUSTID", "FORCE", "RETRYCOUNT", "LASTID"), pick("3", id(k), "JUSTID")})
			case 12:
				cases = append(cases, []string{"XAUTOCLAIM", k, g, c, "0", pick("0", id(k)), "COUNT", fmt.Sprint(1 + r.IntN(3))})
			case 13:
				cases = append(cases, []string{"XPENDING", k, g}, []string{"XPENDING", k, g, "-", "+", "10", pick("c1", "c2")})
			case 14:
				cases = append(cases, []string{"XINFO", "STREAM", k, "FULL"}, []string{"XINFO", "GROUPS", k})
			default:
				cases = append(cases, []string{pick("XLEN", "XINFO"), k}, []string{"XREAD", "COUNT", "2", "STREAMS", "s1", "s2", id("s1"), id("s2")},
					[]string{"XGROUP", pick("SETID", "DELCONSUMER", "CREATECONSUMER", "DESTROY"), k, g, pick(c, "0", "$")})
			}
		}
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runDiffCases(t, cases, streamNorm) })
	}
}

// TestDiffStreamNodes: node boundaries follow Redis's (entries counted,
// and a listpack's bytes for stream-node-max-bytes), so XINFO's
// radix-tree-keys and approximate trimming agree for every entry size,
// with the master entry's fields repeated or not, and for small
// stream-node-max-bytes.
func TestDiffStreamNodes(t *testing.T) {
	var cases [][]string
	for _, maxBytes := range []string{"4096", "300"} {
		cases = append(cases, []string{"CONFIG", "SET", "stream-node-max-bytes", maxBytes})
		for _, size := range []int{1, 10, 100, 300, 500, 1000, 2000, 5000} {
			k := fmt.Sprint("b", size, "-", maxBytes)
			for i := 1; i <= 40; i++ {
				cases = append(cases, []string{"XADD", k, fmt.Sprint(i), "field", strings.Repeat("v", size)})
			}
			cases = append(cases, []string{"XINFO", "STREAM", k}, []string{"XTRIM", k, "MAXLEN", "~", "10"}, []string{"XLEN", k})
			for i := 1; i <= 40; i++ {
				cases = append(cases, []string{"XADD", k, fmt.Sprint(i+100, "-", i*1000), "f1", fmt.Sprint(i * 7919), "f2", strings.Repeat("w", size/2)})
			}
			cases = append(cases, []string{"XINFO", "STREAM", k}, []string{"XDEL", k, "120-20000", "121-21000"},
				[]string{"XTRIM", k, "MINID", "~", "130"}, []string{"XLEN", k}, []string{"XINFO", "STREAM", k})
		}
	}
	cases = append(cases, []string{"CONFIG", "SET", "stream-node-max-bytes", "4096"})
	runDiffCases(t, cases, streamNorm)
}
