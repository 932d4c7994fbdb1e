package command

import (
	"strconv"

	"github.com/tcached/tcached/resp"
)

// WriteHelp answers a container's HELP subcommand as Redis does.
func WriteHelp(w *resp.Writer, cmd string, lines []string) {
	w.WriteArray(len(lines) + 3)
	w.WriteString(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		w.WriteString(l)
	}
	w.WriteString("HELP")
	w.WriteString("    Prints this help.") // Redis 7.0's addReplyHelp
}

// Uitoa formats v in base 10.
func Uitoa(v uint64) string { return strconv.FormatUint(v, 10) }
