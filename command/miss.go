package command

// Shed-read answers (Spec.Miss): what a read answers for a tenant with
// shed_reads_as_miss when it is shed under overload, as if its keys were
// missing.

func MissNull(c *Ctx, args [][]byte)       { c.W.WriteNull() }
func MissZero(c *Ctx, args [][]byte)       { c.W.WriteInt(0) }
func MissEmpty(c *Ctx, args [][]byte)      { c.W.WriteBulkString("") }
func MissNone(c *Ctx, args [][]byte)       { c.W.WriteString("none") }
func MissAbsent(c *Ctx, args [][]byte)     { c.W.WriteInt(-2) }
func MissEmptyArray(c *Ctx, args [][]byte) { c.W.WriteArray(0) }
func MissEmptyMap(c *Ctx, args [][]byte)   { c.W.WriteMap(0) }
func MissEmptySet(c *Ctx, args [][]byte)   { c.W.WriteSet(0) }

// MissNulls answers a null per key (MGET key [key ...]).
func MissNulls(c *Ctx, args [][]byte) {
	c.W.WriteArray(len(args) - 1)
	for range args[1:] {
		c.W.WriteNull()
	}
}

// MissNullsAfterKey answers a null per argument after the key (HMGET,
// ZMSCORE).
func MissNullsAfterKey(c *Ctx, args [][]byte) {
	c.W.WriteArray(len(args) - 2)
	for range args[2:] {
		c.W.WriteNull()
	}
}

// MissRandom answers a random-member read (HRANDFIELD, SRANDMEMBER): null
// without a count, an empty array with one.
func MissRandom(c *Ctx, args [][]byte) {
	if len(args) == 2 {
		c.W.WriteNull()
		return
	}
	c.W.WriteArray(0)
}

// MissEmptyScan answers a scan of a missing key: cursor 0, no elements.
func MissEmptyScan(c *Ctx, args [][]byte) {
	c.W.WriteArray(2)
	c.W.WriteBulkString("0")
	c.W.WriteArray(0)
}
