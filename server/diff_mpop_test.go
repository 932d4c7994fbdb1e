package server

import "testing"

// TestDifferentialMPop compares LMPOP, BLMPOP (not blocking: a list is
// ready, the keys are missing inside MULTI, or the arguments are bad),
// RPOPLPUSH, BRPOPLPUSH and SINTERCARD with redis-server 7.0.15, valid and
// invalid arguments, in RESP2 and RESP3.
func TestDifferentialMPop(t *testing.T) {
	runDiffCases(t, mpopDiffCases, nil)
}

var mpopDiffCases = [][]string{
	{"RPUSH", "l1", "a", "b", "c", "d", "e"}, {"RPUSH", "l2", "x", "y"}, {"SET", "str", "v"},
	{"LMPOP", "1", "l1", "LEFT"}, {"LMPOP", "1", "l1", "RIGHT"}, {"LMPOP", "2", "missing", "l1", "left", "COUNT", "2"},
	{"LMPOP", "2", "missing", "l1", "RIGHT", "count", "10"}, {"EXISTS", "l1"}, {"LMPOP", "2", "l1", "missing", "LEFT"},
	{"LMPOP", "2", "missing", "str", "LEFT"}, {"LMPOP", "2", "l2", "str", "LEFT"}, {"LMPOP", "2", "str", "l2", "LEFT"},
	{"LMPOP", "0", "l2", "LEFT"}, {"LMPOP", "-1", "l2", "LEFT"}, {"LMPOP", "x", "l2", "LEFT"},
	{"LMPOP", "2", "l2", "LEFT"}, {"LMPOP", "1", "l2", "MIDDLE"}, {"LMPOP", "1", "l2", "LEFT", "COUNT"},
	{"LMPOP", "1", "l2", "LEFT", "COUNT", "0"}, {"LMPOP", "1", "l2", "LEFT", "COUNT", "-1"},
	{"LMPOP", "1", "l2", "LEFT", "COUNT", "x"}, {"LMPOP", "1", "l2", "LEFT", "COUNT", "1", "COUNT", "1"},
	{"LMPOP", "1", "l2", "LEFT", "FOO"}, {"LMPOP", "1", "l2"}, {"LMPOP", "1"}, {"LMPOP", "9223372036854775807", "l2", "LEFT"},
	{"LMPOP", "1", "l2", "LEFT", "COUNT", "9223372036854775807"}, {"LMPOP", "1", "l2", "LEFT"},
	{"RPUSH", "l3", "1", "2", "3"},
	{"BLMPOP", "0", "1", "l3", "LEFT"}, {"BLMPOP", "0.5", "2", "missing", "l3", "RIGHT", "COUNT", "5"},
	{"BLMPOP", "x", "1", "l3", "LEFT"}, {"BLMPOP", "-1", "1", "l3", "LEFT"}, {"BLMPOP", "0", "0", "l3", "LEFT"},
	{"BLMPOP", "x", "0", "l3", "LEFT"}, {"BLMPOP", "0", "1", "l3", "UP"}, {"BLMPOP", "0", "1", "str", "LEFT"},
	{"BLMPOP", "0", "1", "l3", "LEFT", "COUNT", "0"}, {"BLMPOP", "0", "1", "l3"}, {"BLMPOP", "0", "1"},
	{"MULTI"}, {"BLMPOP", "0", "1", "missing", "LEFT"}, {"BRPOPLPUSH", "missing", "d", "0"}, {"EXEC"},
	{"RPUSH", "src", "a", "b", "c"},
	{"RPOPLPUSH", "src", "dst"}, {"RPOPLPUSH", "src", "src"}, {"LRANGE", "src", "0", "-1"}, {"LRANGE", "dst", "0", "-1"},
	{"RPOPLPUSH", "missing", "dst"}, {"RPOPLPUSH", "src", "str"}, {"RPOPLPUSH", "str", "dst"}, {"RPOPLPUSH", "src"},
	{"BRPOPLPUSH", "src", "dst", "0"}, {"BRPOPLPUSH", "src", "dst", "x"}, {"BRPOPLPUSH", "src", "dst", "-1"},
	{"BRPOPLPUSH", "str", "dst", "1"}, {"BRPOPLPUSH", "src", "str", "1"}, {"BRPOPLPUSH", "src", "dst"},
	{"LRANGE", "dst", "0", "-1"}, {"BRPOPLPUSH", "src", "dst", "0"}, {"EXISTS", "src"},
	{"SADD", "s1", "1", "2", "3", "4", "5"}, {"SADD", "s2", "3", "4", "5", "6", "a"}, {"SADD", "s3", "4", "5", "b"},
	{"SINTERCARD", "1", "s1"}, {"SINTERCARD", "2", "s1", "s2"}, {"SINTERCARD", "3", "s1", "s2", "s3"},
	{"SINTERCARD", "2", "s1", "s2", "LIMIT", "2"}, {"SINTERCARD", "2", "s1", "s2", "LIMIT", "0"},
	{"SINTERCARD", "2", "s1", "s2", "limit", "100"}, {"SINTERCARD", "2", "s1", "missing"},
	{"SINTERCARD", "2", "missing", "str"}, {"SINTERCARD", "2", "s1", "str"}, {"SINTERCARD", "0", "s1"},
	{"SINTERCARD", "-1", "s1"}, {"SINTERCARD", "x", "s1"}, {"SINTERCARD", "3", "s1", "s2"},
	{"SINTERCARD", "1", "s1", "LIMIT"}, {"SINTERCARD", "1", "s1", "LIMIT", "-1"}, {"SINTERCARD", "1", "s1", "LIMIT", "x"},
	{"SINTERCARD", "1", "s1", "FOO", "1"}, {"SINTERCARD", "1"}, {"SINTERCARD", "1", "s1", "s1"},
	{"SINTERCARD", "2", "s1", "s1", "LIMIT", "3"}, {"SINTERCARD", "9223372036854775807", "s1"},
}
