package geo

import "math"

// # Redis's geohash (geohash.c, geohash_helper.c), ported
//
// A position is a 52-bit interleaved geohash (26 steps of longitude and
// latitude, latitude limited to ±85.05112878 as in EPSG:3857) stored as
// a sorted set score. The arithmetic follows the C source operation by
// operation in float64; explicit float64 conversions keep the compiler
// from fusing a multiply and an add (Go may fuse x*y+z on some
// architectures; C on amd64 does not), so positions and the boxes a
// search visits match Redis's bit for bit.

const (
	stepMax = 26 // 26*2 = 52 bits
	latMin  = -85.05112878
	latMax  = 85.05112878
	longMin = -180.0
	longMax = 180.0

	earthRadius = 6372797.560856 // Redis's EARTH_RADIUS_IN_METERS
	mercatorMax = 20037726.37
)

// piVar and dR are M_PI and M_PI/180.0 as C computes them: in double.
var (
	piVar = math.Pi
	dR    = piVar / 180.0
)

func degRad(ang float64) float64 { return float64(ang * dR) }
func radDeg(ang float64) float64 { return ang / dR }

type hashBits struct {
	bits uint64
	step uint8
}

func (h hashBits) zero() bool { return h.bits == 0 && h.step == 0 }

type hashRange struct{ min, max float64 }

type hashArea struct {
	hash      hashBits
	long, lat hashRange
}

func interleave64(xlo, ylo uint32) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	s := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | x<<s[i]) & b[i]
		y = (y | y<<s[i]) & b[i]
	}
	return x | y<<1
}

func deinterleave64(interleaved uint64) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	s := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := interleaved, interleaved>>1
	for i := 0; i < 6; i++ {
		x = (x | x>>s[i]) & b[i]
		y = (y | y>>s[i]) & b[i]
	}
	return x | y<<32
}

// encode is geohashEncode: ok false outside the ranges.
func encode(longR, latR hashRange, longitude, latitude float64, step uint8) (hashBits, bool) {
	if step > 32 || step == 0 {
		return hashBits{}, false
	}
	if longitude > longMax || longitude < longMin || latitude > latMax || latitude < latMin {
		return hashBits{}, false
	}
	if latitude < latR.min || latitude > latR.max || longitude < longR.min || longitude > longR.max {
		return hashBits{step: step}, false
	}
	latOffset := (latitude - latR.min) / (latR.max - latR.min)
	longOffset := (longitude - longR.min) / (longR.max - longR.min)
	latOffset *= float64(uint64(1) << step)
	longOffset *= float64(uint64(1) << step)
	return hashBits{bits: interleave64(uint32(latOffset), uint32(longOffset)), step: step}, true
}

var (
	wgsLong = hashRange{longMin, longMax}
	wgsLat  = hashRange{latMin, latMax}
)

// encodeWGS84 is geohashEncodeWGS84.
func encodeWGS84(longitude, latitude float64, step uint8) (hashBits, bool) {
	return encode(wgsLong, wgsLat, longitude, latitude, step)
}

// decode is geohashDecode.
func decode(longR, latR hashRange, h hashBits) (hashArea, bool) {
	if h.zero() {
		return hashArea{}, false
	}
	sep := deinterleave64(h.bits)
	latScale := latR.max - latR.min
	longScale := longR.max - longR.min
	ilato := uint32(sep)
	ilono := uint32(sep >> 32)
	div := float64(uint64(1) << h.step)
	var a hashArea
	a.hash = h
	a.lat.min = latR.min + float64(float64(float64(ilato)*1.0/div)*latScale)
	a.lat.max = latR.min + float64(float64(float64(uint64(ilato)+1)*1.0/div)*latScale)
	a.long.min = longR.min + float64(float64(float64(ilono)*1.0/div)*longScale)
	a.long.max = longR.min + float64(float64(float64(uint64(ilono)+1)*1.0/div)*longScale)
	return a, true
}

