package command

import (
	"sync/atomic"

	"github.com/tcached/tcached/value"
)

// Encodings are a tenant's collection-encoding thresholds: Redis's
// hash-max-listpack-entries and friends, settable per tenant with CONFIG
// SET (they only choose between a collection's two encodings, so a tenant
// changing them affects only its own keys). The families read them on
// every write through Ctx.Limits; a change applies to later writes, and
// like Redis never converts a collection back.
type Encodings struct {
	params [numEncodingParams]atomic.Int64
}

// EncodingParam is one threshold: its CONFIG name, Redis 7.0's old name
// for it ("" if none) and its default.
type EncodingParam struct {
	Name, Alias string
	Default     int64
}

const numEncodingParams = 5

// EncodingParams are the thresholds in Encodings' order, with Redis 7.0's
// defaults (set-max-listpack-* are Redis 7.2's: 7.0 keeps no compact form
// for a set of strings, see family/set).
func EncodingParams() [numEncodingParams]EncodingParam {
	return [...]EncodingParam{
		{"hash-max-listpack-entries", "hash-max-ziplist-entries", 512},
		{"hash-max-listpack-value", "hash-max-ziplist-value", 64},
		{"set-max-intset-entries", "", 512},
		{"set-max-listpack-entries", "", 128},
		{"set-max-listpack-value", "", 64},
	}
}

// NewEncodings returns Redis's defaults.
func NewEncodings() *Encodings {
	e := &Encodings{}
	for i, p := range EncodingParams() {
		e.params[i].Store(p.Default)
	}
	return e
}

// Lookup finds a parameter by its name or alias (case-insensitive).
func (e *Encodings) Lookup(name string) (*atomic.Int64, bool) {
	for i, p := range EncodingParams() {
		if EqFold([]byte(name), p.Name) || p.Alias != "" && EqFold([]byte(name), p.Alias) {
			return &e.params[i], true
		}
	}
	return nil, false
}

// Get is the value of parameter i of EncodingParams().
func (e *Encodings) Get(i int) int64 { return e.params[i].Load() }

// Limits is the thresholds now.
func (e *Encodings) Limits() value.Limits {
	return value.Limits{
		HashEntries:      e.params[0].Load(),
		HashValue:        e.params[1].Load(),
		SetIntset:        e.params[2].Load(),
		SetListpack:      e.params[3].Load(),
		SetListpackValue: e.params[4].Load(),
	}
}

// Limits is the tenant's encoding thresholds (Redis's defaults when the
// connection has none, as an operator's has not).
func (c *Ctx) Limits() value.Limits {
	if c.Enc == nil {
		return value.DefaultLimits()
	}
	return c.Enc.Limits()
}
