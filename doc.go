// Package tcached is the root of the tcached module: a Redis-protocol cache
// server that many tenants share safely. The code lives in the packages
// below it; see README.md. This package holds only the test that guards
// the direction of imports between them (layout_test.go).
package tcached
