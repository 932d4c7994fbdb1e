package command

// Reply error strings of LMPOP, BLMPOP and SINTERCARD (Redis 7.0's t_list.c
// and t_set.c), kept apart from errors.go so that families added in
// parallel do not edit the same lines.
const (
	ErrNumkeysPositive = "ERR numkeys should be greater than 0"
	ErrCountPositive   = "ERR count should be greater than 0"
	ErrNumkeysTooMany  = "ERR Number of keys can't be greater than number of args"
	ErrLimitNegative   = "ERR LIMIT can't be negative"
)
