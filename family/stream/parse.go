package stream

import (
	"strings"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/value"
)

// Reply error strings of the stream commands, spelled as t_stream.c and
// blocked.c of Redis 7.0.15 spell them (kept here rather than in
// package command so that the families added in parallel do not all edit
// one block).
const (
	errInvalidID        = "ERR Invalid stream ID specified as stream command argument"
	errIDZero           = "ERR The ID specified in XADD must be greater than 0-0"
	errExhausted        = "ERR The stream has exhausted the last possible ID, unable to add more items"
	errIDSmall          = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	errTooLarge         = "ERR Elements are too large to be stored"
	errMaxLenNeg        = "ERR The MAXLEN argument must be >= 0."
	errLimitNeg         = "ERR The LIMIT argument must be >= 0."
	errMaxLenMinID      = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
	errLimitNoStrategy  = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
	errXTrimNoStrategy  = "ERR syntax error, XTRIM must be called with a trimming strategy"
	errLimitNoApprox    = "ERR syntax error, LIMIT cannot be used without the special ~ option"
	errStartInterval    = "ERR invalid start ID for the interval"
	errEndInterval      = "ERR invalid end ID for the interval"
	errUnbalanced       = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
	errGroupOnlyRG      = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
	errNoackOnlyRG      = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
	errMissingGroup     = "ERR Missing GROUP option for XREADGROUP"
	errDollarGroup      = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
	errGtOnlyGroup      = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
	errEntriesRead      = "ERR value for ENTRIESREAD must be positive or -1"
	errXGroupKey        = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
	errBusyGroup        = "BUSYGROUP Consumer Group name already exists"
	errEntriesAdded     = "ERR entries_added must be positive"
	errSetIDMaxDel      = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
	errSetIDSmall       = "ERR The ID specified in XSETID is smaller than the target stream top item"
	errSetIDAdded       = "ERR The entries_added specified in XSETID is smaller than the target stream length"
	errTimeoutNotInt    = "ERR timeout is not an integer or out of range"
	errTimeoutNeg       = "ERR timeout is negative"
	errMinIdleXClaim    = "ERR Invalid min-idle-time argument for XCLAIM"
	errMinIdleXAuto     = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
	errCountPositive    = "ERR COUNT must be > 0"
	errBlockedGroupGone = "NOGROUP the consumer group this client was blocked on no longer exists"
	errBlockedKeyGone   = "UNBLOCKED the stream key no longer exists"
)

// fmtArg is a name as Redis's addReplyErrorFormat shows it: cut at a NUL
// byte (%s), CR and LF made spaces so the reply stays one line.
func fmtArg(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, string(b))
}

func errNoGroupKey(key, group []byte) string {
	return "NOGROUP No such key '" + fmtArg(key) + "' or consumer group '" + fmtArg(group) + "'"
}

func errNoGroupRead(key, group []byte) string {
	return errNoGroupKey(key, group) + " in XREADGROUP with GROUP option"
}

func errNoGroupFor(group, key []byte) string {
	return "NOGROUP No such consumer group '" + fmtArg(group) + "' for key name '" + fmtArg(key) + "'"
}

// errSubSyntax is addReplySubcommandSyntaxError.
func errSubSyntax(args [][]byte) string {
	sub := string(args[1])
	if len(sub) > 128 {
		sub = sub[:128]
	}
	return "ERR unknown subcommand or wrong number of arguments for '" + sub + "'. Try " + strings.ToUpper(string(args[0])) + " HELP."
}

// parseU64 is Redis's string2ull: string2ll for a non-negative value,
// else strtoull's looser form (leading spaces, a sign, leading zeros; a
// '-' negates modulo 2^64).
func parseU64(b []byte) (uint64, bool) {
	if v, ok := command.ParseInt(b); ok {
		return uint64(v), v >= 0
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseID is streamGenericParseIDOrReply: "-" and "+" (unless strict),
// "ms" (seq = missingSeq), "ms-seq", and, when allowSeqStar, "ms-*"
// (seqGiven false).
func parseID(b []byte, missingSeq uint64, strict, allowSeqStar bool) (id value.StreamID, seqGiven, ok bool) {
	seqGiven = true
	if len(b) > 127 {
		return id, seqGiven, false
	}
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i] // Redis reads the argument as a C string
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return id, seqGiven, false
		}
		if b[0] == '-' {
			return value.StreamID{}, seqGiven, true
		}
		return value.MaxStreamID, seqGiven, true
	}
	ms, seq := b, []byte(nil)
	dash := strings.IndexByte(string(b), '-')
	if dash >= 0 {
		ms, seq = b[:dash], b[dash+1:]
	}
	m, ok := parseU64(ms)
	if !ok {
		return id, seqGiven, false
	}
	id.Ms = m
	switch {
	case dash < 0:
		id.Seq = missingSeq
	case allowSeqStar && len(seq) == 1 && seq[0] == '*':
		seqGiven = false
	default:
		s, ok := parseU64(seq)
		if !ok {
			return id, seqGiven, false
		}
		id.Seq = s
	}
	return id, seqGiven, true
}

