//go:build browser

package browser

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/cashflow-underwriting/underwriter/internal/codec"
	"github.com/cashflow-underwriting/underwriter/internal/devstack"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// screenshots is where the test writes its screenshots; "" writes them to a temporary
// directory. `make browser-screenshots` refreshes the README's under docs/img.
var screenshots = flag.String("screenshots", "", "directory to write the UI screenshots to (default: a temporary directory)")

// uiWait bounds each wait for the UI to render something: generous, because the
// SvelteKit app fetches and renders on two shared cores, and a wait that ends early
// passes at once.
const uiWait = 90 * time.Second

// TestOperatorUI is issue 11's operator tour of the embedded Web UI in headless Chromium,
// after the sample applications were underwritten with encrypted payloads.
func TestOperatorUI(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	env := startEnv(ctx, t)
	stack := env.stack

	results := stack.UnderwriteSamples(ctx, "ui-"+time.Now().UTC().Format("150405"), 3*time.Minute)
	var declined []string
	for _, r := range results {
		require.NoError(t, r.Err, "application %s (%s)", r.ApplicationID, r.Persona)
		require.True(t, r.Correct(), "application %s (%s): %s, expected %s", r.ApplicationID, r.Persona, r.Outcome, r.Expected)
		if r.Outcome == "decline" {
			declined = append(declined, workflows.WorkflowID(devstack.DevKey(r.ApplicationID)))
		}
	}
	require.NotEmpty(t, declined, "the sample personas include declines")
	slices.Sort(declined)

	bctx := newBrowser(ctx, t, chromium, env.extraFlags...)
	shots := screenshotDir(t)

	t.Run("declined list", func(t *testing.T) {
		q := url.Values{"query": {`UnderwritingOutcome="decline"`}}
		listURL := stack.UIURL + "/namespaces/" + stack.Namespace + "/workflows?" + q.Encode()
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(listURL)))
		// The list's rows link to their workflows (…/workflows/<escaped id>/<run id>); wait until as many as the stack declined
		// are shown (the list fills in after the page renders), then compare the sets.
		got, err := chromedp.Run(bctx, chromedp.Poll[[]string](fmt.Sprintf(`(() => {
			const ids = [...new Set([...document.querySelectorAll('a[href*="/workflows/underwrite"]')]
				.map(a => decodeURIComponent(a.getAttribute('href').split('/workflows/')[1].split('/')[0])))];
			return ids.length >= %d ? ids : null;
		})()`, len(declined)), chromedp.WithPollingTimeout(uiWait)))
		require.NoError(t, err, "the list never showed %d workflows", len(declined))
		slices.Sort(got)
		require.Equal(t, declined, got, "the UI's UnderwritingOutcome=\"decline\" list")
		shoot(bctx, t, shots, "ui-declined-list.png")
	})

	wfID := declined[0]
	desc, err := stack.Temporal.DescribeWorkflowExecution(ctx, wfID, "")
	require.NoError(t, err)
	runID := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	pageURL := stack.UIURL + "/namespaces/" + stack.Namespace + "/workflows/" + url.PathEscape(wfID) + "/" + runID
	appKey := strings.TrimPrefix(wfID, "underwrite/")

	t.Run("ciphertext without a codec session", func(t *testing.T) {
		// The raw history over Temporal's API, read by a client without the codec: every
		// payload is ciphertext, and none holds the application id.
		raw, err := tclient.Dial(tclient.Options{HostPort: stack.TemporalAddress, Namespace: stack.Namespace})
		require.NoError(t, err)
		defer raw.Close()
		var encrypted int
		it := raw.GetWorkflowHistory(ctx, wfID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			codec.EachPayload(ev.ProtoReflect(), func(p *commonpb.Payload) {
				require.Equal(t, codec.MetadataEncoding, string(p.GetMetadata()[converter.MetadataEncoding]),
					"event %d %s: a payload not encrypted", ev.GetEventId(), ev.GetEventType())
				require.False(t, bytes.Contains(p.GetData(), []byte(appKey)), "event %d: application id in plain text", ev.GetEventId())
				encrypted++
			})
		}
		require.Positive(t, encrypted)
	})

	t.Run("workflow page", func(t *testing.T) {
		// Before the operator logs in to the codec endpoint the UI cannot decode: the input
		// shows as the ciphertext's envelope (its encoding, base64 or plain), never the JSON.
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(pageURL+"/history")))
		text, err := chromedp.Run(bctx, chromedp.Poll[string](fmt.Sprintf(`(() => {
			const s = %s;
			return (s.includes(%q) || s.includes(%q)) && s;
		})()`, pageText, codec.MetadataEncoding, base64.StdEncoding.EncodeToString([]byte(codec.MetadataEncoding))),
			chromedp.WithPollingTimeout(uiWait)))
		if err != nil {
			last, _ := chromedp.Run(bctx, chromedp.Evaluate[string](pageText))
			t.Fatalf("without a codec session the page never showed the ciphertext's encoding (%v); it shows:\n%s", err, last)
		}
		require.NotContains(t, text, `"LoanAmountMinor"`, "decoded without a codec session")
		shoot(bctx, t, shots, "ui-workflow-encrypted.png")

		// Log in to the codec endpoint as the operator does, in the same browser: it sets the
		// session cookie the UI's codec requests carry.
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(env.codecLogin)))
		body, err := chromedp.Run(bctx, chromedp.Poll[string](`document.body && document.body.innerText.includes('codec session started') && document.body.innerText`,
			chromedp.WithPollingTimeout(uiWait)))
		require.NoError(t, err, "codec login")
		require.Contains(t, body, "codec session started")

		// The history page shows the input, decoded by the codec endpoint: its field names
		// are inside the ciphertext.
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(pageURL+"/history")))
		text = waitText(bctx, t, "the decoded input", `"LoanAmountMinor"`)
		require.Contains(t, text, `"ApplicationID": "`+appKey+`"`)
		require.NotContains(t, text, codec.MetadataEncoding, "a payload the UI did not decode")
		shoot(bctx, t, shots, "ui-workflow-decoded.png")

		// The User Metadata tab: the static summary and details the API set at start, and
		// the current details the workflow set last (also encrypted payloads).
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(pageURL+"/user-metadata")))
		// Each frame fills in on its own: wait for each.
		waitText(bctx, t, "the static summary", appKey+": ")
		waitText(bctx, t, "the static summary's loan", " USD (minor units) over ")
		waitText(bctx, t, "the static details", "Financial Connections session: fcsess_")
		waitText(bctx, t, "the current details", "decided: decline, score ")
		shoot(bctx, t, shots, "ui-workflow-metadata.png")
	})

	if env.card != nil {
		t.Run("decision card", func(t *testing.T) { env.card.check(bctx, t, pageURL, appKey, shots) })
	}
}

