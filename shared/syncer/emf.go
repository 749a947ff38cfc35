package syncer

import (
	"encoding/json"
	"io"
	"slices"
	"time"
)

// WriteEMF writes the run's one summary line in CloudWatch Embedded Metric
// Format, so the counts become metrics without any metrics API call.
func (s Summary) WriteEMF(w io.Writer, now time.Time) error {
	return s.writeEMF(w, now, "sync", "sync run summary", nil)
}

// writeEMF writes the counts for function with msg, plus extra counts.
func (s Summary) writeEMF(w io.Writer, now time.Time, function, msg string, extra map[string]int) error {
	names := []string{"Seen", "Updated", "Closed", "Unchanged", "NotYet", "Stale", "Failed", "BadTranscript", "Skipped", "Rechecked", "Swept", "Discovered"}
	for k := range extra {
		names = append(names, k)
	}
	slices.Sort(names[12:])
	metrics := make([]map[string]string, 0, len(names)+1)
	for _, n := range names {
		metrics = append(metrics, map[string]string{"Name": n, "Unit": "Count"})
	}
	metrics = append(metrics, map[string]string{"Name": "DurationMs", "Unit": "Milliseconds"})
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": now.UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "chatcards",
				"Dimensions": [][]string{{"Function"}},
				"Metrics":    metrics,
			}},
		},
		"Function":      function,
		"msg":           msg,
		"Seen":          s.Seen,
		"Updated":       s.Updated,
		"Closed":        s.Closed,
		"Unchanged":     s.Unchanged,
		"NotYet":        s.NotYet,
		"Stale":         s.Stale,
		"Failed":        s.Failed,
		"BadTranscript": s.BadTranscript,
		"Skipped":       s.Skipped,
		"Rechecked":     s.Rechecked,
		"Swept":         s.Swept,
		"Discovered":    s.Discovered,
		"Stopped":       s.Stopped,
		"DurationMs":    s.Duration.Milliseconds(),
	}
	for k, v := range extra {
		line[k] = v
	}
	return json.NewEncoder(w).Encode(line)
}
