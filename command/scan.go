package command

import "github.com/tcached/tcached/resp"

// ScanOptions parses the options SCAN, HSCAN, SSCAN and ZSCAN share from
// args[from:]: MATCH pattern and COUNT n (n >= 1, capped at 2^20), with
// Redis's errors. extra, when not nil, sees each option first and claims
// it by returning how many of the following arguments it used (SCAN's
// TYPE t uses 1, HSCAN's NOVALUES 0), or -1 to leave it. On bad input the
// error is written and ok is false.
func ScanOptions(c *Ctx, args [][]byte, from, count int, extra func(opt []byte, rest [][]byte) int) (match func([]byte) bool, n int, ok bool) {
	for i := from; i < len(args); {
		if extra != nil {
			if used := extra(args[i], args[i+1:]); used >= 0 {
				i += 1 + used
				continue
			}
		}
		if i+1 >= len(args) {
			c.W.WriteError(ErrSyntax)
			return nil, 0, false
		}
		switch {
		case EqFold(args[i], "match"):
			match = Matcher(args[i+1])
		case EqFold(args[i], "count"):
			v, isInt := ParseInt(args[i+1])
			if !isInt {
				c.W.WriteError(ErrNotInteger)
				return nil, 0, false
			}
			if v < 1 {
				c.W.WriteError(ErrSyntax)
				return nil, 0, false
			}
			count = int(min(v, 1<<20))
		default:
			c.W.WriteError(ErrSyntax)
			return nil, 0, false
		}
		i += 2
	}
	return match, count, true
}

func Matcher(pattern []byte) func([]byte) bool {
	if len(pattern) == 1 && pattern[0] == '*' {
		return nil
	}
	p := append([]byte(nil), pattern...)
	return func(k []byte) bool { return GlobMatch(p, k, false) }
}

// WriteScanReply answers a SCAN-family step: the next cursor and the items.
func WriteScanReply(w *resp.Writer, next uint64, items [][]byte) {
	w.WriteArray(2)
	w.WriteBulkString(Uitoa(next))
	w.WriteArray(len(items))
	for _, it := range items {
		w.WriteBulk(it)
	}
}
