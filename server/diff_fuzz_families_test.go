package server

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Generators of the differential random tester (diff_fuzz_test.go) for
// the families that came after it: streams, geo, the sorted-set algebra,
// ranges and blocking pops, DUMP/RESTORE, the list and set additions, the
// slow log and latency monitor, COMMAND GETKEYS and the client-side
// caching queries. They live apart so that diff_fuzz_test.go merges
// cleanly; init adds their entries to its maps.

func init() {
	dfKeyPrefixes = append(dfKeyPrefixes, "x") // x streams
	for _, n := range []string{"bzpopmin", "bzpopmax", "bzmpop", "blmpop", "brpoplpush"} {
		dfBlocking[n] = true
	}
	dfNoReplace["zrandmember"] = true
	dfCompare["zrandmember"] = dfZRandMember
	for _, n := range []string{"xpending", "xinfo|stream", "xinfo|consumers", "xinfo|groups"} {
		dfCompare[n] = dfStreamTimes
	}
	dfRegressions = append(dfRegressions, dfFamilyRegressions...)
	dfCompare["dump"] = dfDumpPayload
	dfCompare["slowlog|len"] = dfShape
	dfCompare["slowlog|get"] = dfShape
	for n, why := range map[string]string{
		"client|tracking":         "puts the connection in tracking mode: invalidation pushes interleave with replies in RESP3 and go to a redirect client in RESP2 (tracking_test.go)",
		"client|reply":            "OFF and SKIP suppress replies, which the tester reads one per command",
		"monitor":                 "streams every command of the server (monitor_test.go)",
		"tenant|create":           "tcached's own operator command",
		"tenant|set":              "tcached's own operator command",
		"tenant|delete":           "tcached's own operator command",
		"tenant|user":             "tcached's own operator command",
		"tenant|monitor":          "tcached's own operator command",
		"latency|doctor":          "human-readable prose describing each server",
		"latency|help":            "help text lists the subcommands each server has",
		"slowlog|help":            "help text lists the subcommands each server has",
		"xinfo|help":              "help text lists the subcommands each server has",
		"xgroup|help":             "help text lists the subcommands each server has",
		"command|getkeysandflags": "the flags come from tcached's rows, coarser than Redis 7's key specs (cmd_command.go: every key of a write command RW access update, Redis's SET OW update, DEL RM delete, EVAL RW)",
		"xinfo":                   "a container",
		"xgroup":                  "a container",
	} {
		dfExcluded[n] = why
	}
	dfExcluded["slowlog"] = "a container"
	dfExcluded["latency"] = "a container"
}

