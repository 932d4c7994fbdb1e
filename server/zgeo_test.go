package server

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

// TestZSetBlockWakeups: BZPOPMIN, BZPOPMAX and BZMPOP wait on the
// blocked-client path BLPOP uses and are served by the writes that leave
// a sorted set at one of their keys, in the same tenant only.
func TestZSetBlockWakeups(t *testing.T) {
	const within = 2 * time.Second
	queued := status("QUEUED")
	for _, tc := range []struct {
		name   string
		setup  []step
		block  []string
		noWake []step
		bob    bool
		wake   []step
		want   any
	}{
		{name: "zadd wakes bzpopmin", block: []string{"BZPOPMIN", "za", "zb", "5"},
			wake: []step{s(int64(2), "ZADD", "zb", "2", "two", "1", "one")}, want: []any{"zb", "one", "1"}},
		{name: "zadd wakes bzpopmax", block: []string{"BZPOPMAX", "zc", "5"},
			wake: []step{s(int64(2), "ZADD", "zc", "2", "two", "1", "one")}, want: []any{"zc", "two", "2"}},
		{name: "bzmpop with count", block: []string{"BZMPOP", "5", "2", "m1", "m2", "MAX", "COUNT", "2"},
			wake: []step{s(int64(3), "ZADD", "m2", "1", "a", "2", "b", "3", "c")},
			want: []any{"m2", []any{[]any{"c", "3"}, []any{"b", "2"}}}},
		{name: "zincrby", block: []string{"BZPOPMIN", "zi", "5"},
			wake: []step{s("1.5", "ZINCRBY", "zi", "1.5", "x")}, want: []any{"zi", "x", "1.5"}},
		{name: "zunionstore destination", setup: []step{s(int64(1), "ZADD", "src", "7", "u")}, block: []string{"BZPOPMIN", "udst", "5"},
			wake: []step{s(int64(1), "ZUNIONSTORE", "udst", "1", "src")}, want: []any{"udst", "u", "7"}},
		{name: "zrangestore destination", setup: []step{s(int64(1), "ZADD", "src", "7", "r")}, block: []string{"BZPOPMAX", "rdst", "5"},
			wake: []step{s(int64(1), "ZRANGESTORE", "rdst", "src", "0", "-1")}, want: []any{"rdst", "r", "7"}},
		{name: "geoadd", block: []string{"BZPOPMIN", "geo", "5"},
			wake: []step{s(int64(1), "GEOADD", "geo", "13.361389", "38.115556", "Palermo")},
			want: []any{"geo", "Palermo", "3479099956230698"}},
		{name: "geosearchstore destination", setup: []step{s(int64(1), "GEOADD", "gsrc", "13.361389", "38.115556", "Palermo")},
			block: []string{"BZPOPMIN", "gdst", "5"},
			wake:  []step{s(int64(1), "GEOSEARCHSTORE", "gdst", "gsrc", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km")},
			want:  []any{"gdst", "Palermo", "3479099956230698"}},
		{name: "rename", setup: []step{s(int64(1), "ZADD", "rsrc", "3", "r")}, block: []string{"BZPOPMIN", "rdst2", "5"},
			wake: []step{s(ok, "RENAME", "rsrc", "rdst2")}, want: []any{"rdst2", "r", "3"}},
		{name: "copy", setup: []step{s(int64(1), "ZADD", "csrc", "3", "c")}, block: []string{"BZMPOP", "5", "1", "cdst", "MIN"},
			wake: []step{s(int64(1), "COPY", "csrc", "cdst")}, want: []any{"cdst", []any{[]any{"c", "3"}}}},
		{name: "exec", block: []string{"BZPOPMIN", "ex", "5"},
			wake: []step{s(ok, "MULTI"), s(queued, "ZADD", "ex", "1", "e"), s([]any{int64(1)}, "EXEC")},
			want: []any{"ex", "e", "1"}},
		{name: "a list on the key does not serve", block: []string{"BZPOPMIN", "lk", "5"},
			noWake: []step{s(int64(1), "RPUSH", "lk", "x")},
			wake:   []step{s(int64(1), "DEL", "lk"), s(int64(1), "ZADD", "lk", "4", "z")}, want: []any{"lk", "z", "4"}},
		{name: "another tenant's zadd does not wake", block: []string{"BZPOPMIN", "bk", "5"},
			noWake: []step{s(int64(1), "ZADD", "bk", "1", "b's")}, bob: true,
			wake: []step{s(int64(1), "ZADD", "bk", "2", "a's")}, want: []any{"bk", "a's", "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, testConfig(), true)
			p := dialAs(t, srv.addr, "alice", "alice-pw")
			runSteps(t, p, tc.setup, nil)
			a := dialAs(t, srv.addr, "alice", "alice-pw")
			a.send(encode(tc.block...))
			ch := replyAfter(a, 10*time.Second)
			srv.waitBlocked(t, "a", 1)
			if tc.noWake != nil {
				by := p
				if tc.bob {
					by = dialAs(t, srv.addr, "bob", "bob-pw")
				}
				runSteps(t, by, tc.noWake, nil)
				expectPending(t, ch, 300*time.Millisecond)
			}
			runSteps(t, p, tc.wake, nil)
			select {
			case v := <-ch:
				if !reflect.DeepEqual(norm(v), tc.want) {
					t.Fatalf("reply %#v, want %#v", norm(v), tc.want)
				}
			case <-time.After(within):
				t.Fatalf("not woken within %v, want %#v", within, tc.want)
			}
		})
	}
	t.Run("inside multi and on timeout", func(t *testing.T) {
		srv := startServer(t, testConfig(), false)
		p := dialAs(t, srv.addr, "alice", "alice-pw")
		runSteps(t, p, []step{
			s(ok, "MULTI"), s(queued, "BZPOPMIN", "none", "0"), s(queued, "BZMPOP", "0", "1", "none", "MIN"),
			s([]any{nilArray{}, nilArray{}}, "EXEC"),
			s(nilArray{}, "BZPOPMAX", "none", "0.05"), s(nilArray{}, "BZMPOP", "0.05", "1", "none", "MAX"),
		}, nil)
	})
}

// TestZSetStoreQuota: the STORE forms reserve the destination's bytes
// before writing; one that does not fit the tenant's quota (noeviction)
// answers OOM and changes nothing, and the tenant never goes over.
func TestZSetStoreQuota(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[1].Quota = 1 << 20
	cfg.Tenants[1].Eviction = config.NoEviction
	srv := startServer(t, cfg, false)
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	used := func() int64 {
		for _, st := range srv.Stats() {
			if st.UsedBytes > st.Quota {
				t.Fatalf("tenant %s: used %d > quota %d", st.ID, st.UsedBytes, st.Quota)
			}
			if st.ID == "b" {
				return st.UsedBytes
			}
		}
		t.Fatal("no tenant b")
		return 0
	}
	// Two trees of ~300 KB with distinct members, and a geo set.
	for _, k := range []string{"z1", "z2"} {
		for batch := range 4 {
			c := []string{"ZADD", k}
			for i := range 100 {
				c = append(c, fmt.Sprint(i), fmt.Sprintf("%s-%d-%d-%s", k, batch, i, strings.Repeat("m", 1000)))
			}
			if got := b.do(c...); got != int64(100) {
				t.Fatalf("ZADD %s batch %d = %v (used %d)", k, batch, got, used())
			}
		}
	}
	b.do("SET", "dst", "keep")
	before := used()
	oom := respErr(command.ErrOOM)
	for _, c := range [][]string{
		{"ZUNIONSTORE", "dst", "2", "z1", "z2"}, {"ZINTERSTORE", "dst", "2", "z1", "z1"}, {"ZDIFFSTORE", "dst", "2", "z1", "z2"},
		{"ZRANGESTORE", "dst", "z2", "0", "-1"}, {"ZUNIONSTORE", "dst", "1", "z1", "WEIGHTS", "2"},
	} {
		if got := b.do(c...); got != oom {
			t.Errorf("%q = %v, want OOM", c, got)
		}
		if got := norm(b.do("GET", "dst")); got != "keep" {
			t.Fatalf("%q changed dst: %v", c, got)
		}
		if u := used(); u != before {
			t.Fatalf("%q: used %d, was %d", c, u, before)
		}
	}
	// A small result fits, and writes over the string.
	if got := b.do("ZRANGESTORE", "dst", "z1", "0", "2"); got != int64(3) {
		t.Fatalf("small ZRANGESTORE = %v", got)
	}
	if got := b.do("ZCARD", "dst"); got != int64(3) {
		t.Fatalf("ZCARD dst = %v", got)
	}
	// Geo stores are charged the same way.
	b.do("DEL", "dst", "z2")
	c := []string{"GEOADD", "geo"}
	for i := range 400 {
		c = append(c, fmt.Sprintf("%.4f", float64(i)/100), "1", fmt.Sprintf("p%d-%s", i, strings.Repeat("g", 1000)))
	}
	if got := b.do(c...); got != int64(400) {
		t.Fatalf("GEOADD = %v", got)
	}
	b.do("SET", "gdst", "keep")
	before = used()
	for _, c := range [][]string{
		{"GEOSEARCHSTORE", "gdst", "geo", "FROMLONLAT", "1", "1", "BYRADIUS", "1000", "km"},
		{"GEORADIUS", "geo", "1", "1", "1000", "km", "STOREDIST", "gdst"},
		{"GEORADIUSBYMEMBER", "geo", "p0-" + strings.Repeat("g", 1000), "1000", "km", "STORE", "gdst"},
		{"ZUNIONSTORE", "gdst", "2", "geo", "z1"},
	} {
		if got := b.do(c...); got != oom {
			t.Errorf("%q = %v, want OOM", c, got)
		}
		if got := norm(b.do("GET", "gdst")); got != "keep" {
			t.Fatalf("%q changed gdst: %v", c, got)
		}
		if u := used(); u != before {
			t.Fatalf("%q: used %d, was %d", c, u, before)
		}
	}
}

// TestZGeoGoRedis drives the new commands through go-redis v9 in RESP3
// (its default) and RESP2, as an application would.
func TestZGeoGoRedis(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprint("resp", proto), func(t *testing.T) {
			ctx := grCtx(t)
			c := grClient(t, &redis.Options{Addr: ts.addr, Username: "aadmin", Password: "aadmin-pw", Protocol: proto})
			c.FlushDB(ctx)
			c.ZAdd(ctx, "z1", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"})
			c.ZAdd(ctx, "z2", redis.Z{Score: 10, Member: "b"}, redis.Z{Score: 20, Member: "c"})
			c.SAdd(ctx, "s", "a", "c")
			un, err := c.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{"z1", "z2", "s"}, Weights: []float64{1, 2, 3}, Aggregate: "MAX"}).Result()
			if want := []redis.Z{{Score: 3, Member: "a"}, {Score: 20, Member: "b"}, {Score: 40, Member: "c"}}; err != nil || !reflect.DeepEqual(un, want) {
				t.Fatalf("ZUNION = %v %v, want %v", un, err, want)
			}
			if n, err := c.ZInterStore(ctx, "dst", &redis.ZStore{Keys: []string{"z1", "z2"}}).Result(); err != nil || n != 1 {
				t.Fatalf("ZINTERSTORE = %v %v", n, err)
			}
			if n, err := c.ZInterCard(ctx, 1, "z1", "s").Result(); err != nil || n != 1 {
				t.Fatalf("ZINTERCARD = %v %v", n, err)
			}
			diff, err := c.ZDiffWithScores(ctx, "z1", "z2").Result()
			if want := []redis.Z{{Score: 1, Member: "a"}}; err != nil || !reflect.DeepEqual(diff, want) {
				t.Fatalf("ZDIFF = %v %v", diff, err)
			}
			if n, err := c.ZRangeStore(ctx, "rs", redis.ZRangeArgs{Key: "z2", Start: "(10", Stop: "+inf", ByScore: true}).Result(); err != nil || n != 1 {
				t.Fatalf("ZRANGESTORE = %v %v", n, err)
			}
			rnd, err := c.ZRandMemberWithScores(ctx, "z1", -5).Result()
			if err != nil || len(rnd) != 5 {
				t.Fatalf("ZRANDMEMBER = %v %v", rnd, err)
			}
			for _, z := range rnd {
				if !(z.Member == "a" && z.Score == 1 || z.Member == "b" && z.Score == 2) {
					t.Fatalf("ZRANDMEMBER gave %v", z)
				}
			}
			key, zs, err := c.ZMPop(ctx, "max", 5, "nope", "z2").Result()
			if want := []redis.Z{{Score: 20, Member: "c"}, {Score: 10, Member: "b"}}; err != nil || key != "z2" || !reflect.DeepEqual(zs, want) {
				t.Fatalf("ZMPOP = %v %v %v", key, zs, err)
			}
			kz, err := c.BZPopMin(ctx, time.Second, "nope", "z1").Result()
			if err != nil || kz.Key != "z1" || kz.Member != "a" || kz.Score != 1 {
				t.Fatalf("BZPOPMIN = %v %v", kz, err)
			}
			if _, _, err := c.BZMPop(ctx, time.Second, "min", 1, "nope").Result(); err != redis.Nil {
				t.Fatalf("BZMPOP on a timeout: %v, want redis.Nil", err)
			}
			if n, err := c.ZLexCount(ctx, "dst", "-", "+").Result(); err != nil || n != 1 {
				t.Fatalf("ZLEXCOUNT = %v %v", n, err)
			}
			// geo
			n, err := c.GeoAdd(ctx, "Sicily", &redis.GeoLocation{Name: "Palermo", Longitude: 13.361389, Latitude: 38.115556},
				&redis.GeoLocation{Name: "Catania", Longitude: 15.087269, Latitude: 37.502669}).Result()
			if err != nil || n != 2 {
				t.Fatalf("GEOADD = %v %v", n, err)
			}
			if d, err := c.GeoDist(ctx, "Sicily", "Palermo", "Catania", "km").Result(); err != nil || d != 166.2742 {
				t.Fatalf("GEODIST = %v %v", d, err)
			}
			pos, err := c.GeoPos(ctx, "Sicily", "Palermo", "nope").Result()
			if err != nil || len(pos) != 2 || pos[1] != nil || pos[0].Longitude != 13.36138933897018433 || pos[0].Latitude != 38.11555639549629859 {
				t.Fatalf("GEOPOS = %v %v", pos, err)
			}
			if h, err := c.GeoHash(ctx, "Sicily", "Palermo").Result(); err != nil || !reflect.DeepEqual(h, []string{"sqc8b49rny0"}) {
				t.Fatalf("GEOHASH = %v %v", h, err)
			}
			locs, err := c.GeoSearchLocation(ctx, "Sicily", &redis.GeoSearchLocationQuery{
				GeoSearchQuery: redis.GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 200, RadiusUnit: "km", Sort: "ASC"},
				WithCoord:      true, WithDist: true}).Result()
			if err != nil || len(locs) != 2 || locs[0].Name != "Catania" || locs[0].Dist != 56.4413 || locs[1].Name != "Palermo" || locs[1].Dist != 190.4424 {
				t.Fatalf("GEOSEARCH = %+v %v", locs, err)
			}
			if n, err := c.GeoSearchStore(ctx, "Sicily", "near", &redis.GeoSearchStoreQuery{
				GeoSearchQuery: redis.GeoSearchQuery{Member: "Palermo", BoxWidth: 400, BoxHeight: 400, BoxUnit: "km"}, StoreDist: true}).Result(); err != nil || n != 2 {
				t.Fatalf("GEOSEARCHSTORE = %v %v", n, err)
			}
			if sc, err := c.ZScore(ctx, "near", "Catania").Result(); err != nil || sc < 166.27 || sc > 166.28 {
				t.Fatalf("stored distance = %v %v", sc, err)
			}
			rad, err := c.GeoRadius(ctx, "Sicily", 15, 37, &redis.GeoRadiusQuery{Radius: 100, Unit: "km", WithGeoHash: true}).Result()
			if err != nil || len(rad) != 1 || rad[0].Name != "Catania" || rad[0].GeoHash != 3479447370796909 {
				t.Fatalf("GEORADIUS = %+v %v", rad, err)
			}
		})
	}
}

