package zset

import "github.com/tcached/tcached/command"

// Specs are the zset commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("zadd", -4, command.WriteGrow|command.Fast, command.Key1, cmdZAdd),
		command.Row("zincrby", 4, command.WriteGrow|command.Fast, command.Key1, cmdZIncrBy),
		command.Row("zrem", -3, command.Write|command.Fast, command.Key1, cmdZRem),
		command.Row("zscore", 3, command.ReadFast, command.Key1, cmdZScore).WithMiss(command.MissNull),
		command.Row("zmscore", -3, command.ReadFast, command.Key1, cmdZMScore).WithMiss(command.MissNullsAfterKey),
		command.Row("zcard", 2, command.ReadFast, command.Key1, cmdZCard).WithMiss(command.MissZero),
		command.Row("zcount", 4, command.ReadFast, command.Key1, cmdZCount).WithMiss(command.MissZero),
		command.Row("zrange", -4, command.Read, command.Key1, cmdZRange).WithMiss(command.MissEmptyArray),
		command.Row("zrangebyscore", -4, command.Read, command.Key1, cmdZRangeByScore).WithMiss(command.MissEmptyArray),
		command.Row("zrevrange", -4, command.Read, command.Key1, cmdZRevRange).WithMiss(command.MissEmptyArray),
		command.Row("zrank", 3, command.ReadFast, command.Key1, cmdZRank).WithMiss(command.MissNull),
		command.Row("zrevrank", 3, command.ReadFast, command.Key1, cmdZRevRank).WithMiss(command.MissNull),
		command.Row("zpopmin", -2, command.Write|command.Fast, command.Key1, cmdZPopMin),
		command.Row("zpopmax", -2, command.Write|command.Fast, command.Key1, cmdZPopMax),
		command.Row("zremrangebyscore", 4, command.Write, command.Key1, cmdZRemRangeByScore),
		command.Row("zremrangebyrank", 4, command.Write, command.Key1, cmdZRemRangeByRank),
		command.Row("zscan", -3, command.Read, command.Key1, cmdZScan).WithMiss(command.MissEmptyScan),
		command.Row("zrevrangebyscore", -4, command.Read, command.Key1, cmdZRevRangeByScore).WithMiss(command.MissEmptyArray),
		command.Row("zrangebylex", -4, command.Read, command.Key1, cmdZRangeByLex).WithMiss(command.MissEmptyArray),
		command.Row("zrevrangebylex", -4, command.Read, command.Key1, cmdZRevRangeByLex).WithMiss(command.MissEmptyArray),
		command.Row("zlexcount", 4, command.ReadFast, command.Key1, cmdZLexCount).WithMiss(command.MissZero),
		command.Row("zremrangebylex", 4, command.Write, command.Key1, cmdZRemRangeByLex),
		command.Row("zrandmember", -2, command.Read, command.Key1, cmdZRandMember),
		// Redis's legacy key range for the numkeys commands: the
		// destination only (the STORE forms) or none; the sources are
		// found by numkeys (Redis's getkeys_proc). Rows naming no key
		// position are refused in backed mode like the others.
		command.Row("zrangestore", -5, command.WriteGrow, command.Key12, cmdZRangeStore).WithWriteKeys(firstKeyOnly),
		command.Row("zunion", -3, command.Read, command.NoKeys, cmdZUnion).WithBacked(command.BackedFwdRead).WithKeysOf(numkeysKeysOf(1, false)),
		command.Row("zinter", -3, command.Read, command.NoKeys, cmdZInter).WithBacked(command.BackedFwdRead).WithKeysOf(numkeysKeysOf(1, false)),
		command.Row("zdiff", -3, command.Read, command.NoKeys, cmdZDiff).WithBacked(command.BackedFwdRead).WithKeysOf(numkeysKeysOf(1, false)),
		command.Row("zintercard", -3, command.Read, command.NoKeys, cmdZInterCard).WithBacked(command.BackedFwdRead).WithKeysOf(numkeysKeysOf(1, false)),
		command.Row("zunionstore", -4, command.WriteGrow, command.Key1, cmdZUnionStore).WithKeysOf(numkeysKeysOf(2, true)),
		command.Row("zinterstore", -4, command.WriteGrow, command.Key1, cmdZInterStore).WithKeysOf(numkeysKeysOf(2, true)),
		command.Row("zdiffstore", -4, command.WriteGrow, command.Key1, cmdZDiffStore).WithKeysOf(numkeysKeysOf(2, true)),
		command.Row("zmpop", -4, command.Write, command.NoKeys, cmdZMPop).WithBacked(command.BackedFwdWrite).WithWriteKeys(numkeysWriteKeys(1)).WithKeysOf(numkeysKeysOf(1, false)),
		command.Row("bzmpop", -5, command.Write|command.NoScript, command.NoKeys, cmdBZMPop).WithBacked(command.BackedBlockNum).WithWriteKeys(numkeysWriteKeys(2)).WithKeysOf(numkeysKeysOf(2, false)),
		command.Row("bzpopmin", -3, command.Write|command.Fast|command.NoScript, command.Blocks, cmdBZPopMin).WithBacked(command.BackedBlock),
		command.Row("bzpopmax", -3, command.Write|command.Fast|command.NoScript, command.Blocks, cmdBZPopMax).WithBacked(command.BackedBlock),
	}
}

// firstKeyOnly marks the destination, args[1], for WATCH (ZRANGESTORE
// only reads its source).
func firstKeyOnly(db int, args [][]byte, mark func(db int, key []byte)) {
	if len(args) > 1 {
		mark(db, args[1])
	}
}
