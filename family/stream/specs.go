package stream

import "github.com/tcached/tcached/command"

// Specs are the stream commands' rows of the command table, with Redis
// 7.0's arities and flags. XREAD's and XREADGROUP's keys follow STREAMS,
// so their rows name no key positions (Redis's movablekeys): their KeysOf
// finds them (COMMAND GETKEYS, client-side caching), and XREADGROUP's
// WriteKeys for WATCH.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("xadd", -5, command.WriteGrow|command.Fast, command.Key1, cmdXAdd),
		command.Row("xrange", -4, command.Read, command.Key1, cmdXRange).WithMiss(command.MissEmptyArray),
		command.Row("xrevrange", -4, command.Read, command.Key1, cmdXRevRange).WithMiss(command.MissEmptyArray),
		command.Row("xlen", 2, command.ReadFast, command.Key1, cmdXLen).WithMiss(command.MissZero),
		command.Row("xdel", -3, command.Write|command.Fast, command.Key1, cmdXDel),
		command.Row("xtrim", -4, command.Write, command.Key1, cmdXTrim),
		command.Row("xsetid", -3, command.WriteGrow|command.Fast, command.Key1, cmdXSetID),
		command.Row("xread", -4, command.Read, command.NoKeys, cmdXRead).WithBacked(command.BackedBlockXRd).WithKeysOf(streamsKeysOf(1)),
		command.Row("xreadgroup", -7, command.Write, command.NoKeys, cmdXReadGroup).
			WithBacked(command.BackedBlockXRd).WithWriteKeys(streamsKeys).WithKeysOf(streamsKeysOf(4)),
		command.Container("xgroup", -2, 0, nil,
			command.Row("create", -5, command.WriteGrow, command.Key2, cmdXGroup),
			command.Row("setid", -5, command.Write, command.Key2, cmdXGroup),
			command.Row("destroy", 4, command.Write, command.Key2, cmdXGroup),
			command.Row("createconsumer", 5, command.WriteGrow, command.Key2, cmdXGroup),
			command.Row("delconsumer", 5, command.Write, command.Key2, cmdXGroup),
			command.Row("help", 2, 0, command.NoKeys, cmdXGroupHelp),
		),
		command.Row("xack", -4, command.Write|command.Fast, command.Key1, cmdXAck),
		command.Row("xpending", -3, command.Read, command.Key1, cmdXPending),
		command.Row("xclaim", -6, command.Write|command.Fast, command.Key1, cmdXClaim),
		command.Row("xautoclaim", -6, command.Write|command.Fast, command.Key1, cmdXAutoClaim),
		command.Container("xinfo", -2, 0, nil,
			command.Row("stream", -3, command.Read, command.Key2, cmdXInfoStream),
			command.Row("groups", 3, command.Read, command.Key2, cmdXInfoGroups),
			command.Row("consumers", 4, command.Read, command.Key2, cmdXInfoConsumers),
			command.Row("help", 2, 0, command.NoKeys, cmdXInfoHelp),
		),
	}
}

// streamsKeys calls mark for the keys after STREAMS (XREADGROUP).
func streamsKeys(db int, args [][]byte, mark func(db int, key []byte)) {
	for i := 1; i < len(args); i++ {
		if command.EqFold(args[i], "streams") {
			rest := args[i+1:]
			for _, k := range rest[:len(rest)/2] {
				mark(db, k)
			}
			return
		}
	}
}

// streamsKeysOf is XREAD's (from 1) and XREADGROUP's (from 4) KeysOf, as
// Redis 7.0 finds their keys: its key spec first (the first STREAMS
// from that argument on, then the first half of what follows), and
// xreadGetKeys when the spec finds none in range (options skipped up to
// STREAMS; no key on a syntax error or an odd count).
func streamsKeysOf(from int) func(args [][]byte, each func(i int)) {
	return func(args [][]byte, each func(i int)) {
		for i := from; i < len(args); i++ {
			if command.EqFold(args[i], "streams") {
				first := i + 1
				last := first + (len(args)-first)/2 - 1
				if first < len(args) && last >= first {
					for k := first; k <= last; k++ {
						each(k)
					}
					return
				}
				break
			}
		}
		xreadGetKeys(args, each)
	}
}

func xreadGetKeys(args [][]byte, each func(i int)) {
	pos := -1
scan:
	for i := 1; i < len(args); i++ {
		switch {
		case command.EqFold(args[i], "block"), command.EqFold(args[i], "count"):
			i++
		case command.EqFold(args[i], "group"):
			i += 2
		case command.EqFold(args[i], "noack"):
		case command.EqFold(args[i], "streams"):
			pos = i
			break scan
		default:
			break scan // a syntax error
		}
	}
	if pos < 0 {
		return
	}
	num := len(args) - pos - 1
	if num == 0 || num%2 != 0 {
		return
	}
	for i := pos + 1; i < pos+1+num/2; i++ {
		each(i)
	}
}
