package config

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tcached/tcached/tiers"
)

// kind is how a key's value is written, and so which rule checks it and
// which Go type it fills.
type kind uint8

const (
	kInt      kind = iota // decimal integer in [min, max] -> *int
	kSize                 // ParseSize, >= min -> *int64
	kDuration             // Go duration in [min, max] -> *time.Duration
	kSeconds              // Go duration or whole seconds -> *time.Duration
	kBool                 // yes/no/true/false, any case -> *bool
	kEnum                 // the String() of one of enum -> *Role, *Eviction
	kRatio                // decimal fraction in (0, 1] -> *float64
	kRate                 // decimal commands per second in [0, max] -> *float64
	kAddr                 // host:port, or "" or "off" for none -> *string
	kPath                 // non-empty file path -> *string
	kString               // any text check accepts -> *string

	// Structure. The shape walk descends into rows(); what the values
	// mean is read by validate.go (dst is nil).
	kSection     // a mapping of rows(); null is the same as absent
	kList        // a list of mappings of rows()
	kNamed       // a mapping from names to mappings of rows() (tiers)
	kScalars     // a list of single values
	kFlagSection // a single value (true or false) or a mapping of rows()
)

func (k kind) structure() bool { return k >= kSection }

// field is one row of a field table: one configuration key, declared once.
// Decoding, defaults, the key's own rules and REFERENCE.md all come from
// its row; rules that involve several keys are in validate.go. Tables are
// built by functions (table.go) that bind dst to the struct being filled,
// as Redis's createIntConfig(name, ..., min, max, &dst, default) does.
type field struct {
	key  string
	kind kind
	// min and max bound an int, a size (bytes), a duration (ns) or a rate,
	// both inclusive; max 0 is no upper bound.
	min, max int64
	def      any    // set before the file is read; nil: the zero value, or inherited (tiers)
	dst      any    // what the value fills; nil: a rule in validate.go reads the key
	doc      string // one line for REFERENCE.md

	required bool   // absent (or null) is an error
	example  string // shown in that error: "required (e.g. key: example)"
	enum     []fmt.Stringer
	// check vets a kString value and returns what to store, so that
	// keywords can be normalized (audit_log: STDERR -> stderr).
	check func(string) (string, error)
	rows  func() []field // the nested table of a structure kind

	// Error wording: "invalid <label> <value>: want <want> (<note>)". The
	// label defaults to the key and want is derived from kind and bounds.
	// note is added to the error of a value the row's bounds or kind
	// refuse (not to a size or duration that does not parse).
	label, want, note string
	// REFERENCE.md columns where kind and def cannot say it.
	typ, defDoc string
}

// scalar is one single value of the file. A null value (`key:`, `key: ~`)
// leaves set false, so it means the same as omitting the key.
type scalar struct {
	set  bool
	val  string
	line int
}

// setDefaults stores each row's default in its destination.
func setDefaults(rows []field) {
	for i := range rows {
		if rows[i].def != nil && rows[i].dst != nil {
			setValue(rows[i].dst, rows[i].def)
		}
	}
}

// apply sets the defaults of rows, then each value m gives, in table
// order, and returns the first value that breaks its row's rule. Rows
// without a destination are skipped: validate.go reads those keys.
func (v *validator) apply(rows []field, m mapping, path string) error {
	setDefaults(rows)
	for i := range rows {
		f := &rows[i]
		if f.dst == nil {
			continue
		}
		s := m.scalar(f.key)
		if !s.set {
			if f.required {
				return v.errf(m.line, join(path, f.key), "%s", f.requiredMsg())
			}
			continue
		}
		x, err := f.parse(s.val)
		if err != nil {
			return v.errf(s.line, join(path, f.key), "%v", err)
		}
		setValue(f.dst, x)
	}
	return nil
}

func (f *field) requiredMsg() string {
	if f.example == "" {
		return "required"
	}
	return "required (e.g. " + f.key + ": " + f.example + ")"
}

