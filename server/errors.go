package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

// Reply error strings, spelled exactly as Redis 7 spells them (without
// the leading '-', which resp.Writer's WriteError adds). Clients and test
// suites match these byte for byte; see ../shared/REFERENCE.md §2.
const (
	errNoAuth         = "NOAUTH Authentication required."
	errHelloNoAuth    = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	errWrongPass      = "WRONGPASS invalid username-password pair or user is disabled."
	errProtoVersion   = "ERR Protocol version is not an integer or out of range"
	errNoProto        = "NOPROTO unsupported protocol version"
	errClientName     = "ERR Client names cannot contain spaces, newlines or special characters."
	errInternal       = "ERR internal error while executing the command; the connection will be closed"
	errAuthTooManyArg = command.ErrSyntax

	// errClientOOM refuses a command because the memory the tenant's
	// connections make the server hold (query buffers, reply, pub/sub and
	// MULTI queues) is at the tenant's client_memory budget (clientmem.go;
	// also the unattributed pool of maxmemory_clients). The OOM prefix is
	// Redis's class for "memory is full, retrying now will not help": it is
	// what Redis answers when maxmemory (client memory included) is reached,
	// clients already handle it, and go-redis does not retry it. The text
	// names the budget, so it is not mistaken for the quota's command.ErrOOM.
	errClientOOM = "OOM command not allowed when the tenant's client memory > 'client_memory'."
	// errClientsOOM is errClientOOM for a connection bound to no tenant
	// (before AUTH, operators), whose pool is what maxmemory_clients leaves
	// after the tenants' budgets.
	errClientsOOM = "OOM command not allowed when unattributed client memory > 'maxmemory_clients'."

	// Admission refusals. The TCBUSY (the tenant's own limit) and TCSHED
	// (server overload, by tier priority) prefixes are tcached's own:
	// go-redis retries only LOADING/READONLY/CLUSTERDOWN/TRYAGAIN/
	// MASTERDOWN/NOREPLICAS and "max number of clients", so a refusal never
	// turns into an automatic retry storm. Each names the limit hit.
	errRateLimited = "TCBUSY tenant rate limit reached (rate_limit)"
	errBusyTenant  = "TCBUSY tenant concurrency limit reached (max_concurrent)"
	errArgBytes    = "TCBUSY tenant argument bytes limit reached (max_arg_bytes)"
	errShed        = "TCSHED server overloaded: request shed by tier priority"
	// errFairShare: the tenant is throttled to its share of a contended
	// server and this command would have waited past the tier timeout.
	errFairShare = "TCBUSY tenant throttled to its share of a contended server (fair share)"

	// errTenantMaxConns refuses binding one more connection to a tenant
	// already at its tier's max_connections (AUTH, or connecting to the
	// default tenant). Not "ERR max number of clients reached", which
	// go-redis retries.
	errExecAbort      = "EXECABORT Transaction discarded because of previous errors."
	errExecNoMulti    = "ERR EXEC without MULTI"
	errDiscardNoMulti = "ERR DISCARD without MULTI"
	errMultiNested    = "ERR MULTI calls can not be nested"
	errWatchInMulti   = "ERR WATCH inside MULTI is not allowed"
	// errExecAbortBecause prefixes the reason a refused EXEC was refused
	// (Redis's execCommandAbort, which drops a leading "ERR ").
	errExecAbortBecause = "EXECABORT Transaction discarded because of: "
	// errExecACLChanged answers a queued command that its user may no
	// longer run at EXEC (a queued AUTH changed user, role or tenant).
	errExecACLChanged = "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand"
	// errTxTooBig flags a transaction whose queue passed
	// client-query-buffer-limit (tcached's own bound).
	errTxTooBig = "ERR transaction too large: queued commands exceed client-query-buffer-limit"

	errOperatorNoTenant = "ERR operator connections are bound to no tenant: use TENANT commands, or AUTH as a tenant's user"

	errTenantMaxConns = "TCMAXCONN tenant connection limit reached (max_connections)"

	errMaxClients = "ERR max number of clients reached"
	// errDenied: Redis's DENIED, reworded for tcached's protected mode.
	errDenied = "DENIED tcached is running in protected mode because default_tenant is set, so unauthenticated clients are bound to a tenant. In this mode connections are only accepted from the loopback interface. To accept external clients, remove default_tenant (clients then AUTH) or set protected_mode: false in the config."

	errClientIDInvalid = "ERR Invalid client ID"
	// CLIENT UNBLOCK: the reason Redis accepts, and what the unblocked
	// client gets with ERROR.
	errUnblockReason       = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
	errUnblocked           = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
	errMonitorDenyBlocking = "ERR MONITOR isn't allowed for DENY BLOCKING client"
	errSlowlogCount        = "ERR count should be greater than or equal to -1"
	errClientIDPositive    = "ERR client-id should be greater than 0"
	errNoSuchClient        = "ERR No such client"
	errNoCluster           = "ERR This instance has cluster support disabled"
	// Scripting (script.go), Redis 7.0's strings. BUSY goes to the
	// script's tenant only: other tenants never wait on it.
	errBusyEval          = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errBusyFunction      = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	errNoScript          = "NOSCRIPT No matching script. Please use EVAL."
	errNotBusy           = "NOTBUSY No scripts in execution right now."
	errUnkillable        = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errNumKeysGreater    = "ERR Number of keys can't be greater than number of args"
	errNumKeysNegative   = "ERR Number of keys can't be negative"
	errBadNumKeys        = "ERR Bad number of keys provided"
	errFunctionNotFound  = "ERR Function not found"
	errLibraryNotFound   = "ERR Library not found"
	errScriptWriteRO     = "ERR Can not execute a script with write flag using *_ro command."
	errScriptOOM         = "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
	errScriptFlushMode   = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
	errFunctionFlushMode = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
	// redis.call's refusals (scriptCall), as the engine gets them: plain
	// text becomes an ERR error, "-CODE text" keeps its code.
	errScriptUnknown     = "Unknown Redis command called from script"
	errScriptArity       = "Wrong number of args calling Redis command from script"
	errScriptNoScript    = "This Redis command is not allowed from script"
	errScriptACL         = "The user executing the script can't run this command or subcommand"
	errScriptWriteFromRO = "Write commands are not allowed from read-only scripts."

	// errTenantChange prefixes why TENANT CREATE/SET/DELETE/USER refused a
	// change (the config file's error: file, line, key); nothing changed.
	errTenantChange = "ERR tenant change rejected, nothing changed: "
	// errReloadRejected prefixes why TENANT RELOAD refused the new config.
	errReloadRejected = "ERR reload rejected, the old config keeps serving: "
)