// TestCLIZGeo: redis-cli prints the algebra's and geo's replies as it
// prints Redis's (outputs taken from redis-cli against redis-server
// 7.0.15), in RESP2 and with -3.
func TestCLIZGeo(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	cli := cliFor(t, ts, "alice", "alice-pw")
	expectOut(t, cli("", "ZADD", "z1", "1", "a", "2", "b"), "2\n")
	expectOut(t, cli("", "SADD", "s", "b", "c"), "2\n")
	expectOut(t, cli("", "ZUNION", "2", "z1", "s", "WITHSCORES"), "a\n1\nc\n1\nb\n3\n")
	expectOut(t, cli("", "--no-raw", "ZUNION", "2", "z1", "s", "WITHSCORES"),
		"1) \"a\"\n2) \"1\"\n3) \"c\"\n4) \"1\"\n5) \"b\"\n6) \"3\"\n")
	expectOut(t, cli("", "-3", "--no-raw", "ZINTER", "2", "z1", "s", "WITHSCORES"), "1) 1) \"b\"\n   2) (double) 3\n")
	expectOut(t, cli("", "--no-raw", "ZMPOP", "1", "z1", "MIN"), "1) \"z1\"\n2) 1) 1) \"a\"\n      2) \"1\"\n")
	expectOut(t, cli("", "GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"), "2\n")
	expectOut(t, cli("", "--no-raw", "GEOPOS", "Sicily", "Palermo", "nope"),
		"1) 1) \"13.36138933897018433\"\n   2) \"38.11555639549629859\"\n2) (nil)\n")
	expectOut(t, cli("", "-3", "--no-raw", "GEOPOS", "Sicily", "Palermo"),
		"1) 1) (double) 13.36138933897018433\n   2) (double) 38.11555639549629859\n")
	expectOut(t, cli("", "GEODIST", "Sicily", "Palermo", "Catania", "km"), "166.2742\n")
	expectOut(t, cli("", "--no-raw", "GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHDIST"),
		"1) 1) \"Catania\"\n   2) \"56.4413\"\n2) 1) \"Palermo\"\n   2) \"190.4424\"\n")
}