// parse applies the row's own rule to a value as written and returns what
// to store: int64 (int, size, duration), float64, bool, string or the enum
// value.
func (f *field) parse(s string) (any, error) {
	invalid := func(want string) error {
		return fmt.Errorf("invalid %s %q: want %s%s", cmp.Or(f.label, f.key), s, cmp.Or(f.want, want), f.noted())
	}
	switch f.kind {
	case kInt:
		n, err := strconv.Atoi(s)
		if err != nil || int64(n) < f.min || f.max != 0 && int64(n) > f.max {
			return nil, invalid(f.intRange())
		}
		return int64(n), nil
	case kSize:
		n, err := ParseSize(s)
		switch {
		case err != nil:
			return nil, err
		case n < f.min && f.min == 1:
			return nil, errors.New("must be > 0" + f.noted())
		case n < f.min:
			return nil, fmt.Errorf("%s is below the minimum %s", formatSize(n), formatSize(f.min))
		}
		return n, nil
	case kDuration, kSeconds:
		d, err := parseDuration(s, f.kind == kSeconds)
		switch {
		case err != nil:
			return nil, err
		case d < time.Duration(f.min):
			return nil, errors.New("must be > 0") // every minimum is 0 or 1ns
		case f.max != 0 && d > time.Duration(f.max):
			return nil, fmt.Errorf("%v is above the maximum %v", d, time.Duration(f.max))
		}
		return int64(d), nil
	case kBool:
		b, ok := parseBool(s)
		if !ok {
			return nil, invalid("yes or no")
		}
		return b, nil
	case kEnum:
		for _, e := range f.enum {
			if e.String() == s {
				return e, nil
			}
		}
		return nil, invalid(orList(f.enum))
	case kRatio, kRate:
		x, err := strconv.ParseFloat(s, 64)
		if f.kind == kRatio && (!isDecimal(s) || err != nil || x <= 0 || x > 1) {
			return nil, invalid("a fraction greater than 0 and at most 1, e.g. 0.3 for 30%")
		}
		if f.kind == kRate && (!isDecimal(s) || err != nil || x > float64(f.max)) {
			return nil, invalid(fmt.Sprintf("commands per second, a decimal number from 0 (unlimited) to %d, e.g. 5000 or 0.5", f.max))
		}
		return x, nil
	case kAddr:
		if s == "" || s == "off" {
			return "", nil
		}
		if err := checkAddr(s); err != nil {
			return nil, errors.New(err.Error() + f.noted())
		}
		return s, nil
	case kPath:
		if s == "" {
			return nil, errors.New("must not be empty")
		}
		return s, nil
	case kString:
		if f.check != nil {
			return f.check(s)
		}
		return s, nil
	}
	panic(fmt.Sprintf("config: key %s: kind %d has no value", f.key, f.kind))
}

func (f *field) noted() string {
	if f.note == "" {
		return ""
	}
	return " (" + f.note + ")"
}

func (f *field) intRange() string {
	if f.max == 0 {
		return "an integer >= " + strconv.FormatInt(f.min, 10)
	}
	return fmt.Sprintf("an integer from %d to %d", f.min, f.max)
}

// orList spells values as "a, b or c".
func orList(values []fmt.Stringer) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = v.String()
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// setValue stores x (a parsed value or a row's default) in dst. A type
// that does not fit is a mistake in a table, which every test that parses
// a file would hit.
func setValue(dst, x any) {
	switch p := dst.(type) {
	case *int:
		*p = int(asInt64(x))
	case *int64:
		*p = asInt64(x)
	case *time.Duration:
		*p = time.Duration(asInt64(x))
	case *float64:
		*p = x.(float64)
	case *bool:
		*p = x.(bool)
	case *string:
		*p = x.(string)
	case *Role:
		*p = x.(Role)
	case *Eviction:
		*p = x.(Eviction)
	case *tiers.TTLPolicy:
		*p = x.(tiers.TTLPolicy)
	default:
		panic(fmt.Sprintf("config: destination %T", dst))
	}
}

// asInt64 accepts what integer defaults are written as: untyped constants
// (int), sizes and durations.
func asInt64(x any) int64 {
	switch n := x.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case time.Duration:
		return int64(n)
	}
	panic(fmt.Sprintf("config: integer value %T", x))
}

// cut splits a table before each of the given keys, which must appear in
// that order, so that validate.go can run a rule among keys between the
// parts: each at the point where the file has always been checked.
func cut(rows []field, before ...string) [][]field {
	parts := make([][]field, 0, len(before)+1)
	for _, key := range before {
		i := slices.IndexFunc(rows, func(f field) bool { return f.key == key })
		parts, rows = append(parts, rows[:i]), rows[i:]
	}
	return append(parts, rows)
}

// splitBefore cuts a table in two before key.
func splitBefore(rows []field, key string) (before, from []field) {
	p := cut(rows, key)
	return p[0], p[1]
}

// keys lists the keys of a table, for messages that name them.
func keys(rows []field) []string {
	s := make([]string, len(rows))
	for i := range rows {
		s[i] = rows[i].key
	}
	return s
}

