package command

import (
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, str string
		nocase   bool
		want     bool
	}{
		{"*", "", false, false}, // as stringmatchlen; callers special-case a lone "*"
		{"*", "anything", false, true},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"h*llo", "heeeello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hallo", false, true}, // reversed range, as Redis
		{`h\*llo`, "h*llo", false, true},
		{`h\*llo`, "hello", false, false},
		{`\`, `\`, false, true},
		{"[", "[", false, false},
		{"[abc", "a", false, true}, // unterminated class, as Redis
		{"a*", "a", false, true},
		{"a**", "a", false, true},
		{"*a", "ba", false, true},
		{"*a", "ab", false, false},
		{"MaxMemory", "maxmemory", true, true},
		{"MaxMemory", "maxmemory", false, false},
		{"[A-Z]", "q", true, true},
		{"a\x00b", "a\x00b", false, true},
		{"", "", false, true},
		{"", "a", false, false},
	}
	for _, tt := range tests {
		if got := GlobMatch([]byte(tt.pat), []byte(tt.str), tt.nocase); got != tt.want {
			t.Errorf("GlobMatch(%q, %q, %v) = %v, want %v", tt.pat, tt.str, tt.nocase, got, tt.want)
		}
	}
}

// TestGlobPathological: Redis's skip-longer-matches cut keeps patterns like
// *a*a*a*...b from going exponential.
func TestGlobPathological(t *testing.T) {
	pat := []byte(strings.Repeat("*a", 40) + "b")
	str := []byte(strings.Repeat("a", 5000))
	start := time.Now()
	if GlobMatch(pat, str, false) {
		t.Fatal("unexpected match")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("pathological pattern took %v", d)
	}
}

func FuzzGlob(f *testing.F) {
	for _, s := range []string{"*", "h?llo", "[a-z]*", `\`, "[", "[^", "[\\", "*[", "a*b*c", "\x00", "[a-"} {
		f.Add(s, "hello")
	}
	f.Fuzz(func(t *testing.T, pat, str string) {
		GlobMatch([]byte(pat), []byte(str), false)
		GlobMatch([]byte(pat), []byte(str), true)
		if str != "" && !GlobMatch([]byte("*"), []byte(str), false) {
			t.Fatal("* must match everything")
		}
		// A pattern without metacharacters matches exactly itself.
		if !strings.ContainsAny(pat, `*?[\`) && GlobMatch([]byte(pat), []byte(str), false) != (pat == str) {
			t.Fatalf("literal %q vs %q", pat, str)
		}
	})
}
