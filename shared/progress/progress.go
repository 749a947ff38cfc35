// Package progress prints a line every few seconds about a long run (how
// many of how many, how fast, how long to go), so a run of minutes is never
// silent. Clock, ticks and writer are injected, so it is testable.
package progress

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultEvery is the time between two lines.
const DefaultEvery = 2 * time.Second

// Options of a Reporter. The zero value prints every DefaultEvery on the
// real clock.
type Options struct {
	Every time.Duration    // time between lines; <= 0 means DefaultEvery
	Now   func() time.Time // the clock; nil means time.Now
	// Ticks, when set, replaces the ticker: a line is printed on every
	// receive (tests drive it by hand).
	Ticks <-chan time.Time
}

// Reporter counts done items of a task and prints progress lines to its
// writer. Add and AddTotal are safe from many goroutines and cost one
// atomic add. A nil *Reporter does nothing, so callers need no checks.
type Reporter struct {
	w     io.Writer
	label string
	unit  string
	now   func() time.Time
	start time.Time

	done, total atomic.Int64
	final       atomic.Bool // total will not grow any more

	mu      sync.Mutex // serialises lines
	stop    chan struct{}
	stopped sync.WaitGroup
	ended   bool
}

// Start begins reporting on w: label names the task ("sync"), unit the
// items ("sessions"), total how many there are (0 when not known yet; see
// AddTotal and SetTotal). It returns nil when w is nil, so a disabled
// reporter is just a nil one. Stop must be called to end it.
func Start(w io.Writer, label, unit string, total int64, opt Options) *Reporter {
	if w == nil {
		return nil
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Every <= 0 {
		opt.Every = DefaultEvery
	}
	r := &Reporter{w: w, label: label, unit: unit, now: opt.Now, start: opt.Now(), stop: make(chan struct{})}
	if total > 0 {
		r.total.Store(total)
		r.final.Store(true)
	}
	ticks := opt.Ticks
	var ticker *time.Ticker
	if ticks == nil {
		ticker = time.NewTicker(opt.Every)
		ticks = ticker.C
	}
	r.stopped.Add(1)
	go func() {
		defer r.stopped.Done()
		if ticker != nil {
			defer ticker.Stop()
		}
		for {
			select {
			case <-ticks:
				r.Print()
			case <-r.stop:
				return
			}
		}
	}()
	return r
}

// Add counts n more items done.
func (r *Reporter) Add(n int64) {
	if r != nil {
		r.done.Add(n)
	}
}

// AddTotal grows a total that is discovered as the run goes (a paged
// listing); lines show it with a "+" until SetTotal or Final.
func (r *Reporter) AddTotal(n int64) {
	if r != nil {
		r.total.Add(n)
	}
}

// SetTotal fixes the total.
func (r *Reporter) SetTotal(n int64) {
	if r != nil {
		r.total.Store(n)
		r.final.Store(true)
	}
}

// Final says the total grown by AddTotal is complete.
func (r *Reporter) Final() {
	if r != nil {
		r.final.Store(true)
	}
}

// Print writes one progress line now.
func (r *Reporter) Print() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	fmt.Fprintln(r.w, r.line(false))
}

// Stop ends the reporter and prints the closing line (done, rate, time
// taken). It is safe to call more than once.
func (r *Reporter) Stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	close(r.stop)
	fmt.Fprintln(r.w, r.line(true))
	r.ended = true
	r.mu.Unlock()
	r.stopped.Wait()
}

// line renders e.g. "sync: 12,000/100,000 sessions (12%), 1,500/s, 8s, about 59s left".
func (r *Reporter) line(end bool) string {
	done, total := r.done.Load(), r.total.Load()
	elapsed := max(r.now().Sub(r.start), 0)
	s := r.label + ": " + group(done)
	switch {
	case total > 0 && r.final.Load():
		s += "/" + group(total) + " " + r.unit
		if !end {
			s += fmt.Sprintf(" (%d%%)", percent(done, total))
		}
	case total > 0:
		s += "/" + group(total) + "+ " + r.unit
	default:
		s += " " + r.unit
	}
	rate := 0.0
	if sec := elapsed.Seconds(); sec > 0 {
		rate = float64(done) / sec
	}
	s += ", " + group(int64(rate+0.5)) + "/s"
	if end {
		return s + ", done in " + round(elapsed).String()
	}
	s += ", " + round(elapsed).String()
	if rate > 0 && total > done && r.final.Load() {
		left := time.Duration(float64(total-done) / rate * float64(time.Second))
		s += ", about " + round(left).String() + " left"
	}
	return s
}

func percent(done, total int64) int64 {
	if total <= 0 {
		return 0
	}
	return min(done*100/total, 100)
}

// round keeps durations readable: whole seconds, tenths under ten seconds.
func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// group writes n with thousands separators: 100000 → 100,000.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// IsTerminal reports whether w is a terminal (a character device), where
// progress lines are shown by default; a file or pipe gets them only when
// asked for.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