// decodeScore is Redis's decodeGeohash: a score to longitude, latitude.
func decodeScore(score float64) (xy [2]float64, ok bool) {
	a, ok := decode(wgsLong, wgsLat, hashBits{bits: scoreBits(score), step: stepMax})
	if !ok {
		return xy, false
	}
	xy[0] = (a.long.min + a.long.max) / 2
	xy[0] = min(max(xy[0], longMin), longMax)
	xy[1] = (a.lat.min + a.lat.max) / 2
	xy[1] = min(max(xy[1], latMin), latMax)
	return xy, true
}

// scoreBits is C's (uint64_t)score as GCC compiles it for amd64: a
// signed conversion below 2^63 (cvttsd2si: exact, and 0x8000000000000000
// for what does not fit, -inf included), else the conversion of score -
// 2^63 with the top bit flipped (0 from 2^64 up, +inf and NaN).
func scoreBits(score float64) uint64 {
	const two63 = 1 << 63
	cvt := func(f float64) uint64 {
		if f >= -two63 && f < two63 {
			return uint64(int64(f))
		}
		return 1 << 63
	}
	if score < two63 {
		return cvt(score)
	}
	return cvt(score-two63) ^ 1<<63
}

func moveX(h *hashBits, d int) {
	if d == 0 {
		return
	}
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - uint(h.step)*2)
	if d > 0 {
		x = x + (zz + 1)
	} else {
		x = x | zz
		x = x - (zz + 1)
	}
	x &= uint64(0xaaaaaaaaaaaaaaaa) >> (64 - uint(h.step)*2)
	h.bits = x | y
}

func moveY(h *hashBits, d int) {
	if d == 0 {
		return
	}
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - uint(h.step)*2)
	if d > 0 {
		y = y + (zz + 1)
	} else {
		y = y | zz
		y = y - (zz + 1)
	}
	y &= uint64(0x5555555555555555) >> (64 - uint(h.step)*2)
	h.bits = x | y
}

// neighbors are the 8 boxes around one, in geohashNeighbors's fields.
type neighbors struct {
	north, south, east, west, northEast, northWest, southEast, southWest hashBits
}

func neighborsOf(h hashBits) neighbors {
	n := neighbors{h, h, h, h, h, h, h, h}
	moveX(&n.east, 1)
	moveX(&n.west, -1)
	moveY(&n.south, -1)
	moveY(&n.north, 1)
	moveX(&n.northWest, -1)
	moveY(&n.northWest, 1)
	moveX(&n.northEast, 1)
	moveY(&n.northEast, 1)
	moveX(&n.southEast, 1)
	moveY(&n.southEast, -1)
	moveX(&n.southWest, -1)
	moveY(&n.southWest, -1)
	return n
}

// Shape types.
const (
	circular = iota + 1
	rectangle
)

// shape is Redis's GeoShape: a circle or a box around xy, its sizes in
// the request's unit, conversion the unit in meters.
type shape struct {
	typ           int
	xy            [2]float64
	conversion    float64
	radius        float64
	width, height float64
	bounds        [4]float64
}

func estimateStepsByRadius(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	step = min(max(step, 1), 26)
	return uint8(step)
}

func (s *shape) boundingBox() {
	longitude, latitude := s.xy[0], s.xy[1]
	var height, width float64
	if s.typ == circular {
		height = s.conversion * s.radius
		width = s.conversion * s.radius
	} else {
		height = s.conversion * (s.height / 2)
		width = s.conversion * (s.width / 2)
	}
	latDelta := radDeg(height / earthRadius)
	longDeltaTop := radDeg(width / earthRadius / glibcCos(degRad(latitude+latDelta)))
	longDeltaBottom := radDeg(width / earthRadius / glibcCos(degRad(latitude-latDelta)))
	if latitude < 0 {
		s.bounds[0] = longitude - longDeltaBottom
		s.bounds[2] = longitude + longDeltaBottom
	} else {
		s.bounds[0] = longitude - longDeltaTop
		s.bounds[2] = longitude + longDeltaTop
	}
	s.bounds[1] = latitude - latDelta
	s.bounds[3] = latitude + latDelta
}

