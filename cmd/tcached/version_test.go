package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	plat := " " + runtime.GOOS + "/" + runtime.GOARCH
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-05T01:00:00Z"}, {Key: "vcs.modified", Value: "false"},
	}}
	dirty := *bi
	dirty.Settings = append([]debug.BuildSetting{{Key: "vcs.modified", Value: "true"}}, bi.Settings[:3]...)
	for _, tc := range []struct {
		name, linked, commit string
		bi                   *debug.BuildInfo
		ok                   bool
		want                 string
	}{
		{"checkout build", "", "", bi, true, "tcached (devel) commit 0123456789abcdef0123456789abcdef01234567 (2026-12-05T01:00:00Z) go1.26.8" + plat},
		{"release build", "v1.2.3", "", bi, true, "tcached v1.2.3 commit 0123456789abcdef0123456789abcdef01234567 (2026-12-05T01:00:00Z) go1.26.8" + plat},
		{"modified tree", "", "", &dirty, true, "tcached (devel) commit 0123456789abcdef0123456789abcdef01234567+dirty (2026-12-05T01:00:00Z) go1.26.8" + plat},
		{"VCS stamp wins", "", "abc", bi, true, "tcached (devel) commit 0123456789abcdef0123456789abcdef01234567 (2026-12-05T01:00:00Z) go1.26.8" + plat},
		{"linked commit", "v1.2.3", "abc", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "tcached v1.2.3 commit abc go1.26.8" + plat},
		{"no VCS stamp", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}}, true, "tcached v0.3.0 commit unknown go1.26.8" + plat},
		{"no build info", "", "", nil, false, "tcached (devel) commit unknown " + runtime.Version() + plat},
	} {
		if got := versionString(tc.linked, tc.commit, tc.bi, tc.ok); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestVersionFlag: --version prints one line on stdout and exits 0
// without a config; with other flags too.
func TestVersionFlag(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--version", "--config", "/nonexistent.yaml"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr, nil); code != 0 || stderr.Len() != 0 {
			t.Fatalf("%q: exit %d, stderr %q", args, code, stderr.String())
		}
		if !regexp.MustCompile(`^tcached \S+ commit \S+.* go1\.\d+\S* \w+/\w+\n$`).MatchString(stdout.String()) {
			t.Errorf("%q: stdout %q", args, stdout.String())
		}
	}
}

// TestVersionOfBuiltBinary builds tcached as the Makefile does (version
// and commit linked in; the toolchain's VCS stamp wins where it has one)
// and checks that --version names the commit git has checked out.
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): the commit cannot be checked", err)
	}
	rev := strings.TrimSpace(string(head))
	bin := filepath.Join(t.TempDir(), "tcached")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.9.9-test -X main.commit="+rev, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("tcached --version: %v", err)
	}
	want := regexp.MustCompile(`^tcached v9\.9\.9-test commit ` + rev + `(\+dirty)?( \(\S+\))? ` + regexp.QuoteMeta(runtime.Version()) + ` \w+/\w+\n$`)
	if !want.Match(out) {
		t.Errorf("--version = %q, want %v", out, want)
	}
}
