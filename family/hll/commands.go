package hll

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

// check is isHLLObjectOrReply for an existing key's entry.
func check(e shard.Entry) error {
	if e.Type != shard.TypeString {
		return command.ErrWrongTypeAbort
	}
	if !valid(e.Value) {
		return command.ReplyErr(command.ErrHLLInvalid)
	}
	return nil
}

var errCorrupt = command.ReplyErr(command.ErrHLLCorrupt)

// cmdPFAdd: PFADD key [element ...] -> 1 if a register changed (or the key
// was created), else 0.
func cmdPFAdd(c *command.Ctx, args [][]byte) {
	maxSparse := c.Types.Get(command.HLLSparseMaxBytes)
	var next []byte
	updated, corrupt := 0, false
	err := c.Part.Patch(c.DB, args[1], shard.TypeString, c.DefaultExpire(c.NowMs()),
		func(cur shard.Entry, exists bool) (int, error) {
			next, updated, corrupt = nil, 0, false
			if exists {
				if err := check(cur); err != nil {
					return -1, err
				}
				if cur.Value[4] == encDense {
					return len(cur.Value), nil // added in place by the patch
				}
				next = append([]byte(nil), cur.Value...)
			} else {
				next = newSparse()
				updated++
			}
			for _, ele := range args[2:] {
				var r int
				next, r = add(next, ele, maxSparse)
				if r < 0 {
					corrupt = true
					break
				}
				updated += r
			}
			if updated > 0 && !corrupt {
				invalidateCache(next)
			}
			return len(next), nil
		},
		func(v []byte) bool {
			if next != nil {
				copy(v, next)
				return updated > 0
			}
			updated = 0
			for _, ele := range args[2:] {
				_, r := add(v, ele, maxSparse)
				updated += r
			}
			if updated > 0 {
				invalidateCache(v)
			}
			return updated > 0 // Redis signals only an update
		})
	switch {
	case err != nil:
		c.StoreErr(err)
	case corrupt:
		c.W.WriteError(command.ErrHLLCorrupt)
	default:
		c.W.WriteInt(min(updated, 1))
	}
}

// count is hllCount of a valid value; ok is false for a corrupt sparse one.
func count(v []byte) (uint64, bool) {
	var h [64]int
	if histo(v, &h) {
		return 0, false
	}
	return estimate(&h), true
}

// cmdPFCount: PFCOUNT key [key ...]. One key answers its cached
// cardinality, computing and caching it (in place) when invalid; several
// answer the cardinality of their union.
func cmdPFCount(c *command.Ctx, args [][]byte) {
	if len(args) > 2 {
		pfcountMany(c, args[1:])
		return
	}
	var card uint64
	err := c.Part.Patch(c.DB, args[1], shard.TypeString, 0,
		func(cur shard.Entry, exists bool) (int, error) {
			card = 0
			if !exists {
				return -1, nil
			}
			if err := check(cur); err != nil {
				return -1, err
			}
			if validCache(cur.Value) {
				card = binary.LittleEndian.Uint64(cur.Value[8:16])
				return -1, nil
			}
			n, ok := count(cur.Value)
			if !ok {
				return -1, errCorrupt
			}
			card = n
			return len(cur.Value), nil
		},
		func(v []byte) bool {
			binary.LittleEndian.PutUint64(v[8:16], card)
			return true // Redis signals the cached cardinality's update
		})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt64(int64(card))
}

func keysOf(c *command.Ctx, names [][]byte) []shard.Key {
	keys := make([]shard.Key, len(names))
	for i, k := range names {
		keys[i] = shard.Key{DB: c.DB, Name: k}
	}
	return keys
}

