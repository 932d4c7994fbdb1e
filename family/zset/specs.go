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
	}
}
