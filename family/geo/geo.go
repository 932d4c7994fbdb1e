// Package geo serves the geo commands: GEOADD GEODIST GEOHASH GEOPOS
// GEOSEARCH GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER GEORADIUS_RO
// GEORADIUSBYMEMBER_RO, with Redis 7.0's semantics, replies and error
// strings (geo.c, geohash.c, geohash_helper.c of 7.0.15, ported in
// geohash.go).
//
// As in Redis, a geo set is a sorted set whose scores are 52-bit
// geohashes: GEOADD is ZADD (package zset's Add: the same encodings,
// thresholds, quota reservation and wake-ups of blocked ZPOPs), and every
// sorted set command works on a geo set. A search visits the nine
// geohash boxes around its center, in Redis's order, each a score range
// of the sorted set found in O(log n) on a tree, so replies without
// ASC/DESC come in Redis's order too. Reads run under the sub-shard lock
// and copy what the reply needs; the STORE forms read the source and
// write the destination in one Partition.Apply, which reserves the
// destination's bytes in the tenant's quota before anything changes.
//
// Numbers are printed as Redis prints them: distances with 4 decimals
// (fixedpoint_d2string: llrint, ties to even), coordinates as "%.17Lf"
// with trailing zeros removed (a bulk string in RESP2, a double in
// RESP3), hashes as integers.
package geo

import (
	"math"
	"strconv"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/family/zset"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// # Formatting

// appendDistance is addReplyDoubleDistance's fixedpoint_d2string(d, 4).
func appendDistance(dst []byte, d float64) []byte {
	if d == 0 {
		return append(dst, "0.0000"...)
	}
	v := math.RoundToEven(d * 10000)
	if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) >= 1<<63 {
		v = math.MinInt64 // llrint's overflow value
	}
	sv := int64(v)
	neg := sv < 0
	var u uint64
	if neg {
		dst = append(dst, '-')
		u = uint64(-sv)
		if sv == math.MinInt64 {
			u = 1 << 63
		}
	} else {
		u = uint64(sv)
	}
	digits := strconv.AppendUint(nil, u, 10)
	for len(digits) < 5 {
		digits = append([]byte{'0'}, digits...)
	}
	dst = append(dst, digits[:len(digits)-4]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-4:]...)
}

// appendHuman is ld2string's LD_STR_HUMAN: "%.17Lf" of the value, its
// trailing zeros (and a trailing dot) removed, "-0" printed "0".
func appendHuman(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	s := strconv.AppendFloat(nil, f, 'f', 17, 64)
	i := len(s)
	for i > 0 && s[i-1] == '0' {
		i--
	}
	if i > 0 && s[i-1] == '.' {
		i--
	}
	s = s[:i]
	if string(s) == "-0" {
		s = []byte("0")
	}
	return append(dst, s...)
}

// writeHuman is addReplyHumanLongDouble.
func writeHuman(c *command.Ctx, f float64) {
	if c.W.RESP3 {
		b := append([]byte{','}, appendHuman(nil, f)...)
		c.W.WriteRaw(append(b, '\r', '\n'))
		return
	}
	c.W.WriteBulk(appendHuman(nil, f))
}

// cfloat is C's "%f".
func cfloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// # Argument helpers

// lonLat is extractLongLatOrReply: ok false with the error to answer.
func lonLat(a, b []byte) (xy [2]float64, errMsg string) {
	var ok bool
	if xy[0], ok = zset.ParseFloat(a); !ok {
		return xy, command.ErrNotFloat
	}
	if xy[1], ok = zset.ParseFloat(b); !ok {
		return xy, command.ErrNotFloat
	}
	if xy[0] < longMin || xy[0] > longMax || xy[1] < latMin || xy[1] > latMax {
		return xy, command.ErrGeoInvalidLonLat + cfloat(xy[0]) + "," + cfloat(xy[1])
	}
	return xy, ""
}

// unit is extractUnitOrReply: meters per unit, or -1.
func unit(b []byte) float64 {
	switch {
	case command.EqFold(b, "m"):
		return 1
	case command.EqFold(b, "km"):
		return 1000
	case command.EqFold(b, "ft"):
		return 0.3048
	case command.EqFold(b, "mi"):
		return 1609.34
	}
	return -1
}

// radiusArg is extractDistanceOrReply.
func radiusArg(s *shape, num, u []byte) string {
	d, ok := zset.ParseFloat(num)
	if !ok {
		return command.ErrGeoNeedNumber
	}
	if d < 0 {
		return command.ErrGeoRadiusNeg
	}
	s.radius = d
	if s.conversion = unit(u); s.conversion < 0 {
		return command.ErrGeoUnitUnknown
	}
	return ""
}

