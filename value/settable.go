package value

// SetTable is a set in its big encoding (Redis's "hashtable"): see
// table.go. It is not safe for concurrent use. The zero value is not
// usable: NewSetTable or SetTableFrom.
type SetTable struct{ t table }

// NewSetTable returns an empty table sized for sizeHint members.
func NewSetTable(sizeHint int) *SetTable {
	return &SetTable{t: newTable(sizeHint, false)}
}

// SetTableFrom converts the compact encoding enc (see set.go) and adds
// members (nil for none): a conversion and the SADD that caused it.
func SetTableFrom(enc []byte, members [][]byte) (*SetTable, error) {
	s := NewSetTable(SetLen(enc) + len(members))
	it := SetMembers(enc)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		s.add(m, nameHash(m))
	}
	// Nothing was planned for a new table, so repeats are dropped by
	// looking each member up rather than by Add's index of the arguments
	// (a STORE result may have millions).
	for _, m := range members {
		hm := nameHash(m)
		if _, _, found := s.t.find(m, hm); !found {
			s.add(m, hm)
		}
	}
	return s, it.Err()
}

// Len is the number of members.
func (s *SetTable) Len() int { return s.t.n }

// Bytes is the accounted size (table.go, "Accounting").
func (s *SetTable) Bytes() int64 { return s.t.bytes() }

func setRecLen(m []byte) int { return uvarintLen(len(m)) + len(m) }

// Has reports whether m is a member.
func (s *SetTable) Has(m []byte) bool { return s.t.lookup(m) != nil }

func (s *SetTable) add(m []byte, hm uint64) {
	x, dst := s.t.a.alloc(setRecLen(m))
	putChunk(dst, m)
	s.t.insert(hm, x)
}

// PlanAdd is Add's plan: the growth of Bytes and the number of members
// Add(members) will add, without changing anything.
func (s *SetTable) PlanAdd(members [][]byte) (grow int64, added int) {
	x := newFieldIndex(members)
	fill := s.t.a.fill()
	for i, m := range members {
		if x.find(m) != i || s.Has(m) {
			continue
		}
		added++
		grow += ElemOverhead + cost(&fill, setRecLen(m))
	}
	return grow, added
}

// Add adds members and returns how many were new; its growth is what
// PlanAdd computed.
func (s *SetTable) Add(members [][]byte) (added int) {
	x := newFieldIndex(members)
	for i, m := range members {
		if x.find(m) != i {
			continue
		}
		hm := nameHash(m)
		if _, _, found := s.t.find(m, hm); found {
			continue
		}
		s.add(m, hm)
		added++
	}
	return added
}

// PlanRem is the number of distinct members Rem(members) will remove.
func (s *SetTable) PlanRem(members [][]byte) int {
	x := newFieldIndex(members)
	n := 0
	for i, m := range members {
		if x.find(m) == i && s.Has(m) {
			n++
		}
	}
	return n
}

// Rem removes members and returns how many were present. It only shrinks
// the table.
func (s *SetTable) Rem(members [][]byte) (removed int) {
	for _, m := range members {
		si, pos, found := s.t.find(m, nameHash(m))
		if !found {
			continue
		}
		x := ref(s.t.segs[si].b[pos].ref - 1)
		s.t.unindex(si, pos)
		s.t.kill(x, setRecLen(m))
		removed++
	}
	return removed
}

// Range calls fn for every member in an unspecified order until it
// returns false. The slices are valid until the next change.
func (s *SetTable) Range(fn func(m []byte) bool) {
	s.t.each(func(rec []byte) bool { return fn(nameOf(rec)) })
}

// AppendList appends the members to dst as a count then uvarint-prefixed
// members, in an unspecified order: the compact encoding's layout, so
// SetMembers walks it, but not sorted, so it is not a compact encoding
// (SetHas and the merges must not be given it).
func (s *SetTable) AppendList(dst []byte) []byte {
	dst = SetAppendHeader(dst, s.t.n)
	s.Range(func(m []byte) bool {
		dst = SetAppendMember(dst, m)
		return true
	})
	return dst
}

// Scan is SSCAN over the table: fn gets about count members from cursor
// on, in hash order; see table.scanFrom for the guarantee.
func (s *SetTable) Scan(cursor uint64, count int, fn func(m []byte)) (next uint64) {
	return s.t.scanFrom(cursor, count, func(rec []byte) { fn(nameOf(rec)) })
}

// Random returns a uniformly random member.
func (s *SetTable) Random() []byte { return nameOf(s.t.random()) }

// Clone returns a copy (COPY), its arena compacted.
func (s *SetTable) Clone() *SetTable { return &SetTable{t: s.t.clone()} }
