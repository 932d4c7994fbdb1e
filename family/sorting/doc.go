// Package sorting serves SORT and SORT_RO over lists, sets and sorted sets,
// with Redis 7's semantics, replies and error strings (BY and GET patterns
// are refused: they would read keys the command does not declare).
package sorting
