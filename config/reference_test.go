package config

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/tiers"
)

var update = flag.Bool("update", false, "rewrite the generated tables of REFERENCE.md from the field tables")

// TestReference keeps REFERENCE.md's key tables equal to what the field
// tables say. Each generated block sits between
//
//	<!-- generated: NAME -->  and  <!-- end generated -->
//
// and everything outside the blocks is prose kept by hand. After a change
// to a table: go generate ./config (go test ./config -run TestReference -update).
func TestReference(t *testing.T) {
	data, err := os.ReadFile("REFERENCE.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := regenerate(string(data), referenceTables())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("REFERENCE.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != string(data) {
		got, exp := strings.Split(string(data), "\n"), strings.Split(want, "\n")
		for i := range min(len(got), len(exp)) {
			if got[i] != exp[i] {
				t.Fatalf("REFERENCE.md:%d differs from the field tables (run go generate ./config)\nhave %s\nwant %s", i+1, got[i], exp[i])
			}
		}
		t.Fatalf("REFERENCE.md has %d lines, the field tables make it %d (run go generate ./config)", len(got), len(exp))
	}
}

// regenerate replaces the content of every generated block of doc. Every
// table must have exactly one block, and every block a table.
func regenerate(doc string, tables map[string]string) (string, error) {
	const open, end = "<!-- generated: ", "<!-- end generated -->"
	var b strings.Builder
	used := map[string]bool{}
	for {
		i := strings.Index(doc, open)
		if i < 0 {
			break
		}
		nameEnd := strings.Index(doc[i:], " -->")
		if nameEnd < 0 {
			return "", fmt.Errorf("unterminated marker at byte %d", i)
		}
		name := doc[i+len(open) : i+nameEnd]
		table, ok := tables[name]
		if !ok || used[name] {
			return "", fmt.Errorf("block %q: no such table, or a second block for it", name)
		}
		used[name] = true
		j := strings.Index(doc[i:], end)
		if j < 0 {
			return "", fmt.Errorf("block %q has no %s", name, end)
		}
		b.WriteString(doc[:i+nameEnd+len(" -->")] + "\n" + table)
		doc = doc[i+j:]
	}
	b.WriteString(doc)
	for name := range tables {
		if !used[name] {
			return "", fmt.Errorf("REFERENCE.md has no block for table %q", name)
		}
	}
	return b.String(), nil
}

// referenceTables renders each field table as Markdown.
func referenceTables() map[string]string {
	var c Config
	top := topFields(&c)
	setDefaults(top)
	limits := keys(limitFields(new(Limits)))
	top = slices.DeleteFunc(top, func(f field) bool { return slices.Contains(limits, f.key) })

	builtin := tiers.Builtin()
	names := slices.SortedFunc(func(yield func(string) bool) {
		for n := range builtin {
			if !yield(n) {
				return
			}
		}
	}, func(a, b string) int { return builtin[b].Priority - builtin[a].Priority })
	bt := tierEntryFields(new(tiers.Tier))
	header := []string{"Tier"}
	for _, f := range bt {
		header = append(header, "`"+f.key+"`")
	}
	var rows [][]string
	for _, n := range names {
		tr := builtin[n]
		row := []string{"`" + n + "`"}
		for _, f := range tierEntryFields(&tr) {
			row = append(row, valueOf(&f))
		}
		rows = append(rows, row)
	}

	var tn Tenant
	tenant := tenantFields(&tn)
	inherited := keys(tierFields(new(tiers.Tier)))
	for i := range tenant {
		if slices.Contains(inherited, tenant[i].key) {
			tenant[i].defDoc = "tier's"
		}
	}
	return map[string]string{
		"top":           keyTable(top),
		"limits":        keyTable(limitFields(new(Limits))),
		"builtin-tiers": markdown(header, rows),
		"tiers":         keyTable(tierEntryFields(new(tiers.Tier)), "Key", "Type", "Meaning"),
		"tenants":       keyTable(tenant),
		"users":         keyTable(userFields(new(User))),
		"operators":     keyTable(operatorFields()),
		"backing":       keyTable(backingFields(new(Backing))),
		"redis-cluster": keyTable(clusterFields(new(RedisCluster))),
		"backing-tls":   keyTable(backingTLSFields(new(BackingTLS))),
	}
}

// keyTable renders rows (defaults applied) with the given columns, by
// default Key, Type, Default and Meaning.
func keyTable(rows []field, columns ...string) string {
	if columns == nil {
		columns = []string{"Key", "Type", "Default", "Meaning"}
	}
	setDefaults(rows)
	var cells [][]string
	for i := range rows {
		f := &rows[i]
		var row []string
		for _, col := range columns {
			switch col {
			case "Key":
				row = append(row, "`"+f.key+"`")
			case "Type":
				row = append(row, typeOf(f))
			case "Default":
				row = append(row, defaultOf(f))
			case "Meaning":
				row = append(row, f.doc)
			}
		}
		cells = append(cells, row)
	}
	return markdown(columns, cells)
}

func markdown(header []string, rows [][]string) string {
	var b strings.Builder
	line := func(cells []string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
	line(header)
	b.WriteString(strings.Repeat("|---", len(header)) + "|\n")
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

func typeOf(f *field) string {
	if f.typ != "" {
		return f.typ
	}
	switch f.kind {
	case kInt:
		if f.max != 0 {
			return fmt.Sprintf("integer %d to %d", f.min, f.max)
		}
		return fmt.Sprintf("integer ≥ %d", f.min)
	case kSize:
		switch {
		case f.min == 1:
			return "[size](#sizes) > 0"
		case f.min > 1:
			return "[size](#sizes) ≥ " + docSize(f.min)
		}
		return "[size](#sizes)"
	case kDuration:
		s := "[duration](#durations)"
		if f.min > 0 {
			s += " > 0"
		}
		if f.max > 0 {
			s += ", ≤ " + docDuration(time.Duration(f.max))
		}
		return s
	case kSeconds:
		return "[duration](#durations) or whole seconds"
	case kBool:
		return "`yes` \\| `no`"
	case kEnum:
		var s []string
		for _, e := range f.enum {
			s = append(s, "`"+e.String()+"`")
		}
		return strings.Join(s, " \\| ")
	case kRatio:
		return "fraction in (0, 1]"
	case kRate:
		return fmt.Sprintf("number 0 to %d", f.max)
	case kAddr:
		return "host:port or `off`"
	case kPath:
		return "path"
	}
	return "string"
}

func defaultOf(f *field) string {
	switch {
	case f.required:
		return "**required**"
	case f.defDoc != "":
		return f.defDoc
	case f.dst == nil:
		return "none"
	}
	if v := valueOf(f); v != "`\"\"`" {
		return v
	}
	return "none"
}

// valueOf formats what the row's destination holds, as a file would
// spell it.
func valueOf(f *field) string {
	var s string
	switch p := f.dst.(type) {
	case *int:
		s = strconv.Itoa(*p)
	case *int64:
		s = docSize(*p)
	case *time.Duration:
		s = docDuration(*p)
	case *float64:
		s = strconv.FormatFloat(*p, 'g', -1, 64)
	case *bool:
		s = map[bool]string{true: "yes", false: "no"}[*p]
	case *string:
		s = strconv.Quote(*p)
		if *p != "" {
			s = *p
		}
	default:
		s = fmt.Sprint(reflect.ValueOf(p).Elem().Interface())
	}
	return "`" + s + "`"
}

func docSize(n int64) string {
	if s := formatSize(n); !strings.HasSuffix(s, " bytes") {
		return s
	}
	return strconv.FormatInt(n, 10)
}

// docDuration writes 1m and 1h rather than Go's 1m0s and 1h0m0s.
func docDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return strings.ReplaceAll(s, "µs", "us")
}

// TestFieldTables checks every table for mistakes the compiler cannot
// see: keys unique within a table and documented, a destination of the
// type its kind fills, the options a kind needs, and defaults that pass
// their own row's rule.
func TestFieldTables(t *testing.T) {
	dstType := map[kind]reflect.Type{
		kInt: reflect.TypeFor[*int](), kSize: reflect.TypeFor[*int64](),
		kDuration: reflect.TypeFor[*time.Duration](), kSeconds: reflect.TypeFor[*time.Duration](),
		kBool: reflect.TypeFor[*bool](), kRatio: reflect.TypeFor[*float64](), kRate: reflect.TypeFor[*float64](),
		kAddr: reflect.TypeFor[*string](), kPath: reflect.TypeFor[*string](), kString: reflect.TypeFor[*string](),
	}
	var check func(path string, rows []field)
	check = func(path string, rows []field) {
		seen := map[string]bool{}
		for i := range rows {
			f := &rows[i]
			name := join(path, f.key)
			if f.key == "" || seen[f.key] || f.doc == "" {
				t.Errorf("%s: empty, duplicate or undocumented key", name)
			}
			seen[f.key] = true
			if f.kind.structure() && f.dst != nil || (f.rows != nil) != (f.kind.structure() && f.kind != kScalars) {
				t.Errorf("%s: structure has no dst, and rows unless it is a list of values", name)
			}
			if f.rows != nil {
				check(name, f.rows())
				continue
			}
			if f.dst == nil {
				continue // read by validate.go
			}
			if want, ok := dstType[f.kind]; ok && reflect.TypeOf(f.dst) != want {
				t.Errorf("%s: dst %T, kind wants %v", name, f.dst, want)
			}
			if (f.kind == kEnum) != (len(f.enum) > 0) || f.kind == kRate && f.max == 0 {
				t.Errorf("%s: enum values only on an enum, a maximum on every rate", name)
			}
			if f.def == nil {
				continue
			}
			setValue(f.dst, f.def)
			spelled := strings.Trim(valueOf(f), "`")
			switch p := f.dst.(type) {
			case *int64:
				spelled = strconv.FormatInt(*p, 10)
			case *string:
				spelled = *p
			}
			x, err := f.parse(spelled)
			if err != nil {
				t.Errorf("%s: default %q breaks its own rule: %v", name, spelled, err)
				continue
			}
			got := reflect.New(reflect.TypeOf(f.dst).Elem())
			setValue(got.Interface(), x)
			if !reflect.DeepEqual(got.Elem().Interface(), reflect.ValueOf(f.dst).Elem().Interface()) {
				t.Errorf("%s: default %v reads back as %v", name, reflect.ValueOf(f.dst).Elem(), got.Elem())
			}
		}
	}
	check("", topFields(new(Config)))
}
