package backed

import (
	"context"
	"reflect"
	"testing"

	"github.com/tcached/tcached/command"
)

// TestApply: a row's mode alone decides its backed handler. Rows with a
// mode get one, keyed rows without are refused (their shed-read answer
// too), BackedRefused is inherited by subcommands, and a keyless local
// row keeps its handler.
func TestApply(t *testing.T) {
	local := func(*command.Ctx, [][]byte) {}
	refuse := func(*command.Ctx, [][]byte) {}
	get := command.Row("get", 2, command.ReadFast, command.Key1, local).WithMiss(command.MissNull).WithBacked(command.BackedGet)
	hset := command.Row("hset", -4, command.WriteGrow, command.Key1, local).WithMiss(command.MissNull).WithBacked(command.BackedRefused)
	ping := command.Row("ping", -1, command.Fast, command.NoKeys, local)
	multi := command.Row("multi", 1, command.Tx, command.NoKeys, local).WithBacked(command.BackedRefused)
	pubsub := command.Container("pubsub", -2, 0, nil, command.Row("channels", -2, 0, command.NoKeys, local)).WithBacked(command.BackedRefused)
	usage := command.Container("memory", -2, 0, nil, command.Row("usage", -3, command.Read, command.Key2, local).WithBacked(command.BackedRead))
	rows := []*command.Spec{get, hset, ping, multi, pubsub, usage}
	New(nil, Options{}).Apply(rows, refuse)

	isRefuse := func(h command.Handler) bool { return h != nil && funcID(h) == funcID(refuse) }
	isLocal := func(h command.Handler) bool { return h != nil && funcID(h) == funcID(local) }
	for _, tc := range []struct {
		row            *command.Spec
		refused, local bool
	}{
		{get, false, false}, {hset, true, false}, {ping, false, true}, {multi, true, false},
		{pubsub.Subs["channels"], true, false}, {usage.Subs["usage"], false, false},
	} {
		if got := isRefuse(tc.row.Handler); got != tc.refused {
			t.Errorf("%s: refused %v, want %v", tc.row.Name, got, tc.refused)
		}
		if got := isLocal(tc.row.Handler); got != tc.local {
			t.Errorf("%s: local handler kept %v, want %v", tc.row.Name, got, tc.local)
		}
	}
	if hset.Miss != nil {
		t.Error("a refused row keeps its shed-read answer")
	}
	if get.Miss == nil {
		t.Error("a backed read lost its shed-read answer")
	}
}

// TestEveryModeHasAHandler: each mode a row may declare is implemented.
func TestEveryModeHasAHandler(t *testing.T) {
	m := New(nil, Options{})
	for mode := command.BackedGet; mode < command.NumBackedModes; mode++ {
		if m.handler(&command.Spec{Name: "x", Backed: mode, FirstKey: 1}) == nil {
			t.Errorf("mode %d has no handler", mode)
		}
	}
}

// funcID tells handlers apart by their code (func values do not compare).
func funcID(h command.Handler) uintptr { return reflect.ValueOf(h).Pointer() }

// fwdBackend is a Backend that forwards (its other methods are never
// called by Apply).
type fwdBackend struct{ Backend }

func (fwdBackend) Forward(context.Context, FwdReq) FwdResult { return FwdResult{} }
func (fwdBackend) LoadColl(context.Context, string, int, []byte, int64) CollLoaded {
	return CollLoaded{}
}

// TestApplyCollections: with a Forwarder, a keyed row without a mode is
// forwarded (not refused, not local), BackedRefused still refuses, a
// keyless row stays local; without one, the collection modes refuse.
func TestApplyCollections(t *testing.T) {
	local := func(*command.Ctx, [][]byte) {}
	refuse := func(*command.Ctx, [][]byte) {}
	hset := command.Row("hset", -4, command.WriteGrow, command.Key1, local)
	hget := command.Row("hget", 3, command.ReadFast, command.Key1, local).WithMiss(command.MissNull)
	zunion := command.Row("zunion", -3, command.Read, command.NoKeys, local).WithBacked(command.BackedFwdRead).
		WithKeysOf(command.NumKeysOf(1))
	blpop := command.Row("blpop", -3, command.Write, command.Blocks, local).WithBacked(command.BackedBlock)
	watch := command.Row("watch", -2, command.Fast, command.AllKeys, local).WithBacked(command.BackedRefused)
	ping := command.Row("ping", -1, command.Fast, command.NoKeys, local)
	rows := []*command.Spec{hset, hget, zunion, blpop, watch, ping}
	New(fwdBackend{}, Options{}).Apply(rows, refuse)
	for _, tc := range []struct {
		row            *command.Spec
		refused, local bool
	}{
		{hset, false, false}, {hget, false, false}, {zunion, false, false}, {blpop, false, false},
		{watch, true, false}, {ping, false, true},
	} {
		if got := funcID(tc.row.Handler) == funcID(refuse); got != tc.refused {
			t.Errorf("%s: refused %v, want %v", tc.row.Name, got, tc.refused)
		}
		if got := funcID(tc.row.Handler) == funcID(local); got != tc.local {
			t.Errorf("%s: local %v, want %v", tc.row.Name, got, tc.local)
		}
	}
	if hget.Miss == nil {
		t.Error("a forwarded read lost its shed-read answer")
	}
}
