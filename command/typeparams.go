package command

import (
	"math"
	"strconv"
	"sync/atomic"
)

// TypeParams are a tenant's CONFIG parameters of the types that are not
// collections: hll-sparse-max-bytes (when a HyperLogLog leaves its sparse
// representation), stream-node-max-bytes and stream-node-max-entries (how
// many bytes and entries a stream node holds, which decides what XTRIM
// and XADD's approximate trimming remove). Like Encodings they only shape
// the tenant's own values, so CONFIG SET sets them for the caller's tenant
// (until the process ends, as Redis's CONFIG SET without REWRITE); the
// families read them through Ctx.Types. They are kept apart from
// Encodings, which lists the collections' thresholds, so that the two
// tables grow independently.
type TypeParams struct {
	params [numTypeParams]atomic.Int64
}

// TypeParam is one parameter: its CONFIG name, default and Redis 7.0's
// bounds; Memory marks a memory value ("3000", "3kb", "1mb").
type TypeParam struct {
	Name     string
	Default  int64
	Min, Max int64
	Memory   bool
}

// The parameters' indexes in TypeParams.
const (
	HLLSparseMaxBytes = iota
	StreamNodeMaxBytes
	StreamNodeMaxEntries
	numTypeParams
)

// TypeParamTable lists the parameters with Redis 7.0's defaults and bounds.
func TypeParamTable() [numTypeParams]TypeParam {
	return [...]TypeParam{
		{"hll-sparse-max-bytes", 3000, 0, math.MaxInt64, true},
		{"stream-node-max-bytes", 4096, 0, math.MaxInt64, true},
		{"stream-node-max-entries", 100, 0, math.MaxInt64, false},
	}
}

// NewTypeParams returns Redis's defaults.
func NewTypeParams() *TypeParams {
	p := &TypeParams{}
	for i, d := range TypeParamTable() {
		p.params[i].Store(d.Default)
	}
	return p
}

// Lookup finds a parameter by name (case-insensitive).
func (p *TypeParams) Lookup(name []byte) (*atomic.Int64, TypeParam, bool) {
	for i, d := range TypeParamTable() {
		if EqFold(name, d.Name) {
			return &p.params[i], d, true
		}
	}
	return nil, TypeParam{}, false
}

// Get is parameter i (HLLSparseMaxBytes, ...); a nil TypeParams (an
// operator's connection) answers Redis's default.
func (p *TypeParams) Get(i int) int64 {
	if p == nil {
		return TypeParamTable()[i].Default
	}
	return p.params[i].Load()
}

// Parse reads a CONFIG SET argument as Redis 7.0 does; on failure it
// returns Redis's reason.
func (d TypeParam) Parse(arg []byte) (int64, string) {
	bounds := "argument must be between " + strconv.FormatInt(d.Min, 10) + " and " + strconv.FormatInt(d.Max, 10) + " inclusive"
	if !d.Memory {
		v, ok := ParseInt(arg)
		if !ok {
			return 0, "argument couldn't be parsed into an integer"
		}
		if v < d.Min || v > d.Max {
			return 0, bounds
		}
		return v, ""
	}
	v, ok, overflow := parseMemory(arg)
	switch {
	case overflow:
		return 0, bounds
	case !ok:
		return 0, "argument must be a memory value"
	case v < d.Min || v > d.Max:
		return 0, bounds
	}
	return v, ""
}
