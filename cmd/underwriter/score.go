package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

var (
	envModelFile  = envVar{"UNDERWRITER_MODEL_FILE", "scorecard model file for score (default: the embedded scorecard v2)"}
	envPolicyFile = envVar{"UNDERWRITER_POLICY_FILE", "policy file for score (default: the embedded policy v2)"}
)

func scoreCommand() command {
	return command{
		name: "score",
		summary: "Score a ledger file (--ledger) or a batch of applications (--ledgers, --applications) with a model and policy and print JSON " +
			"(one object per line for a batch, in input order).",
		env: []envVar{envModelFile, envPolicyFile},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			ledger := fs.String("ledger", "", "ledger file to score (one application)")
			amount := fs.Int64("amount", 0, "loan amount in minor units (with --ledger)")
			term := fs.Int("term-months", 0, "loan term in months (with --ledger)")
			ledgers := fs.String("ledgers", "", "directory of ledger files named <applicant_id>.json (batch, with --applications)")
			apps := fs.String("applications", "", "CSV with header applicant_id,loan_amount_minor,term_months (batch)")
			model := fs.String("model", getenv(envModelFile.name), "model file (default: embedded scorecard v2)")
			policy := fs.String("policy", getenv(envPolicyFile.name), "policy file (default: embedded policy v2)")
			asOf := fs.String("as-of", "", "cutoff day YYYY-MM-DD (default: each ledger's newest balance as_of)")
			workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel scoring workers for a batch")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				eng, err := loadEngine(*model, *policy)
				if err != nil {
					return err
				}
				cutoff, err := parseAsOf(*asOf)
				if err != nil {
					return err
				}
				switch {
				case *ledger != "" && (*ledgers != "" || *apps != ""):
					return errors.New("score: --ledger and --ledgers/--applications are exclusive")
				case *ledger != "":
					if *amount <= 0 {
						return fmt.Errorf("score: --amount: %d is not a positive amount in minor units", *amount)
					}
					if *term <= 0 {
						return fmt.Errorf("score: --term-months: %d is not a positive number of months", *term)
					}
					out, err := scoreOne(eng, *ledger, cutoff, scoring.Loan{AmountMinor: *amount, TermMonths: *term})
					if err != nil {
						return err
					}
					return writeJSONLine(stdout, out)
				case *ledgers != "" && *apps != "":
					if *workers < 1 {
						return fmt.Errorf("score: --workers: %d is below 1", *workers)
					}
					return scoreBatch(ctx, eng, *ledgers, *apps, cutoff, *workers, stdout)
				default:
					return errors.New("score: give --ledger FILE --amount MINOR --term-months N, or --ledgers DIR --applications CSV")
				}
			}
		},
	}
}

// scoreOutput is the JSON printed per application.
type scoreOutput struct {
	ApplicantID       string                `json:"applicant_id,omitempty"`
	Outcome           string                `json:"outcome"`
	Score             int                   `json:"score"`
	PD                float64               `json:"pd"`
	Reasons           []reasonOutput        `json:"reasons"`
	Rules             []ruleOutput          `json:"rules"`
	CounterOffer      *scoring.CounterOffer `json:"counter_offer,omitempty"`
	Cutoff            string                `json:"cutoff"`
	ModelVersion      string                `json:"model_version"`
	PolicyVersion     string                `json:"policy_version"`
	FeatureSetVersion string                `json:"feature_set_version"`
}

type reasonOutput struct {
	Code  string `json:"code"`
	Text  string `json:"text"`
	Value string `json:"value"`
}

type ruleOutput struct {
	Rule      string `json:"rule"`
	Actual    string `json:"actual"`
	Threshold string `json:"threshold"`
	Passed    bool   `json:"passed"`
}

// batchError is the line printed for an application that could not be scored.
type batchError struct {
	ApplicantID string `json:"applicant_id"`
	Error       string `json:"error"`
}

func toOutput(d scoring.Decision) scoreOutput {
	out := scoreOutput{Outcome: d.Outcome, Score: d.Score, PD: d.PD, CounterOffer: d.CounterOffer, Cutoff: d.Features.Cutoff,
		ModelVersion: d.ModelVersion, PolicyVersion: d.PolicyVersion, FeatureSetVersion: d.FeatureSetVersion,
		Reasons: make([]reasonOutput, len(d.Reasons)), Rules: make([]ruleOutput, len(d.Rules))}
	for i, r := range d.Reasons {
		out.Reasons[i] = reasonOutput{r.Code, r.Text, r.Value}
	}
	for i, r := range d.Rules {
		out.Rules[i] = ruleOutput{r.Rule, r.Actual, r.Threshold, r.Passed}
	}
	return out
}

