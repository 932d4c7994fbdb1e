package sorting

import (
	"sort"
	"strconv"
	"strings"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// cmdSort: SORT key [BY pattern] [LIMIT offset count] [GET pattern ...]
// [ASC|DESC] [ALPHA] [STORE destination], for lists, sets and sorted sets
// (their elements; a sorted set's members, not its scores), as Redis does.
// BY and GET patterns are refused: they read keys the command does not
// declare. Numeric sorting needs every element to parse as a double.
func cmdSort(c *command.Ctx, args [][]byte) {
	var store []byte
	desc, alpha := false, false
	offset, count := int64(0), int64(-1)
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case command.EqFold(a, "by") || command.EqFold(a, "get"):
			c.W.WriteError(command.ErrSortPatterns)
			return
		case command.EqFold(a, "asc"):
			desc = false
		case command.EqFold(a, "desc"):
			desc = true
		case command.EqFold(a, "alpha"):
			alpha = true
		case command.EqFold(a, "limit") && i+2 < len(args):
			o, ok1 := command.ParseInt(args[i+1])
			n, ok2 := command.ParseInt(args[i+2])
			if !ok1 || !ok2 {
				c.W.WriteError(command.ErrNotInteger)
				return
			}
			offset, count = o, n
			i += 2
		case command.EqFold(a, "store") && i+1 < len(args) && c.Spec.Name == "sort":
			store = args[i+1]
			i++
		default:
			c.W.WriteError(command.ErrSyntax)
			return
		}
	}
	// Only the encoding is copied under the sub-shard lock; decoding,
	// parsing and sorting run after it, with checkpoints (fair.go, "Long
	// commands"): a SORT of a million elements is charged and paced as it
	// runs.
	var enc []byte
	var typ shard.Type
	found := c.Part.View(c.DB, args[1], 0, func(e shard.Entry) {
		switch typ = e.Type; typ {
		case shard.TypeSet:
			enc = value.ViewSet(e.Value, e.Obj).AppendList(nil)
		case shard.TypeZSet:
			enc = value.ViewZSet(e.Value, e.Obj).AppendEncoding(nil)
		case shard.TypeList:
			enc = value.ViewList(e.Value, e.Obj).AppendEncoding(nil)
		}
	})
	var elems [][]byte // slices of enc
	add := func(x []byte) {
		if elems = append(elems, x); len(elems)&command.ReplyYieldEvery == 0 {
			c.Yield()
		}
	}
	switch {
	case !found: // no elements
	case typ == shard.TypeList:
		it := value.ListElems(enc)
		for x, ok := it.Next(); ok; x, ok = it.Next() {
			add(x)
		}
	case typ == shard.TypeSet:
		it := value.SetMembers(enc)
		for x, ok := it.Next(); ok; x, ok = it.Next() {
			add(x)
		}
	case typ == shard.TypeZSet:
		it := value.ZSetMembers(enc)
		for z, ok := it.Next(); ok; z, ok = it.Next() {
			add(z.Member)
		}
	default:
		c.W.WriteError(command.ErrWrongType)
		return
	}
	compares := 0
	tick := func() {
		if compares++; compares&4095 == 0 {
			c.Yield()
		}
	}
	if alpha {
		sort.SliceStable(elems, func(i, j int) bool { tick(); return string(elems[i]) < string(elems[j]) })
	} else {
		nums := make([]float64, len(elems))
		for i, e := range elems {
			// strtod as Redis calls it, on a C string (a NUL ends it; an
			// empty one is 0): leading spaces are fine, anything left
			// over, an overflow or NaN is not.
			var f float64
			var err error
			if cs := command.CStr(e); len(cs) > 0 {
				f, err = strconv.ParseFloat(strings.TrimLeft(string(cs), " \t\n\v\f\r"), 64)
			}
			if err != nil || f != f {
				c.W.WriteError(command.ErrSortNotDouble)
				return
			}
			nums[i] = f
			if i&command.ReplyYieldEvery == command.ReplyYieldEvery {
				c.Yield()
			}
		}
		idx := make([]int, len(elems))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			tick()
			if nums[idx[a]] != nums[idx[b]] {
				return nums[idx[a]] < nums[idx[b]]
			}
			return string(elems[idx[a]]) < string(elems[idx[b]])
		})
		sorted := make([][]byte, len(elems))
		for i, k := range idx {
			sorted[i] = elems[k]
		}
		elems = sorted
	}
	if desc {
		for i, j := 0, len(elems)-1; i < j; i, j = i+1, j-1 {
			elems[i], elems[j] = elems[j], elems[i]
		}
	}
	// LIMIT as Redis clamps it: a negative offset is 0, a negative count
	// means to the end.
	n := int64(len(elems))
	if offset < 0 {
		offset = 0
	}
	if offset > n {
		offset = n
	}
	end := n
	if count >= 0 && count < n-offset { // offset+count could overflow
		end = offset + count
	}
	elems = elems[offset:end]
	if store != nil {
		if len(elems) == 0 {
			c.Part.Delete(c.DB, store)
			c.W.WriteInt(0)
			return
		}
		buf := value.ListAppendHeader(nil, len(elems))
		for i, e := range elems {
			buf = value.ListAppendElem(buf, e)
			if i&command.ReplyYieldEvery == command.ReplyYieldEvery {
				c.Yield()
			}
		}
		// A result past one quicklist node is stored as a QuickList, as
		// a list pushed to that size would be.
		var obj shard.Object
		if lim := c.Limits(); !lim.ListCompact(len(elems), len(buf)) {
			q, err := value.QuickListFrom(buf, lim.ListFill)
			if err != nil {
				c.StoreErr(err)
				return
			}
			obj, buf = q, nil
		}
		now := c.NowMs()
		err := c.Part.Mutate(c.DB, store, func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
			// A Put hands obj over: a second run (after an eviction) puts
			// the same object at the same key, which is allowed.
			return shard.Entry{Value: buf, Obj: obj, ExpireAt: c.DefaultExpire(now), Type: shard.TypeList}, shard.Put, nil
		})
		if err != nil {
			c.StoreErr(err)
			return
		}
		c.SignalDB(c.DB, store, true)
		c.W.WriteInt(len(elems))
		return
	}
	c.W.WriteArray(len(elems))
	for i, e := range elems {
		if i&command.ReplyYieldEvery == command.ReplyYieldEvery {
			c.Yield()
		}
		c.W.WriteBulk(e)
	}
}