// areas is geohashCalculateAreasByShapeWGS84: the box of the center and
// its neighbors that can hold a point of the shape, in Redis's order
// (center, N, S, E, W, NE, NW, SE, SW; a zero box is skipped).
func (s *shape) areas() [9]hashBits {
	s.boundingBox()
	minLon, minLat, maxLon, maxLat := s.bounds[0], s.bounds[1], s.bounds[2], s.bounds[3]
	longitude, latitude := s.xy[0], s.xy[1]
	var radiusMeters float64
	if s.typ == circular {
		radiusMeters = s.radius
	} else {
		radiusMeters = math.Sqrt(float64(s.width/2*(s.width/2)) + float64(s.height/2*(s.height/2)))
	}
	radiusMeters *= s.conversion
	steps := estimateStepsByRadius(radiusMeters, latitude)
	hash, _ := encode(wgsLong, wgsLat, longitude, latitude, steps)
	nb := neighborsOf(hash)
	area, _ := decode(wgsLong, wgsLat, hash)
	north, _ := decode(wgsLong, wgsLat, nb.north)
	south, _ := decode(wgsLong, wgsLat, nb.south)
	east, _ := decode(wgsLong, wgsLat, nb.east)
	west, _ := decode(wgsLong, wgsLat, nb.west)
	decrease := north.lat.max < maxLat || south.lat.min > minLat || east.long.max < maxLon || west.long.min > minLon
	if steps > 1 && decrease {
		steps--
		hash, _ = encode(wgsLong, wgsLat, longitude, latitude, steps)
		nb = neighborsOf(hash)
		area, _ = decode(wgsLong, wgsLat, hash)
	}
	if steps >= 2 {
		if area.lat.min < minLat {
			nb.south, nb.southWest, nb.southEast = hashBits{}, hashBits{}, hashBits{}
		}
		if area.lat.max > maxLat {
			nb.north, nb.northEast, nb.northWest = hashBits{}, hashBits{}, hashBits{}
		}
		if area.long.min < minLon {
			nb.west, nb.southWest, nb.northWest = hashBits{}, hashBits{}, hashBits{}
		}
		if area.long.max > maxLon {
			nb.east, nb.southEast, nb.northEast = hashBits{}, hashBits{}, hashBits{}
		}
	}
	return [9]hashBits{hash, nb.north, nb.south, nb.east, nb.west, nb.northEast, nb.northWest, nb.southEast, nb.southWest}
}

// align52 is geohashAlign52Bits.
func align52(h hashBits) uint64 { return h.bits << (52 - uint(h.step)*2) }

func latDistance(lat1d, lat2d float64) float64 {
	return earthRadius * math.Abs(degRad(lat2d)-degRad(lat1d))
}

// distance is geohashGetDistance: haversine on Redis's earth radius.
func distance(lon1d, lat1d, lon2d, lat2d float64) float64 {
	lon1r := degRad(lon1d)
	lon2r := degRad(lon2d)
	v := glibcSin((lon2r - lon1r) / 2)
	if v == 0 {
		return latDistance(lat1d, lat2d)
	}
	lat1r := degRad(lat1d)
	lat2r := degRad(lat2d)
	u := glibcSin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(glibcCos(lat1r)*glibcCos(lat2r))*v)*v)
	return 2.0 * earthRadius * glibcAsin(math.Sqrt(a))
}

// within is geoWithinShape: the point of score decoded, and its distance
// from the shape's center when inside.
func (s *shape) within(score float64) (xy [2]float64, dist float64, ok bool) {
	xy, ok = decodeScore(score)
	if !ok {
		return xy, 0, false
	}
	if s.typ == circular {
		dist = distance(s.xy[0], s.xy[1], xy[0], xy[1])
		return xy, dist, dist <= s.radius*s.conversion
	}
	widthM, heightM := s.width*s.conversion, s.height*s.conversion
	if latDistance(xy[1], s.xy[1]) > heightM/2 {
		return xy, 0, false
	}
	if distance(xy[0], xy[1], s.xy[0], xy[1]) > widthM/2 {
		return xy, 0, false
	}
	return xy, distance(s.xy[0], s.xy[1], xy[0], xy[1]), true
}
