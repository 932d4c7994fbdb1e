package server

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// DUMP and RESTORE of streams against redis-server 7.0.15: a stream with
// several nodes, entries with the same and with different fields,
// tombstones, consumer groups, PELs and consumers is built on both
// servers; each server's payload restores on the other and reads back the
// same (XRANGE, XINFO STREAM FULL, XINFO GROUPS and CONSUMERS, XPENDING,
// with the clock-dependent fields normalised as TestDiffStream does).
// Without groups (nothing clock-dependent) the payloads are byte-identical.

func streamFixture(key string, groups bool) [][]string {
	cmds := [][]string{{"CONFIG", "SET", "stream-node-max-entries", "10"}}
	for i := 1; i <= 45; i++ {
		id := fmt.Sprintf("%d-%d", 1000+i/3, i%3)
		switch {
		case i%7 == 0:
			cmds = append(cmds, []string{"XADD", key, id, "other", fmt.Sprint(i), "n", "-12345678901"})
		case i%5 == 0:
			cmds = append(cmds, []string{"XADD", key, id, "f", fmt.Sprint("value-", i), "g", "1", "h", ""})
		default:
			cmds = append(cmds, []string{"XADD", key, id, "f", fmt.Sprint(i * i), "g", fmt.Sprint("v", i)})
		}
	}
	// Tombstones, and a node emptied by XDEL (which goes).
	cmds = append(cmds, []string{"XDEL", key, "1001-1", "1003-0", "1005-2", "1011-0", "1012-1"})
	cmds = append(cmds, []string{"XDEL", key, "1007-1", "1007-2", "1008-0", "1008-1", "1008-2", "1009-0", "1009-1", "1009-2", "1010-0", "1010-1"})
	if groups {
		cmds = append(cmds,
			[]string{"XGROUP", "CREATE", key, "g1", "0"},
			[]string{"XGROUP", "CREATE", key, "g2", "1004-0"},
			[]string{"XGROUP", "CREATE", key, "empty", "$"},
			[]string{"XREADGROUP", "GROUP", "g1", "alice", "COUNT", "4", "STREAMS", key, ">"},
			[]string{"XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", key, ">"},
			[]string{"XREADGROUP", "GROUP", "g1", "carol", "COUNT", "2", "STREAMS", key, ">"},
			[]string{"XACK", key, "g1", "1000-1"},
			[]string{"XCLAIM", key, "g1", "bob", "0", "1000-2"},
			[]string{"XGROUP", "CREATECONSUMER", key, "g1", "idle"},
			[]string{"XREADGROUP", "GROUP", "g2", "dave", "STREAMS", key, ">"},
			[]string{"XGROUP", "SETID", key, "g2", "1013-0", "ENTRIESREAD", "30"},
		)
	}
	return cmds
}

// streamReads are the reads compared, normalised.
func streamReads(r *rconn, key string) []string {
	reads := [][]string{
		{"TYPE", key}, {"TTL", key}, {"XLEN", key},
		{"XRANGE", key, "-", "+"}, {"XREVRANGE", key, "+", "-", "COUNT", "3"},
		{"XINFO", "STREAM", key}, {"XINFO", "STREAM", key, "FULL"}, {"XINFO", "GROUPS", key},
		{"XINFO", "CONSUMERS", key, "g1"}, {"XPENDING", key, "g1"}, {"XPENDING", key, "g1", "-", "+", "100"},
		{"XPENDING", key, "g2", "-", "+", "100"},
	}
	out := make([]string, len(reads))
	for i, a := range reads {
		out[i] = streamNormReply(a, r.do(a...))
	}
	return out
}

func TestDumpRestoreStreamAcrossServers(t *testing.T) {
	rd := dial(t, startRealRedis(t))
	tc := dial(t, diffMoreServer(t).addr)
	for _, c := range []*rconn{tc, rd} {
		c.do("FLUSHALL")
	}
	defer rd.do("CONFIG", "SET", "stream-node-max-entries", "100")
	defer tc.do("CONFIG", "SET", "stream-node-max-entries", "100")
	for _, f := range []struct {
		key    string
		groups bool
	}{{"st", false}, {"stcg", true}} {
		t.Run(f.key, func(t *testing.T) {
			for _, cmd := range streamFixture(f.key, f.groups) {
				if a, b := streamNormReply(cmd, tc.do(cmd...)), streamNormReply(cmd, rd.do(cmd...)); a != b {
					t.Fatalf("%q: tcached %v, redis %v", cmd, a, b)
				}
			}
			want := streamReads(rd, f.key)
			if got := streamReads(tc, f.key); !reflect.DeepEqual(got, want) {
				t.Fatalf("built differently:\n tcached %v\n redis   %v", got, want)
			}
			fromRedis, _ := rd.do("DUMP", f.key).([]byte)
			fromTC, _ := tc.do("DUMP", f.key).([]byte)
			if fromRedis == nil || fromTC == nil {
				t.Fatalf("DUMP: tcached %q, redis %q", fromTC, fromRedis)
			}
			if !f.groups && string(fromTC) != string(fromRedis) {
				t.Errorf("DUMP differs:\n tcached %q\n redis   %q", fromTC, fromRedis)
			}
			for i, p := range [][]byte{fromRedis, fromTC} {
				for _, c := range []*rconn{tc, rd} {
					dst := fmt.Sprint(f.key, ":r", i)
					if got := c.do("RESTORE", dst, "0", string(p), "REPLACE"); got != ok {
						t.Fatalf("RESTORE of payload %d: %v", i, got)
					}
					got := streamReads(c, dst)
					w := streamReads(rd, f.key)
					for j := range w {
						if got[j] = strings.ReplaceAll(got[j], dst, f.key); got[j] != w[j] {
							t.Errorf("payload %d restored (%s): read %d = %v, want %v", i, c.c.RemoteAddr(), j, got[j], w[j])
						}
					}
					// The restored stream takes new entries and deliveries.
					if got := fmt.Sprint(norm(c.do("XADD", dst, "2000-0", "f", "new"))); got != "2000-0" {
						t.Errorf("XADD after RESTORE: %v", got)
					}
					if f.groups {
						got := streamNormReply([]string{"XREADGROUP"}, c.do("XREADGROUP", "GROUP", "empty", "eve", "STREAMS", dst, ">"))
						if want := `[["` + dst + `" [["2000-0" ["f" "new"]]]]]`; got != want {
							t.Errorf("XREADGROUP after RESTORE: %v, want %v", got, want)
						}
					}
				}
			}
		})
	}
}

