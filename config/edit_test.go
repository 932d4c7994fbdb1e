package config

import (
	"strings"
	"testing"
)

var editBase = `# the platform's cache

maxmemory: 512MiB # all of it
tenants:
  # the shop
  - id: shop
    tier: gold
    quota: 8MiB
    users: [{name: shop-app, password_sha256: ` + hA + `}]

# the end
`

// TestEditTenants: each edit gives a file that Parse accepts with the
// change, keeps the comments, and never writes a password in plain text;
// an edit the file would refuse is refused with Parse's error.
func TestEditTenants(t *testing.T) {
	data := []byte(editBase)
	step := func(e TenantEdit) *Config {
		t.Helper()
		out, cfg, _, err := EditTenants(data, "t.yaml", e)
		if err != nil {
			t.Fatalf("%+v: %v", e, err)
		}
		for _, c := range []string{"# the platform's cache", "# all of it", "# the shop", "# the end"} {
			if !strings.Contains(string(out), c) {
				t.Errorf("%+v lost the comment %q:\n%s", e, c, out)
			}
		}
		if again, _, err := Parse(out, "t.yaml"); err != nil || len(again.Tenants) != len(cfg.Tenants) {
			t.Fatalf("the edited file does not parse the same: %v", err)
		}
		data = out
		return cfg
	}
	u := User{Name: "blog-app", PasswordSHA256: HashPassword("blog-secret"), Role: RoleReadWrite}
	cfg := step(TenantEdit{Op: TenantCreate, ID: "blog", Tier: "silver", Quota: "4MiB", User: u})
	if len(cfg.Tenants) != 2 || cfg.Tenants[1].ID != "blog" || cfg.Tenants[1].Quota != 4<<20 || cfg.Tenants[1].Users[0].PasswordSHA256 != u.PasswordSHA256 {
		t.Fatalf("create: %+v", cfg.Tenants)
	}
	if strings.Contains(string(data), "blog-secret") {
		t.Fatal("a password was written in plain text")
	}
	cfg = step(TenantEdit{Op: TenantSet, ID: "blog", Field: "rate_limit", Value: "250"})
	if cfg.Tenants[1].Tier.RateLimit != 250 {
		t.Errorf("set rate_limit: %v", cfg.Tenants[1].Tier.RateLimit)
	}
	cfg = step(TenantEdit{Op: TenantSet, ID: "shop", Field: "quota", Value: "16MiB"})
	if cfg.Tenants[0].Quota != 16<<20 {
		t.Errorf("set quota: %v", cfg.Tenants[0].Quota)
	}
	cfg = step(TenantEdit{Op: TenantUserAdd, ID: "shop", User: User{Name: "shop-ro", PasswordSHA256: HashPassword("ro"), Role: RoleReadOnly}})
	if len(cfg.Tenants[0].Users) != 2 || cfg.Tenants[0].Users[1].Role != RoleReadOnly {
		t.Errorf("user add: %+v", cfg.Tenants[0].Users)
	}
	cfg = step(TenantEdit{Op: TenantUserDel, ID: "shop", User: User{Name: "shop-app"}})
	if len(cfg.Tenants[0].Users) != 1 || cfg.Tenants[0].Users[0].Name != "shop-ro" {
		t.Errorf("user del: %+v", cfg.Tenants[0].Users)
	}
	cfg = step(TenantEdit{Op: TenantDelete, ID: "blog"})
	if len(cfg.Tenants) != 1 {
		t.Errorf("delete: %+v", cfg.Tenants)
	}

	for _, tc := range []struct {
		e    TenantEdit
		want string
	}{
		{TenantEdit{Op: TenantCreate, ID: "shop", Tier: "gold", Quota: "1MiB", User: u}, `duplicate tenant id "shop"`},
		{TenantEdit{Op: TenantCreate, ID: "big", Tier: "gold", Quota: "1GiB", User: u}, "exceeds maxmemory 512MiB"},
		{TenantEdit{Op: TenantCreate, ID: "lonely", Tier: "gold", Quota: "1MiB"}, "no users; only default_tenant may have none"},
		{TenantEdit{Op: TenantCreate, ID: "bad id", Tier: "gold", Quota: "1MiB", User: u}, `invalid tenant id "bad id"`},
		{TenantEdit{Op: TenantCreate, ID: "x", Tier: "bronze", Quota: "1MiB", User: u}, `unknown tier "bronze"`},
		{TenantEdit{Op: TenantCreate, ID: "x", Tier: "gold", Quota: "1MiB", User: User{Name: "shop-ro", PasswordSHA256: HashPassword("z")}}, `duplicate user name "shop-ro"`},
		{TenantEdit{Op: TenantCreate, ID: "x", Tier: "gold", Quota: "1MiB", User: User{Name: "x", PasswordSHA256: HashPassword("ro")}}, "password"},
		{TenantEdit{Op: TenantSet, ID: "shop", Field: "quota", Value: "12XB"}, `tenants[0].quota: invalid size "12XB"`},
		{TenantEdit{Op: TenantSet, ID: "shop", Field: "colour", Value: "red"}, "colour: unknown key"},
		{TenantEdit{Op: TenantSet, ID: "shop", Field: "id", Value: "x"}, "id cannot be set"},
		// A value or key cannot inject YAML: each stays one scalar.
		{TenantEdit{Op: TenantSet, ID: "shop", Field: "quota", Value: "8MiB\nmaxmemory: 1TiB"}, `invalid size`},
		{TenantEdit{Op: TenantSet, ID: "shop", Field: "quota", Value: "{a: 1}"}, `invalid size "{a: 1}"`},
		{TenantEdit{Op: TenantSet, ID: "shop", Field: "maxmemory", Value: "1TiB"}, "maxmemory: unknown key"},
		{TenantEdit{Op: TenantSet, ID: "shop", Field: "quota: 1\nusers", Value: "x"}, "unknown key"},
		{TenantEdit{Op: TenantSet, ID: "nope", Field: "quota", Value: "1MiB"}, `no tenant with id "nope"`},
		{TenantEdit{Op: TenantDelete, ID: "nope"}, `no tenant with id "nope"`},
		{TenantEdit{Op: TenantDelete, ID: "shop"}, "no tenants configured"},
		{TenantEdit{Op: TenantUserDel, ID: "shop", User: User{Name: "ghost"}}, `tenant "shop" has no user "ghost"`},
		{TenantEdit{Op: TenantUserDel, ID: "shop", User: User{Name: "shop-ro"}}, "no users"},
	} {
		if _, _, _, err := EditTenants(data, "t.yaml", tc.e); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.e, err, tc.want)
		}
	}
	t.Logf("final file:\n%s", data)
}
