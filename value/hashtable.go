package value

// HashTable is a hash in its big encoding (Redis's "hashtable"): see
// table.go for the layout, the accounting and the SCAN order. It is not
// safe for concurrent use; package shard serializes it under a sub-shard
// lock. The zero value is not usable: NewHashTable or HashTableFrom.
type HashTable struct{ t table }

// NewHashTable returns an empty table sized for sizeHint fields.
func NewHashTable(sizeHint int) *HashTable {
	return &HashTable{t: newTable(sizeHint, true)}
}

// HashTableFrom converts the compact encoding enc (see hash.go).
func HashTableFrom(enc []byte) (*HashTable, error) {
	h := NewHashTable(HashLen(enc))
	it := HashFields(enc)
	for f, v, ok := it.Next(); ok; f, v, ok = it.Next() {
		h.add(f, v, nameHash(f))
	}
	return h, it.Err()
}

// Len is the number of fields.
func (h *HashTable) Len() int { return h.t.n }

// Bytes is the accounted size (table.go, "Accounting").
func (h *HashTable) Bytes() int64 { return h.t.bytes() }

func hashRecLen(f, v []byte) int { return uvarintLen(len(f)) + len(f) + uvarintLen(len(v)) + len(v) }

// splitRec returns a hash record's field and value.
func splitRec(rec []byte) (f, v []byte) {
	f, rest := chunk(rec)
	v, _ = chunk(rest)
	return f, v
}

// Get returns the value of field (a slice of the table, valid until the
// next change).
func (h *HashTable) Get(field []byte) ([]byte, bool) {
	rec := h.t.lookup(field)
	if rec == nil {
		return nil, false
	}
	_, v := splitRec(rec)
	return v, true
}

// add appends a new field's record and indexes it.
func (h *HashTable) add(f, v []byte, hf uint64) {
	x, dst := h.t.a.alloc(hashRecLen(f, v))
	putChunk(putChunk(dst, f), v)
	h.t.insert(hf, x)
}

// PlanSet is Set's plan: the growth of Bytes that Set(fields, values)
// will cause, and the number of fields it will add, without changing
// anything (see table.go, "Accounting").
func (h *HashTable) PlanSet(fields, values [][]byte) (grow int64, added int) {
	x := newFieldIndex(fields)
	fill := h.t.a.fill()
	for i, f := range fields {
		if x.find(f) != i {
			continue // a later occurrence wins
		}
		v := values[i]
		if old, ok := h.Get(f); !ok {
			added++
			grow += ElemOverhead
		} else if len(old) == len(v) {
			continue // rewritten in place
		}
		grow += cost(&fill, hashRecLen(f, v))
	}
	return grow, added
}

// Set sets fields[i] to values[i] (a field given twice takes its last
// value) and returns the number of fields added. Its growth is what
// PlanSet computed.
func (h *HashTable) Set(fields, values [][]byte) (added int) {
	x := newFieldIndex(fields)
	var dead []deadRec
	for i, f := range fields {
		if x.find(f) != i {
			continue
		}
		v := values[i]
		hf := nameHash(f)
		si, pos, found := h.t.find(f, hf)
		if !found {
			h.add(f, v, hf)
			added++
			continue
		}
		b := &h.t.segs[si].b[pos]
		oldX := ref(b.ref - 1)
		_, old := splitRec(h.t.a.bytesAt(oldX))
		if len(old) == len(v) {
			copy(old, v)
			continue
		}
		nx, dst := h.t.a.alloc(hashRecLen(f, v))
		putChunk(putChunk(dst, f), v)
		b.ref = uint64(nx) + 1
		dead = append(dead, deadRec{oldX, hashRecLen(f, old)})
	}
	// Kills last: appending first keeps the growth exactly the plan's.
	h.t.killAll(dead)
	return added
}

// PlanDel is the number of distinct fields Del(fields) will remove.
func (h *HashTable) PlanDel(fields [][]byte) int {
	x := newFieldIndex(fields)
	n := 0
	for i, f := range fields {
		if _, ok := h.Get(f); ok && x.find(f) == i {
			n++
		}
	}
	return n
}

// Del removes fields and returns how many were present. It only shrinks
// the table.
func (h *HashTable) Del(fields [][]byte) (removed int) {
	for _, f := range fields {
		si, pos, found := h.t.find(f, nameHash(f))
		if !found {
			continue
		}
		x := ref(h.t.segs[si].b[pos].ref - 1)
		f, v := splitRec(h.t.a.bytesAt(x))
		n := hashRecLen(f, v)
		h.t.unindex(si, pos)
		h.t.kill(x, n)
		removed++
	}
	return removed
}

// Range calls fn for every field in an unspecified order until it
// returns false. The slices are valid until the next change.
func (h *HashTable) Range(fn func(field, value []byte) bool) {
	h.t.each(func(rec []byte) bool {
		f, v := splitRec(rec)
		return fn(f, v)
	})
}

// AppendEncoding appends the whole hash to dst in the compact encoding's
// layout (a count, then field/value pairs), for replies built after the
// lock is released; HashFields reads it.
func (h *HashTable) AppendEncoding(dst []byte) []byte {
	dst = HashAppendHeader(dst, h.t.n)
	h.Range(func(f, v []byte) bool {
		dst = HashAppendPair(dst, f, v)
		return true
	})
	return dst
}

// Scan is HSCAN over the table: fn gets about count fields from cursor on,
// in hash order; see table.scanFrom for the guarantee.
func (h *HashTable) Scan(cursor uint64, count int, fn func(field, value []byte)) (next uint64) {
	return h.t.scanFrom(cursor, count, func(rec []byte) { fn(splitRec(rec)) })
}

// Random returns a uniformly random field and its value.
func (h *HashTable) Random() (field, value []byte) { return splitRec(h.t.random()) }

// Clone returns a copy (COPY), its arena compacted.
func (h *HashTable) Clone() *HashTable { return &HashTable{t: h.t.clone()} }