// dfFamilyRegressions are the divergences the tester found in these
// families, fixed in tcached (appended to dfRegressions).
var dfFamilyRegressions = [][][]string{
	// ZREMRANGEBYLEX on a skiplist-encoded set whose scores differ walks
	// from the first member >= min while members are <= max, as Redis's
	// zslDeleteRangeByLex (a long member makes it a skiplist).
	// (Only with min "-": for another min Redis's skiplist descent over
	// such a set depends on its nodes' random levels.)
	{{"ZADD", "zlx", "0", "f", "3", "e", "2", strings.Repeat("L", 70) + "0"}, {"ZREMRANGEBYLEX", "zlx", "-", "[c"},
		{"ZREMRANGEBYLEX", "zlx", "-", "[f"}, {"ZRANGE", "zlx", "0", "-1", "WITHSCORES"}},
	// XREAD's and XREADGROUP's keys follow STREAMS (xreadGetKeys).
	{{"COMMAND", "GETKEYS", "XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"},
		{"COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "streams", "c", "NOACK", "STREAMS", "a", "0"},
		{"COMMAND", "GETKEYS", "XREAD", "BLOCK", "0", "STREAMS", "streams", "0"}, {"COMMAND", "GETKEYS", "XREAD", "FOO", "STREAMS", "a", "0"},
		{"COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "streams", "STREAMS", "a", "b", "0", "0"}, {"COMMAND", "GETKEYS", "XREAD", "STREAMS", "a", "b", "c", "d", "e"}},
	// A STORE form with a bad numkeys names no key, not even its
	// destination; a command whose keys are mandatory then gets an error.
	{{"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "a", "b", "WEIGHTS", "1", "2"}, {"COMMAND", "GETKEYS", "ZINTERSTORE", "d", "0", "a"},
		{"COMMAND", "GETKEYS", "ZDIFFSTORE", "d", "3", "a"}, {"COMMAND", "GETKEYS", "XREAD", "STREAMS", "a"}, {"COMMAND", "GETKEYS", "ZUNION", "x", "a"},
		{"COMMAND", "GETKEYS", "EVAL", "return 1", "0"}, {"COMMAND", "GETKEYS", "FCALL", "f", "0"}, {"COMMAND", "GETKEYS", "LMPOP", "0", "a", "LEFT"},
		{"COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"}, {"COMMAND", "GETKEYS", "BLMPOP", "0", "1", "a", "LEFT"}, {"COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b"},
		{"COMMAND", "GETKEYS", "SINTERCARD", "3", "a", "b"},
		{"COMMAND", "GETKEYS", "SORT", "a", "STORE"}, {"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b"}},
}

// dfDumps are DUMP payloads of Redis 7.0.15 (RDB 10): a string as int and
// raw, a list, an intset, a sorted set and a hash (tcached has no stream
// payload: README).
var dfDumps = []string{
	"\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\b\xb9",
	"\x00\x05hello\n\x00cr\xdfve4 \n",
	"\x12\x01\x02\x10\x10\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x81c\x02\xff\n\x00\xc8\x18\xb9\x0c\x953R\x9e",
	"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\n\x00\xa5\x02\\\xe2mnM\x1b",
	"\x11\x11\x11\x00\x00\x00\x04\x00\x81a\x02\x01\x01\x81b\x02\x02\x01\xff\n\x00\xba\a\xf2$\xa9\xd2\x8fU",
	"\x10\r\r\x00\x00\x00\x02\x00\x81f\x02\x81v\x02\xff\n\x00 \xf1=D#T\b\x9d",
}

// streamID is an explicit stream ID (never "*": Redis and tcached would
// take their own clocks), sometimes partial, special or invalid.
func (g *dfRand) streamID() string {
	switch g.n(10) {
	case 0:
		return g.pick("0", "0-0", "0-1", "18446744073709551615-18446744073709551615", "abc", "", "1-x", "-1", "1-18446744073709551616")
	case 1:
		return strconv.Itoa(1+g.n(9)) + "-*"
	}
	return strconv.Itoa(1+g.n(9)) + "-" + strconv.Itoa(g.n(3))
}

// rangeID is an XRANGE bound.
func (g *dfRand) rangeID() string {
	if g.p(0.3) {
		return g.pick("-", "+", "(3-1", "(-", "(+", "(0-0", "x")
	}
	return strconv.Itoa(g.n(10)) + g.pick("", "-0", "-1", "-2")
}

func (g *dfRand) group() string    { return g.pick("g1", "g1", "g2", "nogroup") }
func (g *dfRand) consumer() string { return g.pick("c1", "c1", "c2", "c3") }

func (g *dfRand) xtrimArgs() []string {
	return cat(ss(g.pick("MAXLEN", "MINID", "maxlen", "LEN")), g.opts(0.3, false, ss(g.pick("=", "~"))),
		ss(g.pick("0", "1", "2", "5", "-1", "x", "3-1", "5-0")), g.opts(0.2, false, ss("LIMIT", g.pick("0", "10", "-1"))))
}

var dfStreamGens = dfGens{
	"xadd": func(g *dfRand) []string {
		out := cat(ss(g.key("x")), g.opts(0.15, false, ss("NOMKSTREAM")))
		if g.p(0.15) {
			out = append(out, g.xtrimArgs()...)
		}
		return cat(out, ss(g.streamID()), g.pairs(g.field, g.val, 1, 2))
	},
	"xlen": func(g *dfRand) []string { return ss(g.key("x")) },
	"xrange": func(g *dfRand) []string {
		return cat(ss(g.key("x"), g.rangeID(), g.rangeID()), g.opts(0.3, false, ss("COUNT", g.count())))
	},
	"xrevrange": func(g *dfRand) []string {
		return cat(ss(g.key("x"), g.rangeID(), g.rangeID()), g.opts(0.3, false, ss("COUNT", g.count())))
	},
	"xdel": func(g *dfRand) []string {
		return cat(ss(g.key("x")), g.elemsOf(1, 3, "1-0", "2-1", "3-0", "5-2", "0-0", "x"))
	},
	"xtrim": func(g *dfRand) []string { return cat(ss(g.key("x")), g.xtrimArgs()) },
	"xsetid": func(g *dfRand) []string {
		return cat(ss(g.key("x"), g.streamID()), g.opts(0.3, true, ss("ENTRIESADDED", g.pick("0", "5", "100", "-1")), ss("MAXDELETEDID", g.streamID())))
	},
	// No BLOCK: XREAD and XREADGROUP stay non-blocking (BLOCK is tested
	// in stream_test.go).
	"xread": func(g *dfRand) []string {
		ks := g.keys("x", 1, 2)
		out := cat(g.opts(0.4, false, ss("COUNT", g.count())), ss("STREAMS"), ks)
		for range ks {
			out = append(out, g.pick("0", "0-0", "$", "3-0", "5", "x"))
		}
		return out
	},
	"xreadgroup": func(g *dfRand) []string {
		ks := g.keys("x", 1, 2)
		out := cat(ss("GROUP", g.group(), g.consumer()), g.opts(0.4, true, ss("COUNT", g.count()), ss("NOACK")), ss("STREAMS"), ks)
		for range ks {
			out = append(out, g.pick(">", ">", ">", "0", "3-0", "$"))
		}
		return out
	},
	"xack": func(g *dfRand) []string {
		return cat(ss(g.key("x"), g.group()), g.elemsOf(1, 3, "1-0", "2-1", "3-0", "5-2", "x"))
	},
	"xpending": func(g *dfRand) []string {
		out := ss(g.key("x"), g.group())
		if g.p(0.6) {
			out = cat(out, g.opts(0.3, false, ss("IDLE", g.pick("0", "100000000", "x"))), ss(g.rangeID(), g.rangeID(), g.count()), g.opts(0.4, false, ss(g.consumer())))
		}
		return out
	},
	"xclaim": func(g *dfRand) []string {
		out := cat(ss(g.key("x"), g.group(), g.consumer(), g.pick("0", "0", "100000000", "x")), g.elemsOf(1, 3, "1-0", "2-1", "3-0", "5-2"))
		return cat(out, g.opts(0.3, true, ss("JUSTID"), ss("FORCE"), ss("RETRYCOUNT", g.pick("0", "5", "x")), ss("LASTID", g.streamID())))
	},
	"xautoclaim": func(g *dfRand) []string {
		return cat(ss(g.key("x"), g.group(), g.consumer(), g.pick("0", "0", "100000000", "x"), g.rangeID()),
			g.opts(0.4, true, ss("COUNT", g.pick("1", "2", "100", "0", "-1")), ss("JUSTID")))
	},
	"xgroup|create": func(g *dfRand) []string {
		return cat(ss(g.key("x"), g.group(), g.pick("0", "$", "3-0", "x")), g.opts(0.4, true, ss("MKSTREAM"), ss("ENTRIESREAD", g.pick("0", "3", "-1", "x"))))
	},
	"xgroup|setid": func(g *dfRand) []string {
		return cat(ss(g.key("x"), g.group(), g.pick("0", "$", "3-0", "x")), g.opts(0.3, false, ss("ENTRIESREAD", g.pick("0", "3", "-1", "x"))))
	},
	"xgroup|destroy":        func(g *dfRand) []string { return ss(g.key("x"), g.group()) },
	"xgroup|createconsumer": func(g *dfRand) []string { return ss(g.key("x"), g.group(), g.consumer()) },
	"xgroup|delconsumer":    func(g *dfRand) []string { return ss(g.key("x"), g.group(), g.consumer()) },
	"xinfo|stream": func(g *dfRand) []string {
		return cat(ss(g.key("x")), g.opts(0.3, false, ss("FULL"), ss("COUNT", g.count())))
	},
	"xinfo|groups":    func(g *dfRand) []string { return ss(g.key("x")) },
	"xinfo|consumers": func(g *dfRand) []string { return ss(g.key("x"), g.group()) },
}

// dfStreamTimes compares stream replies with their clocks masked: the
// idle times of XPENDING's extended form and XINFO's seen-time,
// active-time, idle and inactive, and the radix tree's node counts.
func dfStreamTimes(x *dfCheck) string {
	if reflect.DeepEqual(dfMaskTimes(x.tc, false), dfMaskTimes(x.rd, false)) {
		return ""
	}
	return "replies differ (times masked)"
}

var dfTimeFields = map[string]bool{"seen-time": true, "active-time": true, "idle": true, "inactive": true,
	"radix-tree-keys": true, "radix-tree-nodes": true}

func dfMaskTimes(v any, pel bool) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			if i > 0 {
				if k, ok := t[i-1].(string); ok && dfTimeFields[k] {
					if _, isInt := e.(int64); isInt {
						out[i] = int64(0)
						continue
					}
				}
			}
			out[i] = dfMaskTimes(e, pel)
		}
		// XPENDING's extended entries: [id consumer idle deliveries].
		if len(t) == 4 {
			if _, ok := t[2].(int64); ok {
				if id, ok := t[0].(string); ok && strings.Contains(id, "-") {
					if _, ok := t[3].(int64); ok {
						out[2] = int64(0)
					}
				}
			}
		}
		return out
	case map[any]any:
		out := map[any]any{}
		for k, e := range t {
			if s, ok := k.(string); ok && dfTimeFields[s] {
				if _, isInt := e.(int64); isInt {
					out[k] = int64(0)
					continue
				}
			}
			out[k] = dfMaskTimes(e, pel)
		}
		return out
	}
	return v
}

// lon and lat are coordinates near each other (so that radii meet), the
// poles' limits, and invalid ones.
func (g *dfRand) lon() string {
	if g.p(0.15) {
		return g.pick("180", "-180", "180.1", "abc", "", "nan", "inf")
	}
	return strconv.FormatFloat(13+float64(g.n(200))/100, 'f', -1, 64)
}

func (g *dfRand) lat() string {
	if g.p(0.15) {
		return g.pick("85.05112878", "-85.05112878", "85.06", "abc", "", "nan")
	}
	return strconv.FormatFloat(38+float64(g.n(200))/100, 'f', -1, 64)
}

func (g *dfRand) unit() string { return g.pick("m", "km", "mi", "ft", "KM", "yd") }

func (g *dfRand) radius() string {
	return g.pick("100", "10000", "50000", "200000", "0", "-1", "abc", "1e400")
}

func (g *dfRand) geoOpts(store bool) []string {
	var groups [][]string
	if !store {
		groups = append(groups, ss("WITHCOORD"), ss("WITHDIST"), ss("WITHHASH"))
	}
	groups = append(groups, ss(g.pick("ASC", "DESC")), cat(ss("COUNT", g.pick("1", "2", "5", "0", "-1", "x")), g.opts(0.3, false, ss("ANY"))))
	return g.opts(0.35, true, groups...)
}

var dfGeoGens = dfGens{
	"geoadd": func(g *dfRand) []string {
		out := cat(ss(g.key("z")), g.opts(0.2, true, ss(g.pick("NX", "XX")), ss("CH")))
		for range 1 + g.n(3) {
			out = append(out, g.lon(), g.lat(), g.elem())
		}
		return out
	},
	"geodist": func(g *dfRand) []string {
		return cat(ss(g.key("z"), g.elem(), g.elem()), g.opts(0.5, false, ss(g.unit())))
	},
	"geohash": func(g *dfRand) []string { return cat(ss(g.key("z")), g.elems(0, 3)) },
	"geopos":  func(g *dfRand) []string { return cat(ss(g.key("z")), g.elems(0, 3)) },
	"georadius": func(g *dfRand) []string {
		out := cat(ss(g.key("z"), g.lon(), g.lat(), g.radius(), g.unit()), g.geoOpts(false))
		return cat(out, g.opts(0.1, false, ss(g.pick("STORE", "STOREDIST"), g.key("z"))))
	},
	"georadius_ro": func(g *dfRand) []string {
		return cat(ss(g.key("z"), g.lon(), g.lat(), g.radius(), g.unit()), g.geoOpts(false))
	},
	"georadiusbymember": func(g *dfRand) []string {
		out := cat(ss(g.key("z"), g.elem(), g.radius(), g.unit()), g.geoOpts(false))
		return cat(out, g.opts(0.1, false, ss(g.pick("STORE", "STOREDIST"), g.key("z"))))
	},
	"georadiusbymember_ro": func(g *dfRand) []string {
		return cat(ss(g.key("z"), g.elem(), g.radius(), g.unit()), g.geoOpts(false))
	},
	"geosearch": func(g *dfRand) []string {
		return cat(ss(g.key("z")), g.geoFromBy(), g.geoOpts(false))
	},
	"geosearchstore": func(g *dfRand) []string {
		return cat(ss(g.key("z"), g.key("z")), g.geoFromBy(), g.geoOpts(true), g.opts(0.3, false, ss("STOREDIST")))
	},
}

func (g *dfRand) geoFromBy() []string {
	from := ss("FROMMEMBER", g.elem())
	if g.p(0.5) {
		from = ss("FROMLONLAT", g.lon(), g.lat())
	}
	by := ss("BYRADIUS", g.radius(), g.unit())
	if g.p(0.4) {
		by = ss("BYBOX", g.radius(), g.radius(), g.unit())
	}
	if g.p(0.5) {
		return cat(by, from)
	}
	return cat(from, by)
}

// zsetOpts is ZUNION/ZINTER's WEIGHTS and AGGREGATE for n keys.
func (g *dfRand) zsetOpts(n int, withScores bool) []string {
	w := []string{"WEIGHTS"}
	for range n {
		w = append(w, g.pick("1", "2", "0", "-1", "0.5", "inf", "x"))
	}
	groups := [][]string{w, ss("AGGREGATE", g.pick("SUM", "MIN", "MAX", "AVG"))}
	if withScores {
		groups = append(groups, ss("WITHSCORES"))
	}
	return g.opts(0.3, true, groups...)
}

func (g *dfRand) numKeys(prefix string) []string {
	ks := g.keys(prefix, 1, 3)
	n := strconv.Itoa(len(ks))
	if g.p(0.1) {
		n = g.pick("0", "-1", "4", "x", "9223372036854775807")
	}
	return cat(ss(n), ks)
}

var dfZAlgGens = dfGens{
	"zunion": func(g *dfRand) []string { k := g.numKeys("z"); return cat(k, g.zsetOpts(len(k)-1, true)) },
	"zinter": func(g *dfRand) []string { k := g.numKeys("z"); return cat(k, g.zsetOpts(len(k)-1, true)) },
	"zdiff":  func(g *dfRand) []string { return cat(g.numKeys("z"), g.opts(0.3, false, ss("WITHSCORES"))) },
	"zunionstore": func(g *dfRand) []string {
		k := g.numKeys("z")
		return cat(ss(g.key("z")), k, g.zsetOpts(len(k)-1, false))
	},
	"zinterstore": func(g *dfRand) []string {
		k := g.numKeys("z")
		return cat(ss(g.key("z")), k, g.zsetOpts(len(k)-1, false))
	},
	"zdiffstore": func(g *dfRand) []string { return cat(ss(g.key("z")), g.numKeys("z")) },
	"zintercard": func(g *dfRand) []string {
		return cat(g.numKeys("z"), g.opts(0.4, false, ss("LIMIT", g.pick("0", "1", "2", "-1", "x"))))
	},
	"zrangestore": func(g *dfRand) []string {
		switch g.n(3) {
		case 0:
			return cat(ss(g.key("z"), g.key("z"), g.scoreBound(), g.scoreBound(), "BYSCORE"), g.opts(0.4, true, ss("REV"), g.limit()))
		case 1:
			return cat(ss(g.key("z"), g.key("z"), g.lexBound(), g.lexBound(), "BYLEX"), g.opts(0.4, true, ss("REV"), g.limit()))
		}
		return cat(ss(g.key("z"), g.key("z"), g.int(), g.int()), g.opts(0.3, true, ss("REV")))
	},
	"zrandmember": func(g *dfRand) []string {
		out := ss(g.key("z"))
		if g.p(0.7) {
			out = append(out, g.pick("0", "1", "3", "-3", "20", "-20", "abc"))
			if g.p(0.4) {
				out = append(out, "WITHSCORES")
			}
		}
		return out
	},
	"zlexcount": func(g *dfRand) []string { return ss(g.key("z"), g.lexBound(), g.lexBound()) },
	"zrangebylex": func(g *dfRand) []string {
		return cat(ss(g.key("z"), g.lexBound(), g.lexBound()), g.opts(0.3, false, g.limit()))
	},
	"zrevrangebylex": func(g *dfRand) []string {
		return cat(ss(g.key("z"), g.lexBound(), g.lexBound()), g.opts(0.3, false, g.limit()))
	},
	"zrevrangebyscore": func(g *dfRand) []string {
		return cat(ss(g.key("z"), g.scoreBound(), g.scoreBound()), g.opts(0.4, true, ss("WITHSCORES"), g.limit()))
	},
	"zremrangebylex": func(g *dfRand) []string { return ss(g.key("z"), g.lexBound(), g.lexBound()) },
	"zmpop": func(g *dfRand) []string {
		return cat(g.numKeys("z"), ss(g.pick("MIN", "MAX", "min", "MID")), g.opts(0.4, false, ss("COUNT", g.pick("1", "2", "10", "0", "-1", "x"))))
	},
	"bzmpop": func(g *dfRand) []string {
		return cat(ss(g.timeout()), g.numKeys("z"), ss(g.pick("MIN", "MAX")), g.opts(0.4, false, ss("COUNT", g.pick("1", "2", "10", "0", "x"))))
	},
	"bzpopmin": func(g *dfRand) []string { return append(g.keys("z", 1, 3), g.timeout()) },
	"bzpopmax": func(g *dfRand) []string { return append(g.keys("z", 1, 3), g.timeout()) },
}

// dfZRandMember compares ZRANDMEMBER by shape: the same type and length,
// every member one that Redis holds (with its score), distinct for a
// positive count, everything when the count covers it.
func dfZRandMember(x *dfCheck) string {
	if reflect.TypeOf(x.tc) != reflect.TypeOf(x.rd) {
		return "reply types differ"
	}
	switch x.tc.(type) {
	case respErr, nil, nilArray:
		if x.tc != x.rd {
			return "replies differ"
		}
		return ""
	}
	mem := map[string]any{}
	if x.run != nil {
		a, _ := dfElems(x.run.rdDo("ZRANGE", x.args[1], "0", "-1", "WITHSCORES"))
		flat := dfFlat(a)
		for i := 0; i+1 < len(flat); i += 2 {
			s, _ := flat[i].(string)
			mem[s] = flat[i+1]
		}
	}
	if s, ok := x.tc.(string); ok {
		if x.run != nil && mem[s] == nil {
			return fmt.Sprintf("%q is not a member", s)
		}
		return ""
	}
	a, b := dfFlat(x.tc), dfFlat(x.rd)
	if len(a) != len(b) {
		return fmt.Sprintf("%d elements, redis %d", len(a), len(b))
	}
	if x.run == nil {
		return ""
	}
	step := 1
	if len(x.args) > 3 {
		step = 2
	}
	n, _ := strconv.Atoi(x.args[2])
	seen := map[string]bool{}
	for i := 0; i < len(a); i += step {
		m, _ := a[i].(string)
		if mem[m] == nil {
			return fmt.Sprintf("%q is not a member", m)
		}
		if n > 0 && seen[m] {
			return fmt.Sprintf("%q twice", m)
		}
		seen[m] = true
	}
	return ""
}

var dfDumpGens = dfGens{
	"dump": func(g *dfRand) []string { return ss(g.anyKey()) },
	"restore": func(g *dfRand) []string {
		payload := dfDumps[g.n(len(dfDumps))]
		switch g.n(6) {
		case 0:
			payload = payload[:len(payload)-1-g.n(4)] // a broken checksum or footer
		case 1:
			payload = g.pick("", "x", "\x00", dfLong)
		}
		return cat(ss(g.anyKey(), g.pick("0", "0", "0", "100000000", "-1", "x"), payload),
			g.opts(0.3, true, ss("REPLACE"), ss("IDLETIME", g.pick("0", "10", "-1", "x")), ss("FREQ", g.pick("0", "255", "256", "x"))))
	},
}

var dfMoreGens = dfGens{
	"lmpop": func(g *dfRand) []string {
		return cat(g.numKeys("l"), ss(g.pick("LEFT", "RIGHT", "left", "UP")), g.opts(0.4, false, ss("COUNT", g.pick("1", "2", "10", "0", "-1", "x"))))
	},
	"blmpop": func(g *dfRand) []string {
		return cat(ss(g.timeout()), g.numKeys("l"), ss(g.pick("LEFT", "RIGHT")), g.opts(0.4, false, ss("COUNT", g.pick("1", "2", "10", "0", "x"))))
	},
	"rpoplpush":  func(g *dfRand) []string { return ss(g.key("l"), g.key("l")) },
	"brpoplpush": func(g *dfRand) []string { return ss(g.key("l"), g.key("l"), g.timeout()) },
	"sintercard": func(g *dfRand) []string {
		return cat(g.numKeys("t"), g.opts(0.4, false, ss("LIMIT", g.pick("0", "1", "2", "-1", "x"))))
	},
	"slowlog|len":     func(g *dfRand) []string { return nil },
	"slowlog|reset":   func(g *dfRand) []string { return nil },
	"slowlog|get":     func(g *dfRand) []string { return g.opts(0.5, false, ss(g.pick("0", "1", "10", "-1", "x"))) },
	"latency|latest":  func(g *dfRand) []string { return nil },
	"latency|reset":   func(g *dfRand) []string { return g.elemsOf(0, 2, "command", "fast-command", "expire-cycle", "x") },
	"latency|history": func(g *dfRand) []string { return ss(g.pick("command", "fast-command", "x")) },
	"command|getkeys": func(g *dfRand) []string {
		return g.getkeysArgs()
	},
	"client|caching":      func(g *dfRand) []string { return ss(g.pick("yes", "no", "maybe")) },
	"client|getredir":     func(g *dfRand) []string { return nil },
	"client|trackinginfo": func(g *dfRand) []string { return nil },
	"client|unblock": func(g *dfRand) []string {
		return cat(ss(g.pick("999999999", "-1", "x", "0")), g.opts(0.4, false, ss(g.pick("TIMEOUT", "ERROR", "foo"))))
	},
}

func (g *dfRand) getkeysArgs() []string {
	switch g.n(12) {
	case 0:
		return ss("SET", "a", "b", "GET")
	case 1:
		return ss("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2")
	case 2:
		xs := [][]string{ss("XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"), ss("XREADGROUP", "GROUP", "streams", "c", "NOACK", "STREAMS", "a", "0"),
			ss("XREAD", "BLOCK", "0", "STREAMS", "streams", "0"), ss("XREAD", "FOO", "STREAMS", "a", "0"),
			ss("XREADGROUP", "GROUP", "g", "streams", "STREAMS", "a", "b", "0", "0"), ss("XREAD", "STREAMS", "a", "b", "c", "d", "e")}
		return xs[g.n(len(xs))]
	case 3:
		return ss("EVAL", "return 1", "2", "a", "b", "c")
	case 4:
		return ss("MSET", "a", "1", "b", "2")
	case 5:
		return ss("PING")
	case 6:
		return ss("NOSUCH", "a")
	case 7:
		return ss("GET")
	case 8:
		return ss("LMOVE", "a", "b", "LEFT", "RIGHT")
	case 9:
		return ss(g.pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), "d", g.pick("0", "1", "2", "3", "x"), "a", "b")
	case 10:
		return ss(g.pick("LMPOP", "SINTERCARD", "ZINTERCARD", "ZMPOP"), g.pick("0", "1", "2", "3", "x"), "a", "b", g.pick("LEFT", "MIN"))
	}
	return ss("SORT", "a", "STORE", "b")
}

