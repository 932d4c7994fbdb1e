package command

import "math"

// Reply error strings of the data commands, spelled exactly as Redis 7
// spells them (without the leading '-', which the Writer adds). Clients and
// test suites match these byte for byte; see ../shared/REFERENCE.md §2.
// Connection, transaction and admission replies are in server/errors.go.
import "strconv"

const (
	ErrSyntax        = "ERR syntax error"
	ErrNotInteger    = "ERR value is not an integer or out of range"
	ErrNotFloat      = "ERR value is not a valid float"
	ErrOverflow      = "ERR increment or decrement would overflow"
	ErrNaNInf        = "ERR increment would produce NaN or Infinity"
	ErrDBRange       = "ERR DB index is out of range"
	ErrNoSuchKey     = "ERR no such key"
	ErrWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrOffsetRange   = "ERR offset is out of range"
	ErrStringTooBig  = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrInvalidCursor = "ERR invalid cursor"
	ErrExpireOptions = "ERR NX and XX, GT or LT options at the same time are not compatible"
	ErrGTLTOptions   = "ERR GT and LT options at the same time are not compatible"
	ErrSameObject    = "ERR source and destination objects are the same"
	// ErrOOM is Redis's reply when a write does not fit. tcached sends it when
	// a write does not fit in the caller's tenant quota under the noeviction
	// policy, or when the entry is larger than the whole quota (nothing is
	// evicted for a write that could never fit). OOM is not retried by
	// go-redis, which is right: retrying cannot make room.
	ErrOOM                 = "OOM command not allowed when used memory > 'maxmemory'."
	ErrHashNotInt          = "ERR hash value is not an integer"
	ErrHashNotFloat        = "ERR hash value is not a float"
	ErrIncrNaNInf          = "ERR value is NaN or Infinity"
	ErrOutOfRange          = "ERR value is out of range"
	ErrRandTooLarge        = "ERR HRANDFIELD count too large: its reply would exceed the client output buffer limit"
	ErrZIncrPair           = "ERR INCR option supports a single increment-element pair"
	ErrZXXNX               = "ERR XX and NX options at the same time are not compatible"
	ErrZGTLTNX             = "ERR GT, LT, and/or NX options at the same time are not compatible"
	ErrZNaN                = "ERR resulting score is not a number (NaN)"
	ErrZMinMax             = "ERR min or max is not a float"
	ErrZLexRange           = "ERR min or max not valid string range item"
	ErrZLimitRank          = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	ErrZLexScores          = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	ErrZPositive           = "ERR value is out of range, must be positive"
	ErrListIndexRange      = "ERR index out of range"
	ErrListMustBePositive  = "ERR value is out of range, must be positive"
	ErrListTimeoutNotFloat = "ERR timeout is not a float or out of range"
	ErrListTimeoutNegative = "ERR timeout is negative"
	ErrListRankZero        = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	ErrListCountNeg        = "ERR COUNT can't be negative"
	ErrListMaxlenNeg       = "ERR MAXLEN can't be negative"
	ErrMustBePositive      = "ERR value is out of range, must be positive"
	ErrSRandTooLarge       = "ERR SRANDMEMBER count too large: its reply would exceed the client output buffer limit"
	ErrRangeNotMinInt      = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	ErrDecrOverflow        = "ERR decrement would overflow"
	ErrSortNotDouble       = "ERR One or more scores can't be converted into double"
	// ErrSortPatterns refuses SORT's BY and GET, which name keys the row
	// does not declare (tcached's own refusal; NOPERM, as for any command
	// a tenant may not run).
	ErrSortPatterns = "NOPERM SORT BY and GET patterns are not available: they read keys outside the command's declared keys"
)

// ErrUnsupportedOption answers an option a command does not know (EXPIRE).
func ErrUnsupportedOption(opt []byte) string { return "ERR Unsupported option " + string(CStr(opt)) }

// ParseDB parses a db index as Redis's SELECT, MOVE and COPY ... DB do
// (getIntFromObjectOrReply, then the db's range); on bad input it returns
// the error to answer.
func ParseDB(b []byte) (int, string) {
	n, ok := ParseInt(b)
	switch {
	case !ok:
		return 0, ErrNotInteger
	case n < math.MinInt32 || n > math.MaxInt32:
		return 0, "ERR value is out of range, value must between -2147483648 and 2147483647"
	case n < 0 || n >= NumDBs:
		return 0, ErrDBRange
	}
	return int(n), ""
}

// CStr is b up to its first NUL byte: what Redis's "%s" prints of an
// argument it quotes in an error message.
func CStr(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

func ErrWrongArgs(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}

func ErrNoPerm(name string) string {
	return "NOPERM this user has no permissions to run the '" + name + "' command"
}

func ErrInvalidExpire(cmd string) string {
	return "ERR invalid expire time in '" + cmd + "' command"
}

// ErrMaxTTL refuses a TTL past the tenant's max_ttl, or none, under the
// refuse policy (tiers.TTLRefuse). tcached's own refusal: ERR, like
// Redis's refusals of a bad expire time, naming the command and the cap.
func ErrMaxTTL(cmd string, maxMs int64) string {
	return "ERR max_ttl exceeded in '" + cmd + "' command: this tenant's keys expire within " +
		strconv.FormatInt((maxMs+999)/1000, 10) + " seconds"
}

// MaxStringLen is Redis's proto-max-bulk-len default, the largest value
// APPEND and SETRANGE may build.
const MaxStringLen = 512 << 20

var ErrWrongTypeAbort = ReplyErr(ErrWrongType)

func B2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ReplyErr lets a read-modify-write callback abort with an exact reply.
type ReplyErr string

func (e ReplyErr) Error() string { return string(e) }
