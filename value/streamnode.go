package value

const entryDeleted = 1

// snode is one node: entries ids[i], whose record is
// data[offs[i]:offs[i+1]] (the last runs to len(data)): a flags byte, the
// number of fields as a uvarint, then each field and value as a uvarint
// length and its bytes.
type snode struct {
	ids        []StreamID
	offs       []uint32
	data       []byte
	live, dead int32
	// lpRest is the size Redis's listpack for this node would have, but
	// for its two counters (lpBytes): the node-bytes rule is Redis's.
	lpRest int
}

func (n *snode) size() int64 {
	return streamNodeBase + int64(cap(n.ids))*streamIDSize + int64(cap(n.offs))*4 + int64(cap(n.data))
}

func (n *snode) rec(i int) []byte {
	end := len(n.data)
	if i+1 < len(n.offs) {
		end = int(n.offs[i+1])
	}
	return n.data[n.offs[i]:end]
}

func (n *snode) deleted(i int) bool { return n.data[n.offs[i]]&entryDeleted != 0 }

// lpBytes is the size of the listpack Redis would hold for the node
// (stream.c's layout: a master entry of the first entry's fields, then
// per entry its flags, id deltas, fields unless they are the master's,
// values and lp-count), for Redis's node-bytes rule.
func (n *snode) lpBytes() int { return n.lpRest + lpIntElem(int64(n.live)) + lpIntElem(int64(n.dead)) }

// sameFields reports whether pairs have the node's master fields (its
// first entry's).
func (n *snode) sameFields(pairs [][]byte) bool {
	rec := n.rec(0)
	if StreamFieldCount(rec) != len(pairs)/2 {
		return false
	}
	i, same := 0, true
	StreamFields(rec, func(f, _ []byte) {
		if same && string(f) != string(pairs[2*i]) {
			same = false
		}
		i++
	})
	return same
}

// listpack element sizes (listpack.c: encoding, data and backlen).
func lpIntElem(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 2
	case v >= -4096 && v <= 4095:
		return 3
	case v >= -32768 && v <= 32767:
		return 4
	case v >= -8388608 && v <= 8388607:
		return 5
	case v >= -2147483648 && v <= 2147483647:
		return 6
	}
	return 10
}

func lpStrElem(b []byte) int {
	if v, ok := lpInt(b); ok {
		return lpIntElem(v)
	}
	l := len(b)
	switch {
	case l < 64:
		l++
	case l < 4096:
		l += 2
	default:
		l += 5
	}
	switch {
	case l <= 127:
		return l + 1
	case l < 16383:
		return l + 2
	case l < 2097151:
		return l + 3
	case l < 268435455:
		return l + 4
	}
	return l + 5
}

// lpInt is lpStringToInt64: a string listpack stores as an integer.
func lpInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '-' {
		neg, i = true, 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' || v > (^uint64(0)-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// lpEntry is the listpack size of an entry (without the node's counters).
func lpEntry(id, master StreamID, pairs [][]byte, same bool) int {
	flags := int64(0)
	if same {
		flags = 2 // STREAM_ITEM_FLAG_SAMEFIELDS
	}
	nf := len(pairs) / 2
	n := lpIntElem(flags) + lpIntElem(int64(id.Ms-master.Ms)) + lpIntElem(int64(id.Seq-master.Seq))
	cnt := nf + 3
	if !same {
		n += lpIntElem(int64(nf))
		cnt += nf + 1
		for i := 0; i < len(pairs); i += 2 {
			n += lpStrElem(pairs[i])
		}
	}
	for i := 1; i < len(pairs); i += 2 {
		n += lpStrElem(pairs[i])
	}
	return n + lpIntElem(int64(cnt))
}

// lpMaster is the size of a new node's header, end byte and master entry
// (fields and terminator), without its counters.
func lpMaster(pairs [][]byte) int {
	n := 6 + 1 + lpIntElem(int64(len(pairs)/2)) + lpIntElem(0)
	for i := 0; i < len(pairs); i += 2 {
		n += lpStrElem(pairs[i])
	}
	return n
}

// growCap is the capacity a buffer of capacity c gets to hold need
// elements: doubling, from at least min.
func growCap(c, need, min int) int {
	if need <= c {
		return c
	}
	nc := max(2*c, min)
	for nc < need {
		nc *= 2
	}
	return nc
}
