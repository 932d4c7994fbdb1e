package command

// Reply error strings of the sorted-set algebra, blocking pops and geo
// commands, spelled as Redis 7.0.15 spells them (t_zset.c, geo.c). They
// sit in their own file, next to errors.go, so that families added in
// parallel do not edit one constant block.
const (
	ErrZWeightNotFloat  = "ERR weight value is not a float"
	ErrZLimitNegative   = "ERR LIMIT can't be negative"
	ErrZNumkeysPositive = "ERR numkeys should be greater than 0"
	ErrZCountPositive   = "ERR count should be greater than 0"
	// ErrZRandTooLarge refuses a ZRANDMEMBER with a negative count whose
	// reply would pass the client output buffer limit (tcached's own
	// refusal, as HRANDFIELD's and SRANDMEMBER's).
	ErrZRandTooLarge = "ERR ZRANDMEMBER count too large: its reply would exceed the client output buffer limit"

	ErrGeoInvalidLonLat   = "ERR invalid longitude,latitude pair "
	ErrGeoUnitUnknown     = "ERR unsupported unit provided. please use M, KM, FT, MI"
	ErrGeoNeedNumber      = "ERR need numeric radius"
	ErrGeoRadiusNeg       = "ERR radius cannot be negative"
	ErrGeoNeedHeight      = "ERR need numeric height"
	ErrGeoHeightNeg       = "ERR height or width cannot be negative"
	ErrGeoCountPositive   = "ERR COUNT must be > 0"
	ErrGeoAnyNoCount      = "ERR the ANY argument requires COUNT argument"
	ErrGeoStoreWith       = "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORDS options"
	ErrGeoSearchStoreWith = "ERR STORE option in GEOSEARCH is not compatible with WITHDIST, WITHHASH and WITHCOORDS options"
	ErrGeoFromBoth        = "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH"
	ErrGeoByBoth          = "ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"
	ErrGeoFromMissing     = "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH"
	ErrGeoMemberMissing   = "ERR could not decode requested zset member"
	ErrGeoXXNX            = "ERR XX and NX options at the same time are not compatible"
)

// ErrZNeedKey is ZUNION's and friends' refusal of numkeys < 1.
func ErrZNeedKey(name string) string {
	return "ERR at least 1 input key is needed for '" + name + "' command"
}
