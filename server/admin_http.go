package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tcached/tcached/config"
)

// AdminHandler serves the HTTP admin API (mounted on the metrics listener
// by cmd/tcached), protected by an operator's bearer token
// (`Authorization: Bearer <token>`, checked against the operators'
// token_sha256 in constant time):
//
//	GET  /tenants                  every tenant's stats, as JSON
//	GET  /tenants/{id}             one tenant's stats
//	POST /tenants/{id}/invalidate  delete every key of the tenant (scoped flush)
//
// and the runtime tenant changes, which rewrite the config file as the
// TENANT commands do (tenant_edit.go), answering 200 {"ok": true} or 400
// {"error": "<the config file's error>"}, with JSON bodies of at most 64KiB:
//
//	POST   /tenants                   {"id", "tier", "quota", "user": {"name", "password", "role"}}
//	PUT    /tenants/{id}/config/{key} {"value": "..."} (TENANT SET)
//	DELETE /tenants/{id}
//	POST   /tenants/{id}/users        {"name", "password", "role"}
//	DELETE /tenants/{id}/users/{name}
//
// Every call is audited with the operator's name.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tenants", func(w http.ResponseWriter, r *http.Request) {
		reg := s.reg.Load()
		out := make([]tenantJSON, 0, len(reg.order))
		for _, t := range reg.order {
			out = append(out, s.tenantJSON(t))
		}
		s.httpAudit(r, "", "GET /tenants", http.StatusOK)
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /tenants/{id}", func(w http.ResponseWriter, r *http.Request) {
		t := s.reg.Load().tenants[r.PathValue("id")]
		if t == nil {
			s.httpAudit(r, r.PathValue("id"), "GET /tenants/{id}", http.StatusNotFound)
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such tenant"})
			return
		}
		s.httpAudit(r, t.id, "GET /tenants/{id}", http.StatusOK)
		writeJSON(w, http.StatusOK, s.tenantJSON(t))
	})
	mux.HandleFunc("POST /tenants/{id}/invalidate", func(w http.ResponseWriter, r *http.Request) {
		t := s.reg.Load().tenants[r.PathValue("id")]
		if t == nil {
			s.httpAudit(r, r.PathValue("id"), "POST /tenants/{id}/invalidate", http.StatusNotFound)
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such tenant"})
			return
		}
		n, err := s.flushTenant(t, -1)
		if err != nil {
			s.httpAudit(r, t.id, "POST /tenants/{id}/invalidate", http.StatusBadGateway, "keys_removed", n, "err", err.Error())
			writeJSON(w, http.StatusBadGateway, map[string]any{"error": "backing tier: " + err.Error(), "keys_removed": n})
			return
		}
		s.httpAudit(r, t.id, "POST /tenants/{id}/invalidate", http.StatusOK, "keys_removed", n)
		writeJSON(w, http.StatusOK, map[string]any{"tenant": t.id, "keys_removed": n})
	})
	s.adminEditRoutes(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := s.operatorForToken(r.Header.Get("Authorization"))
		if !ok {
			s.audit("http", "", "", r.RemoteAddr, r.Method+" "+r.URL.Path, "unauthorized")
			w.Header().Set("WWW-Authenticate", `Bearer realm="tcached"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "operator bearer token required"})
			return
		}
		r.Header.Set("X-Tcached-Operator", name)
		mux.ServeHTTP(w, r)
	})
}

// operatorForToken checks a bearer token against every operator token,
// each comparison in constant time.
func (s *Server) operatorForToken(header string) (string, bool) {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	found := ""
	for _, t := range s.reg.Load().tokens {
		if subtle.ConstantTimeCompare(sum[:], t.sha[:]) == 1 {
			found = t.name
		}
	}
	return found, found != ""
}

func (s *Server) httpAudit(r *http.Request, tenant, route string, status int, extra ...any) {
	result := "ok"
	if status >= 400 {
		result = http.StatusText(status)
	}
	s.audit("http", tenant, r.Header.Get("X-Tcached-Operator"), r.RemoteAddr, route, result, extra...)
}

type tenantJSON struct {
	ID               string           `json:"id"`
	Tier             string           `json:"tier"`
	UsedBytes        int64            `json:"used_bytes"`
	QuotaBytes       int64            `json:"quota_bytes"`
	Keys             int64            `json:"keys"`
	Hits             int64            `json:"hits"`
	Misses           int64            `json:"misses"`
	Evictions        int64            `json:"evictions"`
	ExpiredKeys      int64            `json:"expired_keys"`
	ConnectedClients int64            `json:"connected_clients"`
	Commands         int64            `json:"commands"`
	ErrorReplies     int64            `json:"error_replies"`
	Refusals         map[string]int64 `json:"admission_refusals"`
	SLAViolations    int64            `json:"sla_violations"`
	HotMemory        bool             `json:"hot_memory"`
	HotCommands      bool             `json:"hot_commands"`
	// L2 is set in backed mode: the store of record's figures beside L1's
	// (the fields above, of the tenant's L1 cache).
	L2 *tenantL2JSON `json:"l2,omitempty"`
}

type tenantL2JSON struct {
	Keys       int64 `json:"keys"`
	UsedBytes  int64 `json:"used_bytes"`
	QuotaBytes int64 `json:"quota_bytes"`
	L1Hits     int64 `json:"l1_hits"`
	Hits       int64 `json:"hits"`
	Misses     int64 `json:"misses"`
	Degraded   int64 `json:"degraded_reads"`
	OverQuota  int64 `json:"over_quota"`
}

func (s *Server) tenantJSON(t *tenant) tenantJSON {
	st := t.part.Stats()
	as := t.adm.Stats()
	var l2 *tenantL2JSON
	if m := s.tenantL2(t); m != nil {
		l2 = &tenantL2JSON{Keys: m.Keys, UsedBytes: m.UsedBytes, QuotaBytes: m.QuotaBytes,
			L1Hits: m.L1Hits, Hits: m.L2Hits, Misses: m.L2Misses, Degraded: m.Degraded, OverQuota: m.OverQuota}
	}
	return tenantJSON{
		L2: l2,
		ID: t.id, Tier: t.cfg().TierName,
		UsedBytes: st.UsedBytes, QuotaBytes: st.Quota, Keys: st.Keys,
		Hits: st.Hits, Misses: st.Misses, Evictions: st.Evictions, ExpiredKeys: st.Expired,
		ConnectedClients: t.clients.Load(),
		Commands:         t.commands.Load(), ErrorReplies: t.cmdErrors.Load(),
		Refusals: refusals(as), SLAViolations: int64(as.SLAViolations),
		HotMemory: t.hotMemory.Load(), HotCommands: t.hotCommands.Load(),
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// userJSON is a user in an admin request; the password is hashed at once.
type userJSON struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

func (u userJSON) user() (config.User, error) {
	out := config.User{Name: u.Name, PasswordSHA256: config.HashPassword(u.Password), Role: config.RoleReadWrite}
	if u.Name == "" || u.Password == "" {
		return out, errors.New("a user needs a name and a password")
	}
	if u.Role != "" {
		r, ok := parseRole([]byte(u.Role))
		if !ok {
			return out, fmt.Errorf("invalid role %q: want readonly, readwrite or admin", u.Role)
		}
		out.Role = r
	}
	return out, nil
}

// adminEditRoutes adds the HTTP equivalents of TENANT CREATE, SET, DELETE
// and USER ADD|DEL.
func (s *Server) adminEditRoutes(mux *http.ServeMux) {
	edit := func(route string, build func(r *http.Request) (config.TenantEdit, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			e, err := build(r)
			if err == nil {
				err = s.editTenants(e, route+" by "+r.Header.Get("X-Tcached-Operator"))
			}
			if err != nil {
				s.httpAudit(r, e.ID, route, http.StatusBadRequest, "err", err.Error())
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			s.httpAudit(r, e.ID, route, http.StatusOK)
			writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
		}
	}
	decode := func(r *http.Request, v any) error {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("invalid JSON body: %w", err)
		}
		return nil
	}
	mux.HandleFunc("POST /tenants", edit("POST /tenants", func(r *http.Request) (config.TenantEdit, error) {
		var b struct {
			ID    string    `json:"id"`
			Tier  string    `json:"tier"`
			Quota string    `json:"quota"`
			User  *userJSON `json:"user"`
		}
		if err := decode(r, &b); err != nil {
			return config.TenantEdit{}, err
		}
		e := config.TenantEdit{Op: config.TenantCreate, ID: b.ID, Tier: b.Tier, Quota: b.Quota}
		if b.User != nil {
			u, err := b.User.user()
			if err != nil {
				return e, err
			}
			e.User = u
		}
		return e, nil
	}))
	mux.HandleFunc("PUT /tenants/{id}/config/{key}", edit("PUT /tenants/{id}/config/{key}", func(r *http.Request) (config.TenantEdit, error) {
		var b struct {
			Value *string `json:"value"`
		}
		e := config.TenantEdit{Op: config.TenantSet, ID: r.PathValue("id"), Field: r.PathValue("key")}
		if err := decode(r, &b); err != nil {
			return e, err
		}
		if b.Value == nil {
			return e, errors.New(`the body needs a "value"`)
		}
		e.Value = *b.Value
		return e, nil
	}))
	mux.HandleFunc("DELETE /tenants/{id}", edit("DELETE /tenants/{id}", func(r *http.Request) (config.TenantEdit, error) {
		return config.TenantEdit{Op: config.TenantDelete, ID: r.PathValue("id")}, nil
	}))
	mux.HandleFunc("POST /tenants/{id}/users", edit("POST /tenants/{id}/users", func(r *http.Request) (config.TenantEdit, error) {
		var b userJSON
		e := config.TenantEdit{Op: config.TenantUserAdd, ID: r.PathValue("id")}
		if err := decode(r, &b); err != nil {
			return e, err
		}
		u, err := b.user()
		e.User = u
		return e, err
	}))
	mux.HandleFunc("DELETE /tenants/{id}/users/{name}", edit("DELETE /tenants/{id}/users/{name}", func(r *http.Request) (config.TenantEdit, error) {
		return config.TenantEdit{Op: config.TenantUserDel, ID: r.PathValue("id"), User: config.User{Name: r.PathValue("name")}}, nil
	}))
}
