package command

// Reply error strings of the bitmap, HyperLogLog, stream and LCS commands,
// spelled exactly as Redis 7.0 spells them (bitops.c, hyperloglog.c,
// t_stream.c, t_string.c), kept apart from errors.go so that families
// added later do not all edit one block.
const (
	ErrBitOffset    = "ERR bit offset is not an integer or out of range"
	ErrBitValue     = "ERR bit is not an integer or out of range"
	ErrBitArg       = "ERR The bit argument must be 1 or 0."
	ErrBitOpNot     = "ERR BITOP NOT must be called with a single source key."
	ErrBitfieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	ErrOverflowType = "ERR Invalid OVERFLOW type specified"
	ErrBitfieldRO   = "ERR BITFIELD_RO only supports the GET subcommand"

	// ErrHLLInvalid is PFADD/PFCOUNT/PFMERGE's reply for a string that is
	// not a HyperLogLog; ErrHLLCorrupt for one whose registers do not
	// decode (the INVALIDOBJ prefix is Redis's, kept for clients that
	// match it).
	ErrHLLInvalid = "WRONGTYPE Key is not a valid HyperLogLog string value."
	ErrHLLCorrupt = "INVALIDOBJ Corrupted HLL object detected"
)
