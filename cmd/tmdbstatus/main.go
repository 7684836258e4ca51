// Command tmdbstatus serves tmdbstatus.v1.StatusService, which translates
// TMDB API failures into canonical gRPC statuses, over gRPC and REST/JSON
// (`tmdbstatus serve`), and calls it from a shell (`tmdbstatus lookup CODE`,
// `list`, `translate`). Every flag has an environment variable, TMDBSTATUS_
// and its name in upper case, which the flag beats; `--help` lists them.
// SIGINT or SIGTERM stops the servers gracefully; a second one cuts that short.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/tmdbstatus/tmdbstatus/internal/server"
)

func main() {
	shutdown, now, stop := shutdownSignals()
	err := run(shutdown, now, os.Args[1:], &stdio{os.Stdin, os.Stdout, os.Stderr})
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		// Exit 0.
	case errors.As(err, new(usageError)):
		os.Exit(2) // run has printed the error.
	default:
		fmt.Fprintf(os.Stderr, "tmdbstatus: %v\n", err)
		os.Exit(1)
	}
}

// shutdownSignals returns a context done at the first SIGINT or SIGTERM and
// a channel closed at the second (see server.Run); a third, or one after
// stop, has its default effect.
func shutdownSignals() (shutdown context.Context, now <-chan struct{}, stop func()) {
	shutdown, stopShutdown := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	signals, cut, done := make(chan os.Signal, 2), make(chan struct{}), make(chan struct{})
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM) // Room for both, however fast they come.
	go func() {
		defer stopShutdown()
		defer signal.Stop(signals)
		for range 2 {
			select {
			case <-signals:
			case <-done:
				return
			}
		}
		close(cut)
	}()
	return shutdown, cut, func() { close(done) }
}

// stdio is what a command reads and writes.
type stdio struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// run runs the command line args until ctx is done, printing a usageError
// itself and returning any other error for main to print.
func run(ctx context.Context, now <-chan struct{}, args []string, std *stdio) error {
	kctx, err := parse(args, std.stdout, std.stderr)
	if err != nil {
		return err
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	err = kctx.Run(now, std)
	name := kctx.Selected().Name
	if u, ok := errors.AsType[usageError](err); ok {
		fmt.Fprintf(std.stderr, "tmdbstatus %s: %v\n", name, u.error)
	} else if err != nil && name != "serve" {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return err
}

// usageError is the error of a command line that cannot be run: exit 2.
type usageError struct{ error }

// cli is the command table.
type cli struct {
	Help    helpFlag    `short:"h" help:"Print the usage and exit."`
	Version versionFlag `help:"Print the version and exit." env:"-"`

	Serve     serveCmd     `cmd:"" help:"Serve StatusService over gRPC and REST/JSON."`
	Lookup    lookupCmd    `cmd:"" help:"Print the table entry of one TMDB status code."`
	List      listCmd      `cmd:"" help:"Print TMDB's whole status-code table."`
	Translate translateCmd `cmd:"" help:"Translate a TMDB response (body on stdin) into a gRPC status."`
}

// envPrefix starts the variable of every flag: --grpc-addr is TMDBSTATUS_GRPC_ADDR.
const envPrefix = "TMDBSTATUS_"

var (
	// noValue matches kong's error for a flag at the end of the line.
	noValue = regexp.MustCompile(`expected (\w+ )?value but got "EOL" \(<EOL>\)`)
	// negativeNumber matches an argument kong would take for a short flag.
	negativeNumber = regexp.MustCompile(`^-[0-9]+$`)
)

// parse parses args and the environment, an empty variable being unset. It
// returns flag.ErrHelp after --help or --version, and a usageError after
// writing one line on stderr for what it refuses.
func parse(args []string, stdout, stderr io.Writer) (*kong.Context, error) {
	for _, kv := range os.Environ() {
		// kong would parse an empty variable as the flag's value.
		if name, v, _ := strings.Cut(kv, "="); strings.HasPrefix(name, envPrefix) && v == "" {
			os.Unsetenv(name)
		}
	}
	k, err := newKong(stdout, stderr)
	if err != nil {
		return nil, err // The command table is wrong: a bug.
	}
	switch {
	case len(args) == 0: // The usage, as an error.
		k.Stdout = stderr
		_, _ = k.Parse([]string{"--help"})
		return nil, usageError{errors.New("no command")}
	case args[0] == "help":
		args = append([]string{"--help"}, args[1:]...)
	}
	kctx, err := k.Parse(negativesLast(args, k.Model))
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return kctx, err
	}
	cmd := "tmdbstatus"
	if pe, ok := errors.AsType[*kong.ParseError](err); ok && pe.Context.Selected() != nil {
		cmd += " " + pe.Context.Selected().Name
	}
	msg := noValue.ReplaceAllString(err.Error(), "needs a value")
	fmt.Fprintf(stderr, "%s: %s (see %s --help)\n", cmd, msg, cmd)
	return nil, usageError{err}
}

// newKong returns the parser of the command line into a new cli.
func newKong(stdout, stderr io.Writer) (*kong.Kong, error) {
	version := "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version // With its commit when built in a repository.
	}
	c := new(cli)
	return kong.New(c,
		kong.Name("tmdbstatus"),
		kong.Description("Translate TMDB API failures into canonical gRPC statuses: serve the translation, or call it."),
		kong.Writers(stdout, stderr),
		kong.NoDefaultHelp(),
		kong.Vars{"version": version, "client_addr": "localhost" + server.DefaultGRPCAddr},
		kong.DefaultEnvars(strings.TrimSuffix(envPrefix, "_")),
		kong.PostBuild(withDefaults(&c.Serve)),
		kong.TypeMapper(reflect.TypeFor[time.Duration](), kong.MapperFunc(decodeDuration)),
		kong.ConfigureHelp(kong.HelpOptions{NoExpandSubcommands: true}),
	)
}

