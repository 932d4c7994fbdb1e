package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file walks the yaml.Node tree twice. The first walk (decoder)
// checks shape only, against the field tables: known and unique keys,
// single values where a row wants one, mappings and lists where it wants
// those, and a bound on alias expansion. So every shape error in the file
// comes before any value error, wherever it is. The second pass (mapping,
// used by validate.go) indexes mappings the first walk accepted.

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML returns the top-level node of the single document in data.
func parseYAML(data []byte, source string) (root *yaml.Node, err error) {
	// yaml.v3 has panicked on hostile input before (CVE-2022-28948); a
	// configuration file must never take the process down with a trace.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Source: source, Msg: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Source: source, Msg: "empty configuration: maxmemory and tenants are required"}
		}
		return nil, yamlError(err, source)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(err, source)
	default:
		return nil, &Error{Source: source, Line: extra.Line, Msg: "more than one YAML document; a configuration is a single document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{Source: source, Msg: "empty configuration: maxmemory and tenants are required"}
	}
	return doc.Content[0], nil
}

func yamlError(err error, source string) *Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Source: source, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{Source: source, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

type decoder struct {
	source string
	// budget bounds the nodes visited. Without aliases a document has fewer
	// nodes than bytes; aliases can multiply that (a "billion laughs"), so
	// Parse sets the budget from the input size and an over-budget document
	// is refused rather than expanded.
	budget int
}

func (d *decoder) errf(n *yaml.Node, field, format string, args ...any) *Error {
	e := &Error{Source: d.source, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

// node follows aliases and charges the visit against the budget.
func (d *decoder) node(n *yaml.Node, field string) (*yaml.Node, error) {
	for n != nil && n.Kind == yaml.AliasNode {
		d.budget--
		if n.Alias == nil {
			return nil, d.errf(n, field, "unresolved alias")
		}
		n = n.Alias
	}
	d.budget--
	if d.budget < 0 {
		return nil, d.errf(n, field, "document too large after alias expansion")
	}
	return n, nil
}

// document checks the shape of the whole file against the top-level table.
func (d *decoder) document(root *yaml.Node) error {
	root, err := d.node(root, "")
	if err != nil {
		return err
	}
	if root.Kind != yaml.MappingNode {
		return d.errf(root, "", "top level must be a mapping, got %s", kindName(root.Kind))
	}
	return d.walk(root, "", topFields(new(Config)))
}

// walk checks one mapping against its table and descends into structure.
func (d *decoder) walk(n *yaml.Node, path string, rows []field) error {
	return d.mapping(n, path, func(key string, k, v *yaml.Node) error {
		field := join(path, key)
		f := lookup(rows, key)
		if f == nil {
			return d.errf(k, field, "unknown key")
		}
		switch f.kind {
		case kSection:
			return d.walk(v, field, f.rows())
		case kList:
			return d.sequence(v, field, func(i int, item *yaml.Node) error {
				return d.walk(item, index(field, i), f.rows())
			})
		case kNamed:
			return d.mapping(v, field, func(name string, _, v *yaml.Node) error {
				return d.walk(v, join(field, name), f.rows())
			})
		case kScalars:
			return d.sequence(v, field, func(i int, item *yaml.Node) error {
				return d.scalar(item, index(field, i))
			})
		case kFlagSection:
			v, err := d.node(v, field)
			switch {
			case err != nil || v.Kind == yaml.ScalarNode:
				return err
			case v.Kind == yaml.MappingNode:
				return d.walk(v, field, f.rows())
			}
			return d.errf(v, field, "expected true, false or a mapping, got %s", kindName(v.Kind))
		}
		return d.scalar(v, field)
	})
}

func lookup(rows []field, key string) *field {
	for i := range rows {
		if rows[i].key == key {
			return &rows[i]
		}
	}
	return nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	case yaml.DocumentNode:
		return "a document"
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// mapping calls fn for each key of a mapping node in order, rejecting
// non-scalar and duplicate keys. A null node is an empty mapping.
func (d *decoder) mapping(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node) error) error {
	n, err := d.node(n, path)
	if err != nil {
		return err
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return d.errf(n, path, "expected a mapping, got %s", kindName(n.Kind))
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := d.node(n.Content[i], path)
		if err != nil {
			return err
		}
		if k.Kind != yaml.ScalarNode {
			return d.errf(k, path, "keys must be single values, got %s", kindName(k.Kind))
		}
		if first, dup := seen[k.Value]; dup {
			return d.errf(k, join(path, k.Value), "duplicate key (first at line %d)", first)
		}
		seen[k.Value] = k.Line
		if err := fn(k.Value, k, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// sequence calls fn for each item of a list node. A null node is empty.
func (d *decoder) sequence(n *yaml.Node, path string, fn func(i int, item *yaml.Node) error) error {
	n, err := d.node(n, path)
	if err != nil {
		return err
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return d.errf(n, path, "expected a list, got %s", kindName(n.Kind))
	}
	for i, item := range n.Content {
		if err := fn(i, item); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) scalar(n *yaml.Node, path string) error {
	n, err := d.node(n, path)
	if err != nil {
		return err
	}
	if n.Kind != yaml.ScalarNode {
		return d.errf(n, path, "expected a single value, got %s", kindName(n.Kind))
	}
	return nil
}

// mapping is one mapping of a file whose shape the walk accepted, indexed
// by key. line is where to report a key that is absent: the line of the
// list item or key that holds the mapping (0 for the top level).
type mapping struct {
	line int
	keys map[string]entry
}

// entry is one key of a mapping and its value, aliases followed.
type entry struct{ key, val *yaml.Node }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// entries lists the keys of a mapping node in file order; null is empty.
func entries(n *yaml.Node) []entry {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	es := make([]entry, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		es = append(es, entry{resolve(n.Content[i]), resolve(n.Content[i+1])})
	}
	return es
}

func mappingOf(n *yaml.Node, line int) mapping {
	m := mapping{line: line, keys: map[string]entry{}}
	for _, e := range entries(n) {
		m.keys[e.key.Value] = e
	}
	return m
}

// scalar returns the single value of key; unset when absent or null.
func (m mapping) scalar(key string) scalar {
	e, ok := m.keys[key]
	if !ok {
		return scalar{}
	}
	if isNull(e.val) {
		return scalar{line: e.val.Line}
	}
	return scalar{set: true, val: e.val.Value, line: e.val.Line}
}

// section returns the mapping under key; ok is false when key is absent
// or null.
func (m mapping) section(key string) (mapping, bool) {
	e, ok := m.keys[key]
	if !ok || isNull(e.val) {
		return mapping{}, false
	}
	return mappingOf(e.val, e.key.Line), true
}

// items returns the items of the list under key, as written (an item's
// own line is where its absent keys are reported); null is empty.
func (m mapping) items(key string) []*yaml.Node {
	e, ok := m.keys[key]
	if !ok || e.val.Kind != yaml.SequenceNode {
		return nil
	}
	return e.val.Content
}

// keyLine is the line of key, or 0 when it is absent.
func (m mapping) keyLine(key string) int {
	if e, ok := m.keys[key]; ok {
		return e.key.Line
	}
	return 0
}
