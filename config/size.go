package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// sizeUnits follows redis.conf: a bare letter is a power of 1000 and the
// letter followed by "b" a power of 1024 ("1k => 1000 bytes, 1kb => 1024
// bytes"), case-insensitive. The IEC spellings KiB/MiB/GiB are added because
// they say 1024 unambiguously. Note the consequence: "KB", "MB", "GB" are
// binary, as in Redis.
var sizeUnits = map[string]int64{
	"":    1,
	"b":   1,
	"k":   1000,
	"kb":  1 << 10,
	"kib": 1 << 10,
	"m":   1000 * 1000,
	"mb":  1 << 20,
	"mib": 1 << 20,
	"g":   1000 * 1000 * 1000,
	"gb":  1 << 30,
	"gib": 1 << 30,
}

// ParseSize parses a byte count: a non-negative decimal integer, optionally
// followed (optionally after spaces) by a case-insensitive unit:
//
//	B             1
//	k    kb KiB   1000  1024     (as in redis.conf: bare letter = 1000,
//	m    mb MiB   1000² 1024²     letter+b = 1024, so "MB" is 1048576)
//	g    gb GiB   1000³ 1024³
//
// Fractions, signs and values above math.MaxInt64 bytes are errors.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	mult, ok := sizeUnits[strings.ToLower(strings.TrimLeft(t[i:], " \t"))]
	if !ok {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q: larger than %d bytes", s, int64(math.MaxInt64))
	}
	return n * mult, nil
}

// formatSize renders n in the largest binary unit that divides it exactly,
// so error messages echo sizes the way people write them.
func formatSize(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// parseDuration parses Go duration syntax ("200ms", "1h30m"). When
// secondsOK, a plain non-negative integer is a number of seconds, as Redis's
// EXPIRE counts; the exception is limited to TTLs because a bare "5" as a
// timeout is more likely a forgotten "ms" than five seconds.
func parseDuration(s string, secondsOK bool) (time.Duration, error) {
	if secondsOK && s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("invalid duration %q: too large", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		hint := "use Go syntax such as 200ms, 30s, 1h30m"
		if secondsOK {
			hint += ", or a whole number of seconds"
		}
		return 0, fmt.Errorf("invalid duration %q: %s", s, hint)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: must be >= 0", s)
	}
	return d, nil
}
