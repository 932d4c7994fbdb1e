package backed

// Reply strings of backed mode. The backing cluster failed, timed out, or
// its circuit breaker is open: ERR, not TRYAGAIN or CLUSTERDOWN, which
// clients retry at once, so an open breaker would become a retry storm.
// Package server's storeError maps the Backend's errors onto them.
const (
	ErrL2Failed      = "ERR backing tier error"
	ErrL2Timeout     = "ERR backing tier timeout"
	ErrL2Unavailable = "ERR backing tier unavailable (circuit breaker open)"
)

// ErrNotBacked refuses, in backed mode, a command that only the embedded
// store serves (name: the command, without its subcommand).
func ErrNotBacked(name string) string {
	return "ERR '" + name + "' is not available when tcached fronts Redis Cluster"
}