// loadEngine reads the model and policy files; empty paths take the embedded default
// (v2). Every error names the file it concerns, so the command stops at start, before
// reading any ledger, naming the file and the field.
func loadEngine(modelPath, policyPath string) (*scoring.Engine, error) {
	m, p := scoring.DefaultModel(), scoring.DefaultPolicy()
	if modelPath != "" {
		data, err := os.ReadFile(modelPath)
		if err != nil {
			return nil, fmt.Errorf("model file: %w", err)
		}
		if m, err = scoring.LoadModel(data); err != nil {
			return nil, fmt.Errorf("load model file %s: %w", modelPath, err)
		}
	}
	if policyPath != "" {
		data, err := os.ReadFile(policyPath)
		if err != nil {
			return nil, fmt.Errorf("policy file: %w", err)
		}
		if p, err = scoring.LoadPolicy(data); err != nil {
			return nil, fmt.Errorf("load policy file %s: %w", policyPath, err)
		}
	}
	e, err := scoring.NewEngine(m, p)
	if err != nil {
		return nil, fmt.Errorf("model file %s with policy file %s: %w", orEmbedded(modelPath), orEmbedded(policyPath), err)
	}
	return e, nil
}

// orEmbedded names a model or policy file in an error: its path, or "(embedded)".
func orEmbedded(path string) string {
	if path == "" {
		return "(embedded)"
	}
	return path
}

// parseAsOf parses --as-of; the zero time means "each ledger's newest balance as_of".
func parseAsOf(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--as-of: %q is not a YYYY-MM-DD day", s)
	}
	return t, nil
}

// readLedger reads and parses a ledger file and picks the cutoff: asOf when set,
// otherwise the ledger's newest balance as_of.
func readLedger(path string, asOf time.Time) (scoring.Ledger, time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return scoring.Ledger{}, time.Time{}, fmt.Errorf("read ledger: %w", err)
	}
	l, err := scoring.ParseLedgerFile(data)
	if err != nil {
		return scoring.Ledger{}, time.Time{}, fmt.Errorf("parse ledger %s: %w", path, err)
	}
	cutoff := asOf
	if cutoff.IsZero() {
		cutoff = scoring.LatestAsOf(l)
		if cutoff.IsZero() {
			return scoring.Ledger{}, time.Time{}, fmt.Errorf("ledger %s: no account has a balance as_of; pass --as-of", path)
		}
	}
	return l, cutoff, nil
}

func scoreOne(eng *scoring.Engine, path string, asOf time.Time, loan scoring.Loan) (scoreOutput, error) {
	l, cutoff, err := readLedger(path, asOf)
	if err != nil {
		return scoreOutput{}, err
	}
	d, err := eng.Underwrite(l, cutoff, loan, scoring.Operational{})
	if err != nil {
		return scoreOutput{}, fmt.Errorf("score ledger %s: %w", path, err)
	}
	return toOutput(d), nil
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// application is one row of the applications CSV.
type application struct {
	ID   string
	Loan scoring.Loan
}

// applicationReader reads the applications CSV row by row, validating each.
type applicationReader struct {
	name string
	r    *csv.Reader
	col  map[string]int
}

var applicationColumns = []string{"applicant_id", "loan_amount_minor", "term_months"}

func newApplicationReader(name string, rd io.Reader) (*applicationReader, error) {
	r := csv.NewReader(rd)
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, c := range applicationColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s line 1: header lacks column %q (want %s)", name, c, strings.Join(applicationColumns, ","))
		}
	}
	return &applicationReader{name: name, r: r, col: col}, nil
}

// next returns the next application, io.EOF at the end, or an error naming the line
// and column.
func (a *applicationReader) next() (application, error) {
	rec, err := a.r.Read()
	if err != nil {
		if err == io.EOF {
			return application{}, io.EOF
		}
		return application{}, fmt.Errorf("%s: %w", a.name, err) // csv.ParseError names line and column
	}
	field := func(name string) (string, int, int) {
		i := a.col[name]
		line, column := a.r.FieldPos(i)
		return strings.TrimSpace(rec[i]), line, column
	}
	id, line, column := field("applicant_id")
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
		return application{}, fmt.Errorf("%s line %d column %d (applicant_id): %q is not a usable ledger file name", a.name, line, column, id)
	}
	amt, line, column := field("loan_amount_minor")
	amount, err := strconv.ParseInt(amt, 10, 64)
	if err != nil || amount <= 0 {
		return application{}, fmt.Errorf("%s line %d column %d (loan_amount_minor): %q is not a positive integer", a.name, line, column, amt)
	}
	tm, line, column := field("term_months")
	term, err := strconv.Atoi(tm)
	if err != nil || term <= 0 {
		return application{}, fmt.Errorf("%s line %d column %d (term_months): %q is not a positive integer", a.name, line, column, tm)
	}
	return application{ID: id, Loan: scoring.Loan{AmountMinor: amount, TermMonths: term}}, nil
}