// boxArg is extractBoxOrReply.
func boxArg(s *shape, w, h, u []byte) string {
	wv, ok := zset.ParseFloat(w)
	if !ok {
		return "ERR need numeric width"
	}
	hv, ok := zset.ParseFloat(h)
	if !ok {
		return command.ErrGeoNeedHeight
	}
	if hv < 0 || wv < 0 {
		return command.ErrGeoHeightNeg
	}
	s.width, s.height = wv, hv
	if s.conversion = unit(u); s.conversion < 0 {
		return command.ErrGeoUnitUnknown
	}
	return ""
}

// # GEOADD GEODIST GEOHASH GEOPOS

// cmdGeoAdd: GEOADD key [NX|XX] [CH] longitude latitude member [...] ->
// ZADD's reply.
func cmdGeoAdd(c *command.Ctx, args [][]byte) {
	var nx, xx, ch bool
	i := 2
opts:
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case command.EqFold(a, "nx"):
			nx = true
		case command.EqFold(a, "xx"):
			xx = true
		case command.EqFold(a, "ch"):
			ch = true
		default:
			break opts
		}
	}
	if (len(args)-i)%3 != 0 || xx && nx || len(args) == i {
		c.W.WriteError(command.ErrSyntax)
		return
	}
	n := (len(args) - i) / 3
	members := make([][]byte, n)
	scores := make([]float64, n)
	for j := range n {
		xy, msg := lonLat(args[i+3*j], args[i+3*j+1])
		if msg != "" {
			c.W.WriteError(msg)
			return
		}
		h, _ := encodeWGS84(xy[0], xy[1], stepMax)
		scores[j] = float64(align52(h))
		members[j] = args[i+3*j+2]
	}
	res, err := zset.Add(c, args[1], nx, xx, ch, members, scores)
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(res)
}

// zsetView runs fn on the sorted set at key under the lock; a key of
// another type answers WRONGTYPE and reports wrong.
func zsetView(c *command.Ctx, key []byte, fn func(z value.ZSetView)) (found, wrong bool) {
	return command.CollEntry(c, key, shard.TypeZSet, func(e shard.Entry) { fn(value.ViewZSet(e.Value, e.Obj)) })
}

// cmdGeoDist: GEODIST key member1 member2 [unit] -> the distance with 4
// decimals, or nil.
func cmdGeoDist(c *command.Ctx, args [][]byte) {
	toMeter := 1.0
	switch {
	case len(args) == 5:
		if toMeter = unit(args[4]); toMeter < 0 {
			c.W.WriteError(command.ErrGeoUnitUnknown)
			return
		}
	case len(args) > 5:
		c.W.WriteError(command.ErrSyntax)
		return
	}
	var s1, s2 float64
	var ok1, ok2 bool
	found, wrong := zsetView(c, args[1], func(z value.ZSetView) {
		s1, ok1 = z.Score(args[2])
		if ok1 {
			s2, ok2 = z.Score(args[3])
		}
	})
	if wrong {
		return
	}
	if !found || !ok1 || !ok2 {
		c.W.WriteNull()
		return
	}
	a, _ := decodeScore(s1)
	b, _ := decodeScore(s2)
	c.W.WriteBulk(appendDistance(nil, distance(a[0], a[1], b[0], b[1])/toMeter))
}

// scores looks the members up: their scores and whether each is there.
func scores(c *command.Ctx, args [][]byte) (sc []float64, has []bool, wrong bool) {
	_, wrong = zsetView(c, args[1], func(z value.ZSetView) { sc, has, _ = z.Scores(args[2:]) })
	return sc, has, wrong
}

// cmdGeoHash: GEOHASH key member [...] -> an 11-character standard
// geohash per member (re-encoded over latitudes ±90), or nil.
func cmdGeoHash(c *command.Ctx, args [][]byte) {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	sc, has, wrong := scores(c, args)
	if wrong {
		return
	}
	c.W.WriteArray(len(args) - 2)
	for j := range args[2:] {
		if has == nil || !has[j] {
			c.W.WriteNull()
			continue
		}
		xy, _ := decodeScore(sc[j])
		h, _ := encode(hashRange{-180, 180}, hashRange{-90, 90}, xy[0], xy[1], 26)
		var buf [11]byte
		for i := range 11 {
			idx := 0
			if i < 10 {
				idx = int(h.bits>>(52-(uint(i)+1)*5)) & 0x1f
			}
			buf[i] = alphabet[idx]
		}
		c.W.WriteBulk(buf[:])
	}
}

// cmdGeoPos: GEOPOS key member [...] -> [longitude, latitude] per member,
// or a null array.
func cmdGeoPos(c *command.Ctx, args [][]byte) {
	sc, has, wrong := scores(c, args)
	if wrong {
		return
	}
	c.W.WriteArray(len(args) - 2)
	for j := range args[2:] {
		if has == nil || !has[j] {
			c.W.WriteNullArray()
			continue
		}
		xy, _ := decodeScore(sc[j])
		c.W.WriteArray(2)
		writeHuman(c, xy[0])
		writeHuman(c, xy[1])
	}
}
