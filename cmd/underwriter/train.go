package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
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

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

func trainCommand() command {
	return command{
		name: "train",
		summary: "Fit a binned logistic-regression scorecard on labelled applications (every numeric feature a candidate, " +
			"forward selection by cross-validated AUC, PD Platt-scaled on the hold-out) and write the model file, " +
			"its model card and the training run's scores to --out; with --from-db on the stored snapshots and loan outcomes of a lender's decisions.",
		env: []envVar{envDatabaseURL},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			ledgers := fs.String("ledgers", "", "directory of ledger files named <applicant_id>.json")
			apps := fs.String("applications", "", "CSV with header applicant_id,loan_amount_minor,term_months")
			labels := fs.String("labels", "", "CSV with header applicant_id,defaulted (0 or 1)")
			holdout := fs.Float64("holdout", 0.3, "share of goods and of bads held out for AUC, KS and Gini")
			seed := fs.Uint64("seed", 1, "seed of the hold-out split")
			out := fs.String("out", ".", "directory for scorecard-<version>.json, MODEL_CARD-<version>.md and scores-<version>.csv")
			version := fs.String("model-version", "trained", "model_version of the written model")
			asOf := fs.String("as-of", "", "cutoff day YYYY-MM-DD (default: each ledger's newest balance as_of)")
			workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel feature workers")
			maxChars := fs.Int("max-characteristics", 0, "most characteristics the forward selection keeps (0: the trainer's default, 12)")
			minGain := fs.Float64("min-auc-gain", 0, "smallest gain in cross-validated AUC that adds a characteristic (0: the trainer's default, 0.001)")
			maxCorr := fs.Float64("max-correlation", 0, "of candidates whose WoE correlates above it, only the strongest competes (0: the trainer's default, 0.9)")
			fromDB := fs.Bool("from-db", false, "train on the stored snapshots of --lender's decided applications with an imported loan outcome "+
				"(defaulted and charged_off bad, repaid good), instead of --ledgers, --applications and --labels")
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL (with --from-db)")
			lender := fs.String("lender", loan.DevLender, "the lender whose applications --from-db trains on")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				switch {
				case *fromDB && (*ledgers != "" || *apps != "" || *labels != ""):
					return errors.New("train: --from-db reads ledgers, loans and labels from Postgres: drop --ledgers, --applications and --labels")
				case *fromDB:
					if err := loan.CheckLender(*lender); err != nil {
						return fmt.Errorf("train: --lender: %w", err)
					}
				case *ledgers == "":
					return errors.New("train: --ledgers: not set")
				case *apps == "":
					return errors.New("train: --applications: not set")
				case *labels == "":
					return errors.New("train: --labels: not set")
				}
				switch {
				case !(*holdout > 0 && *holdout < 1):
					return fmt.Errorf("train: --holdout: %v is not in (0, 1)", *holdout)
				case *workers < 1:
					return fmt.Errorf("train: --workers: %d is below 1", *workers)
				case *version == "" || strings.ContainsAny(*version, `/\`):
					return fmt.Errorf("train: --model-version: %q is not usable in a file name", *version)
				case *maxChars < 0:
					return fmt.Errorf("train: --max-characteristics: %d is negative", *maxChars)
				case !(*minGain >= 0):
					return fmt.Errorf("train: --min-auc-gain: %v is negative", *minGain)
				case !(*maxCorr >= 0 && *maxCorr <= 1):
					return fmt.Errorf("train: --max-correlation: %v is not in [0, 1]", *maxCorr)
				}
				cutoff, err := parseAsOf(*asOf)
				if err != nil {
					return err
				}
				var todo []trainingItem
				var unlabelled, orphanLabels int
				if *fromDB {
					st, closeDB, err := openStore(ctx, *dbURL)
					if err != nil {
						return err
					}
					defer closeDB()
					if todo, unlabelled, orphanLabels, err = storedTrainingItems(ctx, st, *lender, cutoff); err != nil {
						return err
					}
				} else {
					applications, err := readApplications(*apps)
					if err != nil {
						return err
					}
					lab, err := readLabels(*labels)
					if err != nil {
						return err
					}
					for _, a := range applications {
						if bad, ok := lab[a.ID]; ok {
							path := filepath.Join(*ledgers, a.ID+".json")
							todo = append(todo, trainingItem{ID: a.ID, Loan: a.Loan, Defaulted: bad,
								load: func(context.Context) (scoring.Ledger, time.Time, error) { return readLedger(path, cutoff) }})
						}
					}
					unlabelled, orphanLabels = len(applications)-len(todo), len(lab)-len(todo)
				}
				samples, err := computeSamples(ctx, todo, *workers)
				if err != nil {
					return err
				}
				res, err := scoring.Train(samples, scoring.TrainOptions{ModelVersion: *version, HoldoutShare: *holdout, Seed: *seed,
					MaxCharacteristics: *maxChars, MinAUCGain: *minGain, MaxCorrelation: *maxCorr})
				if err != nil {
					return fmt.Errorf("train: %w", err)
				}
				return writeTraining(res, *out, *version, unlabelled, orphanLabels, stdout)
			}
		},
	}
}

func readApplications(path string) ([]application, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open applications: %w", err)
	}
	defer f.Close()
	ar, err := newApplicationReader(path, bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	var out []application
	seen := map[string]bool{}
	for {
		a, err := ar.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if seen[a.ID] {
			line, _ := ar.r.FieldPos(0)
			return nil, fmt.Errorf("%s line %d (applicant_id): %q repeated", path, line, a.ID)
		}
		seen[a.ID] = true
		out = append(out, a)
	}
}

// readLabels reads applicant_id,defaulted with defaulted 0 or 1.
func readLabels(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read labels: %w", err)
	}
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	idCol, ok1 := col["applicant_id"]
	defCol, ok2 := col["defaulted"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s line 1: header needs columns applicant_id and defaulted", path)
	}
	out := map[string]bool{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		id := strings.TrimSpace(rec[idCol])
		if id == "" {
			line, column := r.FieldPos(idCol)
			return nil, fmt.Errorf("%s line %d column %d (applicant_id): empty", path, line, column)
		}
		if _, dup := out[id]; dup {
			line, column := r.FieldPos(idCol)
			return nil, fmt.Errorf("%s line %d column %d (applicant_id): %q repeated", path, line, column, id)
		}
		switch v := strings.TrimSpace(rec[defCol]); v {
		case "0":
			out[id] = false
		case "1":
			out[id] = true
		default:
			line, column := r.FieldPos(defCol)
			return nil, fmt.Errorf("%s line %d column %d (defaulted): %q is not 0 or 1", path, line, column, v)
		}
	}
}

// trainingItem is one labelled application to train on; load reads its ledger and the
// cutoff day of its features, from a file or from a stored snapshot.
type trainingItem struct {
	ID        string
	Loan      scoring.Loan
	Defaulted bool
	load      func(ctx context.Context) (scoring.Ledger, time.Time, error)
}

// storedTrainingItems lists the lender's decided applications with a snapshot and a loan
// outcome (store.LabelledSnapshots), each loading its snapshot when a worker gets to it,
// so that only the ledgers being computed are in memory. The cutoff is asOf when set,
// otherwise the decision's own (which reproduces the decision's feature vector), otherwise
// the snapshot's newest balance as_of. It also returns the counts writeTraining reports:
// decisions without an outcome, and outcomes without a scored decision.
func storedTrainingItems(ctx context.Context, st *store.Store, lender string, asOf time.Time) (items []trainingItem, unlabelled, orphans int, err error) {
	stored, err := st.LabelledSnapshots(ctx, lender)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("train: %w", err)
	}
	if unlabelled, orphans, err = st.UnlabelledCounts(ctx, lender); err != nil {
		return nil, 0, 0, fmt.Errorf("train: %w", err)
	}
	if len(stored) == 0 {
		return nil, 0, 0, fmt.Errorf("train: --from-db: lender %s has no decided application with a snapshot and a loan outcome "+
			"(%d decided without an outcome; import outcomes with `underwriter outcomes import`)", lender, unlabelled)
	}
	for _, ls := range stored {
		items = append(items, trainingItem{ID: ls.ExternalID,
			Loan:      scoring.Loan{AmountMinor: ls.LoanAmountMinor, TermMonths: ls.TermMonths, Currency: ls.Currency},
			Defaulted: store.IsBadLoanOutcome(ls.Outcome),
			load: func(ctx context.Context) (scoring.Ledger, time.Time, error) {
				sn, err := st.GetSnapshot(ctx, ls.SnapshotID)
				if err != nil {
					return scoring.Ledger{}, time.Time{}, err
				}
				l, err := scoring.ParseLedgerFile(sn.Ledger)
				if err != nil {
					return scoring.Ledger{}, time.Time{}, fmt.Errorf("parse snapshot %d: %w", sn.ID, err)
				}
				cutoff := asOf
				if cutoff.IsZero() && ls.Cutoff != nil {
					cutoff = *ls.Cutoff
				}
				if cutoff.IsZero() {
					if cutoff = scoring.LatestAsOf(l); cutoff.IsZero() {
						return scoring.Ledger{}, time.Time{}, fmt.Errorf("snapshot %d: no cutoff and no balance as_of; pass --as-of", sn.ID)
					}
				}
				return l, cutoff, nil
			}})
	}
	return items, unlabelled, orphans, nil
}

// computeSamples computes the feature vector of every item in parallel, in items' order.
func computeSamples(ctx context.Context, items []trainingItem, workers int) ([]scoring.TrainingSample, error) {
	out := make([]scoring.TrainingSample, len(items))
	errs := make([]error, len(items))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				it := items[i]
				l, cutoff, err := it.load(ctx)
				if err == nil {
					var f scoring.Features
					f, err = scoring.ComputeFeatures(l, cutoff, it.Loan)
					out[i] = scoring.TrainingSample{ID: it.ID, Features: f, Defaulted: it.Defaulted}
				}
				if err != nil {
					errs[i] = fmt.Errorf("applicant %s: %w", it.ID, err)
				}
			}
		}()
	}
	var ctxErr error
	for i := range items {
		if ctxErr = ctx.Err(); ctxErr != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if ctxErr != nil {
		return nil, ctxErr
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("compute features: %w", err)
	}
	return out, nil
}

// trainSummary is printed on stdout after training: where the files went and how the
// model did on the hold-out.
type trainSummary struct {
	ModelVersion   string  `json:"model_version"`
	ModelFile      string  `json:"model_file"`
	ModelCard      string  `json:"model_card"`
	ScoresFile     string  `json:"scores_file"`
	Samples        int     `json:"samples"`
	Defaults       int     `json:"defaults"`
	HoldoutSamples int     `json:"holdout_samples"`
	HoldoutAUC     float64 `json:"holdout_auc"`
	HoldoutKS      float64 `json:"holdout_ks"`
	HoldoutGini    float64 `json:"holdout_gini"`
	// HoldoutCalibrationError is the mean over the hold-out's score deciles of
	// |mean PD − observed default rate|, the PD being Platt-scaled on the hold-out.
	HoldoutCalibrationError float64 `json:"holdout_calibration_error"`
	TrainAUC                float64 `json:"train_auc"`
	// Characteristics are the kept characteristics' codes, in the order they entered.
	Characteristics           []string `json:"characteristics"`
	LeftOut                   int      `json:"candidates_left_out"`
	UnlabelledApplications    int      `json:"unlabelled_applications"`
	LabelsWithoutApplications int      `json:"labels_without_application"`
}

func writeTraining(res *scoring.TrainResult, dir, version string, unlabelled, orphanLabels int, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	model, err := res.Model.Marshal()
	if err != nil {
		return err
	}
	var scores bytes.Buffer
	scores.WriteString("applicant_id,holdout,defaulted,score,pd\n")
	for _, s := range res.Scores {
		fmt.Fprintf(&scores, "%s,%t,%t,%d,%s\n", s.ID, s.Holdout, s.Defaulted, s.Score, strconv.FormatFloat(s.PD, 'f', -1, 64))
	}
	sum := trainSummary{
		ModelVersion: version,
		ModelFile:    filepath.Join(dir, "scorecard-"+version+".json"),
		ModelCard:    filepath.Join(dir, "MODEL_CARD-"+version+".md"),
		ScoresFile:   filepath.Join(dir, "scores-"+version+".csv"),
	}
	// Each file is replaced whole (writeFileAtomic), never truncated: a run that fails
	// leaves an earlier run's model file loadable. The model is written last, so when a
	// write fails the model file is still the earlier run's (or absent).
	for _, f := range []struct {
		path string
		data []byte
	}{
		{sum.ScoresFile, scores.Bytes()},
		{sum.ModelCard, []byte(scoring.ModelCard(res.Model, res.Dropped))},
		{sum.ModelFile, model},
	} {
		if err := writeFileAtomic(f.path, f.data); err != nil {
			return err
		}
	}
	t := res.Model.Training
	sum.Samples, sum.Defaults, sum.HoldoutSamples = t.Samples, t.Defaults, t.HoldoutSamples
	sum.HoldoutAUC, sum.HoldoutKS, sum.HoldoutGini = t.HoldoutAUC, t.HoldoutKS, t.HoldoutGini
	sum.HoldoutCalibrationError, sum.TrainAUC = t.HoldoutCalibrationError, t.TrainAUC
	for _, c := range res.Model.Characteristics {
		sum.Characteristics = append(sum.Characteristics, c.Code)
	}
	sum.LeftOut = len(res.Dropped)
	sum.UnlabelledApplications, sum.LabelsWithoutApplications = unlabelled, orphanLabels
	return writeJSONLine(stdout, sum)
}
