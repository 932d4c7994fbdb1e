package tcached

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/tcached/tcached"

// allowed lists, for each package, the module's packages its non-test code
// may import. Data flows one way (GUIDE.md): cmd -> server -> admission ->
// tiers; server -> shard -> eviction; config and metrics are plain leaves.
// A lower layer never imports a higher one.
var allowed = map[string][]string{
	"eviction":       {},
	"value":          {},
	"resp":           {},
	"shard":          {"eviction"},
	"tiers":          {},
	"admission":      {"tiers"},
	"config":         {"tiers"},
	"metrics":        {},
	"command":        {"resp", "shard", "value"},
	"family/bitmap":  {"command", "resp", "shard", "value"},
	"family/dump":    {"command", "rdb", "shard", "value"},
	"family/hash":    {"command", "resp", "shard", "value"},
	"family/hll":     {"command", "resp", "shard", "value"},
	"family/keys":    {"command", "resp", "shard", "value"},
	"family/list":    {"command", "resp", "shard", "value"},
	"family/set":     {"command", "resp", "shard", "value"},
	"family/sorting": {"command", "resp", "shard", "value"},
	"family/str":     {"command", "resp", "shard", "value"},
	"family/stream":  {"command", "resp", "shard", "value"},
	"family/zset":    {"command", "resp", "shard", "value"},
	"family/geo":     {"command", "family/zset", "resp", "shard", "value"},
	"server": {"admission", "command", "config", "family/bitmap", "family/dump", "family/hash", "family/hll", "family/keys", "family/list",
		"family/set", "family/sorting", "family/str", "family/stream", "family/zset", "family/geo", "metrics", "resp", "shard", "tiers", "value", "backed", "pubsub",
		"scripting", "server/evloop", "tracking", "snapshot"},
	"snapshot":            {"family/dump", "rdb", "shard", "value"},
	"server/evloop":       {},
	"pubsub":              {"command"},
	"tracking":            {},
	"scripting":           {"rdb", "resp"},
	"rdb":                 {},
	"backed":              {"command", "family/dump", "family/keys", "family/str", "resp", "shard", "value"},
	"backing":             {"backed", "metrics", "resp"},
	"backing/clustertest": {},
	"cmd/tcached":         {"backing", "config", "metrics", "server"},
	"bench":               {},
}

func TestImportDirection(t *testing.T) {
	for pkg, ok := range allowed {
		bp, err := build.ImportDir(pkg, 0)
		if err != nil {
			if _, noGo := err.(*build.NoGoError); noGo {
				continue // bench has only test files
			}
			t.Fatalf("%s: %v", pkg, err)
		}
		may := map[string]bool{}
		for _, p := range ok {
			may[module+"/"+p] = true
		}
		var bad []string
		for _, imp := range bp.Imports {
			if strings.HasPrefix(imp, module+"/") && !may[imp] {
				bad = append(bad, strings.TrimPrefix(imp, module+"/"))
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("%s imports %v; it may import only %v", pkg, bad, ok)
		}
	}
}

// TestEveryPackageListed keeps the table complete: every directory with Go
// files must declare what it may import.
func TestEveryPackageListed(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "deploy") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || filepath.Dir(path) == "." {
			return nil
		}
		if _, ok := allowed[filepath.ToSlash(filepath.Dir(path))]; !ok {
			t.Errorf("package %s (%s) missing from the import table", filepath.Dir(path), path)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