// strictID parses an id where "-" and "+" are invalid.
func strictID(b []byte) (value.StreamID, bool) {
	id, _, ok := parseID(b, 0, true, false)
	return id, ok
}

// intervalID is streamParseIntervalIDOrReply: a "(" prefix makes the
// bound exclusive (and the id strict).
func intervalID(b []byte, missingSeq uint64) (id value.StreamID, exclusive, ok bool) {
	if len(b) > 1 && b[0] == '(' {
		id, _, ok = parseID(b[1:], missingSeq, true, false)
		return id, true, ok
	}
	id, _, ok = parseID(b, missingSeq, false, false)
	return id, false, ok
}

// rangeStart and rangeEnd parse a range's bounds with their "(" forms.
func rangeStart(b []byte) (value.StreamID, string) {
	id, ex, ok := intervalID(b, 0)
	if !ok {
		return id, errInvalidID
	}
	if ex {
		if id, ok = id.Incr(); !ok {
			return id, errStartInterval
		}
	}
	return id, ""
}

func rangeEnd(b []byte) (value.StreamID, string) {
	id, ex, ok := intervalID(b, ^uint64(0))
	if !ok {
		return id, errInvalidID
	}
	if ex {
		if id, ok = id.Decr(); !ok {
			return id, errEndInterval
		}
	}
	return id, ""
}

// addTrimArgs are streamParseAddOrTrimArgsOrReply's results.
type addTrimArgs struct {
	trim     value.TrimArgs
	noMk     bool
	idGiven  bool
	seqGiven bool
	id       value.StreamID
	idPos    int
}

// parseAddTrim parses XADD's (xadd) or XTRIM's options; on failure it
// returns Redis's reply.
func parseAddTrim(c *command.Ctx, args [][]byte, xadd bool) (a addTrimArgs, errS string) {
	i := 2
	limitGiven := false
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			a.idPos = i
			goto done
		case command.EqFold(opt, "maxlen") && more > 0, command.EqFold(opt, "minid") && more > 0:
			if a.trim.Strategy != value.TrimNone {
				return a, errMaxLenMinID
			}
			a.trim.Approx = false
			next := args[i+1]
			if more >= 2 && len(next) == 1 && next[0] == '~' {
				a.trim.Approx = true
				i++
			} else if more >= 2 && len(next) == 1 && next[0] == '=' {
				i++
			}
			if command.EqFold(opt, "maxlen") {
				v, ok := command.ParseInt(args[i+1])
				if !ok {
					return a, command.ErrNotInteger
				}
				if v < 0 {
					return a, errMaxLenNeg
				}
				a.trim.MaxLen = v
				a.trim.Strategy = value.TrimMaxLen
			} else {
				id, ok := strictID(args[i+1])
				if !ok {
					return a, errInvalidID
				}
				a.trim.MinID = id
				a.trim.Strategy = value.TrimMinID
			}
			i++
		case command.EqFold(opt, "limit") && more > 0:
			v, ok := command.ParseInt(args[i+1])
			if !ok {
				return a, command.ErrNotInteger
			}
			if v < 0 {
				return a, errLimitNeg
			}
			a.trim.Limit = v
			limitGiven = true
			i++
		case xadd && command.EqFold(opt, "nomkstream"):
			a.noMk = true
		case xadd:
			id, seqGiven, ok := parseID(opt, 0, true, true)
			if !ok {
				return a, errInvalidID
			}
			a.id, a.seqGiven, a.idGiven, a.idPos = id, seqGiven, true, i
			goto done
		default:
			return a, command.ErrSyntax
		}
	}
	a.idPos = i
done:
	if a.trim.Limit != 0 && a.trim.Strategy == value.TrimNone {
		return a, errLimitNoStrategy
	}
	if !xadd && a.trim.Strategy == value.TrimNone {
		return a, errXTrimNoStrategy
	}
	if limitGiven {
		if !a.trim.Approx {
			return a, errLimitNoApprox
		}
	} else if a.trim.Approx {
		l := 100 * c.Types.Get(command.StreamNodeMaxEntries)
		if l <= 0 || l/100 != c.Types.Get(command.StreamNodeMaxEntries) {
			l = 10000
		}
		a.trim.Limit = min(l, 1000000)
	} else {
		a.trim.Limit = 0
	}
	return a, ""
}
