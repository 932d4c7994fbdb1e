package geo

import "github.com/tcached/tcached/command"

// Specs are the geo commands' rows of the command table. GEORADIUS and
// GEORADIUSBYMEMBER write (their STORE keys, which WATCH marks); the _RO
// forms and GEOSEARCH only read.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("geoadd", -5, command.WriteGrow, command.Key1, cmdGeoAdd),
		command.Row("geodist", -4, command.Read, command.Key1, cmdGeoDist).WithMiss(command.MissNull),
		command.Row("geohash", -2, command.Read, command.Key1, cmdGeoHash),
		command.Row("geopos", -2, command.Read, command.Key1, cmdGeoPos),
		command.Row("geosearch", -7, command.Read, command.Key1, cmdGeoSearch).WithMiss(command.MissEmptyArray),
		command.Row("geosearchstore", -8, command.WriteGrow, command.Key12, cmdGeoSearchStore).WithWriteKeys(destOnly),
		command.Row("georadius", -6, command.WriteGrow, command.Key1, cmdGeoRadius).WithWriteKeys(storeWriteKeys).WithKeysOf(storeKeysOf),
		command.Row("georadiusbymember", -5, command.WriteGrow, command.Key1, cmdGeoRadiusByMember).WithWriteKeys(storeWriteKeys).WithKeysOf(storeKeysOf),
		command.Row("georadius_ro", -6, command.Read, command.Key1, cmdGeoRadiusRO).WithMiss(command.MissEmptyArray),
		command.Row("georadiusbymember_ro", -5, command.Read, command.Key1, cmdGeoRadiusByMemberRO).WithMiss(command.MissEmptyArray),
	}
}

// destOnly marks GEOSEARCHSTORE's destination, args[1], for WATCH.
func destOnly(db int, args [][]byte, mark func(db int, key []byte)) {
	if len(args) > 1 {
		mark(db, args[1])
	}
}
