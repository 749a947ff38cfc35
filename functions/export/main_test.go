package main

import (
	"context"
	"strings"
	"testing"
)

func TestSetupNamesTheBadVariable(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "TABLE_NAME"},
		{map[string]string{"TABLE_NAME": "cards"}, "REPORTS_BUCKET"},
		{map[string]string{"TABLE_NAME": "cards", "REPORTS_BUCKET": "r", "REPORT_TIMEZONE": "Nope/Nope"}, "REPORT_TIMEZONE"},
		{map[string]string{"TABLE_NAME": "cards", "REPORTS_BUCKET": "r", "PRICES": "[1]"}, "PRICES"},
		{map[string]string{"TABLE_NAME": "cards", "REPORTS_BUCKET": "r", "REPORT_FORMATS": "csv,doc"}, "REPORT_FORMATS"},
		{map[string]string{"TABLE_NAME": "cards", "REPORTS_BUCKET": "r", "PHRASES_TOP": "many"}, "PHRASES_TOP"},
		{map[string]string{"TABLE_NAME": "cards", "REPORTS_BUCKET": "r", "XLSX_ROW_LIMIT": "1"}, "XLSX_ROW_LIMIT"},
		{map[string]string{"TABLE_NAME": "cards", "REPORTS_BUCKET": "r", "EXPORT_MODE": "both"}, "EXPORT_MODE"},
		{map[string]string{"TABLE_NAME": "cards", "REPORTS_BUCKET": "r", "EXPORT_MODE": "fanout"}, "EXPORT_QUEUE_URL"},
	} {
		_, err := setup(context.Background(), func(k string) string { return tc.env[k] })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.want)
		}
	}
	t.Setenv("AWS_REGION", "us-east-1")
	h, err := setup(context.Background(), func(k string) string {
		return map[string]string{"TABLE_NAME": "cards", "REPORTS_BUCKET": "r", "CARDS_BUCKET": "c"}[k]
	})
	if err != nil || h.Store == nil || h.Sink == nil {
		t.Fatalf("good config: %v", err)
	}
}