// dfDumpPayload compares DUMP by what the payloads hold: a hash's or a
// set's payload lists its entries in dict order, which is Redis's own.
// tcached's payload is restored on Redis under a scratch key (then
// deleted) and must hold what the dumped key holds there.
func dfDumpPayload(x *dfCheck) string {
	p, ok1 := x.tc.(string)
	_, ok2 := x.rd.(string)
	if !ok1 || !ok2 || x.run == nil {
		return "replies differ"
	}
	const scratch = "dfscratch\x00"
	defer x.run.rdDo("DEL", scratch)
	if got := x.run.rdDo("RESTORE", scratch, "0", p); dfStatus(got) != "OK" {
		return fmt.Sprintf("redis refuses tcached's payload: %v", got)
	}
	a, b := x.run.content(scratch), x.run.content(x.args[1])
	if a != b {
		return fmt.Sprintf("tcached's payload holds %q, the key %q", a, b)
	}
	return ""
}

// content is a canonical form of what Redis holds at key.
func (r *dfRun) content(key string) string {
	typ := dfStatus(r.rdDo("TYPE", key))
	var a []any
	switch typ {
	case "string":
		return fmt.Sprintf("string %q", r.rdDo("GET", key))
	case "list":
		a, _ = dfElems(r.rdDo("LRANGE", key, "0", "-1"))
		return fmt.Sprintf("list %q", a)
	case "zset":
		a = dfFlat(r.rdDo("ZRANGE", key, "0", "-1", "WITHSCORES"))
		return fmt.Sprintf("zset %q", a)
	case "set":
		a, _ = dfElems(r.rdDo("SMEMBERS", key))
	case "hash":
		h, _ := dfElems(r.rdDo("HGETALL", key))
		for i := 0; i+1 < len(h); i += 2 {
			a = append(a, fmt.Sprintf("%q=%q", h[i], h[i+1]))
		}
	default:
		return typ
	}
	s := make([]string, len(a))
	for i, e := range a {
		s[i] = fmt.Sprint(e)
	}
	sort.Strings(s)
	return typ + " " + strings.Join(s, "\x00")
}

// dfStatus is a simple-string reply's text ("" for anything else).
func dfStatus(v any) string {
	s, _ := v.(status)
	return string(s)
}
