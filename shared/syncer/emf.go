package syncer

import (
	"encoding/json"
	"io"
	"time"
)

// WriteEMF writes the run's one summary line in CloudWatch Embedded Metric
// Format, so the counts become metrics without any metrics API call.
func (s Summary) WriteEMF(w io.Writer, now time.Time) error {
	names := []string{"Seen", "Updated", "Closed", "Unchanged", "NotYet", "Stale", "Failed", "BadTranscript", "Skipped", "Rechecked"}
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
		"Function":      "sync",
		"msg":           "sync run summary",
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
		"Stopped":       s.Stopped,
		"DurationMs":    s.Duration.Milliseconds(),
	}
	return json.NewEncoder(w).Encode(line)
}