// union merges the HLLs of cur into maxr; dense reports that one was
// dense. Missing keys count as empty HLLs.
func union(cur []shard.Entry, exists []bool, maxr *[hllRegisters]uint8) (dense bool, err error) {
	clear(maxr[:])
	for i, e := range cur {
		if !exists[i] {
			continue
		}
		if err := check(e); err != nil {
			return false, err
		}
		if e.Value[4] == encDense {
			dense = true
		}
		if !merge(maxr, e.Value) {
			return false, errCorrupt
		}
	}
	return dense, nil
}

func pfcountMany(c *command.Ctx, names [][]byte) {
	var maxr [hllRegisters]uint8
	var card uint64
	err := c.Part.Apply(keysOf(c, names), func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		if _, err := union(cur, exists, &maxr); err != nil {
			return nil, nil, err
		}
		var h [64]int
		for _, r := range maxr {
			h[r]++
		}
		card = estimate(&h)
		return cur, make([]shard.Action, len(cur)), nil // all Keep
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt64(int64(card))
}

// cmdPFMerge: PFMERGE destkey [sourcekey ...]: destkey (itself a source)
// gets the union, dense if any source was.
func cmdPFMerge(c *command.Ctx, args [][]byte) {
	maxSparse := c.Types.Get(command.HLLSparseMaxBytes)
	expire := c.DefaultExpire(c.NowMs())
	var maxr [hllRegisters]uint8
	err := c.Part.Apply(keysOf(c, args[1:]), func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		useDense, err := union(cur, exists, &maxr)
		if err != nil {
			return nil, nil, err
		}
		var v []byte
		next := make([]shard.Entry, len(cur))
		acts := make([]shard.Action, len(cur))
		if exists[0] {
			v = append([]byte(nil), cur[0].Value...)
			next[0].ExpireAt = cur[0].ExpireAt
		} else {
			v = newSparse()
			next[0].ExpireAt = expire
		}
		if useDense && v[4] == encSparse {
			d, ok := toDense(v)
			if !ok {
				return nil, nil, errCorrupt
			}
			v = d
		}
		for j, m := range maxr {
			if m == 0 {
				continue
			}
			if v[4] == encDense {
				denseSet(v[hdrSize:], j, int(m))
			} else {
				v, _ = sparseSet(v, j, int(m), maxSparse)
			}
		}
		invalidateCache(v)
		next[0].Value = v
		acts[0] = shard.Put
		return next, acts, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteString("OK")
}

// cmdPFDebug: PFDEBUG GETREG|DECODE|ENCODING|TODENSE key (arity 3, as in
// Redis 7.0, so every subcommand has its key and nothing more).
func cmdPFDebug(c *command.Ctx, args [][]byte) {
	sub := args[1]
	var reply func()
	var conv []byte
	err := c.Part.Patch(c.DB, args[2], shard.TypeString, 0,
		func(cur shard.Entry, exists bool) (int, error) {
			reply, conv = nil, nil
			if !exists {
				return -1, command.ReplyErr("ERR The specified key does not exist")
			}
			if err := check(cur); err != nil {
				return -1, err
			}
			v := cur.Value
			switch {
			case command.EqFold(sub, "getreg"):
				d := v
				if v[4] == encSparse {
					var ok bool
					if d, ok = toDense(v); !ok {
						return -1, errCorrupt
					}
				}
				regs := make([]int, hllRegisters)
				for i := range regs {
					regs[i] = getReg(d[hdrSize:], i)
				}
				reply = func() {
					c.W.WriteArray(len(regs))
					for _, r := range regs {
						c.W.WriteInt(r)
					}
				}
				if v[4] == encSparse {
					conv = d
					return denseSize, nil
				}
				return -1, nil
			case command.EqFold(sub, "decode"):
				if v[4] != encSparse {
					return -1, command.ReplyErr("ERR HLL encoding is not sparse")
				}
				var b strings.Builder
				for p := hdrSize; p < len(v); {
					switch op := v[p]; {
					case isZero(op):
						b.WriteString("z:" + strconv.Itoa(zeroLen(op)) + " ")
						p++
					case isXZero(op):
						b.WriteString("Z:" + strconv.Itoa(xzeroLen(v, p)) + " ")
						p += 2
					default:
						b.WriteString("v:" + strconv.Itoa(valValue(op)) + "," + strconv.Itoa(valLen(op)) + " ")
						p++
					}
				}
				s := strings.Trim(b.String(), " ")
				reply = func() { c.W.WriteBulkString(s) }
				return -1, nil
			case command.EqFold(sub, "encoding"):
				enc := "dense"
				if v[4] == encSparse {
					enc = "sparse"
				}
				reply = func() { c.W.WriteString(enc) }
				return -1, nil
			case command.EqFold(sub, "todense"):
				if v[4] == encDense {
					reply = func() { c.W.WriteInt(0) }
					return -1, nil
				}
				d, ok := toDense(v)
				if !ok {
					return -1, errCorrupt
				}
				conv = d
				reply = func() { c.W.WriteInt(1) }
				return denseSize, nil
			}
			return -1, command.ReplyErr("ERR Unknown PFDEBUG subcommand '" + string(command.CStr(sub)) + "'")
		},
		func(v []byte) bool { // GETREG and TODENSE of a sparse value: its dense form
			copy(v, conv)
			return false // Redis's PFDEBUG converts without signalling
		})
	if err != nil {
		c.StoreErr(err)
		return
	}
	reply()
}

// cmdPFSelfTest: PFSELFTEST, Redis's self test of the register access and
// of the estimator's error, dense and sparse side by side. It does tens of
// millions of register operations, with checkpoints, so it is the
// tenant's own CPU (and an admin's command, as in Redis).
func cmdPFSelfTest(c *command.Ctx, args [][]byte) {
	dense := make([]byte, denseSize)
	regs := dense[hdrSize:]
	var bytecounters [hllRegisters]uint8
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for j := 0; j < 1000; j++ {
		for i := range bytecounters {
			r := uint8(rng.IntN(hllRegMax + 1))
			bytecounters[i] = r
			setReg(regs, i, int(r))
		}
		for i := range bytecounters {
			if v := getReg(regs, i); v != int(bytecounters[i]) {
				c.W.WriteError("TESTFAILED Register " + strconv.Itoa(i) + " should be " +
					strconv.Itoa(int(bytecounters[i])) + " but is " + strconv.Itoa(v))
				return
			}
		}
		if j%32 == 0 {
			c.Yield()
		}
	}
	clear(regs)
	maxSparse := c.Types.Get(command.HLLSparseMaxBytes)
	o := newSparse()
	relerr := 1.04 / math.Sqrt(hllRegisters)
	checkpoint := int64(1)
	seed := rng.Uint64()
	var ele [8]byte
	for j := int64(1); j <= 10_000_000; j++ {
		binary.LittleEndian.PutUint64(ele[:], uint64(j)^seed)
		idx, cnt := patLen(ele[:])
		denseSet(regs, idx, cnt)
		o, _ = add(o, ele[:], maxSparse)
		if j&0xffff == 0 {
			c.Yield()
		}
		if j != checkpoint {
			continue
		}
		if j < maxSparse/2 && o[4] != encSparse {
			c.W.WriteError("TESTFAILED sparse encoding not used")
			return
		}
		dc, _ := count(dense)
		sc, _ := count(o)
		if dc != sc {
			c.W.WriteError("TESTFAILED dense/sparse disagree")
			return
		}
		abserr := checkpoint - int64(dc)
		maxerr := uint64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1
		}
		if abserr < 0 {
			abserr = -abserr
		}
		if abserr > int64(maxerr) {
			c.W.WriteError("TESTFAILED Too big error. card:" + strconv.FormatInt(checkpoint, 10) +
				" abserr:" + strconv.FormatInt(abserr, 10))
			return
		}
		checkpoint *= 10
	}
	c.W.WriteString("OK")
}
