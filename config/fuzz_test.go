package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is an *Error,
// and that every success satisfies the invariants a Config promises. The
// seed corpus is testdata/*.yaml, the example file and a few edge cases.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, "../tcached.example.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "---", "a: &a [*a]", "maxmemory: 1\ntenants: [{}]", bomb()} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, warnings, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if c != nil || warnings != nil {
				t.Fatal("failed Parse returned a config or warnings")
			}
			return
		}
		checkInvariants(t, c)
	})
}
