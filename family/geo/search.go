package geo

import (
	"slices"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/family/zset"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// # GEOSEARCH GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER (and _RO)

// Search variants (georadiusGeneric's flags).
const (
	fCoords      = 1 << iota // GEORADIUS: around coordinates
	fMember                  // GEORADIUSBYMEMBER: around a member
	fNoStore                 // the _RO forms: no STORE/STOREDIST
	fSearch                  // GEOSEARCH's arguments
	fSearchStore             // GEOSEARCHSTORE: STOREDIST without a key
)

const (
	sortNone = iota
	sortAsc
	sortDesc
)

// query is a parsed search.
type query struct {
	shape                          shape
	withDist, withHash, withCoords bool
	any                            bool
	sort                           int
	count                          int64
	storeKey                       []byte
	storeDist                      bool
}

// parseSearch is georadiusGeneric's parsing, for a source that exists
// (score looks a member up) or not (score nil: member positions and
// GEORADIUSBYMEMBER's radius are not read, as in Redis). It returns the
// error to answer, in Redis's order.
func parseSearch(args [][]byte, flags int, score func([]byte) (float64, bool)) (q query, errMsg string) {
	exists := score != nil
	base := 0
	fromMember := func(m []byte) string {
		sc, ok := score(m)
		if !ok {
			return command.ErrGeoMemberMissing
		}
		q.shape.xy, _ = decodeScore(sc)
		return ""
	}
	switch {
	case flags&fCoords != 0:
		base = 6
		q.shape.typ = circular
		if q.shape.xy, errMsg = lonLat(args[2], args[3]); errMsg != "" {
			return q, errMsg
		}
		if errMsg = radiusArg(&q.shape, args[4], args[5]); errMsg != "" {
			return q, errMsg
		}
	case flags&fMember != 0 && !exists:
		base = 5
	case flags&fMember != 0:
		base = 5
		q.shape.typ = circular
		if errMsg = fromMember(args[2]); errMsg != "" {
			return q, errMsg
		}
		if errMsg = radiusArg(&q.shape, args[3], args[4]); errMsg != "" {
			return q, errMsg
		}
	default:
		base = 2
		if flags&fSearchStore != 0 {
			base = 3
			q.storeKey = args[1]
		}
	}
	var frommember, fromloc, byradius, bybox bool
	rest := args[base:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		left := len(rest) - i - 1
		switch {
		case command.EqFold(a, "withdist"):
			q.withDist = true
		case command.EqFold(a, "withhash"):
			q.withHash = true
		case command.EqFold(a, "withcoord"):
			q.withCoords = true
		case command.EqFold(a, "any"):
			q.any = true
		case command.EqFold(a, "asc"):
			q.sort = sortAsc
		case command.EqFold(a, "desc"):
			q.sort = sortDesc
		case command.EqFold(a, "count") && left >= 1:
			n, ok := command.ParseInt(rest[i+1])
			if !ok {
				return q, command.ErrNotInteger
			}
			if n <= 0 {
				return q, command.ErrGeoCountPositive
			}
			q.count = n
			i++
		case (command.EqFold(a, "store") || command.EqFold(a, "storedist")) && left >= 1 &&
			flags&fNoStore == 0 && flags&fSearch == 0:
			q.storeKey = rest[i+1]
			q.storeDist = command.EqFold(a, "storedist")
			i++
		case command.EqFold(a, "storedist") && flags&fSearch != 0 && flags&fSearchStore != 0:
			q.storeDist = true
		case command.EqFold(a, "frommember") && left >= 1 && flags&fSearch != 0 && !fromloc:
			if exists {
				if errMsg = fromMember(rest[i+1]); errMsg != "" {
					return q, errMsg
				}
			}
			frommember = true
			i++
		case command.EqFold(a, "fromlonlat") && left >= 2 && flags&fSearch != 0 && !frommember:
			if q.shape.xy, errMsg = lonLat(rest[i+1], rest[i+2]); errMsg != "" {
				return q, errMsg
			}
			fromloc = true
			i += 2
		case command.EqFold(a, "byradius") && left >= 2 && flags&fSearch != 0 && !bybox:
			if errMsg = radiusArg(&q.shape, rest[i+1], rest[i+2]); errMsg != "" {
				return q, errMsg
			}
			q.shape.typ = circular
			byradius = true
			i += 2
		case command.EqFold(a, "bybox") && left >= 3 && flags&fSearch != 0 && !byradius:
			if errMsg = boxArg(&q.shape, rest[i+1], rest[i+2], rest[i+3]); errMsg != "" {
				return q, errMsg
			}
			q.shape.typ = rectangle
			bybox = true
			i += 3
		default:
			return q, command.ErrSyntax
		}
	}
	if q.storeKey != nil && (q.withDist || q.withHash || q.withCoords) {
		if flags&fSearchStore != 0 {
			return q, "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
		}
		return q, "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
	}
	if flags&fSearch != 0 && !frommember && !fromloc {
		return q, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(args[0])
	}
	if flags&fSearch != 0 && !byradius && !bybox {
		return q, "ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(args[0])
	}
	if q.any && q.count == 0 {
		return q, command.ErrGeoAnyNoCount
	}
	return q, ""
}

// point is one result (geoPoint); member aliases the set until copied.
type point struct {
	member []byte
	xy     [2]float64
	dist   float64
	score  float64
}

// search is membersOfAllNeighbors over z: the points of the shape in
// Redis's order (box by box, each in score order), at most limit of them
// when limit > 0 (ANY). Members are copied.
func search(c *command.Ctx, z value.ZSetView, s *shape, limit int64) []point {
	boxes := s.areas()
	var out []point
	full := func() bool { return len(out) > 0 && limit > 0 && int64(len(out)) >= limit }
	inRange := func(lo, hi float64) {
		add := func(m value.ZMember) bool {
			if m.Score >= hi {
				return false
			}
			if xy, d, ok := s.within(m.Score); ok {
				out = append(out, point{member: append([]byte(nil), m.Member...), xy: xy, dist: d, score: m.Score})
			}
			return !full()
		}
		if z.Tree != nil {
			from := z.Tree.CountScore(func(sc float64) bool { return sc < lo })
			if from < z.Tree.Len() {
				z.Tree.Walk(from, false, add)
			}
			return
		}
		it := value.ZSetMembers(z.Enc)
		for m, ok := it.Next(); ok; m, ok = it.Next() {
			if m.Score < lo {
				continue
			}
			if !add(m) {
				return
			}
		}
	}
	last := 0
	for i, b := range boxes {
		if b.zero() {
			continue
		}
		if last != 0 && b == boxes[last] {
			continue
		}
		if full() {
			break
		}
		lo := float64(align52(b))
		b.bits++
		hi := float64(align52(b))
		inRange(lo, hi)
		last = i
	}
	return out
}

// results sorts the points as asked and keeps those replied.
func (q *query) results(pts []point) []point {
	sortBy := q.sort
	if q.count != 0 && sortBy == sortNone && !q.any {
		sortBy = sortAsc
	}
	switch sortBy {
	case sortAsc:
		slices.SortStableFunc(pts, func(a, b point) int { return cmpDist(a.dist, b.dist) })
	case sortDesc:
		slices.SortStableFunc(pts, func(a, b point) int { return -cmpDist(a.dist, b.dist) })
	}
	if q.count != 0 && int64(len(pts)) > q.count {
		pts = pts[:q.count]
	}
	for i := range pts {
		pts[i].dist /= q.shape.conversion
	}
	return pts
}

func cmpDist(a, b float64) int {
	switch {
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return -1
}

// searchCommand is georadiusGeneric: srcAt is the source key's position.
func searchCommand(c *command.Ctx, args [][]byte, srcAt, flags int) {
	// A first parse without the source finds the STORE key (it reads
	// nothing the real parse would not, so it fails only where the real
	// one fails as well).
	pre, preErr := parseSearch(args, flags, nil)
	if preErr == "" && pre.storeKey != nil {
		searchStore(c, args, srcAt, flags, pre.storeKey)
		return
	}
	var q query
	var errMsg string
	var pts []point
	found, wrong := zsetView(c, args[srcAt], func(z value.ZSetView) {
		if q, errMsg = parseSearch(args, flags, z.Score); errMsg != "" {
			return
		}
		pts = search(c, z, &q.shape, anyLimit(&q))
	})
	switch {
	case wrong:
		return
	case !found:
		if errMsg = preErr; errMsg == "" {
			c.W.WriteArray(0)
			return
		}
	}
	if errMsg != "" {
		c.W.WriteError(errMsg)
		return
	}
	pts = q.results(pts)
	options := 0
	for _, on := range []bool{q.withDist, q.withHash, q.withCoords} {
		if on {
			options++
		}
	}
	c.W.WriteArray(len(pts))
	for i, p := range pts {
		if i&command.ReplyYieldEvery == command.ReplyYieldEvery {
			c.Yield()
		}
		if options > 0 {
			c.W.WriteArray(options + 1)
		}
		c.W.WriteBulk(p.member)
		if q.withDist {
			c.W.WriteBulk(appendDistance(c.Scratch[:0], p.dist))
		}
		if q.withHash {
			c.W.WriteInt64(int64(p.score))
		}
		if q.withCoords {
			c.W.WriteArray(2)
			writeHuman(c, p.xy[0])
			writeHuman(c, p.xy[1])
		}
	}
}

func anyLimit(q *query) int64 {
	if q.any {
		return q.count
	}
	return 0
}

// searchStore is a search with STORE, STOREDIST or GEOSEARCHSTORE: the
// source read and the destination written in one Apply (an empty result,
// or a missing source, deletes the destination).
func searchStore(c *command.Ctx, args [][]byte, srcAt, flags int, storeKey []byte) {
	keys := []shard.Key{{DB: c.DB, Name: storeKey}, {DB: c.DB, Name: args[srcAt]}}
	lim := c.Limits()
	now := c.NowMs()
	stored := 0
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		stored = 0
		if exists[1] && cur[1].Type != shard.TypeZSet {
			return nil, nil, command.ErrWrongTypeAbort
		}
		next := make([]shard.Entry, 2)
		acts := make([]shard.Action, 2)
		if !exists[1] {
			if _, errMsg := parseSearch(args, flags, nil); errMsg != "" {
				return nil, nil, command.ReplyErr(errMsg)
			}
			acts[0] = shard.Delete
			return next, acts, nil
		}
		z := value.ViewZSet(cur[1].Value, cur[1].Obj)
		q, errMsg := parseSearch(args, flags, z.Score)
		if errMsg != "" {
			return nil, nil, command.ReplyErr(errMsg)
		}
		pts := q.results(search(c, z, &q.shape, anyLimit(&q)))
		if stored = len(pts); stored == 0 {
			acts[0] = shard.Delete
			return next, acts, nil
		}
		members := make([]value.ZMember, len(pts))
		for i, p := range pts {
			members[i] = value.ZMember{Member: p.member, Score: p.score}
			if q.storeDist {
				members[i].Score = p.dist
			}
		}
		slices.SortFunc(members, value.ZCompare)
		next[0], acts[0] = zset.StoreEntry(lim, members, c.DefaultExpire(now)), shard.Put
		return next, acts, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	if stored > 0 {
		c.Signal(storeKey)
	}
	c.W.WriteInt(stored)
}

func cmdGeoRadius(c *command.Ctx, args [][]byte)   { searchCommand(c, args, 1, fCoords) }
func cmdGeoRadiusRO(c *command.Ctx, args [][]byte) { searchCommand(c, args, 1, fCoords|fNoStore) }
func cmdGeoRadiusByMember(c *command.Ctx, args [][]byte) {
	searchCommand(c, args, 1, fMember)
}
func cmdGeoRadiusByMemberRO(c *command.Ctx, args [][]byte) {
	searchCommand(c, args, 1, fMember|fNoStore)
}
func cmdGeoSearch(c *command.Ctx, args [][]byte) { searchCommand(c, args, 1, fSearch) }
func cmdGeoSearchStore(c *command.Ctx, args [][]byte) {
	searchCommand(c, args, 2, fSearch|fSearchStore)
}

// storeWriteKeys marks, for WATCH, the keys GEORADIUS and
// GEORADIUSBYMEMBER write: those after STORE and STOREDIST.
func storeWriteKeys(db int, args [][]byte, mark func(db int, key []byte)) {
	for i := 2; i+1 < len(args); i++ {
		if command.EqFold(args[i], "store") || command.EqFold(args[i], "storedist") {
			mark(db, args[i+1])
			i++
		}
	}
}

// storeKeysOf locates GEORADIUS's and GEORADIUSBYMEMBER's keys (the
// source and those after STORE and STOREDIST), as Redis's getkeys_proc.
func storeKeysOf(args [][]byte, each func(i int)) {
	if len(args) > 1 {
		each(1)
	}
	for i := 2; i+1 < len(args); i++ {
		if command.EqFold(args[i], "store") || command.EqFold(args[i], "storedist") {
			each(i + 1)
			i++
		}
	}
}