func errHelloOption(opt []byte) string {
	return "ERR Syntax error in HELLO option '" + string(command.CStr(opt)) + "'"
}

// errClientInfoChars: CLIENT SETINFO's value has a character Redis refuses.
func errClientInfoChars(attr []byte) string {
	return "ERR " + strings.ToLower(string(attr)) + " cannot contain spaces, newlines or special characters."
}

func errUnrecognizedOption(opt []byte) string {
	return "ERR Unrecognized option '" + string(command.CStr(opt)) + "'"
}

func errClientType(typ []byte) string {
	return "ERR Unknown client type '" + string(command.CStr(typ)) + "'"
}

// errConfigSetNoPerm refuses a CONFIG SET parameter that would change the
// server for every tenant (tcached's own refusal, as NOPERM).
func errConfigSetNoPerm(param []byte) string {
	return "NOPERM CONFIG SET of '" + string(param) + "' is not available to tenants: the operator's config file sets it"
}

// errConfigSetArg is Redis's refusal of a CONFIG SET value.
func errConfigSetArg(param []byte, why string) string {
	return "ERR CONFIG SET failed (possibly related to argument '" + string(command.CStr(param)) + "') - " + why
}

// errSubscribedContext is Redis's refusal of a command in RESP2's
// subscribed context.
func errSubscribedContext(name string) string {
	return "ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

// Operator replies (TENANT ...).

func errNoSuchTenant(id string) string { return "ERR no such tenant '" + id + "'" }

func errInvalidQuota(arg []byte) string {
	return "ERR invalid quota '" + string(arg) + "': want a size > 0 such as 64MiB"
}

func errQuotaOverMax(q, sum, maxmemory int64) string {
	return fmt.Sprintf("ERR quota %d would bring the sum of quotas to %d, over maxmemory %d", q, sum, maxmemory)
}

func errQuotaOverClients(q, sum, maxmemory, clients, overhead int64) string {
	return fmt.Sprintf("ERR quota %d would bring the sum of quotas to %d, over maxmemory %d less maxmemory_clients %d and server overhead %d",
		q, sum, maxmemory, clients, overhead)
}

func errQuotaOverClientBudgets(q, budget, budgets, clients, minPool int64) string {
	return fmt.Sprintf("ERR quota %d would bring the tenant's client_memory to %d and the budgets to %d, over maxmemory_clients %d less %d for connections bound to no tenant (preauth_query_buffer_limit)",
		q, budget, budgets, clients, minPool)
}

// errSubcommandSyntax is Redis's addReplySubcommandSyntaxError.
func errSubcommandSyntax(args [][]byte) string {
	return fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.", command.CStr(args[1]), upper(string(args[0])))
}

func errUnknownSubcommand(sub []byte, parent string) string {
	return fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", command.CStr(sub), upper(parent))
}

// errUnknownCommand reproduces Redis's message: the name truncated to 128
// bytes, then each argument quoted and followed by a space while the list is
// shorter than 128 bytes.
func errUnknownCommand(args [][]byte) string {
	b := make([]byte, 0, 256)
	b = append(b, "ERR unknown command '"...)
	name := command.CStr(args[0]) // Redis's "%.128s"
	if len(name) > 128 {
		name = name[:128]
	}
	b = append(b, name...)
	b = append(b, "', with args beginning with: "...)
	start := len(b)
	for _, a := range args[1:] {
		a = command.CStr(a)
		n := len(b) - start
		if n >= 128 {
			break
		}
		if len(a) > 128-n {
			a = a[:128-n]
		}
		b = append(b, '\'')
		b = append(b, a...)
		b = append(b, '\'', ' ')
	}
	return string(b)
}

// storeError maps errors from shard, the backend (package backed) and handlers
// onto reply strings.
func storeError(err error) string {
	var re command.ReplyErr
	var l2 backed.ReplyError
	switch {
	case errors.As(err, &re):
		return string(re)
	case errors.As(err, &l2):
		return string(l2) // Redis's own reply, passed on
	case errors.Is(err, shard.ErrOOM):
		return command.ErrOOM
	case errors.Is(err, backed.ErrBackendUnavailable):
		return backed.ErrL2Unavailable
	case errors.Is(err, context.DeadlineExceeded):
		return backed.ErrL2Timeout
	case errors.Is(err, backed.ErrBackendFailed):
		return backed.ErrL2Failed // its detail (addresses) stays in the server
	default:
		return "ERR " + err.Error()
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func refusal(r admission.Reason) string {
	switch r {
	case admission.ReasonRate:
		return errRateLimited
	case admission.ReasonConcurrency:
		return errBusyTenant
	case admission.ReasonArgBytes:
		return errArgBytes
	case admission.ReasonFairShare:
		return errFairShare
	default:
		return errShed
	}
}