// withDefaults gives serve's flags, which fill cmd, the defaults of
// server.DefaultConfig. It is a PostBuild hook rather than ${name} defaults
// in the tags, as kong interpolates every variable into every flag: with one
// variable a field, this package's tests took 12.5 s under -race, not 5 s.
func withDefaults(cmd *serveCmd) func(*kong.Kong) error {
	return func(k *kong.Kong) error {
		defaults, fields := reflect.ValueOf(server.DefaultConfig()), reflect.ValueOf(&cmd.Config).Elem()
		byField := map[uintptr]string{}
		for i := range fields.NumField() {
			// An empty default would count as set for kong's and:"".
			if d := formatValue(defaults.Field(i)); d != "" {
				byField[fields.Field(i).Addr().Pointer()] = d
			}
		}
		for _, node := range k.Model.Children {
			for _, f := range node.Flags {
				if d, ok := byField[f.Target.Addr().Pointer()]; ok {
					f.Default, f.HasDefault = d, true
				}
			}
		}
		return nil
	}
}

// helpFlag is --help, which stops the parse: kong's own calls os.Exit.
type helpFlag bool

// BeforeReset prints the usage and returns flag.ErrHelp.
func (helpFlag) BeforeReset(ctx *kong.Context) error {
	if err := ctx.PrintUsage(false); err != nil {
		return err
	}
	return flag.ErrHelp
}

// versionFlag is --version.
type versionFlag bool

// BeforeReset prints the module version and returns flag.ErrHelp.
func (versionFlag) BeforeReset(app *kong.Kong, vars kong.Vars) error {
	fmt.Fprintln(app.Stdout, "tmdbstatus", vars["version"])
	return flag.ErrHelp
}

// formatValue formats v as a flag's value: "1m", not "1m0s"; "info", not "INFO".
func formatValue(v reflect.Value) string {
	switch v := v.Interface().(type) {
	case time.Duration:
		return strings.Replace(strings.Replace(v.String(), "m0s", "m", 1), "h0m", "h", 1)
	case slog.Level:
		return strings.ToLower(v.String())
	}
	return fmt.Sprint(v.Interface())
}

// Validate checks the flags that have a min tag, then the selected command.
func (*cli) Validate(kctx *kong.Context) error {
	for _, f := range kctx.Flags() {
		lo := f.Tag.Get("min")
		if lo == "" {
			continue
		}
		ok, why := false, "must be at least "+lo
		switch t := f.Target.Interface().(type) {
		case time.Duration:
			d, _ := time.ParseDuration(lo)
			ok, why = t >= d, "must not be negative"
			if d > 0 {
				why = "must be positive"
			}
		case string:
			ok, why = t != "", "must not be empty"
		default:
			n, _ := strconv.ParseInt(lo, 10, 64)
			ok = f.Target.CanInt() && f.Target.Int() >= n || f.Target.CanUint() && f.Target.Uint() >= uint64(n)
		}
		if ok {
			continue
		}
		source := "--" + f.Name // Where the value came from: its flag, or its variable.
		if !slices.ContainsFunc(kctx.Path, func(p *kong.Path) bool { return p.Flag == f }) && len(f.Envs) > 0 {
			source = f.Envs[0]
		}
		return fmt.Errorf("%s %q: %s", source, formatValue(f.Target), why)
	}
	if c, ok := kctx.Selected().Target.Addr().Interface().(interface{ check() error }); ok {
		return c.check()
	}
	return nil
}

// negativesLast moves the negative numbers that are no flag's value after a
// "--", for kong to read `lookup -1` as an argument, not a short flag.
func negativesLast(args []string, app *kong.Application) []string {
	valued := map[string]bool{}
	for _, n := range append([]*kong.Node{app.Node}, app.Children...) {
		for _, f := range n.Flags {
			valued["--"+f.Name] = !f.IsBool()
		}
	}
	var rest, nums []string
	for i, a := range args {
		switch {
		case a == "--":
			return slices.Concat(rest, args[i:i+1], nums, args[i+1:])
		case negativeNumber.MatchString(a) && (i == 0 || !valued[args[i-1]]):
			nums = append(nums, a)
		default:
			rest = append(rest, a)
		}
	}
	if nums == nil {
		return args
	}
	return slices.Concat(rest, []string{"--"}, nums)
}

// decodeDuration decodes a duration, refusing a bad one in words, not time's.
func decodeDuration(ctx *kong.DecodeContext, target reflect.Value) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 500ms, 5s or 1m", s)
	}
	target.SetInt(int64(d))
	return nil
}
