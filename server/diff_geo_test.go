package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestDifferentialGeo runs every geo command on tcached and on
// redis-server 7.0: valid and invalid arguments, a compact geo set and
// one past zset-max-listpack-entries, RESP2 and RESP3, the STORE forms
// read back. Distances, coordinates and hashes compare as text, so the
// ported geohash arithmetic and number formatting must match Redis's.
func TestDifferentialGeo(t *testing.T) {
	d := newDiffer(t, 0)
	setup := func() {
		d.run("FLUSHALL")
		d.run("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
		d.run("GEOADD", "Sicily", "CH", "13.583333", "37.316667", "Agrigento", "13.361389", "38.115556", "Palermo")
		r := rand.New(rand.NewPCG(11, 13))
		c := []string{"GEOADD", "big"}
		for i := range 300 {
			lon := -20 + r.Float64()*40
			lat := 30 + r.Float64()*30
			c = append(c, strconv.FormatFloat(lon, 'f', 6, 64), strconv.FormatFloat(lat, 'f', 6, 64), fmt.Sprint("p", i))
		}
		d.run(c...)
		d.run("GEOADD", "edge", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw", "0", "0", "origin", "-0.0001", "0.0001", "near")
		d.run("SET", "str", "v")
		d.run("ZADD", "plain", "0", "zero", "1e20", "huge", "-5", "neg", "inf", "inf", "-inf", "ninf", "1e19", "big63")
	}
	script := func() {
		for _, c := range [][]string{
			{"OBJECT", "ENCODING", "Sicily"}, {"OBJECT", "ENCODING", "big"}, {"ZRANGE", "Sicily", "0", "-1", "WITHSCORES"},
			{"GEOADD", "Sicily", "NX", "1", "1", "Palermo"}, {"GEOADD", "Sicily", "XX", "CH", "1", "1", "Palermo", "2", "2", "newone"},
			{"GEOADD", "Sicily", "NX", "XX", "1", "1", "a"}, {"GEOADD", "Sicily", "1", "1"}, {"GEOADD", "Sicily", "CH", "NX", "XX"},
			{"GEOADD", "Sicily", "x", "1", "a"}, {"GEOADD", "Sicily", "1", "y", "a"}, {"GEOADD", "Sicily", "181", "1", "a"},
			{"GEOADD", "Sicily", "1", "86", "a"}, {"GEOADD", "Sicily", "inf", "1", "a"}, {"GEOADD", "Sicily", "-180.0000001", "-86", "a"},
			{"GEOADD", "str", "1", "1", "a"}, {"GEOADD", "Sicily", "GT", "1", "1", "a"},
			{"GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"},
			{"GEODIST", "Sicily", "Palermo", "Catania"}, {"GEODIST", "Sicily", "Palermo", "Catania", "km"},
			{"GEODIST", "Sicily", "Palermo", "Catania", "MI"}, {"GEODIST", "Sicily", "Palermo", "Catania", "ft"},
			{"GEODIST", "Sicily", "Palermo", "Catania", "yd"}, {"GEODIST", "Sicily", "Palermo", "Catania", "m", "x"},
			{"GEODIST", "Sicily", "Palermo", "nope"}, {"GEODIST", "missing", "a", "b"}, {"GEODIST", "str", "a", "b"},
			{"GEODIST", "Sicily", "Palermo", "Palermo"}, {"GEODIST", "edge", "ne", "sw"}, {"GEODIST", "edge", "origin", "near"},
			{"GEODIST", "missing", "a", "b", "yd"},
			{"GEOPOS", "Sicily", "Palermo", "nope", "Catania"}, {"GEOPOS", "missing", "a"}, {"GEOPOS", "str", "a"},
			{"GEOPOS", "edge", "ne", "sw", "origin", "near"}, {"GEOPOS", "plain", "zero", "neg", "huge", "inf", "ninf", "big63"}, {"GEOHASH", "plain", "huge", "neg", "inf", "ninf", "big63"},
			{"GEODIST", "plain", "huge", "neg"}, {"GEOSEARCH", "plain", "FROMMEMBER", "neg", "BYRADIUS", "100", "km"},
			{"GEOHASH", "Sicily", "Palermo", "nope", "Catania"}, {"GEOHASH", "missing", "a"}, {"GEOHASH", "str", "a"},
			{"GEOHASH", "edge", "ne", "sw", "origin", "near"}, {"GEOHASH", "Sicily"}, {"GEOPOS", "Sicily"},
		} {
			d.run(c...)
		}
		for _, k := range []string{"Sicily", "big", "edge", "missing", "str"} {
			for _, c := range [][]string{
				{"GEORADIUS", k, "15", "37", "200", "km"}, {"GEORADIUS", k, "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"},
				{"GEORADIUS", k, "15", "37", "2000", "km", "ASC", "COUNT", "5"}, {"GEORADIUS", k, "15", "37", "2000", "km", "DESC", "COUNT", "3", "WITHDIST"},
				{"GEORADIUS", k, "0", "45", "5000", "km", "COUNT", "4", "ANY"}, {"GEORADIUS", k, "0", "45", "500", "mi", "WITHDIST", "DESC"},
				{"GEORADIUS", k, "15", "37", "0", "m"}, {"GEORADIUS", k, "15", "37", "-1", "m"}, {"GEORADIUS", k, "15", "37", "x", "m"},
				{"GEORADIUS", k, "15", "37", "1", "yd"}, {"GEORADIUS", k, "200", "37", "1", "m"}, {"GEORADIUS", k, "x", "37", "1", "m"},
				{"GEORADIUS", k, "15", "37", "1", "m", "COUNT", "0"}, {"GEORADIUS", k, "15", "37", "1", "m", "COUNT", "x"},
				{"GEORADIUS", k, "15", "37", "1", "m", "ANY"}, {"GEORADIUS", k, "15", "37", "1", "m", "BOGUS"},
				{"GEORADIUS", k, "15", "37", "1", "m", "COUNT"}, {"GEORADIUS", k, "15", "37", "200", "km", "STORE", "dst", "WITHDIST"},
				{"GEORADIUS", k, "15", "37", "200", "km", "FROMLONLAT", "1", "1"},
				{"GEORADIUS_RO", k, "15", "37", "200", "km", "WITHDIST"}, {"GEORADIUS_RO", k, "15", "37", "200", "km", "STORE", "dst"},
				{"GEORADIUSBYMEMBER", k, "Palermo", "200", "km", "WITHDIST", "ASC"}, {"GEORADIUSBYMEMBER", k, "p7", "800", "km", "COUNT", "10"},
				{"GEORADIUSBYMEMBER", k, "nope", "200", "km"}, {"GEORADIUSBYMEMBER", k, "nope", "x", "km"},
				{"GEORADIUSBYMEMBER", k, "Palermo", "x", "km"}, {"GEORADIUSBYMEMBER", k, "origin", "100", "km", "WITHCOORD"},
				{"GEORADIUSBYMEMBER_RO", k, "p3", "1000", "km", "WITHHASH", "COUNT", "3", "DESC"},
				{"GEOSEARCH", k, "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHCOORD", "WITHDIST", "WITHHASH"},
				{"GEOSEARCH", k, "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "ASC"},
				{"GEOSEARCH", k, "FROMMEMBER", "p1", "BYBOX", "1000", "300", "km", "DESC", "WITHDIST"},
				{"GEOSEARCH", k, "FROMLONLAT", "0", "45", "BYBOX", "3000", "2000", "km", "COUNT", "7", "WITHDIST"},
				{"GEOSEARCH", k, "FROMLONLAT", "0", "45", "BYRADIUS", "3000", "km", "COUNT", "7", "ANY"},
				{"GEOSEARCH", k, "FROMLONLAT", "179.9", "85", "BYRADIUS", "500", "km", "WITHDIST"},
				{"GEOSEARCH", k, "FROMLONLAT", "-179.9", "-85", "BYBOX", "500", "500", "km", "WITHDIST"},
				{"GEOSEARCH", k, "FROMLONLAT", "0", "0", "BYRADIUS", "20", "m", "WITHDIST", "WITHCOORD"},
				{"GEOSEARCH", k, "BYRADIUS", "10", "km"}, {"GEOSEARCH", k, "FROMLONLAT", "1", "1"},
				{"GEOSEARCH", k, "FROMLONLAT", "1", "1", "FROMMEMBER", "a", "BYRADIUS", "1", "m"},
				{"GEOSEARCH", k, "FROMLONLAT", "1", "1", "BYRADIUS", "1", "m", "BYBOX", "1", "1", "m"},
				{"GEOSEARCH", k, "FROMLONLAT", "1", "1", "BYBOX", "-1", "1", "m"}, {"GEOSEARCH", k, "FROMLONLAT", "1", "1", "BYBOX", "x", "1", "m"},
				{"GEOSEARCH", k, "FROMLONLAT", "1", "1", "BYBOX", "1", "y", "m"}, {"GEOSEARCH", k, "FROMLONLAT", "1", "1", "BYBOX", "1", "1", "au"},
				{"GEOSEARCH", k, "FROMMEMBER", "nope", "BYRADIUS", "1", "m"}, {"geosearch", k, "frommember", "Palermo", "byradius", "1", "m", "storedist"},
				{"GEOSEARCH", k, "FROMLONLAT", "1", "1", "BYRADIUS", "1", "m", "STORE", "x"},
				{"GEOSEARCH", k, "FROMLONLAT", "1", "1", "BYRADIUS", "1", "m", "ANY"},
			} {
				d.run(c...)
			}
			for _, c := range [][]string{
				{"GEORADIUS", k, "15", "37", "200", "km", "STORE", "dst"}, {"GEORADIUS", k, "15", "37", "2000", "km", "STOREDIST", "dst", "COUNT", "2"},
				{"GEORADIUSBYMEMBER", k, "Palermo", "200", "km", "STOREDIST", "dst"}, {"GEORADIUS", k, "0", "45", "100", "m", "STORE", "dst"},
				{"GEOSEARCHSTORE", "dst", k, "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"},
				{"GEOSEARCHSTORE", "dst", k, "FROMLONLAT", "0", "45", "BYBOX", "4000", "4000", "km", "STOREDIST"},
				{"GEOSEARCHSTORE", "dst", k, "FROMLONLAT", "0", "45", "BYBOX", "4000", "4000", "km", "WITHDIST"},
				{"GEOSEARCHSTORE", "dst", k, "FROMMEMBER", "nope", "BYRADIUS", "1", "m"},
				{"GEOSEARCHSTORE", "str", k, "FROMLONLAT", "0", "45", "BYRADIUS", "4000", "km", "COUNT", "3", "DESC"},
			} {
				d.run(c...)
				d.run("ZRANGE", "dst", "0", "-1", "WITHSCORES")
				d.run("OBJECT", "ENCODING", "dst")
				d.run("TYPE", "str")
			}
			d.run("SET", "str", "v")
		}
	}
	t.Run("resp2", func(t *testing.T) {
		d.t = t
		setup()
		script()
	})
	t.Run("resp3", func(t *testing.T) {
		d.t = t
		d.tc.do("HELLO", "3")
		d.rd.do("HELLO", "3")
		defer func() { d.tc.do("HELLO", "2"); d.rd.do("HELLO", "2") }()
		setup()
		script()
	})
}

// TestDifferentialRandomGeo compares random searches (centers, radii,
// boxes, units, counts, orders) over random point sets on both servers.
func TestDifferentialRandomGeo(t *testing.T) {
	d := newDiffer(t, 5)
	r := rand.New(rand.NewPCG(5, 23))
	units := []string{"m", "km", "mi", "ft"}
	for round := range 6 {
		d.run("DEL", "g")
		n := 20 + r.IntN(300)
		c := []string{"GEOADD", "g"}
		cLon, cLat := -170+r.Float64()*340, -80+r.Float64()*160
		spread := []float64{0.01, 1, 10, 60}[round%4]
		for i := range n {
			lon := min(max(cLon+(r.Float64()-0.5)*spread, -180), 180)
			lat := min(max(cLat+(r.Float64()-0.5)*spread, -85), 85)
			c = append(c, strconv.FormatFloat(lon, 'f', 7, 64), strconv.FormatFloat(lat, 'f', 7, 64), fmt.Sprint("m", i))
		}
		d.run(c...)
		for range 150 {
			lon := strconv.FormatFloat(min(max(cLon+(r.Float64()-0.5)*spread, -180), 180), 'f', 5, 64)
			lat := strconv.FormatFloat(min(max(cLat+(r.Float64()-0.5)*spread, -85), 85), 'f', 5, 64)
			u := units[r.IntN(len(units))]
			size := func() string {
				return strconv.FormatFloat(r.Float64()*spread*111000/map[string]float64{"m": 1, "km": 1000, "mi": 1609.34, "ft": 0.3048}[u], 'f', 3, 64)
			}
			var q []string
			switch r.IntN(4) {
			case 0:
				q = []string{"GEORADIUS", "g", lon, lat, size(), u}
			case 1:
				q = []string{"GEORADIUSBYMEMBER", "g", fmt.Sprint("m", r.IntN(n)), size(), u}
			case 2:
				q = []string{"GEOSEARCH", "g", "FROMLONLAT", lon, lat, "BYBOX", size(), size(), u}
			case 3:
				q = []string{"GEOSEARCH", "g", "FROMMEMBER", fmt.Sprint("m", r.IntN(n)), "BYRADIUS", size(), u}
			}
			q = append(q, "WITHDIST", "WITHCOORD", "WITHHASH")
			switch r.IntN(3) {
			case 0:
				q = append(q, "ASC")
			case 1:
				q = append(q, "DESC")
			}
			if r.IntN(3) == 0 {
				q = append(q, "COUNT", strconv.Itoa(1+r.IntN(10)))
			}
			d.run(q...)
		}
		d.run("GEODIST", "g", "m0", "m1", units[r.IntN(len(units))])
		d.run(append([]string{"GEOPOS", "g"}, "m0", "m1", "m2", "m3")...)
		d.run(append([]string{"GEOHASH", "g"}, "m0", "m1", "m2", "m3")...)
	}
}
