// Command underwriter is the one binary of underwriter: the embedded development stack
// (dev), the production worker and API, the Stripe sandbox and database migrations.
//
// Run `underwriter --help` or `underwriter COMMAND --help` for flags and environment
// variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
)

// version is the build's version, recorded with every decision; set with
// -ldflags "-X main.version=…", otherwise taken from the module build info.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "devel"
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "underwriter:", err)
		os.Exit(1)
	}
}

// envVar documents one environment variable of a command.
type envVar struct {
	name, desc string
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	env     []envVar
	// args names the positional arguments the command takes after its flags (read with
	// fs.Args() in its runner), for its usage line; "" means it takes none.
	args string
	// flags defines the command's flags on fs, with defaults from getenv, and returns the
	// function that runs it once the flags are parsed.
	flags func(fs *flag.FlagSet, getenv func(string) string) func(ctx context.Context, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{devCommand(), workerCommand(), apiCommand(), sandboxCommand(), migrateCommand(), featuresCommand(), ledgerImportCSVCommand(),
		scoreCommand(), trainCommand(), populationGenerateCommand(), populationEvaluateCommand(),
		keysCreateCommand(), keysListCommand(), keysRevokeCommand(), alertsSetWebhookCommand(), alertsGenerateKeyCommand(), chaosCommand(), replayCommand(), reportCommand(), portfolioCommand(), outcomesImportCommand(), decisionsExportCommand(), rescoreCommand(), codecCommand(),
		deploySetCurrentCommand(), deployStatusCommand(), benchCommand(), temporalCommand()}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmds := commands()
	args = joinSubcommand(cmds, args) // "ledger import-csv" is one command
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		usage(stdout, cmds)
		if len(args) < 2 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range cmds {
		if c.name != args[1] {
			continue
		}
		fs := flag.NewFlagSet("underwriter "+c.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		runner := c.flags(fs, getenv)
		fs.Usage = func() { commandUsage(fs.Output(), c, fs) }
		if err := fs.Parse(args[2:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return flag.ErrHelp
			}
			return err
		}
		if fs.NArg() > 0 && c.args == "" {
			return fmt.Errorf("%s: unexpected argument %q", c.name, fs.Arg(0))
		}
		return runner(ctx, stdout, stderr)
	}
	usage(stderr, cmds)
	return fmt.Errorf("unknown command %q", args[1])
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "underwriter: cash-flow loan underwriting on Stripe Financial Connections and Temporal.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: underwriter COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'underwriter COMMAND --help' for the command's flags and environment variables.")
	fmt.Fprintln(w, "Flags override environment variables. Secrets are read from the environment only.")
}

func commandUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: underwriter %s %s\n\n%s\n\nFlags:\n", c.name, strings.TrimSpace("[flags] "+c.args), c.summary)
	fs.PrintDefaults()
	if len(c.env) > 0 {
		fmt.Fprintln(w, "\nEnvironment variables:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		env := append([]envVar(nil), c.env...)
		sort.Slice(env, func(i, j int) bool { return env[i].name < env[j].name })
		for _, e := range env {
			fmt.Fprintf(tw, "  %s\t%s\n", e.name, e.desc)
		}
		tw.Flush()
	}
}

// getenvOr returns getenv(name), or def when it is empty.
func getenvOr(getenv func(string) string, name, def string) string {
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v
	}
	return def
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
