package config

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// # Editing the tenants of a config file
//
// The runtime tenant commands (TENANT CREATE, SET, DELETE, USER ADD|DEL)
// change the config file itself, as Redis's CONFIG REWRITE does, so the
// file stays the one source of truth and a reload or restart never loses
// a change. EditTenants edits the YAML node tree (comments stay with the
// nodes they belong to; the layout is the YAML encoder's, two-space
// indented, without the blank lines and the column alignment of trailing
// comments) and validates the result with Parse, exactly as a reload will
// read it: a change the file would refuse is refused, with the file's
// error.

// TenantOp is what a TenantEdit does.
type TenantOp uint8

const (
	TenantCreate  TenantOp = iota + 1 // add tenant ID (Tier, Quota, optional User)
	TenantSet                         // set Field to Value in tenant ID
	TenantDelete                      // remove tenant ID
	TenantUserAdd                     // add User to tenant ID
	TenantUserDel                     // remove the user named User.Name from tenant ID
)

// TenantEdit is one change of a config file's tenants.
type TenantEdit struct {
	Op           TenantOp
	ID           string
	Tier, Quota  string // TenantCreate
	Field, Value string // TenantSet: a tenant key and its value as written in YAML
	// User is added with TenantCreate (when Name is set) and
	// TenantUserAdd; only Name is read by TenantUserDel. The password is
	// written as its SHA-256 (PasswordSHA256), never in plain text.
	User User
}

// EditTenants applies e to the config file data (named source in errors)
// and returns the new file and its parsed configuration.
func EditTenants(data []byte, source string, e TenantEdit) ([]byte, *Config, []string, error) {
	if _, err := parseYAML(data, source); err != nil {
		return nil, nil, nil, err
	}
	// The document node, not only its content, carries the comments
	// before and after the top-level mapping.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return nil, nil, nil, &Error{Source: source, Msg: "invalid YAML"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, nil, &Error{Source: source, Msg: "the top level is not a mapping"}
	}
	tenants := mapValue(root, "tenants")
	if tenants == nil || tenants.Kind != yaml.SequenceNode {
		return nil, nil, nil, &Error{Source: source, Field: "tenants", Msg: "not a list: the file must list its tenants under tenants:"}
	}
	i := slices.IndexFunc(tenants.Content, func(n *yaml.Node) bool {
		id := mapValue(n, "id")
		return n.Kind == yaml.MappingNode && id != nil && id.Value == e.ID
	})
	missing := &Error{Source: source, Field: "tenants", Msg: fmt.Sprintf("no tenant with id %q", e.ID)}
	switch e.Op {
	case TenantCreate:
		if i >= 0 {
			return nil, nil, nil, &Error{Source: source, Field: "tenants", Msg: fmt.Sprintf("duplicate tenant id %q", e.ID)}
		}
		t := &yaml.Node{Kind: yaml.MappingNode}
		setKey(t, "id", e.ID)
		setKey(t, "tier", e.Tier)
		setKey(t, "quota", e.Quota)
		if e.User.Name != "" {
			t.Content = append(t.Content, plain("users"), &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{userNode(e.User)}})
		}
		tenants.Content = append(tenants.Content, t)
	case TenantSet:
		if i < 0 {
			return nil, nil, nil, missing
		}
		switch e.Field {
		case "id", "users":
			return nil, nil, nil, &Error{Source: source, Field: "tenants", Msg: fmt.Sprintf("%s cannot be set: create or delete the tenant, or use TENANT USER", e.Field)}
		}
		setKey(tenants.Content[i], e.Field, e.Value)
	case TenantDelete:
		if i < 0 {
			return nil, nil, nil, missing
		}
		tenants.Content = slices.Delete(tenants.Content, i, i+1)
	case TenantUserAdd, TenantUserDel:
		if i < 0 {
			return nil, nil, nil, missing
		}
		users := mapValue(tenants.Content[i], "users")
		if users == nil {
			users = &yaml.Node{Kind: yaml.SequenceNode}
			tenants.Content[i].Content = append(tenants.Content[i].Content, plain("users"), users)
		}
		if users.Kind != yaml.SequenceNode {
			return nil, nil, nil, &Error{Source: source, Line: users.Line, Field: "users", Msg: "not a list"}
		}
		if e.Op == TenantUserAdd {
			users.Style = 0 // block style: one user per line
			users.Content = append(users.Content, userNode(e.User))
			break
		}
		j := slices.IndexFunc(users.Content, func(n *yaml.Node) bool {
			name := mapValue(n, "name")
			return name != nil && name.Value == e.User.Name
		})
		if j < 0 {
			return nil, nil, nil, &Error{Source: source, Field: "users", Msg: fmt.Sprintf("tenant %q has no user %q", e.ID, e.User.Name)}
		}
		users.Content = slices.Delete(users.Content, j, j+1)
	default:
		return nil, nil, nil, fmt.Errorf("config: unknown tenant edit %d", e.Op)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, nil, &Error{Source: source, Msg: "cannot write the edited file: " + err.Error()}
	}
	if err := enc.Close(); err != nil {
		return nil, nil, nil, &Error{Source: source, Msg: "cannot write the edited file: " + err.Error()}
	}
	cfg, warnings, err := Parse(out.Bytes(), source)
	if err != nil {
		return nil, nil, nil, err
	}
	return out.Bytes(), cfg, warnings, nil
}

func plain(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

// mapValue returns the value of key in the mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// setKey sets key to the scalar v in the mapping n, replacing its value
// (keeping the key's comments) or appending the key.
func setKey(n *yaml.Node, key, v string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			old := n.Content[i+1]
			n.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: v, LineComment: old.LineComment}
			return
		}
	}
	n.Content = append(n.Content, plain(key), plain(v))
}

func userNode(u User) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	setKey(n, "name", u.Name)
	setKey(n, "password_sha256", hex.EncodeToString(u.PasswordSHA256[:]))
	if u.Role != 0 {
		setKey(n, "role", u.Role.String())
	}
	return n
}