// chromiumPath is Debian's chromium (or CHROMIUM), or the test fails saying how to get it:
// the browser tests never skip.
func chromiumPath(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found on PATH (set CHROMIUM to its path): install Debian's package with `apt-get install -y chromium` (.ci/run does)")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile; it stops with the test.
func newBrowser(ctx context.Context, t *testing.T, path string, extra ...chromedp.ExecAllocatorOption) context.Context {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, append(opts, extra...)...)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { bcancel(); acancel() })
	require.NoError(t, chromedp.Do(bctx), "start chromium at %s", path)
	return bctx
}

// pageText is the page's text with that of its same-origin frames, where the UI renders
// user metadata (as markdown).
const pageText = `(() => {
	if (!document.body) return "";
	const frames = [...document.querySelectorAll('iframe')].map(f => {
		try { return f.contentDocument && f.contentDocument.body ? f.contentDocument.body.innerText : ""; } catch (e) { return ""; }
	});
	return [document.body.innerText, ...frames].join("\n");
})()`

// waitText waits until the page's text (pageText) holds want and returns the text.
func waitText(bctx context.Context, t *testing.T, what, want string) string {
	t.Helper()
	text, err := chromedp.Run(bctx, chromedp.Poll[string](
		fmt.Sprintf(`(() => { const s = %s; return s.includes(%q) && s; })()`, pageText, want),
		chromedp.WithPollingTimeout(uiWait)))
	if err != nil {
		last, _ := chromedp.Run(bctx, chromedp.Evaluate[string](pageText))
		if png, serr := chromedp.Run(bctx, chromedp.CaptureScreenshot()); serr == nil {
			// Kept after the test, for whoever reads the failure.
			if f, ferr := os.CreateTemp("", "browser-failed-*.png"); ferr == nil {
				_, _ = f.Write(png)
				_ = f.Close()
				t.Logf("the page as it was: %s", f.Name())
			}
		}
		t.Fatalf("%s: the page never showed %q (%v); it shows:\n%s", what, want, err, last)
	}
	return text
}

func screenshotDir(t *testing.T) string {
	if *screenshots != "" {
		require.NoError(t, os.MkdirAll(*screenshots, 0o755))
		return *screenshots
	}
	return t.TempDir()
}

// shoot saves the viewport as a PNG of 256 colours, small enough to commit.
func shoot(bctx context.Context, t *testing.T, dir, name string) {
	t.Helper()
	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, paletted(img)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), out.Bytes(), 0o644))
	t.Logf("screenshot %s (%d bytes)", filepath.Join(dir, name), out.Len())
}

// paletted maps img to its 256 most frequent colours (a UI is mostly flat colours; the
// rest, anti-aliasing, goes to the nearest of them).
func paletted(img image.Image) *image.Paletted {
	b := img.Bounds()
	count := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	cols := slices.Collect(maps.Keys(count))
	slices.SortFunc(cols, func(a, b color.RGBA) int {
		if c := count[b] - count[a]; c != 0 {
			return c
		}
		return int(a.R)<<16 | int(a.G)<<8 | int(a.B) - (int(b.R)<<16 | int(b.G)<<8 | int(b.B))
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range cols[:min(len(cols), 256)] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	draw.Draw(out, b, img, b.Min, draw.Src)
	return out
}

// env is the stack under test and what the browser needs besides.
type env struct {
	stack      *devstack.Stack
	codecLogin string
	extraFlags []chromedp.ExecAllocatorOption
	card       *cardEnv
}

// startEnv starts the dev stack with encrypted payloads and the codec endpoint the UI is
// configured with, as `underwriter dev --encrypt-payloads` does.
func startEnv(ctx context.Context, t *testing.T) *env {
	pc, err := codec.ParseKeys("ui:" + codec.GenerateKey())
	require.NoError(t, err)
	codecLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	codecURL := "http://" + codecLn.Addr().String()
	cfg := devstack.Config{RefreshDelay: 100 * time.Millisecond, PayloadCodec: pc, UICodecEndpoint: codecURL}
	e := &env{}
	e.card = setUpCard(t, &cfg)
	stack, err := devstack.Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stack.Close() })
	e.stack = stack

	token := codec.NewLoginToken()
	h, err := codec.NewHandler(codec.ServerConfig{Codec: pc, Origin: stack.UIURL, LoginToken: token})
	require.NoError(t, err)
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(codecLn) }()
	t.Cleanup(func() { _ = hs.Close() })
	e.codecLogin = codecURL + "/login?token=" + token
	if e.card != nil {
		e.card.start(t, stack)
		e.extraFlags = append(e.extraFlags, e.card.flags...)
	}
	return e
}