// The rules of single values that more than one kind or row shares, and
// the checks of kString rows (each returns the value to store).

func checkTenantRef(s string) (string, error) {
	if s != "" && !validID(s) {
		return "", fmt.Errorf("invalid tenant id %q: want 1-64 of A-Z a-z 0-9 _ -", s)
	}
	return s, nil
}

// checkAuditLog resolves audit_log: "" or "off" (any case) is off, "stderr"
// and "stdout" (any case) are the streams, anything else is a file path. A
// yes/no style word is refused rather than taken as a file name, since
// `audit_log: yes` almost certainly did not mean a file called "yes".
func checkAuditLog(s string) (string, error) {
	switch lower := strings.ToLower(s); lower {
	case "", "off":
		return "", nil
	case "stderr", "stdout":
		return lower, nil
	case "yes", "no", "true", "false", "on":
		return "", fmt.Errorf("invalid audit_log %q: want off, stderr, stdout or a file path (write ./%s for a file of that name)", s, s)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", fmt.Errorf("invalid audit_log %q: a file path must not contain control characters", s)
	}
	return s, nil
}

// checkKeyPrefix enforces backing.key_prefix's rules.
func checkKeyPrefix(p string) error {
	switch {
	case p == "":
		return errors.New("must not be empty")
	case len(p) > MaxKeyPrefixLen:
		return fmt.Errorf("invalid key_prefix %q: longer than %d bytes", p, MaxKeyPrefixLen)
	case strings.ContainsAny(p, "{}"):
		return fmt.Errorf("invalid key_prefix %q: must not contain '{' or '}' (a hash tag in the prefix would decide the slot of every key)", p)
	case strings.ContainsFunc(p, isSpaceOrControl):
		return fmt.Errorf("invalid key_prefix %q: must not contain whitespace or control characters", p)
	}
	return nil
}

func checkKeyPrefixValue(p string) (string, error) { return p, checkKeyPrefix(p) }

func checkUsername(s string) (string, error) {
	if s == "" || strings.ContainsFunc(s, isSpaceOrControl) {
		return "", fmt.Errorf("invalid username %q: want a non-empty name without spaces or control characters", s)
	}
	return s, nil
}

func checkClusterPassword(s string) (string, error) {
	if s == "" {
		return "", errors.New("must not be empty (omit it for a cluster without AUTH)")
	}
	return s, nil
}

func checkServerName(s string) (string, error) {
	if s == "" || strings.ContainsFunc(s, isSpaceOrControl) {
		return "", fmt.Errorf("invalid server_name %q: want a host name without spaces or control characters", s)
	}
	return s, nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// checkNodeAddr checks a cluster node address, host:port with a host and a
// port from 1 to 65535, and returns its normalized form for duplicate
// detection (host in lower case, port without leading zeros).
func checkNodeAddr(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "", fmt.Errorf("invalid address %q: want host:port", s)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", fmt.Errorf("invalid address %q: port must be 1-65535", s)
	}
	return net.JoinHostPort(strings.ToLower(host), strconv.FormatUint(p, 10)), nil
}

func checkAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port", s)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || (p == 0 && port != "0") {
		return fmt.Errorf("invalid address %q: port must be 0-65535", s)
	}
	return nil
}

// isDecimal reports whether s is digits with an optional fraction, the
// syntax of rate_limit: no sign, exponent, hex, underscore, Inf or NaN, all
// of which ParseFloat would take.
func isDecimal(s string) bool {
	digits, frac, dot := s, "", false
	if i := strings.IndexByte(s, '.'); i >= 0 {
		digits, frac, dot = s[:i], s[i+1:], true
	}
	allDigits := func(x string) bool {
		for i := 0; i < len(x); i++ {
			if x[i] < '0' || x[i] > '9' {
				return false
			}
		}
		return len(x) > 0
	}
	return allDigits(digits) && (!dot || allDigits(frac))
}

// parseBool accepts redis.conf's yes/no and YAML's true/false, in any case.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "yes", "true":
		return true, true
	case "no", "false":
		return false, true
	}
	return false, false
}

// validID reports whether s matches [A-Za-z0-9_-]{1,64}, the rule for
// tenant ids and tier names.
func validID(s string) bool { return validName(s, "") }

// validUserName reports whether s matches [A-Za-z0-9_.@-]{1,64}: wide
// enough for service and e-mail-like names, narrow enough that a name is
// typed the same way in redis-cli, a shell and a log line.
func validUserName(s string) bool { return validName(s, ".@") }

func validName(s, extra string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}
