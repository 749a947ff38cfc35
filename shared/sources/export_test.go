package sources

// Test-only views of unexported parts, for the external tests.

func ExportRateSettings(rps *float64) RateSettings { return RateSettings{RPS: rps} }

func ExportClientRPS(a RateSettings, kind string, defaultRPS float64, env OpenEnv) float64 {
	return a.clientOptions(kind, defaultRPS, env).RPS
}
