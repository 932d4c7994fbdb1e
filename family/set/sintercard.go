package set

import (
	"slices"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// cmdSInterCard: SINTERCARD numkeys key [key ...] [LIMIT limit] -> the
// size of the intersection, counting stops at limit (0: no limit). A
// missing key is an empty set; every key must hold a set or be missing
// (WRONGTYPE), as sinterCardCommand checks before counting.
func cmdSInterCard(c *command.Ctx, args [][]byte) {
	numkeys, ok := command.ParseInt(args[1])
	if !ok || numkeys < 1 {
		c.W.WriteError(command.ErrNumkeysPositive)
		return
	}
	if numkeys > int64(len(args)-2) {
		c.W.WriteError(command.ErrNumkeysTooMany)
		return
	}
	limit := int64(0)
	for j := 2 + int(numkeys); j < len(args); j++ {
		if command.EqFold(args[j], "limit") && j+1 < len(args) {
			j++
			n, ok := command.ParseInt(args[j])
			if !ok || n < 0 {
				c.W.WriteError(command.ErrLimitNegative)
				return
			}
			limit = n
			continue
		}
		c.W.WriteError(command.ErrSyntax)
		return
	}
	names := args[2 : 2+numkeys]
	keys := make([]shard.Key, len(names))
	for i, a := range names {
		keys[i] = shard.Key{DB: c.DB, Name: a}
	}
	card := 0
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		card = 0
		sets := make([]value.SetView, len(cur))
		empty := false
		for i := range cur {
			if !exists[i] {
				empty = true
				continue
			}
			if cur[i].Type != shard.TypeSet {
				return nil, nil, command.ErrWrongTypeAbort
			}
			sets[i] = value.ViewSet(cur[i].Value, cur[i].Obj)
		}
		acts := make([]shard.Action, len(cur)) // Keep
		if !empty {
			card = interCard(sets, limit)
		}
		return cur, acts, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(card)
}

// interCard counts the members of the smallest set found in every other,
// stopping at limit (> 0), as Redis's sinterGenericCommand does.
func interCard(sets []value.SetView, limit int64) int {
	order := slices.Clone(sets)
	slices.SortFunc(order, func(a, b value.SetView) int { return a.Len() - b.Len() })
	if order[0].Len() == 0 {
		return 0
	}
	looks := make([]value.SetLookup, len(order))
	for i, s := range order[1:] {
		looks[i+1] = s.Lookup()
	}
	n := 0
	order[0].Range(func(m []byte) bool {
		for _, l := range looks[1:] {
			if !l.Has(m) {
				return true
			}
		}
		n++
		return limit == 0 || int64(n) < limit
	})
	return n
}
