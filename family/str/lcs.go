package str

import (
	"math"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

const (
	errLCSType   = "ERR The specified keys must contain string values"
	errLCSBoth   = "ERR If you want both the length and indexes, please just use IDX."
	errLCSLong   = "ERR String too long for LCS"
	errLCSMemory = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)

// lcsRange is one IDX match: a[as..ae] = b[bs..be].
type lcsRange struct{ as, ae, bs, be uint32 }

// cmdLCS: LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN], a
// port of t_string.c's lcsCommand (see the package doc for its memory).
func cmdLCS(c *command.Ctx, args [][]byte) {
	var a, b []byte
	wrong := false
	for i, dst := range []*[]byte{&a, &b} {
		c.Part.View(c.DB, args[1+i], shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
			if e.Type != shard.TypeString {
				wrong = true
				return
			}
			*dst = append([]byte(nil), e.Value...)
		})
	}
	if wrong {
		c.W.WriteError(errLCSType)
		return
	}
	var getlen, getidx, withmatchlen bool
	var minmatchlen int64
	for j := 3; j < len(args); j++ {
		opt, more := args[j], len(args)-1-j
		switch {
		case command.EqFold(opt, "idx"):
			getidx = true
		case command.EqFold(opt, "len"):
			getlen = true
		case command.EqFold(opt, "withmatchlen"):
			withmatchlen = true
		case command.EqFold(opt, "minmatchlen") && more > 0:
			n, ok := command.ParseInt(args[j+1])
			if !ok {
				c.W.WriteError(command.ErrNotInteger)
				return
			}
			minmatchlen = max(n, 0)
			j++
		default:
			c.W.WriteError(command.ErrSyntax)
			return
		}
	}
	if getlen && getidx {
		c.W.WriteError(errLCSBoth)
		return
	}
	if len(a) >= math.MaxUint32-1 || len(b) >= math.MaxUint32-1 {
		c.W.WriteError(errLCSLong)
		return
	}
	alen, blen := uint32(len(a)), uint32(len(b))
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > command.MaxStringLen {
		c.W.WriteError(errLCSMemory)
		return
	}
	computelcs := getidx || !getlen
	charge := int64(len(a) + len(b))
	if computelcs {
		charge += int64(cells * 4)
	} else {
		charge += 2 * 4 * int64(blen+1)
	}
	// The strings were copied before the charge: they are at most what
	// the tenant already stores, and are dropped at once if refused.
	if !c.Conn.Transient(charge) {
		c.W.WriteError(c.Conn.ClientOOM())
		return
	}
	defer c.Conn.Transient(-charge)
	if !computelcs {
		c.W.WriteInt64(int64(lcsLen(c, a, b)))
		return
	}
	w := blen + 1
	lcs := make([]uint32, cells)
	for i := uint32(1); i <= alen; i++ {
		row, prev := lcs[i*w:(i+1)*w], lcs[(i-1)*w:i*w]
		ai := a[i-1]
		for j := uint32(1); j <= blen; j++ {
			if ai == b[j-1] {
				row[j] = prev[j-1] + 1
			} else {
				row[j] = max(prev[j], row[j-1])
			}
		}
		if i&63 == 0 {
			c.Yield()
		}
	}
	at := func(i, j uint32) uint32 { return lcs[i*w+j] }
	idx := at(alen, blen)
	result := make([]byte, idx)
	var ranges []lcsRange
	var lens []uint32
	arStart, arEnd, brStart, brEnd := alen, uint32(0), uint32(0), uint32(0)
	for i, j := alen, blen; i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if arStart == alen {
				arStart, arEnd, brStart, brEnd = i-1, i-1, j-1, j-1
			} else if arStart == i && brStart == j {
				arStart--
				brStart--
			} else {
				emit = true
			}
			if arStart == 0 || brStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if at(i-1, j) > at(i, j-1) {
				i--
			} else {
				j--
			}
			if arStart != alen {
				emit = true
			}
		}
		matchLen := arEnd - arStart + 1
		if emit {
			if getidx && (minmatchlen == 0 || int64(matchLen) >= minmatchlen) {
				ranges = append(ranges, lcsRange{arStart, arEnd, brStart, brEnd})
				lens = append(lens, matchLen)
			}
			arStart = alen
		}
	}
	if !getidx {
		c.W.WriteBulk(result)
		return
	}
	c.W.WriteMap(2)
	c.W.WriteBulkString("matches")
	c.W.WriteArray(len(ranges))
	for k, r := range ranges {
		if withmatchlen {
			c.W.WriteArray(3)
		} else {
			c.W.WriteArray(2)
		}
		c.W.WriteArray(2)
		c.W.WriteInt64(int64(r.as))
		c.W.WriteInt64(int64(r.ae))
		c.W.WriteArray(2)
		c.W.WriteInt64(int64(r.bs))
		c.W.WriteInt64(int64(r.be))
		if withmatchlen {
			c.W.WriteInt64(int64(lens[k]))
		}
	}
	c.W.WriteBulkString("len")
	c.W.WriteInt64(int64(at(alen, blen)))
}

// lcsLen is the length of the LCS with two rows of the table.
func lcsLen(c *command.Ctx, a, b []byte) uint32 {
	prev, row := make([]uint32, len(b)+1), make([]uint32, len(b)+1)
	for i := range a {
		ai := a[i]
		for j := 1; j <= len(b); j++ {
			if ai == b[j-1] {
				row[j] = prev[j-1] + 1
			} else {
				row[j] = max(prev[j], row[j-1])
			}
		}
		prev, row = row, prev
		if i&63 == 63 {
			c.Yield()
		}
	}
	return prev[len(b)]
}
