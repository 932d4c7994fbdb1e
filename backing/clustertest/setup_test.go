package clustertest

import (
	"fmt"
	"strings"
	"testing"
)

// fakeTB records Fatalf/Skipf instead of ending the test, and runs the
// cleanups StartWith registers when run returns.
type fakeTB struct {
	testing.TB
	fatal, skip string
	cleanups    []func()
}

type stopped struct{}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func (f *fakeTB) run(fn func(testing.TB)) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopped); !ok {
				panic(r)
			}
		}
		for i := len(f.cleanups) - 1; i >= 0; i-- {
			f.cleanups[i]()
		}
	}()
	fn(f)
}

func TestStartBadArgsReportsLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	f := &fakeTB{TB: t}
	f.run(func(tb testing.TB) {
		StartWith(tb, Options{ExtraArgs: []string{"--no-such-directive", "1"}})
		t.Error("StartWith returned")
	})
	if f.skip != "" {
		t.Skip(f.skip)
	}
	t.Logf("StartWith failed with:\n%s", f.fatal)
	for _, want := range []string{"attempt 1", "exited while starting", "Bad directive", ".out (tail)"} {
		if !strings.Contains(f.fatal, want) {
			t.Errorf("Fatalf message lacks %q:\n%s", want, f.fatal)
		}
	}
	if strings.Contains(f.fatal, "attempt 2") {
		t.Errorf("a config error was retried:\n%s", f.fatal)
	}
}

func TestStartTooFewMasters(t *testing.T) {
	f := &fakeTB{TB: t}
	f.run(func(tb testing.TB) { StartWith(tb, Options{Masters: 2}) })
	if f.skip == "" && !strings.Contains(f.fatal, "at least 3") {
		t.Errorf("Masters: 2 gave fatal %q", f.fatal)
	}
}

func TestMissingBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, require := range []string{"", "1"} {
		t.Setenv(RequireEnv, require)
		f := &fakeTB{TB: t}
		f.run(func(tb testing.TB) { Start(tb) })
		if require == "1" && (f.fatal == "" || f.skip != "") {
			t.Errorf("%s=1: fatal %q, skip %q; want a failure", RequireEnv, f.fatal, f.skip)
		}
		if require == "" && (f.skip == "" || f.fatal != "") {
			t.Errorf("%s unset: fatal %q, skip %q; want a skip", RequireEnv, f.fatal, f.skip)
		}
	}
}
