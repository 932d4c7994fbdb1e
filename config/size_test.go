package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"0", 0, ""},
		{"1", 1, ""},
		{"1048576", 1 << 20, ""},
		{"512B", 512, ""},
		{"512b", 512, ""},
		// redis.conf: bare letter = 1000, letter+b = 1024, case-insensitive.
		{"1k", 1000, ""},
		{"1K", 1000, ""},
		{"1kb", 1024, ""},
		{"1KB", 1024, ""},
		{"1Kb", 1024, ""},
		{"1m", 1000 * 1000, ""},
		{"1mb", 1 << 20, ""},
		{"64MB", 64 << 20, ""},
		{"1g", 1000 * 1000 * 1000, ""},
		{"1gb", 1 << 30, ""},
		{"1GB", 1 << 30, ""},
		{"1KiB", 1 << 10, ""},
		{"1kib", 1 << 10, ""},
		{"512MiB", 512 << 20, ""},
		{"2GiB", 2 << 30, ""},
		{" 64 MiB ", 64 << 20, ""},
		{"007k", 7000, ""},
		{"8589934591GiB", 8589934591 << 30, ""}, // largest GiB count that fits
		{"9223372036854775807", math.MaxInt64, ""},
		{"9223372036854775807B", math.MaxInt64, ""},

		{"", 0, `invalid size ""`},
		{"MiB", 0, `invalid size "MiB"`},
		{"12XB", 0, `invalid size "12XB"`},
		{"1TB", 0, `invalid size "1TB"`},
		{"1.5GiB", 0, `invalid size "1.5GiB"`},
		{"-1", 0, `invalid size "-1"`},
		{"+1", 0, `invalid size "+1"`},
		{"1_000", 0, `invalid size "1_000"`},
		{"1e6", 0, `invalid size "1e6"`},
		{"0x10", 0, `invalid size "0x10"`},
		{"1 M iB", 0, `invalid size "1 M iB"`},
		{"8589934592GiB", 0, "larger than 9223372036854775807 bytes"},
		{"99999999999GiB", 0, `invalid size "99999999999GiB": larger than`},
		{"9223372036854775808", 0, "larger than"},
		{"99999999999999999999999999", 0, "larger than"},
		{"9223372036854775807k", 0, "larger than"},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseSize(%q) error %v", tc.in, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("ParseSize(%q) = %d, want %d", tc.in, got, tc.want)
		case tc.err != "" && err == nil:
			t.Errorf("ParseSize(%q) = %d, want error %q", tc.in, got, tc.err)
		case tc.err != "" && !strings.Contains(err.Error(), tc.err):
			t.Errorf("ParseSize(%q) error %q, want %q", tc.in, err, tc.err)
		}
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 bytes"},
		{1000, "1000 bytes"},
		{1024, "1KiB"},
		{3 << 20, "3MiB"},
		{1536 << 10, "1536KiB"},
		{4 << 30, "4GiB"},
	}
	for _, tc := range tests {
		if got := formatSize(tc.in); got != tc.want {
			t.Errorf("formatSize(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in        string
		secondsOK bool
		want      time.Duration
		err       string
	}{
		{"200ms", false, 200 * time.Millisecond, ""},
		{"1h30m", false, 90 * time.Minute, ""},
		{"0", false, 0, ""},
		{"0s", true, 0, ""},
		{"0", true, 0, ""},
		{"3600", true, time.Hour, ""},
		{"9223372036", true, 9223372036 * time.Second, ""},
		{"9223372037", true, 0, "too large"},
		{"5", false, 0, `invalid duration "5": use Go syntax`},
		{"-1s", false, 0, "must be >= 0"},
		{"-1s", true, 0, "must be >= 0"},
		{"-5", true, 0, "invalid duration"},
		{"1d", true, 0, "or a whole number of seconds"},
		{"", true, 0, "invalid duration"},
	}
	for _, tc := range tests {
		got, err := parseDuration(tc.in, tc.secondsOK)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("parseDuration(%q, %v) = %v, %v; want %v", tc.in, tc.secondsOK, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseDuration(%q, %v) error %v, want %q", tc.in, tc.secondsOK, err, tc.err)
		}
	}
}
