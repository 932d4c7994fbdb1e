package set

import "github.com/tcached/tcached/command"

// Specs are the set commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("sadd", -3, command.WriteGrow|command.Fast, command.Key1, cmdSAdd),
		command.Row("srem", -3, command.Write|command.Fast, command.Key1, cmdSRem),
		command.Row("smembers", 2, command.Read, command.Key1, cmdSMembers).WithMiss(command.MissEmptySet),
		command.Row("sismember", 3, command.ReadFast, command.Key1, cmdSIsMember).WithMiss(command.MissZero),
		command.Row("smismember", -3, command.ReadFast, command.Key1, cmdSMIsMember).WithMiss(missSMIsMember),
		command.Row("scard", 2, command.ReadFast, command.Key1, cmdSCard).WithMiss(command.MissZero),
		command.Row("spop", -2, command.Write|command.Fast, command.Key1, cmdSPop),
		command.Row("srandmember", -2, command.Read, command.Key1, cmdSRandMember).WithMiss(command.MissRandom),
		command.Row("sinter", -2, command.Read, command.AllKeys, cmdSInter).WithMiss(command.MissEmptySet),
		command.Row("sunion", -2, command.Read, command.AllKeys, cmdSUnion).WithMiss(command.MissEmptySet),
		command.Row("sdiff", -2, command.Read, command.AllKeys, cmdSDiff).WithMiss(command.MissEmptySet),
		command.Row("sintercard", -3, command.Read, command.NoKeys, cmdSInterCard).WithMiss(command.MissZero).WithBacked(command.BackedFwdRead).WithKeysOf(command.NumKeysOf(1)),
		command.Row("sinterstore", -3, command.WriteGrow, command.AllKeys, cmdSInterStore),
		command.Row("sunionstore", -3, command.WriteGrow, command.AllKeys, cmdSUnionStore),
		command.Row("sdiffstore", -3, command.WriteGrow, command.AllKeys, cmdSDiffStore),
		command.Row("sscan", -3, command.Read, command.Key1, cmdSScan).WithMiss(command.MissEmptyScan),
		command.Row("smove", 4, command.Write|command.Fast, command.Key12, cmdSMove),
	}
}
