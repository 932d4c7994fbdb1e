package command

// Reply error strings of DUMP, RESTORE and OBJECT (Redis 7.0's cluster.c,
// server.c shared replies and object.c), kept apart from errors.go so that
// families added in parallel do not edit the same lines.
const (
	ErrBusyKey         = "BUSYKEY Target key name already exists."
	ErrDumpPayload     = "ERR DUMP payload version or checksum are wrong"
	ErrBadDataFormat   = "ERR Bad data format"
	ErrInvalidTTL      = "ERR Invalid TTL value, must be >= 0"
	ErrInvalidIdletime = "ERR Invalid IDLETIME value, must be >= 0"
	ErrInvalidFreq     = "ERR Invalid FREQ value, must be >= 0 and <= 255"
	// ErrNoLFU is OBJECT FREQ's answer when the maxmemory policy is not an
	// LFU one, which in tcached it never is (its eviction is LRU).
	ErrNoLFU = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)

// ErrUnsupportedPayload refuses a RESTORE payload of a type tcached does
// not store (a stream, a module type): tcached's own wording, ERR as
// Redis's "Bad data format".
func ErrUnsupportedPayload(typeName string) string {
	return "ERR Bad data format: this server does not support values of type " + typeName
}

// ErrUnsupportedDump refuses DUMP of a value whose type has no RDB
// encoder yet (tcached's own wording).
func ErrUnsupportedDump(typeName string) string {
	return "ERR DUMP of a value of type " + typeName + " is not supported by this server"
}