// legacyStream is the pre-7.0 payload (RDB_TYPE_STREAM_LISTPACKS, version
// 9) of Redis's stream-cgroups.tcl "Loading from legacy" test.
const legacyStream = "\x0F\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\xC3\x40\x4A\x40\x57\x16\x57\x00\x00\x00\x23\x00\x02\x01\x04\x01\x01\x01\x84\x64\x61\x74\x61\x05\x00\x01\x03\x01\x00\x20\x01\x03\x81\x61\x02\x04\x20\x0A\x00\x01\x40\x0A\x00\x62\x60\x0A\x00\x02\x40\x0A\x00\x63\x60\x0A\x40\x22\x01\x81\x64\x20\x0A\x40\x39\x20\x0A\x00\x65\x60\x0A\x00\x05\x40\x0A\x00\x66\x20\x0A\x00\xFF\x02\x06\x00\x02\x02\x67\x31\x05\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x01\x03\x63\x31\x31\x3E\xF7\x83\x43\x7A\x01\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x02\x67\x32\x00\x00\x00\x00\x09\x00\x3D\x52\xEF\x68\x67\x52\x1D\xFA"

// TestRestoreLegacyStream: the pre-7.0 stream payload restores as on
// redis-server 7.0.15 (entries_added, first id and each group's
// entries_read derived the same), and its DUMP restores there too.
func TestRestoreLegacyStream(t *testing.T) {
	rd := dial(t, startRealRedis(t))
	tc := dial(t, diffMoreServer(t).addr)
	for _, c := range []*rconn{tc, rd} {
		if got := c.do("RESTORE", "legacy", "0", legacyStream, "REPLACE"); got != ok {
			t.Fatalf("RESTORE: %v", got)
		}
	}
	want := streamReads(rd, "legacy")
	if got := streamReads(tc, "legacy"); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored differently:\n tcached %v\n redis   %v", got, want)
	}
	p, _ := tc.do("DUMP", "legacy").([]byte)
	if got := rd.do("RESTORE", "legacy2", "0", string(p)); got != ok {
		t.Fatalf("RESTORE of tcached's DUMP on redis: %v", got)
	}
	got := streamReads(rd, "legacy2")
	for i := range got {
		if got[i] = strings.ReplaceAll(got[i], "legacy2", "legacy"); got[i] != want[i] {
			t.Errorf("read %d: %v, want %v", i, got[i], want[i])
		}
	}
}

// TestRestoreStreamWakesReaders: a stream RESTOREd onto a key an XREAD
// is blocked on serves the reader, on both servers alike.
func TestRestoreStreamWakesReaders(t *testing.T) {
	addrs := []string{diffMoreServer(t).addr, startRealRedis(t)}
	var replies []string
	for _, addr := range addrs {
		reader, writer := dial(t, addr), dial(t, addr)
		writer.do("DEL", "wake")
		reader.send(encode("XREAD", "BLOCK", "3000", "STREAMS", "wake", "$"))
		// Wait until it is blocked (INFO's blocked_clients, both servers).
		for end := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			info, _ := writer.do("INFO", "clients").([]byte)
			if strings.Contains(string(info), "blocked_clients:1") {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("%s: the reader did not block: %s", addr, info)
			}
		}
		if got := writer.do("RESTORE", "wake", "0", legacyStream); got != ok {
			t.Fatalf("RESTORE: %v", got)
		}
		got, ok := reader.readWithin(4 * time.Second)
		if !ok {
			t.Fatalf("%s: no reply", addr)
		}
		replies = append(replies, streamNormReply([]string{"XREAD"}, got))
		writer.do("DEL", "wake")
	}
	if replies[0] != replies[1] {
		t.Fatalf("tcached %v, redis %v", replies[0], replies[1])
	}
	if !strings.Contains(replies[0], "5-0") {
		t.Fatalf("reader got %v", replies[0])
	}
}