// scoreBatch scores every application of the CSV with a bounded worker pool and prints
// one JSON line per application in input order. A bad CSV row stops reading; every
// earlier row is still printed before the error is returned. An application whose
// ledger cannot be read or scored prints {"applicant_id","error"} and the batch goes
// on; the command then fails with the count.
func scoreBatch(ctx context.Context, eng *scoring.Engine, dir, appsPath string, asOf time.Time, workers int, stdout io.Writer) error {
	f, err := os.Open(appsPath)
	if err != nil {
		return fmt.Errorf("open applications: %w", err)
	}
	defer f.Close()
	ar, err := newApplicationReader(appsPath, bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return err
	}
	window := workers * 16 // applications in flight: bounds memory whatever the batch size
	tokens := make(chan struct{}, window)
	jobs := make(chan batchJob, window)
	results := make(chan batchResult, window)
	startScorers(workers, jobs, results, func(j batchJob) batchResult { return scoreJob(eng, dir, asOf, j) })

	p := &batchPrinter{w: bufio.NewWriterSize(stdout, 1<<16)}
	printerDone := make(chan struct{})
	go func() {
		defer close(printerDone)
		p.print(results, tokens)
	}()
	readErr := feedApplications(ctx, ar, jobs, tokens)
	close(jobs)
	<-printerDone
	switch {
	case p.writeErr != nil:
		return fmt.Errorf("write output: %w", p.writeErr)
	case readErr != nil:
		return fmt.Errorf("score applications (%d printed): %w", p.printed, readErr)
	case p.failed > 0:
		return fmt.Errorf("score applications: %d of %d could not be scored (see their error lines)", p.failed, p.printed)
	}
	return nil
}

// batchJob is one application of a batch with its position in the input.
type batchJob struct {
	seq int
	app application
}

// batchResult is the JSON line (newline included) printed for the job at seq; failed
// marks an error line.
type batchResult struct {
	seq    int
	line   []byte
	failed bool
}

// scoreJob scores one application from its ledger file <dir>/<applicant_id>.json and
// returns its output line, or a batchError line when it cannot be read, scored or
// encoded.
func scoreJob(eng *scoring.Engine, dir string, asOf time.Time, j batchJob) batchResult {
	var v any
	out, err := scoreOne(eng, filepath.Join(dir, j.app.ID+".json"), asOf, j.app.Loan)
	if err != nil {
		v = batchError{ApplicantID: j.app.ID, Error: err.Error()}
	} else {
		out.ApplicantID = j.app.ID
		v = out
	}
	b, merr := json.Marshal(v)
	if merr != nil {
		b, _ = json.Marshal(batchError{ApplicantID: j.app.ID, Error: merr.Error()})
		err = merr
	}
	return batchResult{j.seq, append(b, '\n'), err != nil}
}

// startScorers starts workers goroutines that run score on every job until jobs is
// closed, and closes results once all of them are done.
func startScorers(workers int, jobs <-chan batchJob, results chan<- batchResult, score func(batchJob) batchResult) {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- score(j)
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
}

// batchPrinter writes the results of a batch in input order and counts them. Its
// fields are read once print has returned.
type batchPrinter struct {
	w        *bufio.Writer
	failed   int
	printed  int
	writeErr error // the first write error; later lines are counted, not written
}

// print holds back results that arrive before their predecessors, writes each as soon
// as every earlier one is written, and frees one token per line printed, so that the
// reader never runs more than the window ahead of the output. It returns when results
// is closed, after flushing.
func (p *batchPrinter) print(results <-chan batchResult, tokens <-chan struct{}) {
	pending := map[int]batchResult{}
	next := 0
	for r := range results {
		pending[r.seq] = r
		for {
			res, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if p.writeErr == nil {
				_, p.writeErr = p.w.Write(res.line)
			}
			if res.failed {
				p.failed++
			}
			p.printed++
			<-tokens
		}
	}
	if p.writeErr == nil {
		p.writeErr = p.w.Flush()
	}
}

// feedApplications sends every application of ar to jobs, numbered in input order,
// taking a token for each (so at most the window is in flight), until the input ends,
// a row is bad or ctx is done; it returns that error, nil at the end of the input.
func feedApplications(ctx context.Context, ar *applicationReader, jobs chan<- batchJob, tokens chan<- struct{}) error {
	seq := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		app, err := ar.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		tokens <- struct{}{}
		jobs <- batchJob{seq, app}
		seq++
	}
}
